"""ZeroSpeech ``.item`` files and the frame slicing of an item's time span.

An item file has one header line (not read) and then one line per item with exactly seven
whitespace-separated fields::

    #file onset offset #phone prev-phone next-phone speaker
    6295-244435-0009 0.2925 0.4725 IH L NG 6295

``onset``/``offset`` are in seconds. The context of an item is ``prev-phone + next-phone``.
Phone, context and speaker ids are numbered in order of first appearance in the file (as
libri-light does: the order decides the order of its seeded subsampling).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import TextlessError


class ItemFileError(TextlessError):
    """An ``.item`` file is missing or malformed."""


@dataclass(frozen=True)
class ItemFile:
    """The parsed rows of an item file (``n`` items).

    ``files: list[str]`` file id per item; ``onsets``/``offsets``: ``[n] float64`` seconds;
    ``phone``/``context``/``speaker``: ``[n] int64`` ids into ``phones``/``contexts``/``speakers``
    (names in order of first appearance). A context name is ``"prev+next"``.
    """

    files: list[str]
    onsets: np.ndarray
    offsets: np.ndarray
    phone: np.ndarray
    context: np.ndarray
    speaker: np.ndarray
    phones: list[str]
    contexts: list[str]
    speakers: list[str]

    def __len__(self) -> int:
        return len(self.files)

    def by_file(self) -> dict[str, list[int]]:
        """Item indices per file id, in file order."""
        out: dict[str, list[int]] = {}
        for i, f in enumerate(self.files):
            out.setdefault(f, []).append(i)
        return out


def read_item_file(path: str | os.PathLike) -> ItemFile:
    """Parse a ZeroSpeech ``.item`` file; raises :class:`ItemFileError` naming the bad line."""
    path = Path(path)
    if not path.is_file():
        raise ItemFileError(f"{path}: no such item file")
    files, onsets, offsets, phone, context, speaker = [], [], [], [], [], []
    names: tuple[dict, dict, dict] = ({}, {}, {})
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()[1:]
    for lineno, line in enumerate(lines, 2):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 7:
            raise ItemFileError(
                f"{path}:{lineno}: expected 7 fields "
                f"(file onset offset phone prev-phone next-phone speaker), got {len(fields)}"
            )
        try:
            on, off = float(fields[1]), float(fields[2])
        except ValueError:
            raise ItemFileError(f"{path}:{lineno}: onset/offset must be numbers") from None
        if not (math.isfinite(on) and math.isfinite(off)) or off < on:
            raise ItemFileError(f"{path}:{lineno}: bad time span {on}..{off}")
        files.append(fields[0])
        onsets.append(on)
        offsets.append(off)
        for table, key, out in zip(
            names, (fields[3], f"{fields[4]}+{fields[5]}", fields[6]), (phone, context, speaker)
        ):
            out.append(table.setdefault(key, len(table)))
    if not files:
        raise ItemFileError(f"{path}: no items")
    return ItemFile(
        files=files,
        onsets=np.asarray(onsets, dtype=np.float64),
        offsets=np.asarray(offsets, dtype=np.float64),
        phone=np.asarray(phone, dtype=np.int64),
        context=np.asarray(context, dtype=np.int64),
        speaker=np.asarray(speaker, dtype=np.int64),
        phones=list(names[0]),
        contexts=list(names[1]),
        speakers=list(names[2]),
    )


def write_item_file(path: str | os.PathLike, rows) -> Path:
    """Write ``rows`` of ``(file, onset_s, offset_s, phone, prev, next, speaker)`` as an item file."""
    from ..files import atomic_open

    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write("#file onset offset #phone prev-phone next-phone speaker\n")
        for file, on, off, ph, prev, nxt, spk in rows:
            f.write(f"{file} {on:.4f} {off:.4f} {ph} {prev} {nxt} {spk}\n")
    return Path(path)


def frame_span(
    onset_s: float, offset_s: float, num_frames: int, frame_shift_s: float, legacy: bool = False
) -> tuple[int, int]:
    """Frames ``[start, end)`` of features at ``frame_shift_s`` covering ``onset_s..offset_s``.

    Frame ``i`` is centred at ``(i + 0.5) * frame_shift_s``. The fixed convention keeps every
    frame whose centre lies in ``[onset, offset]`` (both ends inclusive, as fastabx does);
    ``legacy=True`` reproduces libri-light / zrc-abx2, whose end index drops the last frame.
    The span may be empty (``end <= start``): such items are skipped.

    >>> frame_span(0.02, 0.08, 100, 0.01)          # centres 0.025 .. 0.075
    (2, 8)
    >>> frame_span(0.02, 0.08, 100, 0.01, legacy=True)
    (2, 7)
    """
    step = 1.0 / frame_shift_s
    start = max(0, int(math.ceil(step * onset_s - 0.5)))
    end = int(math.floor(step * offset_s - 0.5))
    if not legacy:
        end += 1
    return start, min(num_frames, end)
