"""k-means quantizer: train with faiss, assign with torch, import official ``km.bin`` safely.

Assignment is fairseq's ``ApplyKmeans``: ``argmin_k |x|^2 - 2 x.C_k + |C_k|^2`` in float32, which
agrees with sklearn ``MiniBatchKMeans.predict`` on float32 features. Official ``km.bin`` files are
``joblib.dump``-ed sklearn models; :func:`load_kmeans_bin` reads only their ``cluster_centers_``
(:mod:`textless.quantizers.kmeans_bin`: no code from the file runs). Our own files are
safetensors with ``{vocab_size, dim, encoder, layer}`` in the metadata.

Training (``textless train kmeans``): a pass over the corpus keeps a seeded uniform reservoir of
frames (:class:`FrameReservoir`), checkpointed every ``save_every`` files so that a killed run
resumes where it stopped and ends with the same centroids; then faiss fits the centroids in
``steps`` Lloyd iterations. :func:`train_kmeans_run` writes the run folder of
:mod:`textless.trainer`: ``state.pt`` (files done, reservoir, generator state, a fingerprint of
the inputs and settings), ``log.jsonl`` (``{"files_done", "frames_seen"}`` at each checkpoint of
the pass, then ``{"step", "objective"}`` per Lloyd iteration) and ``quantizer.safetensors``.
:func:`train_kmeans_file` is the older form: one output file, its state in ``OUT.state/``,
removed once ``OUT`` is written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import torch
from torch import nn

from ..errors import CheckpointError, TextlessError
from ..trainer import RunLog, load_state, save_state
from .kmeans_bin import read_kmeans_bin

log = logging.getLogger(__name__)

KIND = "quantizer.kmeans"
QUANTIZER_FILE = "quantizer.safetensors"


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
@dataclass(frozen=True)
class KMeansTrainConfig:
    """A ``textless train kmeans`` run: ``clusters`` centroids of the encoder's ``layer``
    features, fitted on a reservoir of at most ``max_frames`` frames (memory ``max_frames * dim
    * 4`` bytes) in ``steps`` Lloyd iterations; the pass is checkpointed every ``save_every`` files."""

    out_dir: str
    clusters: int                     # K
    layer: int | None = None          # transformer layer, from 1 (None: a spectral encoder)
    max_frames: int = 200_000         # the reservoir: at most max_frames * dim * 4 bytes
    steps: int = 50                   # Lloyd iterations (they do not enter the pass: free on resume)
    save_every: int = 100             # files of the pass between checkpoints
    seed: int = 0
    bf16: bool | str = False          # see textless.encoders.batch.encoder_autocast
    device: str = "cpu"
    encoder_name: str | None = None   # recorded in the quantizer's config


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
    encoder: str | None = None, layer: int | None = None, objectives: list | None = None,
) -> KMeansQuantizer:
    """Fit ``k`` centroids on ``feats: [N, D]`` float32 with faiss (Lloyd, k-means++-free init).
    ``objectives``: a list that receives the objective (sum of squared distances) of every iteration."""
    import faiss

    x = np.ascontiguousarray(feats, dtype=np.float32)
    if x.ndim != 2 or len(x) < k:
        raise TextlessError(f"k-means with K={k} needs at least {k} frames, got {len(x)}")
    km = faiss.Kmeans(x.shape[1], k, niter=niter, seed=seed, nredo=nredo, verbose=False,
                      max_points_per_centroid=max(256, len(x) // k + 1))
    km.train(x)
    if objectives is not None:
        objectives.extend(float(v) for v in km.obj)
    return KMeansQuantizer(torch.from_numpy(km.centroids.copy()), encoder, layer)


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
    state = load_state(state_dir, "a k-means state")
    if state is None:
        return None
    if state.get("fingerprint") != fingerprint:
        raise TextlessError(f"{state_dir} holds a k-means pass over other inputs, encoder or settings "
                            "(--max-frames, --seed, --layer, --bf16); delete it or give another --out")
    return int(state["files_done"]), FrameReservoir.from_state(state["reservoir"])


def _save_pass(state_dir: Path, fingerprint: str, files_done: int, reservoir: FrameReservoir) -> None:
    save_state(state_dir, {"format_version": 1, "fingerprint": fingerprint, "files_done": files_done,
                           "reservoir": reservoir.state()})


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
    ``save_every`` files and at its end): files done, reservoir frames and generator state, and
    logged to ``state_dir/log.jsonl`` (module docstring). A rerun after a kill continues from
    there, and its centroids equal an uninterrupted run's. A state from other inputs or settings
    (``max_frames``, ``seed``, ``layer``, ``bf16``, encoder weights) is refused; ``k`` and
    ``niter`` may change, as they do not enter the pass."""
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
    runlog = RunLog(state_dir, start, enabled=state_dir is not None, key="files_done")
    bar = progress(total=len(paths), initial=start, desc="features", unit="file", enabled=show_progress)
    try:
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
                # the log first: a kill between the two leaves a record the resumed run drops
                runlog.write({"files_done": done, "frames_seen": reservoir.seen})
                _save_pass(state_dir, fingerprint, done, reservoir)
        bar.close()
        objectives: list[float] = []
        km = train_kmeans(reservoir.sample(), k, niter=niter, seed=seed, encoder=encoder_name, layer=layer,
                          objectives=objectives)
    finally:
        runlog.close()
    if state_dir is not None:  # the Lloyd iterations are not resumable: a rerun logs them again
        with RunLog(state_dir, 0) as lloyd:
            for i, v in enumerate(objectives, 1):
                lloyd.write({"step": i, "objective": v})
    return km


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


def train_kmeans_run(encoder, paths: Iterable, c: KMeansTrainConfig) -> KMeansQuantizer:
    """:func:`train_kmeans_on_corpus` in the run folder ``c.out_dir`` (module docstring):
    resumable after a kill; writes ``quantizer.safetensors``. One process (the pass is sequential)."""
    from ..distributed import init_distributed

    _, world, device = init_distributed(c.device)
    if world > 1:
        raise TextlessError("train kmeans runs in one process (its pass over the corpus is "
                            "sequential): start it without torchrun")
    km = train_kmeans_on_corpus(encoder, paths, c.clusters, layer=c.layer, max_frames=c.max_frames,
                                seed=c.seed, niter=c.steps, encoder_name=c.encoder_name, device=device,
                                bf16=c.bf16, state_dir=c.out_dir, save_every=c.save_every)
    km.save(Path(c.out_dir) / QUANTIZER_FILE)
    return km
