"""Real kills: each long-running command is started as a subprocess, SIGKILLed as soon as its
first checkpoint (journal entry, state file, wav) is on disk, rerun, and compared with an
uninterrupted run in another folder. Nothing the killed command started may outlive it.

Reruns and uninterrupted references run in this process (the killed interpreter is the one
that matters; a fresh one costs seconds of imports) on one thread, like the subprocesses
(``OMP_NUM_THREADS=1``), so that results can be compared bit for bit.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

import textless
from textless.cli import main

ROOT = Path(textless.__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
       "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
TINY_CONV = ((64, 10, 5),) + ((64, 3, 2),) * 4 + ((64, 2, 2),) * 2

pytestmark = pytest.mark.slow


def textless_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "textless", *map(str, args)]


def _group_alive(pgid: int) -> list[int]:
    """Processes of group ``pgid`` that are not zombies (Linux /proc)."""
    alive = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(d.name))
    return alive


def kill_when(cmd: list[str], ready, log: Path, timeout_s: float = 300) -> None:
    """Run ``cmd`` in its own process group; SIGKILL it as soon as ``ready()`` is true, then
    check that no process it started survives it (its pool workers, say)."""
    with open(log, "wb") as err:
        proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    deadline = time.monotonic() + timeout_s  # a safety net for a hung child, not a timing test
    try:
        while not ready():
            assert proc.poll() is None, f"it ended (rc {proc.returncode}) before the kill point:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no checkpoint after {timeout_s} s:\n{log.read_text()}"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        survivors = _group_alive(proc.pid)
        wait_until = time.monotonic() + 20
        while survivors and time.monotonic() < wait_until:
            time.sleep(0.1)
            survivors = _group_alive(proc.pid)
        assert not survivors, f"processes {survivors} outlived the killed command"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # cleanup of our own group only


@contextlib.contextmanager
def one_thread():
    import faiss

    n, m = torch.get_num_threads(), faiss.omp_get_max_threads()
    torch.set_num_threads(1)
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)
        faiss.omp_set_num_threads(m)


# ----------------------------------------------------------------------------- encode, k-means
@pytest.fixture(scope="module")
def hubert(tmp_path_factory):
    """A random small HuBERT in fairseq layout and a random k-means (K=12) on its layer 2."""
    from textless.encoders.fairseq_export import save_fairseq_checkpoint
    from textless.encoders.hubert import HubertConfig, HubertEncoder
    from textless.quantizers.kmeans import KMeansQuantizer

    d = tmp_path_factory.mktemp("hubert")
    torch.manual_seed(0)
    model = HubertEncoder(HubertConfig(conv_layers=TINY_CONV, embed_dim=64, ffn_dim=128, num_layers=3,
                                       num_heads=4, conv_pos=16, conv_pos_groups=4))
    save_fairseq_checkpoint(model, d / "tiny.pt", num_units=20)
    KMeansQuantizer(torch.randn(12, 64), layer=2).save(d / "km.safetensors")
    return d / "tiny.pt", d / "km.safetensors"


@pytest.fixture(scope="module")
def long_corpus(tmp_path_factory, speech_dir):
    """24 files of three flite utterances each (about 6 s): enough work to kill in the middle."""
    d = tmp_path_factory.mktemp("long_corpus")
    utts = [sf.read(f, dtype="float32")[0] for f in sorted(speech_dir.glob("*.wav"))]
    for i in range(24):
        sf.write(d / f"c{i:02d}.wav", np.concatenate([utts[(i + j) % len(utts)] for j in range(3)]), 16000)
    return d


def test_encode_killed_mid_run_resumes_to_a_byte_identical_file(hubert, long_corpus, tmp_path, monkeypatch):
    from textless.pipeline import Pipeline

    ckpt, km = hubert
    args = ["encode", "--checkpoint", ckpt, "--layer", 2, "--kmeans", km, "--max-batch-seconds", 1,
            long_corpus]  # one file per batch: one journal entry per file
    out = tmp_path / "killed.jsonl"
    journal = tmp_path / "killed.jsonl.partial"
    kill_when(textless_cmd(*args, "--out", out),
              lambda: journal.is_file() and journal.read_text().count("\n") >= 3, tmp_path / "log")
    batches_done = journal.read_text().count("\n") - 1
    assert not out.exists() and 2 <= batches_done < 24  # killed in the middle
    encoded, real = [], Pipeline.encode_batch

    def counting(self, wavs, *a, **kw):
        encoded.extend(wavs)
        return real(self, wavs, *a, **kw)

    monkeypatch.setattr(Pipeline, "encode_batch", counting)
    full = tmp_path / "full.jsonl"
    with one_thread():
        assert main(list(map(str, [*args, "--out", out]))) == 0
        assert 0 < len(encoded) <= 24 - batches_done  # the journaled files were not encoded again
        assert main(list(map(str, [*args, "--out", full]))) == 0
    assert out.read_bytes() == full.read_bytes()
    assert len(out.read_text().splitlines()) == 24 and not journal.exists()


def test_kmeans_killed_mid_pass_resumes_to_the_same_centroids(hubert, long_corpus, tmp_path, caplog):
    ckpt, _ = hubert
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not a wav")
    # the reservoir (500 frames) is full after two files: later files replace frames at random,
    # so the resumed pass must restore the generator as well as the frames
    args = ["train", "kmeans", "--checkpoint", ckpt, "--layer", 2, "-k", 8, "--max-frames", 500,
            "--niter", 10, "--seed", 3, "--save-every", 3, long_corpus, broken]
    out = tmp_path / "killed.safetensors"
    state = tmp_path / "killed.safetensors.state" / "state.pt"
    kill_when(textless_cmd(*args, "--out", out), state.is_file, tmp_path / "log")
    saved = torch.load(state, weights_only=True)
    assert not out.exists() and 3 <= saved["files_done"] < 25
    assert saved["reservoir"]["seen"] > 500
    full = tmp_path / "full.safetensors"
    with one_thread(), caplog.at_level("INFO", logger="textless.quantizers.kmeans"):
        assert main(list(map(str, [*args, "--out", out]))) == 0
        assert f"resuming the feature pass at file {saved['files_done']} of 25" in caplog.text
        assert main(list(map(str, [*args, "--out", full]))) == 0
    # safetensors writes its metadata keys in a random order, so compare what the files hold
    from textless.checkpoint import load_checkpoint

    (cfg_a, a), (cfg_b, b) = load_checkpoint(out), load_checkpoint(full)
    assert cfg_a == cfg_b and torch.equal(a["centers"], b["centers"])  # bit for bit
    assert not state.parent.exists()


# ----------------------------------------------------------------------------- vocoder
TINY_VOCODER = {"embedding_dim": 8, "upsample_initial_channel": 16, "upsample_rates": [5, 4, 4, 4],
                "upsample_kernel_sizes": [11, 8, 8, 8], "resblock_kernel_sizes": [3],
                "resblock_dilation_sizes": [[1, 3]]}


@pytest.fixture(scope="module")
def vocoder_data(tmp_path_factory):
    """4 harmonic tones with random 50 Hz units (stored undeduplicated)."""
    from textless.units import Units, write_units

    d = tmp_path_factory.mktemp("voc")
    rng = np.random.default_rng(0)
    recs = []
    for i in range(4):
        n = 20 + 4 * i
        t = np.arange(n * 320) / 16000
        sf.write(d / f"u{i}.wav", (0.3 * np.sin(2 * np.pi * (110 + 30 * i) * t)).astype(np.float32), 16000)
        recs.append(Units(torch.from_numpy(rng.integers(0, 8, n)), frame_rate=50.0, vocab_size=8, id=f"u{i}"))
    write_units(d / "units.jsonl", recs)
    (d / "tiny.json").write_text(json.dumps(TINY_VOCODER))
    return d


def test_vocoder_training_killed_resumes_with_the_same_next_loss(vocoder_data, tmp_path, monkeypatch):
    from textless.vocoders import train as vocoder_train
    from textless.vocoders.train import TrainConfig, train_vocoder

    d = vocoder_data
    common = ["train", "vocoder", "--audio", d, "--units", d / "units.jsonl", "--config", d / "tiny.json",
              "--batch-size", 2, "--segment-frames", 8, "--checkpoint-every", 2, "--valid", 0,
              "--disc-width", 0.05, "--seed", 1]
    out = tmp_path / "run"
    kill_when(textless_cmd(*common, "--steps", 100000, "--out", out), (out / "state.pt").is_file,
              tmp_path / "log")
    step = int(torch.load(out / "state.pt", weights_only=True)["step"])
    assert step >= 2
    cfg = TrainConfig(steps=step + 1, batch_size=2, segment_frames=8, checkpoint_every=2,
                      valid_utterances=0, disc_width=0.05, seed=1)
    drawn, real = [], vocoder_train.draw_batch
    monkeypatch.setattr(vocoder_train, "draw_batch", lambda utts, s, *a: drawn.append(s) or real(utts, s, *a))
    with one_thread():
        assert main(list(map(str, [*common, "--steps", step + 1, "--out", out]))) == 0
        assert drawn == [step]  # one step: from the killed run's state to the next
        train_vocoder(d, tmp_path / "straight", cfg, units=d / "units.jsonl",
                      generator=str(d / "tiny.json"), show_progress=False)
    resumed = [json.loads(ln) for ln in (out / "log.jsonl").read_text().splitlines()]
    straight = {r["step"]: r for r in map(json.loads, (tmp_path / "straight" / "log.jsonl").read_text().splitlines())}
    steps = [r["step"] for r in resumed]
    assert steps == sorted(set(steps)) and steps[-1] == step + 1  # continued, not started over
    assert set(steps) <= set(straight)
    for r in resumed:  # the killed run's checkpoints and the step after the kill
        for key in ("loss_mel", "loss_d", "loss_adv", "loss_fm"):
            assert r[key] == pytest.approx(straight[r["step"]][key], rel=1e-6, abs=1e-9), (r["step"], key)


# ----------------------------------------------------------------------------- encoder pre-training
PRETRAIN = """
import dataclasses, numpy as np, torch
from textless.encoders.pretrain import PretrainConfig, PretrainData, Pretrainer, small_hubert_config

