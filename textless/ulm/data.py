"""Training data for the unit LM: unit sequences, token-count batches, a resumable stream.

Each utterance becomes ``[eos, u_1 .. u_n, eos]`` (split into pieces that fit the model);
the model reads ``[:-1]`` and predicts ``[1:]``. Batches hold at most ``max_tokens`` padded
input tokens. The batch order of epoch ``e`` is a pure function of ``(seed, e)``, so a stream
position ``(epoch, cursor)`` is all a checkpoint needs to continue with the same data.
"""

from __future__ import annotations

import os
from typing import Sequence

import torch

from ..errors import TextlessError
from ..units import Units, dedup, read_units


def load_sequences(
    path: str | os.PathLike, deduplicate: bool = True, tokenizer: str | os.PathLike | None = None,
) -> tuple[list[torch.Tensor], int | None, float | None]:
    """``(unit sequences, vocab_size or None, frame_rate or None)`` of a unit file.

    With ``tokenizer`` (a tokenizer JSON file): the BPE token sequences of the deduplicated
    units and the tokenizer's vocabulary size (the token LM's ``vocab_size``).
    """
    utts: list[Units] = read_units(path)
    if not utts:
        raise TextlessError(f"{path}: no utterances")
    vocabs = {u.vocab_size for u in utts if u.vocab_size is not None}
    if len(vocabs) > 1:
        raise TextlessError(f"{path}: utterances disagree on vocab_size {sorted(vocabs)}")
    rates = {u.frame_rate for u in utts if u.frame_rate is not None}
    rate = rates.pop() if len(rates) == 1 else None
    if tokenizer is not None:
        from ..tokenizer import load_tokenizer, tokenize_utterances

        if not deduplicate:
            raise TextlessError("a tokenizer reads deduplicated units: drop --no-dedup")
        tok = load_tokenizer(tokenizer)
        return [t.ids for t in tokenize_utterances(tok, utts)], tok.vocab_size, rate
    seqs = [dedup(u.units)[0] if deduplicate else u.units for u in utts]
    return seqs, (vocabs.pop() if vocabs else None), rate


def split_long(seqs: Sequence[torch.Tensor], max_units: int) -> list[torch.Tensor]:
    """Cut sequences into pieces of at most ``max_units`` units (empty ones dropped).

    >>> [p.tolist() for p in split_long([torch.arange(5)], 2)]
    [[0, 1], [2, 3], [4]]
    """
    return [p for s in seqs if len(s) for p in torch.split(s, max_units)]


def make_batches(lengths: Sequence[int], max_tokens: int, seed: int, epoch: int) -> list[list[int]]:
    """Token-count batches of item indices for one epoch (deterministic in ``seed, epoch``).

    Items are shuffled, stably sorted by length (similar lengths share a batch), packed while
    ``batch_size * longest <= max_tokens``, and the batches are shuffled.

    >>> batches = make_batches([3, 3, 5, 1], max_tokens=6, seed=0, epoch=0)
    >>> sorted(len(b) for b in batches), sorted(i for b in batches for i in b)
    ([1, 1, 2], [0, 1, 2, 3])
    >>> batches == make_batches([3, 3, 5, 1], max_tokens=6, seed=0, epoch=0)
    True
    """
    g = torch.Generator().manual_seed(seed * 100003 + epoch)
    order = torch.randperm(len(lengths), generator=g).tolist()
    order.sort(key=lambda i: lengths[i])
    batches, cur, longest = [], [], 0
    for i in order:
        if lengths[i] > max_tokens:
            raise TextlessError(f"an item of {lengths[i]} tokens exceeds max_tokens {max_tokens}")
        if cur and (len(cur) + 1) * max(longest, lengths[i]) > max_tokens:
            batches.append(cur)
            cur, longest = [], 0
        cur.append(i)
        longest = max(longest, lengths[i])
    if cur:
        batches.append(cur)
    perm = torch.randperm(len(batches), generator=g).tolist()
    return [batches[p] for p in perm]


class BatchStream:
    """An endless stream of batches over epochs; ``state()`` / ``load_state()`` resume it."""

    def __init__(self, lengths: Sequence[int], max_tokens: int, seed: int):
        self.lengths, self.max_tokens, self.seed = list(lengths), max_tokens, seed
        self.epoch, self.cursor = 0, 0
        self._batches = make_batches(self.lengths, max_tokens, seed, 0)

    def take(self, n: int) -> list[list[int]]:
        """The next ``n`` batches (crossing into the next epoch when this one ends)."""
        out = []
        while len(out) < n:
            if self.cursor >= len(self._batches):
                self.epoch, self.cursor = self.epoch + 1, 0
                self._batches = make_batches(self.lengths, self.max_tokens, self.seed, self.epoch)
            out.append(self._batches[self.cursor])
            self.cursor += 1
        return out

    def state(self) -> dict:
        return {"epoch": self.epoch, "cursor": self.cursor}

    def load_state(self, state: dict) -> None:
        self.epoch, self.cursor = int(state["epoch"]), int(state["cursor"])
        self._batches = make_batches(self.lengths, self.max_tokens, self.seed, self.epoch)


def collate(seqs: Sequence[torch.Tensor], eos: int, pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token sequences -> ``(inputs [B, T], targets [B, T])``, right-padded; targets use -100
    at padding. ``inputs = [eos, t_1 .. t_n]``, ``targets = [t_1 .. t_n, eos]``."""
    T = max(len(s) for s in seqs) + 1
    inp = torch.full((len(seqs), T), pad, dtype=torch.long)
    tgt = torch.full((len(seqs), T), -100, dtype=torch.long)
    for row, s in enumerate(seqs):
        n = len(s)
        inp[row, 0] = eos
        inp[row, 1:n + 1] = s
        tgt[row, :n] = s
        tgt[row, n] = eos
    return inp, tgt
