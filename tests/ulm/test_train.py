"""Training: a tiny model overfits a tiny corpus; resuming continues the run exactly."""

import pytest

from textless.errors import TextlessError
from textless.ulm.checkpoint import load_ulm
from textless.ulm.model import UnitLMConfig
from textless.ulm.score import score_sequences
from textless.ulm.train import TrainConfig, read_log, train_ulm
from textless.units import read_units

TINY = UnitLMConfig.tiny(vocab_size=12, dropout=0.1)


def cfg(corpus, out, **kw):
    base = dict(train=str(corpus), out_dir=str(out), max_tokens=64, steps=12, lr=3e-3,
                warmup_steps=3, save_every=4, valid_every=6, valid_fraction=0.25, seed=3)
    return TrainConfig(**{**base, **kw})


def test_overfits_tiny_corpus(corpus, tmp_path):
    result = train_ulm(cfg(corpus, tmp_path / "run", steps=150, valid_every=50), TINY)
    records = read_log(tmp_path / "run")
    assert [r["step"] for r in records] == list(range(1, 151))
    first, last = records[0]["loss"], records[-1]["loss"]
    assert first > 2.0 and last < 0.5 * first
    # the held-out utterances follow the same patterns: perplexity far below the vocabulary size
    assert result["valid_ppl"] < 4.0
    model = load_ulm(tmp_path / "run" / "ulm.safetensors")
    utts = read_units(corpus)
    good = [u.deduplicated().units for u in utts[:3]]
    shuffled = [u.flip(0) for u in good]
    g = score_sequences(model, good)
    s = score_sequences(model, shuffled)
    assert all(a[0] > b[0] for a, b in zip(g, s))


def test_resume_continues_exactly(corpus, tmp_path):
    straight = tmp_path / "straight"
    train_ulm(cfg(corpus, straight), TINY)
    parted = tmp_path / "parted"
    train_ulm(cfg(corpus, parted, stop_at_step=4), TINY)
    assert read_log(parted)[-1]["step"] == 4
    train_ulm(cfg(corpus, parted), TINY)  # resumes at 4 (dropout on: RNG must be restored)
    a, b = read_log(straight), read_log(parted)
    assert [r["step"] for r in b] == list(range(1, 13))
    assert [r["loss"] for r in a] == [r["loss"] for r in b]
    assert [r.get("valid_ppl") for r in a] == [r.get("valid_ppl") for r in b]


def test_resume_refuses_other_settings(corpus, tmp_path):
    train_ulm(cfg(corpus, tmp_path / "r", stop_at_step=4), TINY)
    with pytest.raises(TextlessError, match="lr"):
        train_ulm(cfg(corpus, tmp_path / "r", lr=1e-2), TINY)
