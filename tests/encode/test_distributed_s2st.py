"""2-process torchrun (gloo) sharding with rank-0 merge, and S2ST unit targets."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import numpy as np

from textless.cli import main


def _args(tiny_model, out, *inputs):
    ckpt, km, layer = tiny_model
    return ["encode", "--checkpoint", str(ckpt), "--layer", str(layer), "--kmeans", str(km),
            "--max-batch-seconds", "2", "--out", str(out), *map(str, inputs)]


def test_torchrun_two_processes_equals_one(tiny_model, corpus, tmp_path):
    single = tmp_path / "single.jsonl"
    assert main(_args(tiny_model, single, corpus)) == 0
    dist = tmp_path / "dist.jsonl"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_port", str(29500 + os.getpid() % 1000), "-m", "textless",
           *_args(tiny_model, dist, corpus)]
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    assert run.returncode == 0, run.stderr[-2000:]
    assert dist.read_bytes() == single.read_bytes()
    assert (tmp_path / "dist.jsonl.errors.tsv").read_text() == (tmp_path / "single.jsonl.errors.tsv").read_text()
    assert not list(tmp_path.glob("dist.jsonl.rank*"))  # rank journals merged and removed


def test_s2st_targets_manifest(tiny_model, corpus, tmp_path):
    import soundfile as sf

    ckpt, km, layer = tiny_model
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(
        f"id\tsrc_audio\ttgt_audio\n"
        f"p1\t{corpus / 'slt_0.wav'}\t{corpus / 'kal_0.wav'}\n"
        f"p2\t{corpus / 'slt_1.wav'}\t{corpus / 'broken.wav'}\n"
        f"p3\t{corpus / 'slt_2.wav'}\t{corpus / 'kal_2.wav'}\n"
    )
    base = ["s2st-targets", "--checkpoint", str(ckpt), "--layer", str(layer), "--kmeans", str(km),
            "--pairs", str(pairs)]
    assert main(base + ["--out", str(tmp_path / "full")]) == 0
    assert main(base + ["--reduce", "--split", "dev", "--out", str(tmp_path / "red")]) == 0
    full = list(csv.DictReader(open(tmp_path / "full" / "train.tsv"), delimiter="\t"))
    red = list(csv.DictReader(open(tmp_path / "red" / "dev.tsv"), delimiter="\t"))
    assert list(full[0]) == ["id", "src_audio", "src_n_frames", "tgt_audio", "tgt_n_frames"]
    assert [r["id"] for r in full] == [r["id"] for r in red] == ["p1", "p3"]
    for f, r, src in zip(full, red, ["slt_0", "slt_2"]):
        units = [int(u) for u in f["tgt_audio"].split()]
        reduced = [u for i, u in enumerate(units) if i == 0 or u != units[i - 1]]
        assert [int(u) for u in r["tgt_audio"].split()] == reduced
        assert int(f["tgt_n_frames"]) == len(units) and int(r["tgt_n_frames"]) == len(reduced)
        assert int(f["src_n_frames"]) == sf.info(str(corpus / f"{src}.wav")).frames // 160
    assert len(reduced) < len(units)
    dict_lines = (tmp_path / "full" / "dict.txt").read_text().splitlines()
    assert dict_lines == [f"{i} 1" for i in range(12)]
    assert "p2" in (tmp_path / "full" / "train.errors.tsv").read_text()
    assert np.all([int(u) < 12 for r in full for u in r["tgt_audio"].split()])
