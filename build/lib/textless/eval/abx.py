"""ABX discriminability, ZeroSpeech triphone protocol ("within context").

For each context ``c`` (previous + next phone) and speaker ``s``, and each ordered pair of
phones ``(a, b)`` said in that context, a *cell* compares the items of ``a`` (A), of ``b``
(B) and of ``a`` again (X): the score of the cell is ``P(d(A, X) < d(B, X))`` over all
triplets, ties counting 1/2, and its error is ``1 - score``.

* within speaker: A, B, X all by ``s`` (X ranges over A's items, X != A);
* across speaker: A and B by ``s``, X by another speaker ``s_x`` (at most ``max_x_across``
  of them, drawn at random).

``d`` is the length-normalised DTW over frame distances (:mod:`textless.eval.dtw`). Groups
larger than ``max_size_group`` items are subsampled. Subsampling draws from Python's
``random.Random(seed)`` in exactly libri-light's order, so with ``legacy_slicing=True``, the
same feature files and the same seed, the scores equal zrc-abx2's.

The official averaging: within speaker, average the cells over contexts, then over speakers,
then over phone pairs ``(a, b)``; across speaker, over (context, X-speaker), then speakers, then
phone pairs.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import torch

from ..errors import TextlessError
from ..progress import progress
from . import cells as compiled
from .dtw import DISTANCES, dtw_gram, frame_distances, normalize_frames
from .item import ItemFile, frame_span

log = logging.getLogger(__name__)

SPEAKER_MODES = ("within", "across")


@dataclass
class AbxConfig:
    """Settings of an ABX run (defaults: the ZeroSpeech 2021 / zrc-abx2 ones).

    ``frame_shift_s``: seconds between feature frames (0.02 for HuBERT, 0.01 for CPC).
    ``distance``: ``angular`` frames are L2-normalised first (as libri-light does); ``kl`` /
    ``kl_symmetric`` take the frames as they are (probability vectors, e.g. posteriorgrams;
    libri-light would L2-normalise them too).
    ``max_size_group``: ``None`` keeps every item (no subsampling).
    """

    frame_shift_s: float
    distance: str = "angular"
    speakers: tuple[str, ...] = SPEAKER_MODES
    legacy_slicing: bool = False
    max_size_group: int | None = 10
    max_x_across: int = 5
    seed: int = 3459
    block_frames: int = 4096  # rows of one frame-distance matrix (memory bound)

    def __post_init__(self):
        if not self.frame_shift_s > 0:
            raise TextlessError(f"frame shift must be > 0 s, got {self.frame_shift_s}")
        if self.distance not in DISTANCES:
            raise TextlessError(f"unknown distance {self.distance!r}: use one of {DISTANCES}")
        bad = set(self.speakers) - set(SPEAKER_MODES)
        if bad or not self.speakers:
            raise TextlessError(f"speaker modes must be among {SPEAKER_MODES}, got {self.speakers}")


@dataclass
class AbxResult:
    """Error rates as fractions (``None`` for a mode not run or without any cell).

    ``by_pair[mode]["a-b"]``: error of phone pair (a, b) after context and speaker averaging.
    ``cells[mode]``: number of (A, B, X) cells scored.
    """

    within: float | None = None
    across: float | None = None
    by_pair: dict[str, dict[str, float]] = field(default_factory=dict)
    cells: dict[str, int] = field(default_factory=dict)
    items: int = 0

    def to_json(self) -> dict:
        return {"within": self.within, "across": self.across, "by_pair": self.by_pair,
                "cells": self.cells, "items": self.items}


# ---------------------------------------------------------------------------------- items
@dataclass
class _Items:
    """Item features packed as one frame table: item ``i`` is ``frames[start[i]:start[i]+length[i]]``."""

    frames: torch.Tensor  # [total_frames, D]
    start: np.ndarray
    length: np.ndarray
    context: np.ndarray
    phone: np.ndarray
    speaker: np.ndarray


def _slice_items(features: Mapping[str, np.ndarray], item: ItemFile, cfg: AbxConfig) -> _Items:
    by_file = item.by_file()
    chunks, start, length, rows = [], [], [], []
    total = 0
    missing = set(by_file) - set(features)
    if missing:
        log.warning("%d of %d item files have no features (e.g. %s): their items are skipped",
                    len(missing), len(by_file), sorted(missing)[0])
    for file_id, feats in features.items():
        if file_id not in by_file:
            continue
        x = torch.as_tensor(np.asarray(feats, dtype=np.float32))
        if x.ndim != 2:
            raise TextlessError(f"{file_id}: features must be [frames, dims], got {tuple(x.shape)}")
        if cfg.distance == "angular":
            x = normalize_frames(x)
        elif cfg.distance.startswith("kl") and bool((x < 0).any()):
            raise TextlessError(f"{file_id}: KL distances need non-negative frames "
                                "(posteriorgrams); use the angular distance for these features")
        if not bool(torch.isfinite(x).all()):
            raise TextlessError(f"{file_id}: features contain NaN or Inf")
        T = x.shape[0]
        for i in by_file[file_id]:
            s, e = frame_span(item.onsets[i], item.offsets[i], T, cfg.frame_shift_s,
                              cfg.legacy_slicing)
            if s >= T or e <= s:
                continue
            chunks.append(x[s:e])
            start.append(total)
            length.append(e - s)
            rows.append(i)
            total += e - s
    if not rows:
        raise TextlessError("no item has features: check the file ids and --frame-shift")
    rows = np.asarray(rows)
    return _Items(torch.cat(chunks), np.asarray(start), np.asarray(length),
                  item.context[rows], item.phone[rows], item.speaker[rows])


def _groups(items: _Items):
    """Items sorted by (context, speaker, phone) (stable, like libri-light) ->
    ``order`` and ``{(c, s): [(phone, start, end), ...]}`` position ranges into ``order``."""
    order = np.lexsort((items.phone, items.speaker, items.context))  # last key is primary
    keys = np.stack([items.context[order], items.speaker[order], items.phone[order]], 1)
    cuts = np.flatnonzero((np.diff(keys, axis=0) != 0).any(1)) + 1
    bounds = np.concatenate([[0], cuts, [len(order)]])
    groups: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    for a, b in zip(bounds[:-1], bounds[1:]):
        c, s, p = keys[a]
        groups.setdefault((int(c), int(s)), []).append((int(p), int(a), int(b)))
    return order, groups


# ---------------------------------------------------------------------------------- cells
@dataclass
class _Cells:
    """Cells in CSR layout: A of cell k is ``a_flat[a_off[k]:a_off[k+1]]`` (item indices)."""

    coords: list[tuple]
    a: list[np.ndarray]
    b: list[np.ndarray]
    x: list[np.ndarray] | None  # None: within speaker, X = A


def _enumerate_cells(order, groups, mode: str, cfg: AbxConfig) -> _Cells:
    rng = random.Random(cfg.seed)
    G = cfg.max_size_group

    def take(lo, hi):
        pos = range(lo, hi)
        if G is not None and hi - lo > G:
            pos = rng.sample(pos, k=G)
        return order[np.fromiter(pos, dtype=np.int64)]

    coords, A, B, X = [], [], [], []
    if mode == "within":
        for (c, s), phones in groups.items():
            if len(phones) < 2:
                continue
            for ia, (pa, a0, a1) in enumerate(phones):
                if a1 - a0 == 1:
                    continue
                for ib, (pb, b0, b1) in enumerate(phones):
                    if ib == ia:
                        continue
                    B.append(take(b0, b1))  # libri-light draws B before A
                    A.append(take(a0, a1))
                    coords.append((s, pa, pb, c))
        return _Cells(coords, A, B, None)
    # across: speakers per (context, phone), in speaker order
    speakers_of: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    for (c, s), phones in groups.items():
        for p, lo, hi in phones:
            speakers_of.setdefault((c, p), []).append((s, lo, hi))
    for (c, s), phones in groups.items():
        if len(phones) < 2:
            continue
        for ia, (pa, a0, a1) in enumerate(phones):
            others = [(sx, lo, hi) for sx, lo, hi in speakers_of[(c, pa)] if sx != s]
            if len(others) > cfg.max_x_across:
                others = rng.sample(others, k=cfg.max_x_across)
            for sx, x0, x1 in others:
                for ib, (pb, b0, b1) in enumerate(phones):
                    if ib == ia:
                        continue
                    A.append(take(a0, a1))
                    B.append(take(b0, b1))
                    X.append(take(x0, x1))
                    coords.append((s, pa, pb, c, sx))
    return _Cells(coords, A, B, X)


def _pair_keys(cells: _Cells, n_items: int) -> np.ndarray:
    """Ordered (first, second) item pairs whose DTW the cells need, as ``first * n + second``.

    Within speaker, d(X, A) for two items of A comes from the pair in A's drawn order (the
    first drawn item first), as libri-light fills its symmetric matrix.
    """
    keys = []
    for k in range(len(cells.coords)):
        a, b = cells.a[k], cells.b[k]
        x = a if cells.x is None else cells.x[k]
        keys.append((x[:, None] * n_items + b[None, :]).reshape(-1))
        if cells.x is None:
            iu = np.triu_indices(len(a), 1)
            keys.append(a[iu[0]] * n_items + a[iu[1]])
        else:
            keys.append((x[:, None] * n_items + a[None, :]).reshape(-1))
    return np.unique(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64)


def _ragged(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frame indices of items laid end to end, and each item's offset in that list."""
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    idx = np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()))
    return idx, offsets


