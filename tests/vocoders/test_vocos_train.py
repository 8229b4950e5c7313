"""`textless train vocoder --arch vocos`: a tiny run (mel warm-up, then MPD + MRD), DDP, and the
one-line error of an unknown --arch (its SIGKILL and resume: tests/test_kill_resume.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

import textless
from textless.components import load_component
from textless.cli import main
from textless.errors import TextlessError
from textless.vocoders.train import TrainConfig, train_vocoder
from textless.vocoders.vocos import UnitVocos

from ..conftest import write_tone_corpus

TINY = {"embedding_dim": 8, "dim": 16, "intermediate_dim": 32, "num_layers": 2}
ROOT = Path(textless.__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """4 harmonic tones with random 50 Hz units (undeduplicated)."""
    d = write_tone_corpus(tmp_path_factory.mktemp("vocos_corpus"), [16 + 4 * i for i in range(4)])
    (d / "tiny.json").write_text(json.dumps(TINY))
    return d


def _log(path):
    return [json.loads(line) for line in (path / "log.jsonl").read_text().splitlines()]


def test_tiny_vocos_run_warms_up_then_trains_adversarially(corpus, tmp_path):
    cfg = TrainConfig(arch="vocos", steps=3, batch_size=2, segment_frames=8, save_every=1,
                      valid_every=1, valid_utterances=1, disc_width=0.05, disc_start=1)
    out = train_vocoder(corpus, tmp_path / "v", cfg, units=corpus / "units.jsonl",
                        generator=str(corpus / "tiny.json"), show_progress=False)
    records = _log(tmp_path / "v")
    assert [r["step"] for r in records] == [1, 2, 3]
    assert records[0]["loss_d"] == 0.0 and records[0]["loss_fm"] == 0.0  # mel-L1 warm-up
    assert all(r["loss_d"] > 0 and r["loss_fm"] > 0 for r in records[1:])
    assert all(np.isfinite(r["valid_mel_l1"]) for r in records)
    state = torch.load(tmp_path / "v" / "state.pt", weights_only=True)
    assert any(k.startswith("mrd.") for k in state["discriminators"])
    assert not any(k.startswith("msd.") for k in state["discriminators"])
    voc = load_component(out)
    assert isinstance(voc, UnitVocos) and voc.config.dim == 16 and voc.hop_length == 320
    sample, rate = sf.read(tmp_path / "v" / "samples" / "step_00000003.wav")
    assert rate == 16000 and sample.shape == (16 * 320,)  # the held-out u0 has 16 frames
    # the run folder of one architecture is not resumed by the other
    with pytest.raises(TextlessError, match=r"other settings \(arch\)"):
        train_vocoder(corpus, tmp_path / "v", TrainConfig(**{**cfg.__dict__, "arch": "hifigan", "steps": 4}),
                      units=corpus / "units.jsonl", show_progress=False)


def test_unknown_arch_is_a_one_line_error(corpus, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "vocoder", "--arch", "wavenet", "--audio", str(corpus), "--units",
              str(corpus / "units.jsonl"), "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.startswith("textless: error:") and "wavenet" in err
    assert len(err.strip().splitlines()) == 1
    with pytest.raises(TextlessError, match="unknown vocoder architecture --arch 'wavenet'; known: hifigan, vocos"):
        TrainConfig(arch="wavenet")
    with pytest.raises(TextlessError, match="'small' or 'base'"):  # a HiFi-GAN preset for a Vocos
        train_vocoder(corpus, tmp_path / "y", TrainConfig(arch="vocos", steps=1), units=corpus / "units.jsonl",
                      generator="v1", show_progress=False)


def test_vocos_ddp_two_processes_equal_one_process(corpus, tmp_path):
    import socket

    common = ["train", "vocoder", "--arch", "vocos", "--audio", str(corpus), "--units", str(corpus / "units.jsonl"),
              "--config", str(corpus / "tiny.json"), "--steps", "2", "--segment-frames", "8", "--valid-utterances", "1",
              "--disc-width", "0.05", "--save-every", "2"]
    with socket.socket() as sock:  # a free port for the rendezvous
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore",
           "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    ddp = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
                          port, "-m", "textless", *common, "--batch-size", "1", "--out", str(tmp_path / "ddp")],
                         env=env, capture_output=True, text=True, timeout=240)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    cfg = TrainConfig(arch="vocos", steps=2, batch_size=2, segment_frames=8, save_every=2,
                      valid_utterances=1, disc_width=0.05)
    train_vocoder(corpus, tmp_path / "one", cfg, units=corpus / "units.jsonl", generator=str(corpus / "tiny.json"),
                  show_progress=False)
    a = torch.load(tmp_path / "ddp" / "state.pt", weights_only=True)
    b = torch.load(tmp_path / "one" / "state.pt", weights_only=True)
    for key in ("generator", "discriminators"):
        assert a[key].keys() == b[key].keys()
        for k in a[key]:
            torch.testing.assert_close(a[key][k], b[key][k], rtol=1e-4, atol=1e-6)
