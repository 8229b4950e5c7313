"""k-means quantizer: train with faiss, assign with torch, import official ``km.bin`` safely.

Assignment is fairseq's ``ApplyKmeans``: ``argmin_k |x|^2 - 2 x.C_k + |C_k|^2`` in float32, which
agrees with sklearn ``MiniBatchKMeans.predict`` on float32 features. Official ``km.bin`` files are
``joblib.dump``-ed sklearn models; :func:`load_kmeans_bin` reads only their ``cluster_centers_``
through a restricted unpickler (sklearn classes become inert stubs, numpy arrays are read as raw
bytes, object arrays and every other global are refused), so no code from the file runs.
Our own files are safetensors with ``{vocab_size, dim, encoder, layer}`` in the metadata.

Training (:func:`train_kmeans_file`): a pass over the corpus keeps a seeded uniform reservoir of
frames, checkpointed in ``OUT.state/state.pt`` so that a killed run resumes where it stopped and
ends with the same centroids; then faiss k-means; then ``OUT`` is written and the state removed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import torch
from torch import nn

from ..errors import CheckpointError, TextlessError
from ..files import atomic_path

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
    """``quantizer.kmeans`` entry of :data:`textless.components.NATIVE_LOADERS`."""
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
        from ..checkpoint import load_checkpoint

        config, state = load_checkpoint(path, KIND)  # another kind: CheckpointError naming it
        return from_native(config, state, device)
    return load_kmeans_bin(path, device=device, **meta)


def load_bundle(bundle, files: dict, device="cpu") -> KMeansQuantizer:
    """Hub loader (:data:`textless.bundle.Loader`): ``files["checkpoint"]`` is an official
    ``km.bin`` (or our safetensors for a user bundle); the bundle's ``layer`` is recorded."""
    path = Path(files["checkpoint"])
    if path.suffix == ".safetensors":
        return load_quantizer(path, device)
    return load_kmeans_bin(path, layer=bundle.layer, device=device)


# ----------------------------------------------------------------------------- training
class FrameReservoir:
    """Uniform sample of at most ``capacity`` frames from a stream (Algorithm R), seeded.

    Memory: ``capacity * dim * 4`` bytes, whatever the corpus size. :meth:`state` and
    :meth:`from_state` capture everything a later :meth:`add` depends on (kept frames, count
    seen, generator state), so a restored reservoir continues exactly as the original would.
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

    def state(self) -> dict:
        """``{capacity, seen, filled, rng (JSON), frames: [filled, D] float32 tensor}``; no pickle."""
        frames = torch.from_numpy(np.ascontiguousarray(self.sample()))
        return {"capacity": self.capacity, "seen": self.seen, "filled": self.filled,
                "rng": json.dumps(self.rng.bit_generator.state), "frames": frames}

    @classmethod
    def from_state(cls, state: dict) -> "FrameReservoir":
        r = cls(int(state["capacity"]))
        r.seen, r.filled = int(state["seen"]), int(state["filled"])
        r.rng.bit_generator.state = json.loads(state["rng"])
        frames = state["frames"].numpy()
        if r.filled != len(frames) or r.filled > r.capacity:
            raise CheckpointError(f"k-means state: {len(frames)} frames stored, {r.filled} recorded")
        if r.filled:
            r.buffer = np.empty((r.capacity, frames.shape[1]), np.float32)
            r.buffer[: r.filled] = frames
        return r


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


STATE_FILE = "state.pt"


def _pass_fingerprint(encoder, paths: list, settings: dict) -> str:
    """sha256 of the settings, the encoder's weights and the inputs (absolute path and size)."""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for name, t in encoder.state_dict().items():
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    for p in paths:
        try:
            size = os.stat(p).st_size
        except OSError:
            size = -1
        h.update(f"{os.path.abspath(p)}\t{size}\n".encode())
    return h.hexdigest()


def _load_pass(state_dir: Path, fingerprint: str) -> tuple[int, FrameReservoir] | None:
    path = state_dir / STATE_FILE
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise CheckpointError(f"{path}: unreadable k-means state ({type(e).__name__}); delete it") from None
    if state.get("fingerprint") != fingerprint:
        raise TextlessError(f"{state_dir} holds a k-means pass over other inputs, encoder or settings "
                            "(--max-frames, --seed, --layer, --bf16); delete it or give another --out")
    return int(state["files_done"]), FrameReservoir.from_state(state["reservoir"])


