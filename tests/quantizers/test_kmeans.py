"""k-means: parity with sklearn predict on a joblib.dump'ed model, safe km.bin import, training."""

from __future__ import annotations

import joblib
import numpy as np
import pytest
import torch

from textless.errors import CheckpointError
from textless.quantizers.kmeans import (
    FrameReservoir, KMeansQuantizer, load_kmeans_bin, train_kmeans,
)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    from sklearn.cluster import MiniBatchKMeans

    x = np.random.RandomState(0).randn(3000, 24).astype(np.float32)
    km = MiniBatchKMeans(n_clusters=100, n_init=3, random_state=0, batch_size=1000, max_iter=20).fit(x)
    path = tmp_path_factory.mktemp("km") / "km.bin"
    joblib.dump(km, path)
    return km, path


def test_assignment_equals_sklearn_predict_on_every_frame(fitted):
    km, path = fitted
    q = load_kmeans_bin(path, layer=6)
    assert (q.vocab_size, q.dim, q.cfg.layer) == (100, 24, 6)
    feats = np.random.RandomState(1).randn(20000, 24).astype(np.float32) * 1.3
    ours = q.assign(torch.from_numpy(feats).reshape(40, 500, 24))
    assert ours.shape == (40, 500) and ours.dtype == torch.int64
    assert np.array_equal(ours.reshape(-1).numpy(), km.predict(feats))  # 100 % of frames


class _Payload:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (str(self.target), "w"))


def test_km_bin_that_would_run_code_is_refused(fitted, tmp_path):
    km, _ = fitted
    import copy

    evil = copy.copy(km)
    target = tmp_path / "pwned"
    evil.payload = _Payload(target)
    joblib.dump(evil, tmp_path / "evil.bin")
    with pytest.raises(CheckpointError, match="not allowed"):
        load_kmeans_bin(tmp_path / "evil.bin")
    assert not target.exists()
    joblib.dump({"cluster_centers_": np.zeros((2, 2), dtype=object)}, tmp_path / "obj.bin")
    with pytest.raises(CheckpointError):
        load_kmeans_bin(tmp_path / "obj.bin")


def test_native_round_trip_keeps_metadata(fitted, tmp_path):
    from textless.components import load_component

    _, path = fitted
    q = load_kmeans_bin(path)
    q2 = KMeansQuantizer(q.centers, encoder="hubert-base-ls960", layer=6)
    q2.save(tmp_path / "km.safetensors")
    back = load_component(tmp_path / "km.safetensors")
    assert back.cfg == q2.cfg and torch.equal(back.centers, q.centers)


def test_training_is_seeded_and_finds_separated_clusters():
    rng = np.random.RandomState(0)
    centers = rng.randn(8, 16).astype(np.float32) * 10
    labels = rng.randint(0, 8, 4000)
    x = centers[labels] + rng.randn(4000, 16).astype(np.float32) * 0.1
    a = train_kmeans(x, 8, seed=3, niter=20, nredo=3)
    b = train_kmeans(x, 8, seed=3, niter=20, nredo=3)
    assert torch.equal(a.centers, b.centers)
    pred = a.assign(torch.from_numpy(x)).numpy()
    # a perfect clustering up to relabelling: each true cluster maps to one k-means id
    assert all(len(set(pred[labels == c])) == 1 for c in range(8)) and len(set(pred)) == 8


def test_reservoir_is_bounded_and_uniform():
    r = FrameReservoir(500, seed=0)
    for i in range(100):
        r.add(np.full((100, 1), i, np.float32))
    sample = r.sample()
    assert sample.shape == (500, 1) and r.seen == 10000
    counts = np.bincount(sample[:, 0].astype(int), minlength=100)
    assert counts[:50].sum() > 180 and counts[50:].sum() > 180  # early and late chunks both kept
