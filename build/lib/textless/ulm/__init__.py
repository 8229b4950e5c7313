"""Unit language model: a decoder-only transformer over units (GSLM), its training, sampling,
fairseq-convention scoring, GSLM checkpoint import and prompt tuning (SpeechPrompt).

Public API: :class:`UnitLM`, :class:`UnitLMConfig` (model), :func:`load_ulm`, :func:`save_ulm`
(checkpoint), :func:`continue_units` (sample), :func:`score_sequences` (score),
:func:`train_ulm` (train). Submodules are imported on first use.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "UnitLM": "model", "UnitLMConfig": "model", "KVCache": "model",
    "load_ulm": "checkpoint", "save_ulm": "checkpoint",
    "continue_units": "sample", "generate": "sample",
    "score_sequences": "score", "score_units": "score",
    "train_ulm": "train", "TrainConfig": "train",
    "load_fairseq_ulm": "fairseq_import",
}


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'textless.ulm' has no attribute {name!r}")


__all__ = list(_EXPORTS)
