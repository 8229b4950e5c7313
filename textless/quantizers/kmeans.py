"""k-means quantizer: train with faiss, assign with torch, import official ``km.bin`` safely.

Assignment is fairseq's ``ApplyKmeans``: ``argmin_k |x|^2 - 2 x.C_k + |C_k|^2`` in float32, which
agrees with sklearn ``MiniBatchKMeans.predict`` on float32 features. Official ``km.bin`` files are
``joblib.dump``-ed sklearn models; :func:`load_kmeans_bin` reads only their ``cluster_centers_``
through a restricted unpickler (sklearn classes become inert stubs, numpy arrays are read as raw
bytes, object arrays and every other global are refused), so no code from the file runs.
Our own files are safetensors with ``{vocab_size, dim, encoder, layer}`` in the metadata.
"""

from __future__ import annotations

import logging
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import torch
from torch import nn

from ..errors import CheckpointError, TextlessError

log = logging.getLogger(__name__)

KIND = "quantizer.kmeans"


@dataclass(frozen=True)
class KMeansConfig:
    """``vocab_size`` K centroids of dimension ``dim``, trained on ``encoder`` layer ``layer``."""

    vocab_size: int
    dim: int
    encoder: str | None = None
    layer: int | None = None


class KMeansQuantizer(nn.Module):
    """Nearest-centroid assignment (implements :class:`textless.pipeline.Quantizer`).

    ``centers: [K, D]`` float32.
    """

    def __init__(self, centers: torch.Tensor | np.ndarray, encoder: str | None = None,
                 layer: int | None = None, chunk_frames: int = 16384):
        super().__init__()
        c = torch.as_tensor(np.asarray(centers) if not torch.is_tensor(centers) else centers,
                            dtype=torch.float32)
        if c.dim() != 2 or c.shape[0] < 1:
            raise CheckpointError(f"k-means centers must be [K, D], got {tuple(c.shape)}")
        self.register_buffer("centers", c.contiguous())
        self.register_buffer("center_norms", (c**2).sum(1))
        self.cfg = KMeansConfig(int(c.shape[0]), int(c.shape[1]), encoder, layer)
        self.chunk_frames = chunk_frames

    @property
    def vocab_size(self) -> int:
        return self.cfg.vocab_size

    @property
    def dim(self) -> int:
        return self.cfg.dim

    @torch.inference_mode()
    def assign(self, feats: torch.Tensor) -> torch.Tensor:
        """``feats: [..., D]`` -> ``[...]`` int64 ids of the nearest centroid (chunked over frames)."""
        feats = torch.as_tensor(feats)
        if feats.shape[-1] != self.dim:
            raise TextlessError(f"features have dimension {feats.shape[-1]}, the k-means expects {self.dim}")
        lead = feats.shape[:-1]
        x = feats.reshape(-1, self.dim).to(self.centers.device, torch.float32)
        out = torch.empty(x.shape[0], dtype=torch.long, device=x.device)
        for s in range(0, x.shape[0], self.chunk_frames):
            xc = x[s: s + self.chunk_frames]
            dist = (xc**2).sum(1, keepdim=True) - 2 * xc @ self.centers.T + self.center_norms[None]
            out[s: s + self.chunk_frames] = dist.argmin(1)
        return out.reshape(lead)

    def forward(self, feats):
        return self.assign(feats)

    def save(self, path) -> Path:
        """Write a ``quantizer.kmeans`` safetensors checkpoint."""
        from ..checkpoint import save_checkpoint

        return save_checkpoint(path, KIND, self.cfg, {"centers": self.centers})


def from_native(config: dict, state_dict: dict, device="cpu") -> KMeansQuantizer:
    """Loader for our ``quantizer.kmeans`` files (see textless.checkpoint)."""
    from ..checkpoint import config_from_dict

    cfg = config_from_dict(KMeansConfig, config)
    if set(state_dict) != {"centers"}:
        raise CheckpointError(f"k-means checkpoint: expected only 'centers', got {sorted(state_dict)}")
    c = state_dict["centers"]
    if tuple(c.shape) != (cfg.vocab_size, cfg.dim):
        raise CheckpointError(f"k-means centers {tuple(c.shape)} != ({cfg.vocab_size}, {cfg.dim})")
    return KMeansQuantizer(c, cfg.encoder, cfg.layer).to(device).eval()


# ----------------------------------------------------------------------------- km.bin import
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


def load_kmeans_bin(path, encoder: str | None = None, layer: int | None = None,
                    device="cpu") -> KMeansQuantizer:
    """An official ``km.bin`` -> :class:`KMeansQuantizer` (centres cast to float32)."""
    return KMeansQuantizer(read_kmeans_bin(path).astype(np.float32), encoder, layer).to(device).eval()


