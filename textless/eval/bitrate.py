"""Bitrate of a unit file: a thin layer over :func:`textless.units.bitrate` (both conventions),
before and, with a tokenizer, after BPE tokenization."""

from __future__ import annotations

import os
from dataclasses import replace

from ..errors import UnitsFormatError
from ..units import Units, bitrate, read_units


def _rates(utts: list[Units]) -> dict:
    duration_s = sum(u.duration_s for u in utts)
    tokens = sum(len(u) for u in utts)
    vocab = None
    if all(u.vocab_size is not None for u in utts):
        vocab = bitrate(utts, "vocab")
    return {
        "utterances": len(utts),
        "tokens": tokens,
        "duration_s": duration_s,
        "tokens_per_s": tokens / duration_s,
        "deduplicated": any(u.durations is not None for u in utts),
        "vocab_bps": vocab,
        "entropy_bps": bitrate(utts, "entropy"),
    }


def unit_file_bitrate(
    path: str | os.PathLike, frame_rate: float | None = None, vocab_size: int | None = None,
    tokenizer: str | os.PathLike | None = None,
) -> dict:
    """``{"vocab_bps", "entropy_bps", "tokens", "tokens_per_s", "duration_s", "utterances",
    "deduplicated"}`` of the units as they are in the file; with ``tokenizer`` (a tokenizer
    JSON file) also ``"tokenized"``: the same keys for the BPE tokens of the deduplicated units
    (``vocab_bps`` with V = the tokenizer's vocabulary; the same duration).

    ``frame_rate`` (Hz) and ``vocab_size`` fill what the file does not record (fairseq files
    record neither). ``vocab_bps`` is ``None`` when the vocabulary size is unknown.
    """
    utts = [
        replace(u, frame_rate=u.frame_rate or frame_rate, vocab_size=u.vocab_size or vocab_size)
        for u in read_units(path)
    ]
    if not utts:
        raise UnitsFormatError(f"{path}: no utterances")
    if any(u.frame_rate is None for u in utts):
        raise UnitsFormatError(f"{path}: no frame rate recorded: pass --frame-rate HZ")
    result = _rates(utts)
    if tokenizer is not None:
        from ..tokenizer import load_tokenizer, tokenize_utterances

        tok = load_tokenizer(tokenizer)
        result["tokenized"] = _rates([t.as_units() for t in tokenize_utterances(tok, utts)])
        result["tokenized"]["deduplicated"] = True
    return result
