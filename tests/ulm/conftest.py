"""Fixtures of the unit LM tests: a tiny unit corpus in JSON Lines."""

import pytest
import torch

from textless.units import Units, write_units


@pytest.fixture
def corpus(tmp_path):
    """A tiny, very regular corpus: 24 utterances over 12 units (3 repeating patterns)."""
    g = torch.Generator().manual_seed(0)
    patterns = [[1, 2, 3, 4, 5], [6, 7, 8, 9], [10, 11, 0, 3]]
    utts = []
    for i in range(24):
        p = patterns[i % 3]
        reps = 2 + int(torch.randint(0, 3, (1,), generator=g))
        units = torch.tensor(p * reps).repeat_interleave(2)  # frames; dedup restores p * reps
        utts.append(Units(units, frame_rate=50.0, vocab_size=12, model="test", id=f"u{i}"))
    return write_units(tmp_path / "corpus.jsonl", utts)


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models run faster on one thread, and a shared 2-core machine thrashes with two."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
