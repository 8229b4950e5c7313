"""Vocoder training: a tiny run writes loadable files of the right shapes, resume is exact,
and 2-process DDP (torchrun, gloo) equals one process with the same global batch."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import torch

from textless.components import load_component
from textless.units import Units, write_units
from textless.vocoders.data import draw_batch, duration_targets, load_corpus
from textless.vocoders.train import TrainConfig, train_vocoder, upsample_plan

TINY = {"embedding_dim": 8, "upsample_initial_channel": 16, "upsample_rates": [5, 4, 4, 4],
        "upsample_kernel_sizes": [11, 8, 8, 8], "resblock_kernel_sizes": [3],
        "resblock_dilation_sizes": [[1, 3]], "dur_hidden_dim": 8}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """4 voiced synthetic utterances (two 'speakers'), 50 Hz units stored deduplicated."""
    d = tmp_path_factory.mktemp("voc_corpus")
    rng = np.random.default_rng(0)
    recs, lines = [], []
    for i in range(4):
        n = 12 + 4 * i
        t = np.arange(n * 320 + 77) / 16000  # a few samples more than the units cover
        wav = sum(0.2 / k * np.sin(2 * np.pi * (100 + 30 * i) * k * t) for k in (1, 2, 3)).astype(np.float32)
        sf.write(d / f"u{i}.wav", wav, 16000)
        u = torch.from_numpy(rng.integers(0, 8, n // 2).repeat(2))
        recs.append(Units(u, frame_rate=50.0, vocab_size=8, id=f"u{i}").deduplicated())
        lines.append(f"u{i}.wav\t{'ab'[i % 2]}")
    write_units(d / "units.jsonl", recs)
    (d / "list.tsv").write_text("\n".join(lines) + "\n")
    (d / "tiny.json").write_text(json.dumps(TINY))
    return d


CFG = dict(batch_size=2, segment_frames=4, save_every=1, valid_every=1, valid_utterances=1, disc_width=0.05)


def _state(path):
    return torch.load(path, weights_only=True)


def _assert_same(a, b, exact=True):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_same(a[k], b[k], exact)
    elif torch.is_tensor(a):
        if exact:
            assert torch.equal(a, b)
        else:
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    elif isinstance(a, (list, tuple)):
        for x, y in zip(a, b):
            _assert_same(x, y, exact)
    else:
        assert a == b


def test_tiny_training_writes_usable_files_and_resumes_exactly(corpus, tmp_path):
    cfg = TrainConfig(steps=2, f0=True, speakers=True, duration_predictor=True, **CFG)
    args = dict(units=corpus / "units.jsonl", generator=str(corpus / "tiny.json"), show_progress=False)
    straight = train_vocoder(corpus / "list.tsv", tmp_path / "a", cfg, **args)
    # "killed" after step 1: a second run continues from state.pt
    train_vocoder(corpus / "list.tsv", tmp_path / "b", TrainConfig(**{**cfg.__dict__, "steps": 1}), **args)
    after_one = _state(tmp_path / "b" / "state.pt")
    assert after_one["step"] == 1
    train_vocoder(corpus / "list.tsv", tmp_path / "b", cfg, **args)
    a, b = _state(tmp_path / "a" / "state.pt"), _state(tmp_path / "b" / "state.pt")
    assert a["step"] == b["step"] == 2
    for key in ("generator", "discriminators", "optim_g", "optim_d"):
        _assert_same(a[key], b[key])
    assert not torch.equal(a["generator"]["conv_pre.bias"], after_one["generator"]["conv_pre.bias"])  # it trains

    from textless.errors import TextlessError

    with pytest.raises(TextlessError, match=r"other settings \(disc_width\)"):
        train_vocoder(corpus / "list.tsv", tmp_path / "b", TrainConfig(**{**cfg.__dict__, "disc_width": 0.25}), **args)
    (tmp_path / "wide.json").write_text(json.dumps({**TINY, "embedding_dim": 4}))
    with pytest.raises(TextlessError, match="generator config"):
        train_vocoder(corpus / "list.tsv", tmp_path / "b", cfg, **{**args, "generator": str(tmp_path / "wide.json")})

    voc = load_component(straight)
    assert voc.config.speakers == ("a", "b") and voc.config.f0 and voc.config.duration_predictor
    assert voc.hop_length == 320 and voc.vocab_size == 8
    u = Units(torch.tensor([1, 2, 3]), torch.tensor([2, 1, 3]), frame_rate=50.0, vocab_size=8)
    wav = voc.synthesize(u, speaker="b", f0=torch.zeros(6))
    assert wav.shape == (6 * 320,) and torch.isfinite(wav).all()
    wav = voc.synthesize(Units(torch.tensor([1, 2, 3])), speaker=0, f0=torch.zeros(3))  # dur predictor
    assert wav.numel() % 320 == 0 and wav.numel() >= 3 * 320 and torch.isfinite(wav).all()

    records = [json.loads(line) for line in (tmp_path / "a" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2]
    assert all(np.isfinite(r["valid_mel_l1"]) and r["valid_mel_l1"] > 0 for r in records)
    sample, rate = sf.read(tmp_path / "a" / "samples" / "step_00000002.wav")
    assert rate == 16000 and sample.shape == (12 * 320,)  # the held-out u0 has 12 frames


def test_mel_only_warm_up_leaves_the_discriminators_alone(corpus, tmp_path):
    args = dict(units=corpus / "units.jsonl", generator=str(corpus / "tiny.json"), show_progress=False)
    cfg = TrainConfig(steps=2, disc_start=2, snapshot_every=2, **CFG)
    train_vocoder(corpus / "list.tsv", tmp_path / "w", TrainConfig(**{**cfg.__dict__, "disc_start": 10**6}), **args)
    warm = _state(tmp_path / "w" / "state.pt")
    # snapshot_every=2: only step 2's generator is kept, equal to the exported one
    assert sorted(p.name for p in (tmp_path / "w" / "snapshots").iterdir()) == ["step_2.safetensors"]
    from safetensors.torch import load_file

    _assert_same(load_file(tmp_path / "w" / "snapshots" / "step_2.safetensors"),
                 load_file(tmp_path / "w" / "generator.safetensors"))
    records = [json.loads(line) for line in (tmp_path / "w" / "log.jsonl").read_text().splitlines()]
    assert [(r["loss_d"], r["loss_adv"], r["loss_fm"]) for r in records] == [(0.0, 0.0, 0.0)] * 2
    assert all(r["loss_mel"] > 0 for r in records)
    assert warm["optim_d"]["state"] == {}  # the discriminators never stepped
    # from step disc_start on, training is adversarial; a resumed run may move disc_start
    # (here: a warm-up of "until further notice" ended after step 2)
    train_vocoder(corpus / "list.tsv", tmp_path / "w", TrainConfig(**{**cfg.__dict__, "steps": 3}), **args)
    last = json.loads((tmp_path / "w" / "log.jsonl").read_text().splitlines()[-1])
    assert last["step"] == 3 and last["loss_d"] > 0 and last["loss_adv"] > 0
    assert _state(tmp_path / "w" / "state.pt")["optim_d"]["state"] != {}


def test_init_starts_from_a_generator_file_and_refuses_another_config(corpus, tmp_path):
    from safetensors.torch import load_file

    args = dict(units=corpus / "units.jsonl", generator=str(corpus / "tiny.json"), show_progress=False)
    first = train_vocoder(corpus / "list.tsv", tmp_path / "a", TrainConfig(steps=2, disc_start=2, **CFG), **args)
    # lr 0: the fine-tuned run exports exactly the weights it started from
    still = TrainConfig(steps=1, disc_start=1, **{**CFG, "save_every": 1}, lr=0.0)
    tuned = train_vocoder(corpus / "list.tsv", tmp_path / "b", still, init=first, **args)
    _assert_same(load_file(first), load_file(tuned), exact=False)  # weight norm re-applied, folded again
    # without --init, the same run starts from other (random) weights
    fresh = train_vocoder(corpus / "list.tsv", tmp_path / "c", still, **args)
    assert not torch.equal(load_file(first)["dict.weight"], load_file(fresh)["dict.weight"])
    other = corpus / "other.json"
    other.write_text(json.dumps({**TINY, "embedding_dim": 4}))
    with pytest.raises(Exception, match="embedding_dim"):
        train_vocoder(corpus / "list.tsv", tmp_path / "d", still, init=first,
                      **{**args, "generator": str(other)})


def test_batches_are_a_function_of_step_and_split_over_ranks(corpus):


    utts = load_corpus(corpus / "list.tsv", 16000, units_path=corpus / "units.jsonl", show_progress=False)[0]
    assert [u.wav.numel() for u in utts] == [u.units.numel() * 320 for u in utts]
    whole = draw_batch(utts, 5, 0, 4, 0, 1, 4, 320)
    halves = [draw_batch(utts, 5, 0, 2, r, 2, 4, 320) for r in (0, 1)]
    assert torch.equal(torch.cat([h["code"] for h in halves]), whole["code"])
    assert torch.equal(torch.cat([h["wav"] for h in halves]), whole["wav"])
    assert whole["wav"].shape == (4, 4 * 320)
    units, durs, mask = duration_targets(torch.tensor([[3, 3, 1, 1], [2, 2, 2, 2]]))
    assert units.tolist() == [[3, 1], [2, 0]] and durs.tolist() == [[2, 2], [4, 1]]
    assert mask.tolist() == [[True, True], [True, False]]
    assert upsample_plan(640) == ((5, 4, 4, 4, 2), (11, 8, 8, 8, 4))


def test_ddp_two_processes_equal_one_process(corpus, tmp_path):
    common = ["train", "vocoder", "--audio", str(corpus / "list.tsv"), "--units", str(corpus / "units.jsonl"),
              "--config", str(corpus / "tiny.json"), "--steps", "2", "--segment-frames", "4", "--valid-utterances", "1",
              "--disc-width", "0.05", "--save-every", "2"]
    import socket

    with socket.socket() as sock:  # a free port for the rendezvous
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    ddp = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", port,
         "-m", "textless", *common, "--batch-size", "1", "--out", str(tmp_path / "ddp")],
        env=env, capture_output=True, text=True, timeout=240,
    )
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    cfg = TrainConfig(steps=2, **{**CFG, "batch_size": 2, "save_every": 2})
    train_vocoder(corpus / "list.tsv", tmp_path / "one", cfg, units=corpus / "units.jsonl",
                  generator=str(corpus / "tiny.json"), show_progress=False)
    a, b = _state(tmp_path / "ddp" / "state.pt"), _state(tmp_path / "one" / "state.pt")
    assert json.loads((tmp_path / "ddp" / "train_config.json").read_text())["world_size"] == 2
    _assert_same(a["generator"], b["generator"], exact=False)
    _assert_same(a["discriminators"], b["discriminators"], exact=False)


def test_audio_folder_is_searched_recursively_and_ids_must_be_unique(tmp_path):
    """`--audio DIR` takes the layout `textless data synth` writes (DIR/<speaker>/*.wav)."""
    from textless.errors import TextlessError
    from textless.vocoders.data import read_audio_list

    for sub, name in (("a", "x1"), ("b", "x2"), ("b/c", "x3")):
        (tmp_path / sub).mkdir(parents=True, exist_ok=True)
        sf.write(tmp_path / sub / f"{name}.wav", np.zeros(800, dtype=np.float32), 16000)
    assert sorted(it.id for it in read_audio_list(tmp_path)) == ["x1", "x2", "x3"]
    sf.write(tmp_path / "x1.wav", np.zeros(800, dtype=np.float32), 16000)
    with pytest.raises(TextlessError, match="two inputs have the id 'x1'"):
        read_audio_list(tmp_path)
