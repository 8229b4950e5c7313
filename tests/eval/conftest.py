"""Fixtures of the eval tests: synthetic ABX feature sets with item files of known segments."""

from __future__ import annotations

import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest


def make_synthetic_abx(root: Path, *, n_files=8, n_speakers=2, phones=("a", "e"), dim=12,
                       frame_shift=0.01, phones_per_file=60, noise=1.0, seed=0):
    """Files of "phones" (a prototype vector + a speaker offset + noise, 3..11 frames each).

    Writes ``root/feats/<utt>.npy`` and ``root/test.item`` (every phone but the first and last
    of a file, with its neighbours as context). Returns ``(feats_dir, item_path)``.
    """
    from textless.eval.item import write_item_file

    rng = np.random.default_rng(seed)
    protos = rng.normal(size=(len(phones), dim))
    offsets = rng.normal(scale=0.5, size=(n_speakers, dim))
    feats = root / "feats"
    feats.mkdir(parents=True, exist_ok=True)
    rows = []
    for f in range(n_files):
        spk = f % n_speakers
        seq = rng.integers(0, len(phones), phones_per_file)
        durs = rng.integers(3, 12, phones_per_file)
        frames, t = [], 0
        for k, (p, d) in enumerate(zip(seq, durs)):
            frames.append(protos[p] + offsets[spk] + noise * rng.normal(size=(d, dim)))
            if 0 < k < len(seq) - 1:
                rows.append((f"utt{f}", t * frame_shift, (t + d) * frame_shift, phones[p],
                             phones[seq[k - 1]], phones[seq[k + 1]], f"spk{spk}"))
            t += d
        np.save(feats / f"utt{f}.npy", np.concatenate(frames).astype(np.float32))
    item = write_item_file(root / "test.item", rows)
    return feats, item


@pytest.fixture(scope="session")
def synthetic_abx(tmp_path_factory):
    """Two phones, two speakers, ~29 items per (context, speaker, phone): groups get subsampled."""
    return make_synthetic_abx(tmp_path_factory.mktemp("abx_synth"))


WORDS = ("bat", "bit", "but", "bet")


@pytest.fixture(scope="session")
def flite_abx(tmp_path_factory):
    """Real speech: files concatenating flite words (3 voices = 3 speakers), MFCC features at
    100 Hz (librosa), and an item file whose "phones" are the words at their known times."""
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed")
    import librosa

    from textless.audio import load_audio
    from textless.eval.item import write_item_file

    root = tmp_path_factory.mktemp("abx_flite")
    rate, shift = 16000, 0.01
    clips = {}
    for voice in ("slt", "kal", "awb"):
        for w in WORDS:
            out = root / f"{voice}_{w}.wav"
            subprocess.run(["flite", "-voice", voice, "-t", w, "-o", str(out)], check=True)
            wav, _ = load_audio(out, rate)
            idx = np.flatnonzero(np.abs(wav) > 0.02)  # trim silence
            clips[voice, w] = wav[idx[0]: idx[-1] + 1]
    rng = np.random.default_rng(1)
    feats = root / "feats"
    feats.mkdir()
    rows = []
    for f in range(9):
        voice = ("slt", "kal", "awb")[f % 3]
        seq = rng.integers(0, len(WORDS), 16)
        pieces, bounds, t = [], [], 0
        for k in seq:
            clip = clips[voice, WORDS[k]]
            # each token gets its own noise (SNR about -6 dB) so repeated tokens differ
            clip = clip + rng.normal(scale=2.0 * clip.std(), size=clip.shape).astype(np.float32)
            pieces.append(clip)
            bounds.append((t / rate, (t + len(clip)) / rate))
            t += len(clip)
        wav = np.concatenate(pieces)
        mfcc = librosa.feature.mfcc(y=wav, sr=rate, n_mfcc=13, n_fft=400, hop_length=160,
                                    center=False).T
        np.save(feats / f"f{f}.npy", mfcc.astype(np.float32))
        for k in range(1, len(seq) - 1):
            rows.append((f"f{f}", bounds[k][0], bounds[k][1], WORDS[seq[k]],
                         WORDS[seq[k - 1]], WORDS[seq[k + 1]], voice))
    return feats, write_item_file(root / "words.item", rows)


@pytest.fixture
def zrc_abx2(monkeypatch):
    """The zerospeech-libriabx2 package (skip when not installed).

    Its ``cpc`` submodule imports torchaudio at import time although feature files never use
    it; when torchaudio is absent or does not load against this torch, an empty stand-in module
    is put in ``sys.modules`` for the duration of the test.
    """
    try:
        import torchaudio  # noqa: F401
    except Exception:
        monkeypatch.setitem(sys.modules, "torchaudio", types.ModuleType("torchaudio"))
    try:
        import zrc_abx2
    except ImportError:
        pytest.skip("zerospeech-libriabx2 is not installed "
                    "(scripts/setup.sh: pip install --no-deps zerospeech-libriabx2)")
    return zrc_abx2


@pytest.fixture(scope="session")
def tiny_pipeline(tmp_path_factory):
    """A pipeline folder: MFCC encoder, random 8-centroid k-means, tiny random unit LM."""
    import torch

    from textless.encoders.spectral import SpectralEncoder, mfcc_config
    from textless.pipeline import save_pipeline_dir
    from textless.quantizers.kmeans import KMeansQuantizer
    from textless.ulm.checkpoint import save_ulm
    from textless.ulm.model import UnitLM, UnitLMConfig

    d = tmp_path_factory.mktemp("pipe")
    torch.manual_seed(0)
    SpectralEncoder(mfcc_config()).save(d / "encoder.safetensors")
    KMeansQuantizer(torch.randn(8, 39) * 5).save(d / "quantizer.safetensors")
    save_ulm(d / "ulm.safetensors", UnitLM(UnitLMConfig.tiny(8)))
    save_pipeline_dir(d, name="tiny", layer=None, files={
        "encoder": "encoder.safetensors", "quantizer": "quantizer.safetensors",
        "ulm": "ulm.safetensors"})
    return d
