import json
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from textless.errors import UnitsFormatError
from textless.units import Units, bitrate, dedup, expand, read_units, write_units

unit_lists = st.lists(st.integers(min_value=0, max_value=9), max_size=200)


@given(unit_lists)
@settings(max_examples=200, deadline=None)
def test_expand_dedup_round_trip(ids):
    u = torch.tensor(ids, dtype=torch.long)
    units, durations = dedup(u)
    assert torch.equal(expand(units, durations), u)
    # no two neighbours equal after dedup, every duration positive, total preserved
    assert not bool((units[1:] == units[:-1]).any())
    assert int(durations.sum()) == len(ids)
    assert len(ids) == 0 or int(durations.min()) >= 1


@given(unit_lists)
@settings(max_examples=100, deadline=None)
def test_dedup_is_idempotent_with_durations(ids):
    u = Units(torch.tensor(ids, dtype=torch.long), frame_rate=50.0, vocab_size=10)
    once = u.deduplicated()
    twice = once.deduplicated()
    assert torch.equal(once.units, twice.units) and torch.equal(once.durations, twice.durations)
    assert torch.equal(twice.expanded().units, u.units)


def _sample_units():
    return [
        Units(torch.tensor([3, 1, 4]), torch.tensor([2, 1, 5]), 50.0, 10, "m", "utt-a"),
        Units(torch.tensor([9, 2]), None, 50.0, 10, "m", "utt b"),
        Units(torch.tensor([], dtype=torch.long), None, 50.0, 10, "m", "empty"),
    ]


def test_jsonl_round_trip(tmp_path):
    path = write_units(tmp_path / "u.jsonl", _sample_units())
    back = read_units(path)
    for a, b in zip(_sample_units(), back, strict=True):
        assert torch.equal(a.units, b.units)
        assert (a.durations is None and b.durations is None) or torch.equal(a.durations, b.durations)
        assert (a.id, a.frame_rate, a.vocab_size, a.model) == (b.id, b.frame_rate, b.vocab_size, b.model)
    first = json.loads((tmp_path / "u.jsonl").read_text().splitlines()[0])
    assert set(first) == {"id", "units", "durations", "frame_rate", "vocab_size", "model"}


def test_fairseq_round_trip(tmp_path):
    utts = [u.expanded() for u in _sample_units()]
    path = write_units(tmp_path / "u.txt", utts)
    assert path.read_text().splitlines()[0] == "utt-a|3 3 1 4 4 4 4 4"
    back = read_units(path, frame_rate=50.0, vocab_size=10)
    assert [b.id for b in back] == [u.id for u in utts]
    assert all(torch.equal(a.units, b.units) for a, b in zip(utts, back))
    assert back[0].frame_rate == 50.0 and back[0].durations is None


@pytest.mark.parametrize(
    "text, fmt",
    [("utt|1 x 3\n", "fairseq"), ("no separator\n", "fairseq"), ("{not json\n", "jsonl"),
     ('{"id": "a"}\n', "jsonl"), ('{"id": "a", "units": [1, 2], "durations": [1]}\n', "jsonl"),
     ('{"id": "a", "units": [1, -2]}\n', "jsonl"), ('{"id": "a", "units": [1, 12], "vocab_size": 10}\n', "jsonl")],
)
def test_malformed_unit_files_raise_typed_errors(tmp_path, text, fmt):
    p = tmp_path / ("bad.jsonl" if fmt == "jsonl" else "bad.txt")
    p.write_text(text)
    with pytest.raises(UnitsFormatError, match=str(p.name)):
        read_units(p)


def test_bitrate_by_hand():
    # 2 utterances: 6 tokens over 0.2 s total at 50 Hz frames (durations count for time only)
    a = Units(torch.tensor([0, 1, 1, 2]), None, 50.0, 8)           # 4 frames, 4 tokens
    b = Units(torch.tensor([0, 3]), torch.tensor([3, 3]), 50.0, 8)  # 6 frames, 2 tokens
    total_s = (4 + 6) / 50
    assert bitrate([a, b], "vocab") == pytest.approx(6 / total_s * 3)
    # unigram counts: 0:2, 1:2, 2:1, 3:1 over 6 tokens
    h = -(2 * (2 / 6) * math.log2(2 / 6) + 2 * (1 / 6) * math.log2(1 / 6))
    assert bitrate([a, b], "entropy") == pytest.approx(6 / total_s * h)
    # the published raw-unit figure: 50 Hz, K=100 -> 332.2 bps
    raw = Units(torch.arange(100), None, 50.0, 100)
    assert bitrate([raw], "vocab") == pytest.approx(50 * math.log2(100))


def test_bitrate_needs_rates():
    with pytest.raises(UnitsFormatError):
        bitrate([Units(torch.tensor([1]), vocab_size=4)], "vocab")
    with pytest.raises(ValueError):
        bitrate([Units(torch.tensor([1]), frame_rate=50.0, vocab_size=4)], "nope")
