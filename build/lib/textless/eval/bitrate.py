"""Bitrate of a unit file: a thin layer over :func:`textless.units.bitrate` (both conventions)."""

from __future__ import annotations

import os
from dataclasses import replace

from ..errors import UnitsFormatError
from ..units import bitrate, read_units


def unit_file_bitrate(
    path: str | os.PathLike, frame_rate: float | None = None, vocab_size: int | None = None
) -> dict:
    """``{"vocab_bps", "entropy_bps", "tokens", "duration_s", "utterances", "deduplicated"}``.

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
    vocab = None
    if all(u.vocab_size is not None for u in utts):
        vocab = bitrate(utts, "vocab")
    return {
        "utterances": len(utts),
        "tokens": sum(len(u) for u in utts),
        "duration_s": sum(u.duration_s for u in utts),
        "deduplicated": any(u.durations is not None for u in utts),
        "vocab_bps": vocab,
        "entropy_bps": bitrate(utts, "entropy"),
    }