def _dtw_pairs(items: _Items, keys: np.ndarray, cfg: AbxConfig) -> torch.Tensor:
    """DTW cost of every pair in ``keys`` -> ``[len(keys)] float32``.

    Both items of a pair share a context. Pairs are grouped by (context, speaker of the first
    item, speaker of the second), and by blocks of at most ``cfg.block_frames`` first-item
    frames; a group needs (nearly) all the frame distances between its first items and their
    partners. Groups of similar size are stacked, padded, into one batched distance computation
    ``[G, R, C]`` and one DTW call reads each pair's sub-block in place.
    """
    n = len(items.start)
    first, second = keys // n, keys % n
    group = np.stack([items.context[first], items.speaker[first], items.speaker[second]], 1)
    order = np.lexsort((first, group[:, 2], group[:, 1], group[:, 0]))
    bounds = np.flatnonzero((np.diff(group[order], axis=0) != 0).any(1)) + 1
    blocks = []  # (pair indices, row items, row inverse, col items, col inverse, R, C)
    for sel in np.split(order, bounds):
        f_sel = first[sel]
        is_new = np.concatenate([[True], f_sel[1:] != f_sel[:-1]])
        block_id = (np.cumsum(items.length[f_sel] * is_new) - 1) // cfg.block_frames
        for block in np.split(sel, np.flatnonzero(np.diff(block_id)) + 1):
            r_items, r_inv = np.unique(first[block], return_inverse=True)
            c_items, c_inv = np.unique(second[block], return_inverse=True)
            blocks.append((block, r_items, r_inv, c_items, c_inv,
                           int(items.length[r_items].sum()), int(items.length[c_items].sum())))
    blocks.sort(key=lambda b: (b[5], b[6]))
    out = torch.empty(len(keys), dtype=torch.float32)
    bar = progress(total=len(keys), desc="DTW", unit="pair")
    i = 0
    while i < len(blocks):
        j, R, C = i, 0, 0
        while j < len(blocks):  # stack blocks while the padded [G, R, C] stays in budget
            R2, C2 = max(R, blocks[j][5]), max(C, blocks[j][6])
            if j > i and (j - i + 1) * R2 * C2 > cfg.block_frames ** 2:
                break
            R, C, j = R2, C2, j + 1
        batch = blocks[i:j]
        rows = np.zeros((len(batch), R), dtype=np.int64)
        cols = np.zeros((len(batch), C), dtype=np.int64)
        g, r0, nn, c0, mm, pairs = [], [], [], [], [], []
        for k, (block, r_items, r_inv, c_items, c_inv, Rk, Ck) in enumerate(batch):
            r_idx, r_off = _ragged(items.start[r_items], items.length[r_items])
            c_idx, c_off = _ragged(items.start[c_items], items.length[c_items])
            rows[k, :Rk], rows[k, Rk:] = r_idx, r_idx[-1]
            cols[k, :Ck], cols[k, Ck:] = c_idx, c_idx[-1]
            g.append(np.full(len(block), k))
            r0.append(r_off[r_inv])
            nn.append(items.length[r_items][r_inv])
            c0.append(c_off[c_inv])
            mm.append(items.length[c_items][c_inv])
            pairs.append(block)
        gram = frame_distances(items.frames[torch.as_tensor(rows)],
                               items.frames[torch.as_tensor(cols)], cfg.distance)
        cat = np.concatenate
        pairs = cat(pairs)
        out[torch.as_tensor(pairs)] = dtw_gram(gram, cat(g), cat(r0), cat(nn), cat(c0), cat(mm))
        bar.update(len(pairs))
        i = j
    bar.close()
    return out


