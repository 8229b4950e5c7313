"""Speech data made here: multi-speaker TTS corpora, forced alignment, ZeroSpeech-like eval sets.

Public API:

- :func:`~textless.data.text.generate_sentences`, :func:`~textless.data.text.read_sentences`
- :func:`~textless.data.voices.parse_voice`, :func:`~textless.data.voices.synthesize`,
  ``TRAIN_VOICES`` / ``HELDOUT_VOICES``
- :func:`~textless.data.synth.synthesize_corpus` -> ``CorpusReport``
- :func:`~textless.data.align.align` -> ``AlignmentReport`` (CTM + ABX ``.item`` files),
  :func:`~textless.data.align.align_utterance`, :func:`~textless.data.align.recognize`
- :func:`~textless.data.lexical.build_lexical_set`, :func:`~textless.data.syntactic.build_syntactic_set`
- :func:`~textless.data.manifest.read_manifest` / ``write_manifest`` / ``read_table``

Submodules are imported on first use, so importing this package does no work.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "generate_sentences": "text", "read_sentences": "text",
    "Voice": "voices", "parse_voice": "voices", "synthesize": "voices",
    "TRAIN_VOICES": "voices", "HELDOUT_VOICES": "voices",
    "synthesize_corpus": "synth", "CorpusReport": "synth",
    "align": "align", "align_utterance": "align", "recognize": "align",
    "AlignmentReport": "align", "word_error_rate": "align",
    "build_lexical_set": "lexical", "build_syntactic_set": "syntactic",
    "read_manifest": "manifest", "write_manifest": "manifest", "read_table": "manifest",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
