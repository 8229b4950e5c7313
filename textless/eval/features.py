"""Frame features for ABX: a folder of ``.npy`` files, or computed from a pipeline.

Both give an ordered ``dict[file_id, np.ndarray [frames, dims] float32]``. The folder order is
``os.walk`` order, the order libri-light reads a submission in (it decides which items its
seeded subsampling picks, so keeping it makes ``--legacy-slicing`` scores reproduce zrc-abx2).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Iterable

import numpy as np
import torch

from ..checkpoint import load_torch_file
from ..errors import CheckpointError, TextlessError
from ..progress import progress

log = logging.getLogger(__name__)

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")


class FeaturesError(TextlessError):
    """Feature files are missing, unreadable or of inconsistent shapes."""


def find_files(directory: str | os.PathLike, extensions: Iterable[str]) -> list[tuple[str, Path]]:
    """``(stem, path)`` of every file under ``directory`` ending in one of ``extensions``,
    in ``os.walk`` order."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FeaturesError(f"{directory}: no such directory")
    extensions = tuple(extensions)
    out = []
    for root, _dirs, names in os.walk(directory):
        for name in names:
            if name.endswith(extensions):
                out.append((Path(name).stem, Path(root) / name))
    return out


def load_feature(path: Path) -> np.ndarray:
    """One 2-D feature file (``.npy``, ``.txt`` or ``.pt``) -> ``[frames, dims] float32``."""
    try:
        if path.suffix == ".npy":
            x = np.load(path, allow_pickle=False)
        elif path.suffix == ".txt":
            x = np.loadtxt(path, ndmin=2)
        elif path.suffix == ".pt":
            x = load_torch_file(path, "a feature tensor")
            if not isinstance(x, torch.Tensor):
                raise FeaturesError(f"{path}: expected a tensor, got {type(x).__name__}")
            x = x.float().numpy()
        else:
            raise FeaturesError(f"{path}: unsupported feature file (use .npy, .txt or .pt)")
    except CheckpointError as e:
        raise FeaturesError(str(e)) from None
    except (OSError, ValueError, RuntimeError) as e:
        raise FeaturesError(f"{path}: cannot read features ({e})") from None
    if x.ndim != 2:
        raise FeaturesError(f"{path}: expected a 2-D array (frames x dims), got shape {x.shape}")
    return np.asarray(x, dtype=np.float32)


def load_feature_dir(
    directory: str | os.PathLike, extension: str = ".npy", only: Iterable[str] | None = None
) -> dict[str, np.ndarray]:
    """Read every ``*.extension`` file under ``directory`` (the ZeroSpeech submission layout).

    ``only``: keep only these file ids (e.g. those named in an item file).
    """
    wanted = None if only is None else set(only)
    files = [(s, p) for s, p in find_files(directory, [extension]) if wanted is None or s in wanted]
    if not files:
        raise FeaturesError(f"{directory}: no *{extension} feature files for the items")
    out = {}
    dims = set()
    for stem, path in progress(files, desc="features", unit="file"):
        out[stem] = load_feature(path)
        dims.add(out[stem].shape[1])
    if len(dims) != 1:
        raise FeaturesError(f"{directory}: feature files have different dimensions {sorted(dims)}")
    return out


@torch.inference_mode()
def pipeline_features(
    pipeline, audio_dir: str | os.PathLike, kind: str = "dense", only: Iterable[str] | None = None
) -> dict[str, np.ndarray]:
    """Features of every audio file under ``audio_dir`` (in ``os.walk`` order), or of every item
    of a manifest file (:func:`textless.data.manifest.read_items`, in its order), from a
    :class:`~textless.pipeline.Pipeline`.

    ``kind="dense"``: encoder features at ``pipeline.layer``, ``[frames, D]``;
    ``kind="units"``: one-hot units ``[frames, vocab_size]`` (not deduplicated).
    Frames are at ``pipeline.frame_rate`` Hz (frame shift ``1 / frame_rate`` s).
    """
    if kind not in ("dense", "units"):
        raise ValueError(f"kind must be 'dense' or 'units', got {kind!r}")
    wanted = None if only is None else set(only)
    if Path(audio_dir).is_file():
        from ..data.manifest import read_items

        found = [(it.id, it.path) for it in read_items(audio_dir)]
    else:
        found = find_files(audio_dir, AUDIO_EXTENSIONS)
    files = [(s, p) for s, p in found if wanted is None or s in wanted]
    if not files:
        raise FeaturesError(f"{audio_dir}: no audio files for the items")
    out = {}
    for stem, path in progress(files, desc=f"encode ({kind})", unit="file"):
        (feats,) = pipeline.features([pipeline.load(path)])
        if kind == "units":
            ids = pipeline.quantizer.assign(feats).cpu()
            feats = torch.nn.functional.one_hot(ids, pipeline.quantizer.vocab_size)
        out[stem] = feats.float().cpu().numpy()
    return out