def _score_cells(cells: _Cells, keys: np.ndarray, values: torch.Tensor, n: int) -> np.ndarray:
    """Error ``1 - P(d(A,X) < d(B,X))`` (ties 1/2) of every cell -> ``[cells] float64``."""
    vals = values.numpy()
    out = np.empty(len(cells.coords))
    for k in range(len(cells.coords)):
        a, b = cells.a[k], cells.b[k]
        x = a if cells.x is None else cells.x[k]
        dxb = vals[np.searchsorted(keys, x[:, None] * n + b[None, :])]  # [Nx, Nb]
        if cells.x is None:
            lo = np.minimum.outer(np.arange(len(a)), np.arange(len(a)))
            hi = np.maximum.outer(np.arange(len(a)), np.arange(len(a)))
            pos = np.searchsorted(keys, a[lo] * n + a[hi])
            dxa = vals[np.minimum(pos, len(keys) - 1)]  # [Nx, Na], diagonal unused
            mask = ~np.eye(len(a), dtype=bool)
            n_pos = len(a) * (len(a) - 1)
        else:
            dxa = vals[np.searchsorted(keys, x[:, None] * n + a[None, :])]
            mask = np.ones(dxa.shape, dtype=bool)
            n_pos = dxa.size
        lt = (dxa[:, :, None] < dxb[:, None, :]) & mask[:, :, None]
        eq = (dxa[:, :, None] == dxb[:, None, :]) & mask[:, :, None]
        theta = (lt.sum() + 0.5 * eq.sum()) / (n_pos * len(b))
        out[k] = 1.0 - theta
    return out


