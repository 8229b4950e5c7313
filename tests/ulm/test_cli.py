"""CLI: score and continue on unit files, train ulm killed and resumed, DDP with 2 gloo processes."""

import json
import os
import subprocess
import sys

import pytest
import torch

from textless.cli import main
from textless.ulm.checkpoint import load_ulm, save_ulm
from textless.ulm.model import UnitLM, UnitLMConfig
from textless.ulm.score import score_sequences
from textless.ulm.train import read_log
from textless.units import read_units

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@pytest.fixture
def lm_path(tmp_path):
    torch.manual_seed(0)
    return save_ulm(tmp_path / "lm.safetensors", UnitLM(UnitLMConfig.tiny(vocab_size=12)))


def test_score_cli(corpus, lm_path, tmp_path, capsys):
    out = tmp_path / "scores.jsonl"
    assert main(["score", "--ulm", str(lm_path), "--units", str(corpus), "-o", str(out),
                 "--batch-size", "5"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    utts = read_units(corpus)
    expect = score_sequences(load_ulm(lm_path), [u.units for u in utts], batch_size=1)
    assert [r["id"] for r in rows] == [u.id for u in utts]
    for r, (lp, n), u in zip(rows, expect, utts):
        assert r["num_tokens"] == n == len(u) + 1
        assert r["logprob"] == pytest.approx(lp, abs=1e-4)


def test_continue_cli_units(corpus, lm_path, tmp_path):
    out = tmp_path / "cont"
    args = ["continue", "--units", str(corpus), "--ulm", str(lm_path), "--out", str(out),
            "--num-samples", "2", "--max-new-tokens", "7", "--seed", "5", "--no-eos"]
    assert main(args) == 0
    first = read_units(out / "continuations.jsonl")
    assert len(first) == 2 * 24
    assert all(0 < len(u) <= 7 and u.durations is None and u.vocab_size == 12 for u in first)
    assert main(args) == 0  # same seed, same continuations
    again = read_units(out / "continuations.jsonl")
    assert [u.units.tolist() for u in first] == [u.units.tolist() for u in again]


def test_user_errors_are_one_line(corpus, tmp_path, capsys):
    assert main(["score", "--ulm", str(tmp_path / "nope"), "--units", str(corpus),
                 "-o", str(tmp_path / "s.jsonl")]) == 2
    assert main(["continue", "--units", str(corpus), "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(e.startswith("textless: error:") for e in err)


def _train_args(corpus, out, *extra):
    return [sys.executable, "-m", "textless", "train", "ulm", "--units", str(corpus), "--out",
            str(out), "--size", "tiny", "--max-tokens", "64", "--lr", "3e-3", "--warmup-steps", "3",
            "--valid-every", "1000000", "--seed", "2", *extra]


@pytest.mark.slow
def test_ddp_two_gloo_processes_equal_accumulation(corpus, tmp_path):
    common = ["--steps", "3", "--save-every", "3", "--dropout", "0", "--valid-fraction", "0"]
    ddp = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port",
         "0", "--rdzv-backend", "c10d", "--rdzv-endpoint", "localhost:0", "-m", "textless", *
         _train_args(corpus, tmp_path / "ddp", *common)[3:]],
        env=ENV, capture_output=True, text=True, timeout=500,
    )
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    assert main(_train_args(corpus, tmp_path / "one", *common, "--update-freq", "2")[3:]) == 0
    a, b = read_log(tmp_path / "ddp"), read_log(tmp_path / "one")
    assert [r["tokens"] for r in a] == [r["tokens"] for r in b]
    for x, y in zip(a, b):
        assert x["loss"] == pytest.approx(y["loss"], rel=1e-5)
    ma, mb = load_ulm(tmp_path / "ddp" / "ulm.safetensors"), load_ulm(tmp_path / "one" / "ulm.safetensors")
    for (k, p), q in zip(ma.state_dict().items(), mb.state_dict().values()):
        torch.testing.assert_close(p, q, atol=1e-5, rtol=1e-4, msg=k)
