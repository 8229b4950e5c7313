"""DTW kernels against the plain libri-light algorithm; distances; item files and slicing."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from textless.eval import dtw
from textless.eval.item import ItemFileError, frame_span, read_item_file, write_item_file


def _cases(seed=0, B=60, N=7, M=9):
    g = torch.Generator().manual_seed(seed)
    d = torch.rand(B, N, M, generator=g)
    d[: B // 2] = (d[: B // 2] * 3).floor() / 2  # many exact ties: tie-breaking matters
    n = torch.randint(1, N + 1, (B,), generator=g)
    m = torch.randint(1, M + 1, (B,), generator=g)
    return d, n, m


def test_dtw_kernels_equal_reference():
    d, n, m = _cases()
    ref = np.array([dtw.dtw_reference(d[b, : n[b], : m[b]].numpy()) for b in range(len(n))],
                   dtype=np.float32)
    assert np.array_equal(dtw.dtw_batch(d, n, m).numpy(), ref)  # compiled loop
    assert np.array_equal(dtw.dtw_wavefront(d, n, m).numpy(), ref)  # tensor recursion
    # the same matrices read in place from stacked distance matrices
    gram = torch.zeros(len(n), 10, 12)
    gram[:, 2:9, 3:12] = d
    idx = np.arange(len(n))
    got = dtw.dtw_gram(gram, idx, np.full(len(n), 2), n.numpy(), np.full(len(n), 3), m.numpy())
    assert np.array_equal(got.numpy(), ref)


def test_dtw_reference_by_hand():
    # 1 x 3: the only path has 3 cells; 2 x 2 diagonal path has 2 cells
    assert dtw.dtw_reference([[1.0, 2.0, 3.0]]) == pytest.approx(2.0)
    assert dtw.dtw_reference([[0.0, 1.0], [1.0, 0.5]]) == pytest.approx(0.25)


def test_frame_distances_formulas():
    rng = np.random.default_rng(0)
    x = rng.random((2, 4, 5)).astype(np.float32)
    y = rng.random((2, 3, 5)).astype(np.float32)
    xn = x / np.linalg.norm(x, axis=-1, keepdims=True)
    yn = y / np.linalg.norm(y, axis=-1, keepdims=True)
    ang = dtw.frame_distances(torch.from_numpy(xn), torch.from_numpy(yn), "angular").numpy()
    cos = np.einsum("bnd,bmd->bnm", xn, yn)
    assert np.allclose(ang, np.arccos(np.clip(cos, -1, 1)) / math.pi, atol=1e-6)
    px, py = x / x.sum(-1, keepdims=True), y / y.sum(-1, keepdims=True)
    e = 1e-6
    kl = (px[:, :, None, :] * np.log((px[:, :, None, :] + e) / (py[:, None, :, :] + e))).sum(-1)
    kl_yx = (py[:, None, :, :] * np.log((py[:, None, :, :] + e) / (px[:, :, None, :] + e))).sum(-1)
    tx, ty = torch.from_numpy(px), torch.from_numpy(py)
    assert np.allclose(dtw.frame_distances(tx, ty, "kl").numpy(), kl, atol=1e-5)
    assert np.allclose(dtw.frame_distances(tx, ty, "kl_symmetric").numpy(), (kl + kl_yx) / 2,
                       atol=1e-5)
    eu = np.linalg.norm(x[:, :, None] - y[:, None], axis=-1)
    assert np.allclose(dtw.frame_distances(torch.from_numpy(x), torch.from_numpy(y),
                                           "euclidean").numpy(), eu, atol=1e-5)


def test_normalize_frames_zero_vectors():
    f = dtw.normalize_frames(torch.tensor([[3.0, 4.0], [0.0, 0.0], [0.0, 0.0]]))
    d = dtw.frame_distances(f[None], f[None], "angular")[0]
    assert torch.allclose(f[0, :2], torch.tensor([0.6, 0.8]))
    assert d[0, 1] == 1.0 and d[1, 2] == 0.0 and d[0, 0] == 0.0


@pytest.mark.parametrize("shift", [0.01, 0.02, 0.04])
def test_frame_span_keeps_frames_whose_centre_is_inside(shift):
    """Fixed slicing = the frames whose centre (i + 1/2) * shift lies in [onset, offset];
    legacy slicing = the same minus the last frame (inside the file)."""
    rng = np.random.default_rng(1)
    T = 40
    centres = (np.arange(T) + 0.5) * shift
    checked = 0
    for _ in range(300):
        on = float(rng.uniform(0, T * shift))
        off = on + float(rng.uniform(0, 0.3))
        if np.abs(centres - on).min() < 1e-6 or np.abs(centres - off).min() < 1e-6:
            continue  # a boundary on a frame centre: float rounding decides
        inside = np.flatnonzero((centres >= on) & (centres <= off))
        if not len(inside):
            continue
        checked += 1
        s, e = frame_span(on, off, T, shift)
        assert (s, e) == (inside[0], inside[-1] + 1)
        # libri-light's end index drops the last frame, unless the offset lies past the end of
        # the features (then clipping to T keeps it)
        past_end = off >= (T + 0.5) * shift
        assert frame_span(on, off, T, shift, legacy=True) == (s, inside[-1] + past_end)
    assert checked > 100


def test_item_file_round_trip_and_errors(tmp_path):
    rows = [("u1", 0.1, 0.2, "AH", "B", "K", "s1"), ("u1", 0.2, 0.3, "K", "AH", "T", "s1"),
            ("u2", 0.0, 0.1, "AH", "B", "K", "s2")]
    item = read_item_file(write_item_file(tmp_path / "a.item", rows))
    assert item.files == ["u1", "u1", "u2"]
    assert item.phones == ["AH", "K"] and item.contexts == ["B+K", "AH+T"]
    assert item.phone.tolist() == [0, 1, 0] and item.context.tolist() == [0, 1, 0]
    assert item.speakers == ["s1", "s2"] and np.allclose(item.offsets, [0.2, 0.3, 0.1])
    assert item.by_file() == {"u1": [0, 1], "u2": [2]}
    (tmp_path / "b.item").write_text("#h\nu1 0.3 0.1 AH B K s1\n")
    with pytest.raises(ItemFileError, match="bad time span"):
        read_item_file(tmp_path / "b.item")
    with pytest.raises(ItemFileError, match="no such"):
        read_item_file(tmp_path / "missing.item")