def setup():
    tiny = small_hubert_config(embed_dim=32, ffn_dim=64, num_layers=2, num_heads=2, conv_pos=16,
                               conv_pos_groups=4, dropout=0.1,
                               conv_layers=((32, 10, 5),) + ((32, 3, 2),) * 4 + ((32, 2, 2),) * 2)
    cfg = PretrainConfig(model=dataclasses.asdict(tiny), num_classes=4, crop_s=0.6, batch_size=2,
                         warmup_steps=3, max_steps=100000, lr=2e-3, checkpoint_every=2, mask_length=5)
    g = torch.Generator().manual_seed(0)
    wavs, labels = [], []
    for _ in range(3):
        lab = torch.randint(0, 4, (4,), generator=g).repeat_interleave(25)
        freq = (200 + 150 * lab.float()).repeat_interleave(320)
        t = torch.arange(freq.numel()) / 16000
        wavs.append((0.5 * torch.sin(2 * np.pi * freq * t)).numpy().astype(np.float32))
        labels.append(lab)
    return cfg, PretrainData(wavs, labels, 320)
"""


def test_encoder_pretraining_killed_resumes_with_the_same_next_loss(tmp_path):
    """There is no CLI for pre-training: the subprocess runs the API (recipes/encoder_choice.py's way)."""
    out = tmp_path / "run"
    script = PRETRAIN + f"cfg, data = setup()\nPretrainer(cfg, data, {str(out)!r}).train()\n"
    kill_when([sys.executable, "-c", script], (out / "last.pt").is_file, tmp_path / "log")
    ns: dict = {}
    exec(PRETRAIN, ns)
    cfg, data = ns["setup"]()
    rng = torch.get_rng_state()
    try:
        with one_thread():
            resumed = ns["Pretrainer"](cfg, data, out)
            step = resumed.step
            assert step >= 2 and [h["step"] for h in resumed.history] == list(range(1, step + 1))
            next_loss = resumed.train_step()["loss"]
            straight = ns["Pretrainer"](cfg, data, tmp_path / "straight")
            losses = [straight.train_step()["loss"] for _ in range(step + 1)]
    finally:
        torch.set_rng_state(rng)  # the trainers seed and restore the global generator
    assert [h["loss"] for h in resumed.history] == pytest.approx(losses[:step], rel=1e-6)
    assert next_loss == pytest.approx(losses[-1], rel=1e-6)


# ----------------------------------------------------------------------------- data synth
def corpus_checksum(folder: Path) -> str:
    """sha256 of every visible file (relative path and bytes); the manifest's first line (the
    corpus's absolute root) is left out, so two folders can be compared."""
    h = hashlib.sha256()
    for f in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        data = f.read_bytes()
        if f.name == "manifest.tsv":
            data = data.split(b"\n", 1)[1]
        h.update(f"{f.relative_to(folder)}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def test_data_synth_killed_resumes_to_the_same_corpus(tmp_path, capsys):
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed")
    args = ["data", "synth", "--generate", 24, "--seed", 2, "--voices", "flite:slt", "flite:kal",
            "--workers", 2]
    out = tmp_path / "killed"
    kill_when(textless_cmd(*args, "--out", out), lambda: any((out / "wav").rglob("*.wav")), tmp_path / "log")
    kept = len(list((out / "wav").rglob("*.wav")))
    assert not (out / "manifest.tsv").exists() and 1 <= kept < 24
    assert main(list(map(str, [*args, "--out", out]))) == 0
    assert f"24 utterances ({24 - kept} new)" in capsys.readouterr().out  # the kept files were not redone
    assert main(list(map(str, [*args, "--out", tmp_path / "straight"]))) == 0
    assert corpus_checksum(out) == corpus_checksum(tmp_path / "straight")
