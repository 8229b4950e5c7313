"""Reading official GSLM ``km.bin`` files safely: ``joblib.dump``-ed sklearn (MiniBatch)KMeans.

Only ``cluster_centers_`` is read, through a restricted unpickler: sklearn classes become inert
stubs, numpy arrays are read as raw bytes, object arrays and every other global are refused, so
no code from the file runs.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np

from ..errors import CheckpointError


_SKLEARN_CLASSES = {
    ("sklearn.cluster._kmeans", "MiniBatchKMeans"), ("sklearn.cluster._kmeans", "KMeans"),
    ("sklearn.cluster.k_means_", "MiniBatchKMeans"), ("sklearn.cluster.k_means_", "KMeans"),
    ("sklearn.cluster.kmeans", "MiniBatchKMeans"), ("sklearn.cluster.kmeans", "KMeans"),
}


class _SklearnStub:
    """Holds the pickled state of an sklearn estimator; never runs sklearn code."""

    def __setstate__(self, state):
        if not isinstance(state, dict):
            raise pickle.UnpicklingError("unexpected sklearn state")
        self.__dict__.update(state)


def _restricted_unpickler_class():
    import numpy
    from joblib.numpy_pickle import NumpyArrayWrapper, NumpyUnpickler

    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar

    allowed = {
        ("joblib.numpy_pickle", "NumpyArrayWrapper"): NumpyArrayWrapper,
        ("numpy", "ndarray"): numpy.ndarray,
        ("numpy", "dtype"): numpy.dtype,
        ("numpy.core.multiarray", "scalar"): scalar,
        ("numpy._core.multiarray", "scalar"): scalar,
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    }

    class RestrictedUnpickler(NumpyUnpickler):
        dispatch = NumpyUnpickler.dispatch.copy()

        def find_class(self, module, name):
            if (module, name) in _SKLEARN_CLASSES:
                return _SklearnStub
            if (module, name) in allowed:
                return allowed[(module, name)]
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a k-means file")

        def load_build(self):
            obj, state = self.stack[-2], self.stack[-1]
            if isinstance(obj, NumpyArrayWrapper):
                dtype = state.get("dtype") if isinstance(state, dict) else None
                if not isinstance(dtype, numpy.dtype) or dtype.hasobject:
                    raise pickle.UnpicklingError("object arrays are not allowed in a k-means file")
            elif isinstance(obj, numpy.ndarray) and isinstance(state, tuple) and len(state) >= 2:
                if isinstance(state[2] if len(state) > 2 else None, numpy.dtype) and state[2].hasobject:
                    raise pickle.UnpicklingError("object arrays are not allowed in a k-means file")
            super().load_build()

        dispatch[pickle.BUILD[0]] = load_build

    return RestrictedUnpickler


def read_kmeans_bin(path: str | os.PathLike) -> np.ndarray:
    """``cluster_centers_ [K, D]`` of a ``joblib.dump``-ed sklearn (MiniBatch)KMeans, read safely."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such k-means file")
    Unpickler = _restricted_unpickler_class()
    with open(path, "rb") as fh:
        head = fh.read(2)
        fh.seek(0)
        if head[:1] != b"\x80":
            raise CheckpointError(f"{path}: not an uncompressed joblib/pickle k-means file")
        try:
            obj = Unpickler(str(path), fh, ensure_native_byte_order=True).load()
        except Exception as e:
            raise CheckpointError(f"{path}: refusing to load k-means file ({type(e).__name__}: {e})") from None
    centers = getattr(obj, "cluster_centers_", None)
    if not isinstance(obj, _SklearnStub) or not isinstance(centers, np.ndarray) or centers.ndim != 2:
        raise CheckpointError(f"{path}: not a fitted sklearn KMeans/MiniBatchKMeans (no cluster_centers_)")
    return centers