def load_quantizer(path, device="cpu", **meta) -> KMeansQuantizer:
    """Our ``.safetensors`` k-means or an official ``km.bin``."""
    path = Path(path)
    if path.suffix == ".safetensors":
        from ..checkpoint import load_component

        q = load_component(path, device)
        if not isinstance(q, KMeansQuantizer):
            raise CheckpointError(f"{path}: not a k-means checkpoint")
        return q
    return load_kmeans_bin(path, device=device, **meta)


def load_bundle(bundle, files: dict, device="cpu") -> KMeansQuantizer:
    """Hub loader: ``files["checkpoint"]`` is an official ``km.bin`` (or our safetensors)."""
    path = Path(files["checkpoint"])
    if path.suffix == ".safetensors":
        return load_quantizer(path, device)
    return load_kmeans_bin(path, layer=getattr(bundle, "layer", None), device=device)


# ----------------------------------------------------------------------------- training
class FrameReservoir:
    """Uniform sample of at most ``capacity`` frames from a stream (Algorithm R), seeded.

    Memory: ``capacity * dim * 4`` bytes, whatever the corpus size.
    """

    def __init__(self, capacity: int, seed: int = 0):
        self.capacity, self.seen = int(capacity), 0
        self.rng = np.random.default_rng(seed)
        self.buffer: np.ndarray | None = None
        self.filled = 0

    def add(self, frames: np.ndarray) -> None:
        """``frames: [N, D]``."""
        frames = np.asarray(frames, dtype=np.float32)
        if self.buffer is None:
            self.buffer = np.empty((self.capacity, frames.shape[1]), np.float32)
        take = min(self.capacity - self.filled, len(frames))
        self.buffer[self.filled: self.filled + take] = frames[:take]
        self.filled += take
        self.seen += take
        rest = frames[take:]
        if len(rest):
            idx = self.seen + np.arange(len(rest))
            slots = (self.rng.random(len(rest)) * (idx + 1)).astype(np.int64)
            keep = slots < self.capacity
            self.buffer[slots[keep]] = rest[keep]  # in order: later frames win, as sequentially
            self.seen += len(rest)

    def sample(self) -> np.ndarray:
        return np.zeros((0, 0), np.float32) if self.buffer is None else self.buffer[: self.filled]


def train_kmeans(
    feats: np.ndarray, k: int, *, niter: int = 50, seed: int = 0, nredo: int = 1,
    encoder: str | None = None, layer: int | None = None,
) -> KMeansQuantizer:
    """Fit ``k`` centroids on ``feats: [N, D]`` float32 with faiss (Lloyd, k-means++-free init)."""
    import faiss

    x = np.ascontiguousarray(feats, dtype=np.float32)
    if x.ndim != 2 or len(x) < k:
        raise TextlessError(f"k-means with K={k} needs at least {k} frames, got {len(x)}")
    km = faiss.Kmeans(x.shape[1], k, niter=niter, seed=seed, nredo=nredo, verbose=False,
                      max_points_per_centroid=max(256, len(x) // k + 1))
    km.train(x)
    return KMeansQuantizer(torch.from_numpy(km.centroids.copy()), encoder, layer)


def train_kmeans_on_corpus(
    encoder, paths: Iterable, k: int, *, layer: int | None, max_frames: int = 200_000,
    seed: int = 0, niter: int = 50, encoder_name: str | None = None, device="cpu",
    show_progress: bool = True, bf16: bool = False,
) -> KMeansQuantizer:
    """Stream ``paths`` through ``encoder`` (layer ``layer``), keep a uniform reservoir of at most
    ``max_frames`` frames (memory ``max_frames * dim * 4`` bytes), and fit ``k`` centroids.
    Unreadable files are skipped with a warning. ``bf16``: see
    :func:`textless.pipeline.encoder_autocast`."""
    from ..audio import load_audio
    from ..errors import AudioError
    from ..pipeline import encoder_autocast
    from ..progress import progress

    paths = list(paths)
    reservoir = FrameReservoir(max_frames, seed)
    for p in progress(paths, desc="features", unit="file", enabled=show_progress):
        try:
            wav, _ = load_audio(p, encoder.sample_rate, min_samples=encoder.receptive_field)
        except AudioError as e:
            log.warning("skipping %s", e)
            continue
        with torch.inference_mode(), encoder_autocast(device, bf16):
            f, n = encoder.features(torch.from_numpy(wav)[None].to(device), None, layer)
        reservoir.add(f[0, : int(n[0])].float().cpu().numpy())
    return train_kmeans(reservoir.sample(), k, niter=niter, seed=seed, encoder=encoder_name, layer=layer)
