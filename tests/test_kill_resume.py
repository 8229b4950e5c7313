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


# ----------------------------------------------------------------------------- vocoder
TINY_VOCODER = {"embedding_dim": 8, "upsample_initial_channel": 16, "upsample_rates": [5, 4, 4, 4],
                "upsample_kernel_sizes": [11, 8, 8, 8], "resblock_kernel_sizes": [3],
                "resblock_dilation_sizes": [[1, 3]]}


@pytest.fixture(scope="module")
def vocoder_data(tmp_path_factory):
    """4 harmonic tones with random 50 Hz units (stored undeduplicated)."""
    from .conftest import write_tone_corpus

    d = write_tone_corpus(tmp_path_factory.mktemp("voc"), [20 + 4 * i for i in range(4)])
    (d / "tiny.json").write_text(json.dumps(TINY_VOCODER))
    (d / "vocos.json").write_text(json.dumps({"embedding_dim": 8, "dim": 16, "intermediate_dim": 32,
                                              "num_layers": 2}))
    return d


# ----------------------------------------------------------------------------- every trainer
# One test of the trainer contract (textless/trainer.py): each trainer is SIGKILLed in a
# subprocess as soon as its first state.pt is on disk, resumed here for two steps past that state
# (the second step's loss depends on the restored optimizer; k-means: to its end), and its log
# must equal, record for record, the log of an uninterrupted run in another folder, and its
# state.pt the other's, tensor for tensor. The resumed run must say that it resumed (a fresh
# start would give the same results).
@pytest.fixture(scope="module")
def unit_corpus(tmp_path_factory):
    """24 utterances of random units (K=12) labelled with 3 classes, and a random tiny unit LM."""
    from textless.ulm.checkpoint import save_ulm
    from textless.ulm.model import UnitLM, UnitLMConfig
    from textless.units import Units, write_units

    d = tmp_path_factory.mktemp("units")
    g = torch.Generator().manual_seed(0)
    utts = [Units(torch.randint(0, 12, (int(torch.randint(6, 20, (1,), generator=g)),), generator=g),
                  vocab_size=12, id=f"u{i}") for i in range(24)]
    write_units(d / "units.jsonl", utts)
    (d / "labels.tsv").write_text("".join(f"u{i}\t{'abc'[i % 3]}\n" for i in range(24)))
    torch.manual_seed(0)
    save_ulm(d / "lm.safetensors", UnitLM(UnitLMConfig.tiny(vocab_size=12)))
    return d


@pytest.fixture(scope="module")
def encoder_corpus(tmp_path_factory):
    """A corpus folder (manifest.tsv) of 6 one-second tones, and random 50 Hz frame targets (K=8)."""
    from textless.data.manifest import write_manifest
    from textless.units import Units, write_units

    d = tmp_path_factory.mktemp("enc")
    (d / "corpus" / "wav").mkdir(parents=True)
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    for i in range(6):
        tone = (0.3 * np.sin(2 * np.pi * (150 + 40 * i) * t)).astype(np.float32)
        sf.write(d / "corpus" / "wav" / f"e{i}.wav", tone, 16000)
    write_manifest(d / "corpus" / "manifest.tsv", d / "corpus", [(f"wav/e{i}.wav", 16000) for i in range(6)])
    write_units(d / "targets.jsonl", [Units(torch.from_numpy(rng.integers(0, 8, 49)), frame_rate=50.0,
                                            vocab_size=8, id=f"e{i}") for i in range(6)])
    return d


@pytest.fixture(scope="module")
def kmeans_data(hubert, long_corpus, tmp_path_factory):
    """The random HuBERT, the long corpus and an unreadable file (skipped, it counts as done)."""
    broken = tmp_path_factory.mktemp("broken") / "broken.wav"
    broken.write_bytes(b"RIFF not a wav")
    return hubert[0], long_corpus, broken


def _schedule(n):
    """The end of a run whose schedule depends on ``--steps``: the whole schedule (``n`` None: to
    be killed) or its first ``n`` steps (``--stop-at-step``)."""
    return ["--steps", 1000] + ([] if n is None else ["--stop-at-step", n])


