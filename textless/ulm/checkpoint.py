"""Load and save unit LMs: our ``.safetensors`` files and GSLM fairseq directories."""

from __future__ import annotations

import os
from pathlib import Path

from ..checkpoint import config_from_dict, load_checkpoint, save_checkpoint
from ..errors import CheckpointError
from .model import UnitLM, UnitLMConfig

KIND = "ulm"


def save_ulm(path: str | os.PathLike, model: UnitLM) -> Path:
    """Write ``model`` (config + weights) as a textless ``.safetensors`` file, atomically."""
    state = {k: v for k, v in model.state_dict().items()}
    return save_checkpoint(path, KIND, model.config, state)


def from_native(config: dict, state_dict: dict, device="cpu") -> UnitLM:
    """NATIVE_LOADERS entry: build :class:`UnitLM` from a config dict and weights, ``eval()``."""
    model = UnitLM(config_from_dict(UnitLMConfig, config))
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    if missing or unexpected:
        raise CheckpointError(f"ulm checkpoint: missing keys {missing}, unexpected {unexpected}")
    return model.to(device).eval()


def load_ulm(path: str | os.PathLike, device="cpu") -> UnitLM:
    """A unit LM from our ``.safetensors`` file, a GSLM directory (``checkpoint_best.pt`` +
    ``dict.txt``) or a fairseq ``.pt`` file with ``dict.txt`` beside it."""
    path = Path(path)
    if path.is_dir():
        from .fairseq_import import load_fairseq_ulm

        if not (path / "checkpoint_best.pt").is_file():
            raise CheckpointError(f"{path}: a GSLM ULM folder needs checkpoint_best.pt and dict.txt")
        return load_fairseq_ulm(path, device=device)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such unit LM file or folder")
    if path.suffix == ".safetensors":
        config, state = load_checkpoint(path, KIND)
        return from_native(config, state, device)
    from .fairseq_import import load_fairseq_ulm

    return load_fairseq_ulm(path, device=device)


def load_bundle(bundle, files: dict, device="cpu") -> UnitLM:
    """Hub loader: ``files["checkpoint"]`` is ours or fairseq's (``files["dict"]`` or a
    ``dict.txt`` beside it gives the dictionary)."""
    ckpt = Path(files["checkpoint"])
    if ckpt.suffix == ".safetensors":
        return load_ulm(ckpt, device)
    from .fairseq_import import load_fairseq_ulm

    dictionary = files.get("dict")
    if dictionary is None and not (ckpt.parent / "dict.txt").is_file():
        # a user bundle is cached away from its folder: look beside the imported original
        from urllib.parse import unquote, urlparse

        for f in bundle.files:
            url = urlparse(f.url)
            if f.role == "checkpoint" and url.scheme == "file":
                beside = Path(unquote(url.path)).parent / "dict.txt"
                if beside.is_file():
                    dictionary = beside
    return load_fairseq_ulm(ckpt, dictionary, device=device)
