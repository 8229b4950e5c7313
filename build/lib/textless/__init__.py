"""textless: speech -> discrete units -> speech, with no text in the loop.

The public API is re-exported here lazily, so ``import textless`` does no work and does not
import torch until a name is used.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "Units": "units", "dedup": "units", "expand": "units", "bitrate": "units",
    "read_units": "units", "write_units": "units", "iter_units": "units",
    "load_audio": "audio", "write_audio": "audio",
    "Bundle": "hub", "get_bundle": "hub", "all_bundles": "hub",
    "Pipeline": "pipeline", "load_pipeline": "pipeline",
    "load_ulm": "ulm.checkpoint", "continue_units": "ulm.sample", "score_sequences": "ulm.score",
    "TextlessError": "errors",
}


def load(name: str, device="cpu"):
    """The model of bundle ``name`` (a component or a :class:`Pipeline`), ready for inference."""
    from .hub import get_bundle

    return get_bundle(name).get_model(device)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'textless' has no attribute {name!r}")


__all__ = ["load", *_EXPORTS]