def _length(n):
    """The end of a run whose learning rate does not depend on ``--steps``."""
    return ["--steps", 100000 if n is None else n]


PRETRAIN = """
import dataclasses, sys, numpy as np, torch
from textless.encoders.pretrain import PretrainConfig, PretrainData, Pretrainer, small_hubert_config

def run(out, n):
    tiny = small_hubert_config(embed_dim=32, ffn_dim=64, num_layers=2, num_heads=2, conv_pos=16,
                               conv_pos_groups=4, dropout=0.1,
                               conv_layers=((32, 10, 5),) + ((32, 3, 2),) * 4 + ((32, 2, 2),) * 2)
    cfg = PretrainConfig(model=dataclasses.asdict(tiny), num_classes=4, crop_s=0.6, batch_size=2,
                         warmup_steps=3, steps=100000, lr=2e-3, save_every=2, mask_length=5)
    g = torch.Generator().manual_seed(0)
    wavs, labels = [], []
    for _ in range(3):
        lab = torch.randint(0, 4, (4,), generator=g).repeat_interleave(25)
        freq = (200 + 150 * lab.float()).repeat_interleave(320)
        t = torch.arange(freq.numel()) / 16000
        wavs.append((0.5 * torch.sin(2 * np.pi * freq * t)).numpy().astype(np.float32))
        labels.append(lab)
    trainer = Pretrainer(cfg, PretrainData(wavs, labels, 320), out)
    trainer.train(None if n is None else n - trainer.step)
"""


def _pretrain(data, out, n):
    """No CLI: HuBERT pre-training runs through the API, as recipes/encoder_choice.py calls it
    (a subprocess runs the script; ``n`` given: ``(script, out, n)`` to run here)."""
    return [sys.executable, "-c", PRETRAIN + "run(sys.argv[1], None)", out] if n is None else (PRETRAIN, out, n)


#: trainer -> (data fixture, argv(data, out, n) after `textless`, log fields a resumed run repeats)
TRAINERS = {
    "encoder": ("encoder_corpus", lambda d, out, n: [
        "train", "encoder", "--corpus", d / "corpus", "--targets", d / "targets.jsonl", "--out", out,
        "--mask-prob", 0.3, "--unmasked-weight", 0.5, "--eq-db", 3, "--dim", 16, "--layers", 1,
        "--heads", 2, "--ffn-dim", 32, "--conv-layers", 1, "--batch-size", 2, "--crop-frames", 20,
        "--warmup-steps", 2, "--save-every", 2, "--valid-every", 3, "--workers", 1, "--seed", 1,
        *_schedule(n)], ("loss", "acc", "grad_norm")),
    "pretrain": ("tmp_path", _pretrain, ("loss", "masked_acc")),
    "kmeans": ("kmeans_data", lambda d, out, n: [
        "train", "kmeans", "--checkpoint", d[0], "--layer", 2, "-k", 8, "--max-frames", 500, "--steps", 10,
        "--seed", 3, "--save-every", 3, "--out", out, d[1], d[2]], ("files_done", "frames_seen", "objective")),
    "ulm": ("unit_corpus", lambda d, out, n: [
        "train", "ulm", "--units", d / "units.jsonl", "--out", out, "--size", "tiny", "--dropout", 0.2, "--max-tokens", 64,
        "--lr", 3e-3, "--warmup-steps", 3, "--save-every", 2, "--valid-every", 3, "--valid-fraction", 0.2,
        "--seed", 2, *_schedule(n)], ("loss", "tokens", "grad_norm", "valid_ppl")),
    "prompt": ("unit_corpus", lambda d, out, n: [
        "train", "prompt", "--ulm", d / "lm.safetensors", "--units", d / "units.jsonl", "--labels",
        d / "labels.tsv", "--valid-units", d / "units.jsonl", "--out", out, "--prompt-length", 2, "--deep",
        "--batch-size", 4, "--save-every", 2, "--valid-every", 3, *_length(n)], ("loss", "valid_accuracy")),
    "vocoder": ("vocoder_data", lambda d, out, n: [
        "train", "vocoder", "--audio", d, "--units", d / "units.jsonl", "--config", d / "tiny.json",
        "--batch-size", 2, "--segment-frames", 8, "--save-every", 2, "--valid-every", 3,
        "--valid-utterances", 1, "--disc-width", 0.05, "--seed", 1, "--out", out, *_length(n)],
        ("loss_mel", "loss_d", "loss_adv", "loss_fm", "valid_mel_l1")),
    "vocoder-vocos": ("vocoder_data", lambda d, out, n: [
        "train", "vocoder", "--arch", "vocos", "--audio", d, "--units", d / "units.jsonl", "--config",
        d / "vocos.json", "--batch-size", 2, "--segment-frames", 8, "--save-every", 2, "--valid-utterances", 0,
        "--disc-width", 0.05, "--disc-start", 1, "--seed", 1, "--out", out, *_length(n)],
        ("loss_mel", "loss_d", "loss_adv", "loss_fm")),
}


