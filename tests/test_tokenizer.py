"""Unit tokenization: exact round trips with durations (hypothesis), determinism, the file
format, and the CLI path train tokenizer -> train ulm --tokenizer -> continue -> vocoder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from textless.cli import main
from textless.errors import CheckpointError, UnitsFormatError
from textless.tokenizer import Tokenizer, train_tokenizer
from textless.units import Units, read_units, write_units

K = 16
PATTERNS = [[1, 2, 3, 4, 5], [6, 7, 8, 9], [10, 11, 0, 3], [12, 13, 14, 15, 2]]


def corpus(n=32, seed=0) -> list[Units]:
    """Frame-level utterances built from repeating patterns (so BPE has pairs to merge)."""
    g = torch.Generator().manual_seed(seed)
    utts = []
    for i in range(n):
        p = PATTERNS[i % len(PATTERNS)] + [int(torch.randint(0, K, (1,), generator=g))]
        frames = torch.randint(1, 4, (len(p) * 3,), generator=g)
        utts.append(Units(torch.tensor(p * 3).repeat_interleave(frames), frame_rate=50.0,
                          vocab_size=K, model="test", id=f"u{i}"))
    return utts


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return train_tokenizer(corpus(), 40)


def deduped_units():
    """Deduplicated unit streams with durations (no two neighbours equal)."""
    return st.lists(st.tuples(st.integers(0, K - 1), st.integers(1, 9)), max_size=60).map(
        lambda pairs: [p for i, p in enumerate(pairs) if i == 0 or p[0] != pairs[i - 1][0]])


@settings(max_examples=150, deadline=None)
@given(pairs=deduped_units(), with_durations=st.booleans())
def test_round_trip_is_exact_and_durations_add_up(tok, pairs, with_durations):
    units = torch.tensor([u for u, _ in pairs], dtype=torch.long)
    durations = torch.tensor([d for _, d in pairs], dtype=torch.long) if with_durations else None
    u = Units(units, durations, frame_rate=50.0, vocab_size=K, id="x")
    t = tok.encode(u)
    back = tok.decode(t)
    assert torch.equal(back.units, u.units)
    assert (back.durations is None) == (durations is None)
    if durations is not None:
        assert torch.equal(back.durations, durations)
    # a token's duration is the sum of its units' durations
    frames = durations if durations is not None else torch.ones(len(units), dtype=torch.long)
    start = 0
    for tid, d in zip(t.ids.tolist(), t.durations.tolist()):
        n = len(tok.token_units(tid))
        assert tok.token_units(tid) == units[start:start + n].tolist()
        assert d == int(frames[start:start + n].sum())
        start += n
    assert start == len(units)
    assert t.as_units().num_frames == u.num_frames
    assert len(t) <= len(u)
    assert torch.equal(tok.decode_ids(t.ids), units)


@settings(max_examples=60, deadline=None)
@given(frames=st.lists(st.integers(0, K - 1), max_size=80))
def test_frame_level_units_round_trip_after_expansion(tok, frames):
    u = Units(torch.tensor(frames, dtype=torch.long), frame_rate=50.0, vocab_size=K)
    back = tok.decode(tok.encode(u))
    assert torch.equal(back.expanded().units, u.units)
    assert back.units.tolist() == u.deduplicated().units.tolist()


def test_bpe_shortens_and_is_deterministic(tok, tmp_path):
    utts = corpus(seed=1)
    n_units = sum(len(u.deduplicated()) for u in utts)
    n_tokens = sum(len(t) for t in tok.encode_batch(utts))
    assert tok.vocab_size > K and n_tokens < n_units
    assert train_tokenizer(corpus(), 40).to_dict() == tok.to_dict()
    units_only = train_tokenizer(corpus(), K)
    assert units_only.vocab_size == K
    assert sum(len(t) for t in units_only.encode_batch(utts)) == n_units
    path = tok.save(tmp_path / "tok.json")
    assert Tokenizer.load(path).to_dict() == tok.to_dict()


def test_refuses_bad_files_and_units(tok, tmp_path):
    d = tok.to_dict()
    for bad in ({**d, "extra": 1}, {k: v for k, v in d.items() if k != "vocab_size"},
                {**d, "vocab_size": d["vocab_size"] + 1}, {**d, "unit_vocab_size": K - 1}):
        (tmp_path / "bad.json").write_text(json.dumps(bad))
        with pytest.raises(CheckpointError):
            Tokenizer.load(tmp_path / "bad.json")
    with pytest.raises(UnitsFormatError):
        tok.encode(Units(torch.tensor([K]), vocab_size=K + 1))
    with pytest.raises(UnitsFormatError):
        tok.decode_ids(torch.tensor([tok.vocab_size]))
    with pytest.raises(UnitsFormatError):
        train_tokenizer(corpus(), K - 1)


def run(*argv):
    assert main([str(a) for a in argv]) == 0


def test_cli_tokenizer_token_lm_continue_vocode(tmp_path, tiny_pipeline_dir, capsys):
    units = write_units(tmp_path / "units.jsonl", corpus())
    tok_path = tmp_path / "tok.json"
    run("train", "tokenizer", "--units", units, "--vocab", 40, "-o", tok_path)
    tok = Tokenizer.load(tok_path)
    run("train", "ulm", "--units", units, "--tokenizer", tok_path, "--out", tmp_path / "run",
        "--size", "tiny", "--max-steps", 3, "--warmup-steps", 1, "--save-every", 3,
        "--valid-every", 3, "--max-tokens", 512)
    from textless.ulm.checkpoint import load_ulm

    assert load_ulm(tmp_path / "run" / "ulm.safetensors").vocab_size == tok.vocab_size
    # a pipeline folder whose LM reads tokens: pipeline.json names the tokenizer
    pipe = tmp_path / "pipe"
    shutil.copytree(tiny_pipeline_dir, pipe)
    shutil.copy(tmp_path / "run" / "ulm.safetensors", pipe / "ulm.safetensors")
    shutil.copy(tmp_path / "run" / "tokenizer.json", pipe / "tokenizer.json")
    spec = json.loads((pipe / "pipeline.json").read_text())
    spec["components"]["tokenizer"] = "tokenizer.json"
    (pipe / "pipeline.json").write_text(json.dumps(spec))
    prompts = write_units(tmp_path / "prompts.jsonl", corpus(2, seed=3))
    run("continue", "--model", pipe, "--units", prompts, "--out", tmp_path / "cont",
        "--max-new-tokens", 6, "--no-eos", "--seed", 0)
    conts = read_units(tmp_path / "cont" / "continuations.jsonl")
    assert len(conts) == 2
    for c in conts:  # tokens decoded to units of the quantizer's vocabulary, then vocoded
        assert c.vocab_size == K and len(c) >= 1 and int(c.units.max()) < K
        assert (tmp_path / "cont" / f"{c.id}.wav").is_file()
    # score goes through the tokenizer: num_tokens counts tokens + eos
    run("score", "--ulm", tmp_path / "run" / "ulm.safetensors", "--tokenizer", tok_path,
        "--units", prompts, "-o", tmp_path / "scores.jsonl", "--deduplicate")
    rows = [json.loads(line) for line in (tmp_path / "scores.jsonl").read_text().splitlines()]
    expected = [len(t) + 1 for t in tok.encode_batch(read_units(prompts))]
    assert [r["num_tokens"] for r in rows] == expected
    # a token LM without its tokenizer does not fit the pipeline's quantizer
    assert main(["continue", "--model", str(pipe), "--ulm", str(pipe / "ulm.safetensors"),
                 "--units", str(prompts), "--out", str(tmp_path / "c2")]) == 2


def test_cli_bitrate_before_and_after(tmp_path, tok, capsys):
    units = write_units(tmp_path / "units.jsonl", [u.deduplicated() for u in corpus()])
    tok.save(tmp_path / "tok.json")
    run("eval", "bitrate", units, "--tokenizer", tmp_path / "tok.json", "-o", tmp_path / "r.json")
    r = json.loads((tmp_path / "r.json").read_text())
    t = r["tokenized"]
    assert t["duration_s"] == pytest.approx(r["duration_s"])
    assert t["tokens"] < r["tokens"]
    assert t["tokens_per_s"] == pytest.approx(t["tokens"] / t["duration_s"])
    assert r["tokens_per_s"] == pytest.approx(r["tokens"] / r["duration_s"])
    assert t["vocab_bps"] == pytest.approx(t["tokens_per_s"] * torch.log2(torch.tensor(40.0)).item()
                                           if tok.vocab_size == 40 else t["vocab_bps"])
    out = capsys.readouterr().out
    assert "units:" in out and "tokens:" in out


def test_token_lm_continuation_is_the_decoded_token_continuation(tok):
    from textless.ulm.model import UnitLM, UnitLMConfig
    from textless.ulm.sample import continue_units
    from textless.ulm.tokenized import TokenizedLM
    from textless.units import dedup

    torch.manual_seed(0)
    lm = UnitLM(UnitLMConfig.tiny(tok.vocab_size)).eval()
    prompt = corpus(1, seed=5)[0].deduplicated()
    args = dict(num_samples=3, max_new_tokens=8, temperature=1.0, seed=7, stop_at_eos=False)
    through = continue_units(TokenizedLM(lm, tok), prompt, **args)
    direct = continue_units(lm, tok.encode(prompt).as_units(), deduplicate=False, **args)
    assert len(through) == 3
    for a, b in zip(through, direct):
        assert len(b) == 8  # 8 tokens, repeats kept
        assert a.units.tolist() == dedup(tok.decode_ids(b.units))[0].tolist()
        assert a.vocab_size == K and a.id == b.id