# ---------------------------------------------------------------------------------- averaging
def _average(coords: list[tuple], errors: np.ndarray, phones: list[str]):
    """Official averaging -> (overall error, {"a-b": error}).

    ``coords`` are ``(speaker, phone_a, phone_b, *rest)``: cells are averaged over ``rest``
    (context, and X-speaker across), then over speakers, then over phone pairs.
    """
    first: dict[tuple, list[float]] = {}
    for co, e in zip(coords, errors):
        first.setdefault(co[:3], []).append(e)
    second: dict[tuple, list[float]] = {}
    for (s, pa, pb), es in first.items():
        second.setdefault((pa, pb), []).append(float(np.mean(es)))
    by_pair = {f"{phones[pa]}-{phones[pb]}": float(np.mean(v)) for (pa, pb), v in second.items()}
    overall = float(np.mean(list(by_pair.values()))) if by_pair else None
    return overall, by_pair


def abx(features: Mapping[str, np.ndarray], item: ItemFile, config: AbxConfig) -> AbxResult:
    """ABX error rates of ``features`` (``{file_id: [frames, dims]}``) on the items of ``item``.

    Files are read in the mapping's order (see :func:`~textless.eval.features.load_feature_dir`).
    """
    items = _slice_items(features, item, config)
    order, groups = _groups(items)
    n = len(items.start)
    result = AbxResult(items=n)
    for mode in config.speakers:
        cells = _enumerate_cells(order, groups, mode, config)
        result.cells[mode] = len(cells.coords)
        if not cells.coords:
            log.warning("ABX %s speaker: no cell (need >= 2 phones per context and speaker)", mode)
            continue
        keys = compiled.pair_keys(cells.a, cells.b, cells.x, n)
        if keys is None:
            keys = _pair_keys(cells, n)
        values = _dtw_pairs(items, keys, config)
        errors = compiled.cell_errors(cells.a, cells.b, cells.x, keys, values.numpy(), n)
        if errors is None:
            errors = _score_cells(cells, keys, values, n)
        overall, by_pair = _average(cells.coords, errors, item.phones)
        setattr(result, mode, overall)
        result.by_pair[mode] = by_pair
    return result
