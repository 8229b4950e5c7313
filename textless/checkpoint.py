"""Our own checkpoint format: safetensors weights with the dataclass config in the metadata.

A file holds ``{"format_version", "kind", "config"}`` as safetensors metadata (JSON strings)
and the state dict as tensors, so inference needs no yaml and loading runs no code.
Training checkpoints (optimizer state, RNG) are separate ``torch.save`` files read with
``weights_only=True``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import TypeVar

import torch

from .errors import CheckpointError
from .files import atomic_path

FORMAT_VERSION = 1
C = TypeVar("C")


def save_checkpoint(path: str | os.PathLike, kind: str, config, state_dict: dict) -> Path:
    """Write ``state_dict`` and the dataclass ``config`` to ``path`` (.safetensors), atomically.

    Tied weights (shared storage) are stored once per name by cloning; loaders re-tie them.
    """
    from safetensors.torch import save_file

    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in state_dict.items()}
    meta = {
        "format_version": str(FORMAT_VERSION),
        "kind": kind,
        "config": json.dumps(dataclasses.asdict(config)),
    }
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)
    return Path(path)


#: Lines of PyTorch's weights-only refusal that say nothing about the file (they advise
#: ``weights_only=False`` or allow-listing the class, that is, trusting the file).
_TORCH_ADVICE = ("Weights only load failed", "Please file an issue", "Check the documentation", "(1)", "(2)")


def _one_line(e: Exception) -> str:
    """The informative sentence of a ``torch.load`` failure, at most 200 characters: the one
    naming a refused ``GLOBAL`` if any, else the first sentence that is not advice."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(e))
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith(_TORCH_ADVICE)] or lines or [type(e).__name__]
    line = next((ln for ln in useful if "GLOBAL" in ln), useful[0])
    line = next((part for part in line.split(". ") if "GLOBAL" in part), line.split(". ")[0])
    return line if len(line) <= 200 else line[:197] + "..."


def load_torch_file(path: str | os.PathLike, what: str = "checkpoint", safe_globals=()):
    """``torch.load(path, map_location="cpu", weights_only=True)`` for a file a user gave.

    ``safe_globals``: extra classes the pickle may build (``torch.serialization.safe_globals``).
    Any failure (missing or truncated file, not a torch file, a pickle that would run code) is a
    one-line :class:`CheckpointError` naming ``path`` and ``what`` was expected, never PyTorch's
    multi-line message or a traceback.
    """
    try:
        with torch.serialization.safe_globals(list(safe_globals)):
            return torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:
        if isinstance(e, FileNotFoundError):
            reason = "no such file"
        elif "GLOBAL" in str(e):
            reason = f"refusing to load, the pickle would build objects other than tensors ({_one_line(e)})"
        else:
            reason = f"not a readable PyTorch file ({_one_line(e)})"
        raise CheckpointError(f"{path}: cannot be read safely as {what}: {reason}") from None


def load_checkpoint(path: str | os.PathLike, kind: str | None = None) -> tuple[dict, dict]:
    """Read ``(config_dict, state_dict)`` from a file written by :func:`save_checkpoint`.

    Raises :class:`CheckpointError` when the file is not ours or is of another ``kind``.
    """
    from safetensors import safe_open

    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            state = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:
        raise CheckpointError(f"{path}: not a textless safetensors checkpoint ({e})") from None
    if "config" not in meta or "kind" not in meta:
        raise CheckpointError(f"{path}: safetensors file without textless config metadata")
    if int(meta.get("format_version", 0)) > FORMAT_VERSION:
        raise CheckpointError(f"{path}: format_version {meta['format_version']} is newer than this textless")
    if kind is not None and meta["kind"] != kind:
        raise CheckpointError(f"{path}: holds a {meta['kind']} checkpoint, expected {kind}")
    return json.loads(meta["config"]), state


def config_from_dict(cls: type[C], d: dict) -> C:
    """Build dataclass ``cls`` from ``d``, raising on unknown keys (lists become tuples)."""
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(d) - set(names)
    if unknown:
        raise CheckpointError(f"{cls.__name__}: unknown config keys {sorted(unknown)}")
    return cls(**{k: _tuples(v) for k, v in d.items()})


def _tuples(v):
    """JSON lists back to (nested) tuples, as frozen dataclass fields hold them."""
    return tuple(_tuples(x) for x in v) if isinstance(v, list) else v


# Loaders of our own component files by their ``kind`` metadata ("module:function", resolved
# when used). Each function has the signature ``load(config: dict, state_dict, device) -> model``
# and returns an ``eval()`` model.
NATIVE_LOADERS = {
    "encoder.hubert": "textless.encoders.hubert:from_native",
    "encoder.spectral": "textless.encoders.spectral:from_native",
    "encoder.logmel": "textless.encoders.logmel:from_native",
    "quantizer.kmeans": "textless.quantizers.kmeans:from_native",
    "quantizer.linear": "textless.quantizers.linear:from_native",
    "ulm": "textless.ulm.checkpoint:from_native",
    "vocoder.hifigan": "textless.vocoders.checkpoint:from_native",
    "vocoder.vocos": "textless.vocoders.checkpoint:vocos_from_native",
}


def load_component(path: str | os.PathLike, device="cpu"):
    """Load any textless component file (``.safetensors`` written by :func:`save_checkpoint`)."""
    import importlib

    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            kind = (f.metadata() or {}).get("kind")
    except Exception as e:
        raise CheckpointError(f"{path}: not a textless safetensors checkpoint ({e})") from None
    if kind not in NATIVE_LOADERS:
        raise CheckpointError(f"{path}: unknown component kind {kind!r}")
    config, state = load_checkpoint(path, kind)
    module, _, func = NATIVE_LOADERS[kind].partition(":")
    return getattr(importlib.import_module(module), func)(config, state, device)
