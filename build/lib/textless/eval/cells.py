"""Compiled loops over ABX cells (numba, a dependency of librosa): the item pairs the cells
need, and each cell's error from the pairs' DTW costs.

Cells are in CSR layout: the A items of cell ``k`` are ``a_flat[a_off[k]:a_off[k+1]]`` (item
indices), likewise B and X; ``symmetric`` (within speaker) means X = A, X != A, and d(X, A)
for two items of A comes from the pair in A's drawn order. A pair ``(first, second)`` is the
key ``first * n + second``. The functions return ``None`` when numba is not importable; the
callers then use their numpy versions.
"""

from __future__ import annotations

import functools

import numpy as np


def csr(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(flat [sum len], offsets [len(arrays) + 1])`` of a list of 1-D int64 arrays."""
    off = np.zeros(len(arrays) + 1, dtype=np.int64)
    off[1:] = np.cumsum([len(a) for a in arrays])
    flat = np.concatenate(arrays).astype(np.int64) if arrays else np.zeros(0, np.int64)
    return flat, off


@functools.lru_cache(maxsize=1)
def _kernels():
    try:
        import numba
    except ImportError:  # pragma: no cover - numba comes with librosa
        return None

    @numba.njit(cache=True)
    def pair_keys(a_flat, a_off, b_flat, b_off, x_flat, x_off, symmetric, n):  # pragma: no cover
        C = a_off.shape[0] - 1
        total = 0
        for k in range(C):
            na, nb = a_off[k + 1] - a_off[k], b_off[k + 1] - b_off[k]
            if symmetric:
                total += na * nb + na * (na - 1) // 2
            else:
                total += (x_off[k + 1] - x_off[k]) * (na + nb)
        out = np.empty(total, dtype=np.int64)
        t = 0
        for k in range(C):
            A = a_flat[a_off[k]:a_off[k + 1]]
            B = b_flat[b_off[k]:b_off[k + 1]]
            X = A if symmetric else x_flat[x_off[k]:x_off[k + 1]]
            for i in range(X.shape[0]):
                for j in range(B.shape[0]):
                    out[t] = X[i] * n + B[j]
                    t += 1
                if symmetric:
                    for j in range(i + 1, A.shape[0]):
                        out[t] = A[i] * n + A[j]
                        t += 1
                else:
                    for j in range(A.shape[0]):
                        out[t] = X[i] * n + A[j]
                        t += 1
        return out

    @numba.njit(parallel=True, cache=True, nogil=True)
    def errors(a_flat, a_off, b_flat, b_off, x_flat, x_off, symmetric, keys, vals, n, out):  # pragma: no cover
        for k in numba.prange(a_off.shape[0] - 1):
            A = a_flat[a_off[k]:a_off[k + 1]]
            B = b_flat[b_off[k]:b_off[k + 1]]
            X = A if symmetric else x_flat[x_off[k]:x_off[k + 1]]
            dxb = np.empty(B.shape[0], dtype=np.float32)
            lt, eq = 0, 0
            for i in range(X.shape[0]):
                for j in range(B.shape[0]):
                    dxb[j] = vals[np.searchsorted(keys, X[i] * n + B[j])]
                for a in range(A.shape[0]):
                    if symmetric:
                        if a == i:
                            continue
                        key = A[min(a, i)] * n + A[max(a, i)]
                    else:
                        key = X[i] * n + A[a]
                    dxa = vals[np.searchsorted(keys, key)]
                    for j in range(B.shape[0]):
                        if dxa < dxb[j]:
                            lt += 1
                        elif dxa == dxb[j]:
                            eq += 1
            na = A.shape[0]
            n_pos = na * (na - 1) if symmetric else X.shape[0] * na
            out[k] = 1.0 - (lt + 0.5 * eq) / (n_pos * B.shape[0])

    return pair_keys, errors


def pair_keys(a, b, x, n: int) -> np.ndarray | None:
    """Sorted unique pair keys the cells need, or ``None`` without numba."""
    k = _kernels()
    if k is None:
        return None
    (af, ao), (bf, bo) = csr(a), csr(b)
    xf, xo = csr(x) if x is not None else (af, ao)
    return np.unique(k[0](af, ao, bf, bo, xf, xo, x is None, n))


def cell_errors(a, b, x, keys: np.ndarray, vals: np.ndarray, n: int) -> np.ndarray | None:
    """``1 - P(d(A,X) < d(B,X))`` (ties 1/2) per cell -> ``[cells] float64``, or ``None``."""
    k = _kernels()
    if k is None:
        return None
    (af, ao), (bf, bo) = csr(a), csr(b)
    xf, xo = csr(x) if x is not None else (af, ao)
    out = np.empty(len(a), dtype=np.float64)
    k[1](af, ao, bf, bo, xf, xo, x is None, keys, np.asarray(vals, np.float32), n, out)
    return out
