"""Shared fixtures: speech made here (flite), tiny synthetic signals, an isolated TEXTLESS_HOME."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test gets its own model cache and never touches the network by accident."""
    monkeypatch.setenv("TEXTLESS_HOME", str(tmp_path / "textless_home"))


def flite_wav(text: str, path: Path, voice: str = "slt", sample_rate: int = 16000) -> Path:
    """Speak ``text`` with a flite voice into a mono wav at ``sample_rate`` Hz."""
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed (make test installs it)")
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(raw)], check=True)
    import soundfile as sf

    from textless.audio import load_audio

    wav, _ = load_audio(raw, sample_rate)
    sf.write(str(path), wav, sample_rate)
    raw.unlink()
    return path


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory) -> Path:
    """A few short flite utterances at 16 kHz by two voices: ``<voice>_<n>.wav``."""
    d = tmp_path_factory.mktemp("speech")
    sentences = [
        "the cat sat on the mat",
        "she sells sea shells by the sea shore",
        "a quick brown fox jumps over the lazy dog",
    ]
    for voice in ("slt", "kal"):
        for i, s in enumerate(sentences):
            flite_wav(s, d / f"{voice}_{i}.wav", voice=voice)
    return d


@pytest.fixture
def sine():
    """``sine(freq_hz, duration_s, sample_rate) -> float32 [T]`` at amplitude 0.5."""

    def make(freq_hz=220.0, duration_s=1.0, sample_rate=16000):
        t = np.arange(int(duration_s * sample_rate)) / sample_rate
        return (0.5 * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)

    return make


def write_tone_corpus(directory: Path, lengths) -> Path:
    """``u<i>.wav`` harmonic tones (110 + 30 i Hz, 16 kHz) of ``lengths[i]`` 50 Hz frames each, and
    ``units.jsonl`` with random units (8 of them, undeduplicated) of those frames: a vocoder corpus."""
    import soundfile as sf
    import torch

    from textless.units import Units, write_units

    rng = np.random.default_rng(0)
    recs = []
    for i, n in enumerate(lengths):
        t = np.arange(n * 320) / 16000
        sf.write(directory / f"u{i}.wav", (0.3 * np.sin(2 * np.pi * (110 + 30 * i) * t)).astype(np.float32), 16000)
        recs.append(Units(torch.from_numpy(rng.integers(0, 8, n)), frame_rate=50.0, vocab_size=8, id=f"u{i}"))
    write_units(directory / "units.jsonl", recs)
    return directory


def build_tiny_pipeline(directory: Path, vocab_size: int = 16, seed: int = 0) -> Path:
    """A random-init pipeline folder: MFCC (50 Hz) + k-means + tiny unit LM + tiny vocoder
    with a duration predictor. Wiring only: its speech is noise."""
    import torch

    from textless.encoders.spectral import SpectralConfig, SpectralEncoder
    from textless.pipeline import save_pipeline_dir
    from textless.quantizers.kmeans import KMeansQuantizer
    from textless.ulm.checkpoint import save_ulm
    from textless.ulm.model import UnitLM, UnitLMConfig
    from textless.vocoders.checkpoint import save_vocoder
    from textless.vocoders.hifigan import UnitHiFiGAN, VocoderConfig

    torch.manual_seed(seed)
    directory.mkdir(parents=True, exist_ok=True)
    encoder = SpectralEncoder(SpectralConfig(kind="mfcc", hop_length=320, n_fft=400, cmvn=True))
    encoder.save(directory / "encoder.safetensors")
    KMeansQuantizer(torch.randn(vocab_size, encoder.dim)).save(directory / "quantizer.safetensors")
    save_ulm(directory / "ulm.safetensors", UnitLM(UnitLMConfig.tiny(vocab_size)))
    vocoder = UnitHiFiGAN(VocoderConfig(
        vocab_size=vocab_size, embedding_dim=16, upsample_initial_channel=32,
        resblock_kernel_sizes=(3,), resblock_dilation_sizes=((1, 3),), duration_predictor=True,
        dur_hidden_dim=16,
    ))
    save_vocoder(vocoder, directory / "vocoder.safetensors")
    return save_pipeline_dir(directory, name="tiny", layer=None, files={
        role: f"{role}.safetensors" for role in ("encoder", "quantizer", "ulm", "vocoder")
    })


@pytest.fixture(scope="session")
def tiny_pipeline_dir(tmp_path_factory) -> Path:
    """A random-init pipeline folder with every component (see :func:`build_tiny_pipeline`)."""
    return build_tiny_pipeline(tmp_path_factory.mktemp("tiny_pipeline"))