def _save_pass(state_dir: Path, fingerprint: str, files_done: int, reservoir: FrameReservoir) -> None:
    with atomic_path(state_dir / STATE_FILE) as tmp:
        torch.save({"format_version": 1, "fingerprint": fingerprint, "files_done": files_done,
                    "reservoir": reservoir.state()}, tmp)


def train_kmeans_on_corpus(
    encoder, paths: Iterable, k: int, *, layer: int | None, max_frames: int = 200_000,
    seed: int = 0, niter: int = 50, encoder_name: str | None = None, device="cpu",
    show_progress: bool = True, bf16: bool = False, state_dir: str | os.PathLike | None = None,
    save_every: int = 100,
) -> KMeansQuantizer:
    """Stream ``paths`` through ``encoder`` (layer ``layer``), keep a uniform reservoir of at most
    ``max_frames`` frames (memory ``max_frames * dim * 4`` bytes), and fit ``k`` centroids.
    Unreadable files are skipped with a warning. ``bf16``: see
    :func:`textless.encoders.batch.encoder_autocast`.

    With ``state_dir``, the pass is checkpointed to ``state_dir/state.pt`` (atomically, every
    ``save_every`` files and at its end): files done, reservoir frames and generator state. A
    rerun after a kill continues from there, and its centroids equal an uninterrupted run's. A
    state from other inputs or settings (``max_frames``, ``seed``, ``layer``, ``bf16``, encoder
    weights) is refused; ``k`` and ``niter`` may change, as they do not enter the pass."""
    from ..audio import load_audio
    from ..encoders.batch import features_of
    from ..errors import AudioError
    from ..encoders.batch import encoder_autocast
    from ..progress import progress

    if save_every < 1:
        raise TextlessError("save_every must be at least 1 file")
    paths = list(paths)
    start, reservoir = 0, FrameReservoir(max_frames, seed)
    if state_dir is not None:
        state_dir = Path(state_dir)
        fingerprint = _pass_fingerprint(encoder, paths, {"layer": layer, "max_frames": max_frames,
                                                         "seed": seed, "bf16": bf16})
        restored = _load_pass(state_dir, fingerprint)
        if restored is not None:
            start, reservoir = restored
            log.info("resuming the feature pass at file %d of %d", start, len(paths))
    bar = progress(total=len(paths), initial=start, desc="features", unit="file", enabled=show_progress)
    for i in range(start, len(paths)):
        try:
            wav, _ = load_audio(paths[i], encoder.sample_rate, min_samples=encoder.receptive_field)
        except AudioError as e:
            log.warning("skipping %s", e)
        else:
            with encoder_autocast(device, bf16):
                (f,) = features_of(encoder, [wav], layer, device=device)
            reservoir.add(f.cpu().numpy())
        bar.update(1)
        done = i + 1
        if state_dir is not None and (done % save_every == 0 or done == len(paths)):
            _save_pass(state_dir, fingerprint, done, reservoir)
    bar.close()
    return train_kmeans(reservoir.sample(), k, niter=niter, seed=seed, encoder=encoder_name, layer=layer)


def train_kmeans_file(encoder, paths: Iterable, k: int, out: str | os.PathLike, *,
                      save_every: int = 100, **kwargs) -> KMeansQuantizer:
    """:func:`train_kmeans_on_corpus` resumable after a kill: the pass is checkpointed in
    ``OUT.state/`` (see :func:`state_dir_for`); writes the quantizer to ``out`` (atomically),
    then removes the state."""
    state_dir = state_dir_for(out)
    km = train_kmeans_on_corpus(encoder, paths, k, state_dir=state_dir, save_every=save_every, **kwargs)
    km.save(out)
    shutil.rmtree(state_dir, ignore_errors=True)
    return km


def state_dir_for(out: str | os.PathLike) -> Path:
    """Where a k-means written to ``out`` keeps its resumable pass: ``OUT.state/`` beside it."""
    out = Path(out)
    return out.with_name(out.name + ".state")
