"""The speaker-invariant encoder: DTW label transfer, perturbation, model, trainer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from textless.encoders.logmel import LogMelEncoder, LogMelEncoderConfig
from textless.encoders.targets import transfer_labels

TINY = LogMelEncoderConfig(dim=32, num_layers=2, num_heads=2, ffn_dim=64, pos_kernel=7)


def test_dtw_transfer_puts_labels_where_they_belong_under_a_known_time_warp():
    rng = np.random.default_rng(0)
    n_seg = 40
    protos = rng.normal(size=(n_seg, 16))                      # one sound per segment
    seg_labels = rng.integers(0, 50, n_seg)
    src_d = rng.integers(2, 9, n_seg)                          # canonical durations (frames)
    warp = rng.uniform(0.4, 2.5, n_seg)                        # a different timing per segment
    dst_d = np.maximum(1, np.round(src_d * warp)).astype(int)

    def render(durations):
        seg = np.repeat(np.arange(n_seg), durations)
        return protos[seg] + 0.05 * rng.normal(size=(len(seg), 16)), seg

    src, _ = render(src_d)
    dst, dst_seg = render(dst_d)
    got = transfer_labels(src, seg_labels[np.repeat(np.arange(n_seg), src_d)], dst)
    truth = seg_labels[dst_seg]
    assert got.shape == truth.shape
    assert (got == truth).mean() > 0.97
    # a linear time map (what a transfer without alignment does) is far worse on this warp
    linear = seg_labels[np.repeat(np.arange(n_seg), src_d)][
        np.minimum(len(src) - 1, (np.arange(len(dst)) * len(src) / len(dst)).astype(int))]
    assert (linear == truth).mean() < 0.8


def _mean_formants(wav, sr, ceiling_hz=5000.0):
    """Median F1, F2 (Hz) over voiced frames (Burg; a male voice's ceiling is ~5000 Hz and
    scales with the vocal tract, as Praat's manual advises)."""
    import parselmouth

    s = parselmouth.Sound(wav.astype(np.float64), sampling_frequency=sr)
    formant = s.to_formant_burg(maximum_formant=ceiling_hz)
    pitch = s.to_pitch()
    f1, f2 = [], []
    for t in np.arange(0.05, s.duration - 0.05, 0.01):
        if pitch.get_value_at_time(t) > 0:  # voiced frames only
            a, b = formant.get_value_at_time(1, t), formant.get_value_at_time(2, t)
            if np.isfinite(a) and np.isfinite(b):
                f1.append(a), f2.append(b)
    return np.median(f1), np.median(f2)


def test_change_gender_keeps_length_and_moves_formants(tmp_path):
    pytest.importorskip("parselmouth")
    from textless.audio import load_audio
    from textless.data.perturb import change_gender

    from ..conftest import flite_wav

    wav, sr = load_audio(flite_wav("a father saw all the cars far away", tmp_path / "a.wav", "rms"), 16000)
    f1, f2 = _mean_formants(wav, sr)
    up = change_gender(wav, sr, formant_ratio=1.3)
    down = change_gender(wav, sr, formant_ratio=1 / 1.3)
    assert up.shape == down.shape == wav.shape and up.dtype == np.float32
    u1, u2 = _mean_formants(up, sr, 5000 * 1.3)
    d1, d2 = _mean_formants(down, sr, 5000 / 1.3)
    assert 1.12 < u2 / f2 < 1.5 and 1.1 < u1 / f1 < 1.55, (f1, f2, u1, u2)
    assert 0.65 < d2 / f2 < 0.9 and d1 < f1, (f1, f2, d1, d2)
    # pitch ratio moves the pitch, not the length
    high = change_gender(wav, sr, pitch_ratio=1.5)
    assert high.shape == wav.shape
    import pyworld

    def median_f0(x):
        f0, _ = pyworld.harvest(x.astype(np.float64), sr, frame_period=10)
        return np.median(f0[f0 > 0])

    assert 1.3 < median_f0(high) / median_f0(wav) < 1.7


def test_padded_batch_equals_single_items_and_the_checkpoint_round_trips(tmp_path):
    from textless.components import load_component
    from textless.quantizers.linear import LinearQuantizer, LinearQuantizerConfig

    torch.manual_seed(0)
    enc = LogMelEncoder(TINY).eval()
    wavs = [torch.randn(16000), torch.randn(9000)]
    batch = torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True)
    feats, frames = enc.features(batch, torch.tensor([16000, 9000]))
    assert frames.tolist() == [(16000 - 400) // 320 + 1, (9000 - 400) // 320 + 1]
    for i, w in enumerate(wavs):
        f, n = enc.features(w[None])
        assert torch.allclose(feats[i, : int(n[0])], f[0], atol=1e-5)
        assert not feats[i, int(n[0]):].any()
    enc.save(tmp_path / "e.safetensors")
    q = LinearQuantizer(LinearQuantizerConfig(7, TINY.dim, layer=TINY.num_layers))  # as the trainer saves it
    q.save(tmp_path / "q.safetensors")
    enc2, q2 = load_component(tmp_path / "e.safetensors"), load_component(tmp_path / "q.safetensors")
    assert torch.equal(enc2.features(batch)[0], enc.features(batch)[0])
    assert torch.equal(q2.assign(feats), q.assign(feats)) and int(q2.assign(feats).max()) < 7
    # the files of a `textless train encoder` run assemble into a pipeline (encode --checkpoint/--kmeans)
    from textless.pipeline import Pipeline

    pipe = Pipeline.from_files(tmp_path / "q.safetensors", encoder=tmp_path / "e.safetensors")
    assert torch.equal(pipe.encode(wavs[0], deduplicate=False).units, q.assign(enc.features(wavs[0][None])[0][0]))


@pytest.fixture(scope="module")
def parallel_corpus(tmp_path_factory):
    """Two flite voices speaking the same 6 sentences + the default bundle's frame units of them."""
    import shutil

    if shutil.which("flite") is None:
        pytest.skip("flite is not installed")
    d = tmp_path_factory.mktemp("parallel")
    env = {**os.environ, "TEXTLESS_HOME": str(d / "home")}
    run = lambda *a: subprocess.run([sys.executable, "-m", "textless", *a], check=True, env=env,  # noqa: E731
                                    capture_output=True, text=True)
    run("data", "synth", "--generate", "6", "--voices", "flite:rms", "flite:slt", "--per-sentence", "2",
        "--out", str(d / "corpus"), "--workers", "1")
    run("encode", "--no-dedup", "--manifest", str(d / "corpus" / "manifest.tsv"), "--out", str(d / "units.jsonl"))
    return d


def _train_args(corpus: Path, out: Path, steps: int):
    return ["train", "encoder", "--corpus", str(corpus / "corpus"),
            "--targets", str(corpus / "units.jsonl"), "--out", str(out), "--canonical", "flite-rms",
            "--perturb-views", "1", "--eq-db", "6", "--mask-prob", "0.3", "--unmasked-weight", "0.5",
            "--dim", "32", "--layers", "1", "--heads", "2", "--ffn-dim", "64", "--batch-size", "2",
            "--crop-frames", "40", "--steps", str(steps), "--save-every", "3", "--valid-every", "4",
            "--warmup-steps", "2", "--workers", "1"]


@pytest.mark.slow
def test_encoder_trained_with_every_signal_exports_a_usable_pipeline(parallel_corpus, tmp_path):
    """Cross-voice targets, perturbation, equalizer and masking together (its SIGKILL and resume:
    tests/test_kill_resume.py); the exported encoder + head encode speech into the targets' units."""
    from textless.cli import main
    from textless.components import load_component
    from textless.pipeline import Pipeline
    from textless.trainer import read_log

    out = tmp_path / "run"
    assert main(_train_args(parallel_corpus, out, 4)) == 0
    assert [r["step"] for r in read_log(out)] == [1, 2, 3, 4]
    pipe = Pipeline.from_parts(load_component(out / "encoder.safetensors"),
                               load_component(out / "quantizer.safetensors"))
    wav = next((parallel_corpus / "corpus" / "wav").rglob("*.wav"))
    units = pipe.encode_file(wav)
    assert units.vocab_size == 50 and int(units.units.max()) < 50


def test_cross_voice_targets_come_from_the_canonical_utterance(parallel_corpus, tmp_path):
    from textless.encoders.train import EncoderTrainConfig
    from textless.encoders.train_data import prepare_data
    from textless.units import read_units

    c = EncoderTrainConfig(corpora=(str(parallel_corpus / "corpus"),),
                           targets=str(parallel_corpus / "units.jsonl"), out_dir=str(tmp_path),
                           canonical="flite-rms", model=TINY, valid_fraction=0.0, workers=1)
    data = prepare_data(c, show_progress=False)
    assert len(data.offsets) - 1 == 12 and data.mels.shape[0] == 1
    own = {u.id: u.units.numpy() for u in read_units(parallel_corpus / "units.jsonl")}
    # the rms utterances keep their own labels; the slt ones get transferred labels over the
    # same units, which agree with slt's own MFCC units less often than rms' do with theirs
    speakers = dict(line.split("\t") for line in
                    (parallel_corpus / "corpus" / "speakers.tsv").read_text().splitlines())
    from textless.data.manifest import read_manifest

    _, entries = read_manifest(parallel_corpus / "corpus" / "manifest.tsv")
    ids = [Path(rel).stem for rel, _ in entries]
    for i, uid in enumerate(ids):
        lab = data.labels[data.offsets[i]: data.offsets[i + 1]]
        if speakers[uid] == "flite-rms":
            assert np.array_equal(lab, own[uid][: len(lab)])
        else:
            assert set(lab.tolist()) <= set(np.concatenate(list(own.values())).tolist())
            assert len(lab) == min(len(own[uid]), data.offsets[i + 1] - data.offsets[i])


def test_a_second_iteration_aligns_on_the_earlier_encoders_posteriors(parallel_corpus, tmp_path):
    """--align-with: DTW runs on the earlier run's unit posteriors, not on MFCCs; the cache follows
    its weights; a front-end that differs from the run's is refused."""
    import dataclasses

    from textless.encoders.train import EncoderTrainConfig
    from textless.encoders.train_data import _data_key, load_aligner, prepare_data
    from textless.errors import TextlessError
    from textless.quantizers.linear import LinearQuantizer, LinearQuantizerConfig
    from textless.units import read_units

    def earlier_run(folder, seed):
        torch.manual_seed(seed)
        folder.mkdir()
        LogMelEncoder(TINY).save(folder / "encoder.safetensors")
        LinearQuantizer(LinearQuantizerConfig(50, TINY.dim, layer=TINY.num_layers)).save(folder / "quantizer.safetensors")
        return folder

    first = earlier_run(tmp_path / "it1", 0)
    c = EncoderTrainConfig(corpora=(str(parallel_corpus / "corpus"),),
                           targets=str(parallel_corpus / "units.jsonl"), out_dir=str(tmp_path / "run"),
                           canonical="flite-rms", align_with=str(first), model=TINY,
                           valid_fraction=0.0, workers=1)
    data = prepare_data(c, show_progress=False)
    mfcc_data = prepare_data(dataclasses.replace(c, align_with=None), show_progress=False)
    own = {u.id: u.units.numpy() for u in read_units(parallel_corpus / "units.jsonl")}
    posteriors = load_aligner(first, TINY)
    from textless.data.manifest import read_items

    items = read_items(parallel_corpus / "corpus" / "manifest.tsv")
    index = {it.id: i for i, it in enumerate(items)}
    span = lambda d, i: slice(int(d.offsets[i]), int(d.offsets[i + 1]))  # noqa: E731
    canon = {it.text: it for it in items if it.speaker == "flite-rms"}
    moved = 0
    for it in items:
        lab = data.labels[span(data, index[it.id])]
        ref = canon[it.text]
        if ref.id == it.id:
            assert np.array_equal(lab, own[it.id][: len(lab)])
            continue
        mel = lambda x: data.mels[0, span(data, index[x.id])]  # noqa: E731
        expected = transfer_labels(posteriors(mel(ref)), own[ref.id], posteriors(mel(it)))
        assert np.array_equal(lab, expected[: len(lab)])
        moved += not np.array_equal(lab, mfcc_data.labels[span(mfcc_data, index[it.id])])
    assert moved > 0  # the posteriors of an untrained encoder align otherwise than MFCCs
    assert _data_key(c) != _data_key(dataclasses.replace(c, align_with=str(earlier_run(tmp_path / "it2", 1))))
    with pytest.raises(TextlessError, match="front-end"):
        load_aligner(first, dataclasses.replace(TINY, n_mels=40))
    with pytest.raises(TextlessError, match="no encoder.safetensors"):
        load_aligner(tmp_path, TINY)


def test_train_encoder_help_explains_every_flag():
    from textless.cli import build_parser

    parser = build_parser()
    train = next(a for a in parser._subparsers._group_actions[0].choices["train"]._actions
                 if a.__class__.__name__ == "_SubParsersAction")
    sub = train.choices["encoder"]
    flags = [a for a in sub._actions if a.option_strings and a.dest != "help"]
    assert len(flags) > 20
    for a in flags:
        assert a.help and len(a.help) > 8, a.option_strings