def _run_here(argv) -> None:
    """A run in this process (on one thread, as the subprocess ran): the CLI or the pre-training script."""
    if isinstance(argv, tuple):
        script, out, n = argv
        ns: dict = {}
        exec(script, ns)
        ns["run"](out, n)
    else:
        assert main(list(map(str, argv))) == 0


def _tensors(state, prefix="") -> dict:
    """Every tensor of a saved state by its path (``optimizer.state.0.exp_avg``...)."""
    if torch.is_tensor(state):
        return {prefix: state}
    items = state.items() if isinstance(state, dict) else enumerate(state) if isinstance(state, (list, tuple)) else ()
    return {k: v for key, x in items for k, v in _tensors(x, f"{prefix}.{key}" if prefix else str(key)).items()}


def _project(records, keys):
    return [{k: r[k] for k in ("step", "files_done", *keys) if k in r} for r in records]


@pytest.mark.parametrize("name", list(TRAINERS))
def test_every_trainer_killed_after_a_checkpoint_resumes_exactly(name, request, tmp_path, caplog):
    from textless.trainer import read_log

    fixture, argv, keys = TRAINERS[name]
    data = request.getfixturevalue(fixture)
    out, straight = tmp_path / "killed", tmp_path / "straight"
    first = argv(data, out, None)
    kill_when(first if name == "pretrain" else textless_cmd(*first), (out / "state.pt").is_file, tmp_path / "log")
    state = torch.load(out / "state.pt", weights_only=True)
    n = None if name == "kmeans" else int(state["step"]) + 2  # k-means: the rest of the pass, then Lloyd
    rng = torch.get_rng_state()
    try:
        with one_thread(), caplog.at_level("INFO", logger="textless.trainer"):
            _run_here(argv(data, out, n))
            assert f"resuming the run in {out}" in caplog.text  # from its state, not from scratch
            _run_here(argv(data, straight, n))
    finally:
        torch.set_rng_state(rng)  # the trainers seed the global generator
    resumed, whole = _project(read_log(out), keys), _project(read_log(straight), keys)
    if name == "kmeans":
        # the reservoir (500 frames) is full after two files: later files replace frames at
        # random, so the resumed pass must restore the generator as well as the frames
        assert 3 <= state["files_done"] < 25 and state["reservoir"]["seen"] > 500
        from textless.checkpoint import load_checkpoint

        (cfg_a, a), (cfg_b, b) = (load_checkpoint(d / "quantizer.safetensors") for d in (out, straight))
        assert cfg_a == cfg_b and torch.equal(a["centers"], b["centers"])  # bit for bit
    else:
        assert n >= 3 and [r["step"] for r in resumed] == list(range(1, n + 1))  # every step once
    assert all(len(r) > 1 for r in resumed) and any(set(keys) & set(r) for r in resumed)
    a, b = (_tensors(torch.load(d / "state.pt", weights_only=True)) for d in (out, straight))
    assert a.keys() == b.keys() and a
    for key in a:  # weights, optimizer moments, generator states, reservoir
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-7, msg=key)
    assert len(resumed) == len(whole)
    for r, w in zip(resumed, whole):
        assert r == pytest.approx(w, rel=1e-6, abs=1e-9, nan_ok=True)


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
