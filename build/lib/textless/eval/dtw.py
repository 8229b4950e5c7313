"""Frame distances and batched, length-normalised DTW for ABX.

Distances take padded batches ``x: [B, N, D]``, ``y: [B, M, D]`` and return ``[B, N, M]``:

* ``angular``: ``acos(clamp(x.y, -1, 1)) / pi`` of L2-normalised frames (libri-light's
  "cosine"), in [0, 1];
* ``kl`` / ``kl_symmetric``: for posteriorgrams (frames are probability vectors);
* ``euclidean``.

:func:`dtw_batch` runs the DTW recursion (steps: diagonal, left, up) of many pairs at once,
one anti-diagonal at a time, and divides the cost by the length of the path a backtrack would
follow with libri-light's tie-breaking (diagonal, then left, then up). The path length is
carried forward with the cost, which gives the same path as backtracking.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

DISTANCES = ("angular", "kl", "kl_symmetric", "euclidean")
_EPS = 1e-6


def normalize_frames(x: torch.Tensor) -> torch.Tensor:
    """L2-normalise frames ``[T, D] -> [T, D + 1]`` the way libri-light does.

    A tiny extra channel (1e-12) keeps ordinary frames unchanged; an all-zero frame becomes a
    vector at angular distance 1 from every non-zero frame and 0 from other zero frames.
    """
    x = x.to(torch.float32)
    sq = (x**2).sum(dim=1, keepdim=True)
    zero = (sq == 0).reshape(-1)
    x = x / torch.sqrt(torch.where(sq == 0, torch.ones_like(sq), sq))
    x[zero] = 1.0 / math.sqrt(x.shape[1])
    border = torch.full((x.shape[0], 1), 1e-12, dtype=x.dtype)
    border[zero] = -2e12
    return torch.cat([x, border], dim=1)


def frame_distances(x: torch.Tensor, y: torch.Tensor, distance: str = "angular") -> torch.Tensor:
    """``x: [B, N, D]``, ``y: [B, M, D]`` -> ``[B, N, M]`` float32 frame distances.

    For ``angular`` the frames must already be L2-normalised (:func:`normalize_frames`).
    """
    if distance == "angular":
        return torch.bmm(x, y.transpose(1, 2)).clamp_(-1.0, 1.0).acos_().div_(math.pi)
    if distance == "euclidean":
        return torch.cdist(x, y)
    if distance in ("kl", "kl_symmetric"):
        lx, ly = (x + _EPS).log(), (y + _EPS).log()
        # KL(x||y) = sum x log(x+e) - x log(y+e)
        kl_xy = (x * lx).sum(-1, keepdim=True) - torch.bmm(x, ly.transpose(1, 2))
        if distance == "kl":
            return kl_xy
        kl_yx = (y * ly).sum(-1).unsqueeze(1) - torch.bmm(lx, y.transpose(1, 2))
        return 0.5 * (kl_xy + kl_yx)
    raise ValueError(f"unknown distance {distance!r}: use one of {DISTANCES}")


def dtw_batch(dist: torch.Tensor, n: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """Length-normalised DTW cost of ``B`` padded distance matrices.

    ``dist: [B, N, M]`` float32 (only ``[:n_b, :m_b]`` is read for pair ``b``),
    ``n, m: [B]`` int64 true sizes (>= 1) -> ``[B]`` float32 cost / path length.

    On the CPU this runs a compiled loop over pairs (numba, a dependency of librosa) when it
    is importable; elsewhere (GPU) the anti-diagonal tensor recursion of :func:`dtw_wavefront`.
    Both give the same float32 results.
    """
    if dist.device.type == "cpu":
        kernel = _numba_kernel()
        if kernel is not None:
            d = dist.to(torch.float32).contiguous().numpy()
            out = np.empty(d.shape[0], dtype=np.float32)
            kernel(d, n.numpy().astype(np.int64), m.numpy().astype(np.int64), out)
            return torch.from_numpy(out)
    return dtw_wavefront(dist, n, m)


@functools.lru_cache(maxsize=1)
def _numba_kernel():
    try:
        import numba
    except ImportError:  # pragma: no cover - numba comes with librosa
        return None

    @numba.njit(parallel=True, cache=True, nogil=True)
    def kernel(dist, n, m, out):  # pragma: no cover - compiled
        for b in numba.prange(dist.shape[0]):
            N, M = n[b], m[b]
            cost = np.empty((N, M), dtype=np.float32)
            cost[0, 0] = dist[b, 0, 0]
            for i in range(1, N):
                cost[i, 0] = dist[b, i, 0] + cost[i - 1, 0]
            for j in range(1, M):
                cost[0, j] = dist[b, 0, j] + cost[0, j - 1]
            for i in range(1, N):
                for j in range(1, M):
                    cost[i, j] = dist[b, i, j] + min(cost[i - 1, j], cost[i - 1, j - 1],
                                                     cost[i, j - 1])
            i, j, path = N - 1, M - 1, 1
            while i > 0 and j > 0:
                up, left, diag = cost[i - 1, j], cost[i, j - 1], cost[i - 1, j - 1]
                if diag <= left and diag <= up:
                    i -= 1
                    j -= 1
                elif left <= up:
                    j -= 1
                else:
                    i -= 1
                path += 1
            path += i + j
            out[b] = np.float32(np.float64(cost[N - 1, M - 1]) / path)

    return kernel


def dtw_gram(
    gram: torch.Tensor, g: np.ndarray, row0: np.ndarray, n: np.ndarray, col0: np.ndarray,
    m: np.ndarray,
) -> torch.Tensor:
    """DTW of sub-blocks of frame-distance matrices ``gram: [G, R, C]`` float32.

    Pair ``b`` is ``gram[g[b], row0[b]:row0[b]+n[b], col0[b]:col0[b]+m[b]]`` -> ``[B]``
    float32 normalised costs (as :func:`dtw_batch`). Reading blocks in place avoids
    materialising one distance matrix per pair.
    """
    g, row0, n, col0, m = (np.asarray(a, dtype=np.int64) for a in (g, row0, n, col0, m))
    if gram.device.type == "cpu":
        kernel = _numba_gram_kernel()
        if kernel is not None:
            out = np.empty(len(row0), dtype=np.float32)
            kernel(gram.to(torch.float32).contiguous().numpy(), g, row0, n, col0, m, out)
            return torch.from_numpy(out)
    N, M = int(n.max()), int(m.max())
    rows = torch.as_tensor(row0[:, None] + np.minimum(np.arange(N), n[:, None] - 1))
    cols = torch.as_tensor(col0[:, None] + np.minimum(np.arange(M), m[:, None] - 1))
    gi = torch.as_tensor(g)[:, None, None]
    dist = gram[gi.to(gram.device), rows[:, :, None].to(gram.device), cols[:, None, :].to(gram.device)]
    return dtw_wavefront(dist, torch.as_tensor(n), torch.as_tensor(m)).cpu()


@functools.lru_cache(maxsize=1)
def _numba_gram_kernel():
    try:
        import numba
    except ImportError:  # pragma: no cover
        return None

    @numba.njit(parallel=True, cache=True, nogil=True)
    def kernel(gram, g, row0, n, col0, m, out):  # pragma: no cover - compiled
        for b in numba.prange(row0.shape[0]):
            N, M, r, c, k = n[b], m[b], row0[b], col0[b], g[b]
            cost = np.empty((N, M), dtype=np.float32)
            cost[0, 0] = gram[k, r, c]
            for i in range(1, N):
                cost[i, 0] = gram[k, r + i, c] + cost[i - 1, 0]
            for j in range(1, M):
                cost[0, j] = gram[k, r, c + j] + cost[0, j - 1]
            for i in range(1, N):
                for j in range(1, M):
                    cost[i, j] = gram[k, r + i, c + j] + min(cost[i - 1, j], cost[i - 1, j - 1],
                                                             cost[i, j - 1])
            i, j, path = N - 1, M - 1, 1
            while i > 0 and j > 0:
                up, left, diag = cost[i - 1, j], cost[i, j - 1], cost[i - 1, j - 1]
                if diag <= left and diag <= up:
                    i -= 1
                    j -= 1
                elif left <= up:
                    j -= 1
                else:
                    i -= 1
                path += 1
            path += i + j
            out[b] = np.float32(np.float64(cost[N - 1, M - 1]) / path)

    return kernel


def dtw_wavefront(dist: torch.Tensor, n: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """:func:`dtw_batch` as tensor operations, one anti-diagonal of all pairs at a time
    (runs on any device)."""
    B, N, M = dist.shape
    inf = torch.tensor(float("inf"), dtype=dist.dtype)
    # Anti-diagonal k holds cells (i, k - i), indexed by i in [0, N).
    i = torch.arange(N)
    prev_cost = torch.full((B, N), float("inf"), dtype=dist.dtype)  # diagonal k - 1
    prev2_cost = prev_cost.clone()  # diagonal k - 2
    prev_len = torch.zeros((B, N), dtype=torch.int64)
    prev2_len = prev_len.clone()
    n_idx = (n - 1).clamp(min=0)
    target_k = n_idx + (m - 1)
    out_cost = torch.zeros(B, dtype=dist.dtype)
    out_len = torch.ones(B, dtype=torch.int64)
    flat = dist.reshape(B, N * M)
    shift = lambda t, fill: torch.cat([torch.full_like(t[:, :1], fill), t[:, :-1]], dim=1)  # noqa: E731
    for k in range(N + M - 1):
        j = k - i
        valid = (j >= 0) & (j < M)
        d = flat[:, (i * M + j.clamp(0, M - 1))]
        d = torch.where(valid, d, inf)
        if k == 0:
            cost = d
            length = torch.ones((B, N), dtype=torch.int64)
        else:
            up = shift(prev_cost, float("inf"))  # (i-1, j) is on diagonal k-1 at index i-1
            left = prev_cost  # (i, j-1) on diagonal k-1 at index i
            diag = shift(prev2_cost, float("inf"))  # (i-1, j-1) on diagonal k-2 at index i-1
            up_len = shift(prev_len, 0)
            diag_len = shift(prev2_len, 0)
            take_diag = (diag <= left) & (diag <= up)
            take_left = ~take_diag & (left <= up)
            best = torch.where(take_diag, diag, torch.where(take_left, left, up))
            best_len = torch.where(take_diag, diag_len, torch.where(take_left, prev_len, up_len))
            cost = torch.where(valid, d + best, inf)
            length = torch.where(valid, best_len + 1, 0)
        done = target_k == k
        if bool(done.any()):
            rows = done.nonzero().reshape(-1)
            out_cost[rows] = cost[rows, n_idx[rows]]
            out_len[rows] = length[rows, n_idx[rows]]
        prev2_cost, prev_cost = prev_cost, cost
        prev2_len, prev_len = prev_len, length
    # libri-light divides the float32 cost by an integer in double precision.
    return (out_cost.double() / out_len.double()).to(dist.dtype)


def dtw_reference(dist) -> float:
    """Plain-Python DTW of one ``[N, M]`` matrix with backtracking (the libri-light algorithm).

    Slow; for tests. Arithmetic in float32 like the Cython original.

    >>> round(dtw_reference([[0.0, 1.0], [1.0, 0.0]]), 6)   # diagonal path of 2 cells
    0.0
    """
    import numpy as np

    d = np.asarray(dist, dtype=np.float32)
    N, M = d.shape
    cost = np.empty((N, M), dtype=np.float32)
    cost[0, 0] = d[0, 0]
    for a in range(1, N):
        cost[a, 0] = d[a, 0] + cost[a - 1, 0]
    for b in range(1, M):
        cost[0, b] = d[0, b] + cost[0, b - 1]
    for a in range(1, N):
        for b in range(1, M):
            cost[a, b] = d[a, b] + min(cost[a - 1, b], cost[a - 1, b - 1], cost[a, b - 1])
    a, b, path = N - 1, M - 1, 1
    while a > 0 and b > 0:
        up, left, diag = cost[a - 1, b], cost[a, b - 1], cost[a - 1, b - 1]
        if diag <= left and diag <= up:
            a, b = a - 1, b - 1
        elif left <= up:
            b -= 1
        else:
            a -= 1
        path += 1
    path += a + b
    return float(np.float32(float(cost[N - 1, M - 1]) / path))
