"""Corpus files: fairseq manifest, transcripts and speakers.

- ``manifest.tsv`` (fairseq): line 1 is the root folder, then ``relative/path.wav<TAB>num_samples``.
- ``transcripts.tsv``: ``utt_id<TAB>lower-case words``, one utterance a line.
- ``speakers.tsv``: ``utt_id<TAB>speaker_id``.

``utt_id`` is the wav file name without folder and extension (it must be unique in a corpus).

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = write_manifest(d / "m.tsv", d, [("a/x.wav", 16000), ("b/y.wav", 8000)])
>>> read_manifest(d / "m.tsv") == (d, [("a/x.wav", 16000), ("b/y.wav", 8000)])
True
>>> _ = write_table(d / "t.tsv", {"x": "the cat", "y": "a dog"})
>>> read_table(d / "t.tsv")
{'x': 'the cat', 'y': 'a dog'}
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import TextlessError
from ..files import atomic_open


def utt_id(relative_path: str) -> str:
    """The utterance id of a manifest entry: its file name without extension."""
    return Path(relative_path).stem


def write_manifest(path, root, entries) -> Path:
    """Write ``entries: [(relative_path, num_samples)]`` under ``root`` as a fairseq TSV."""
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write(f"{Path(root).resolve()}\n")
        for rel, n in entries:
            f.write(f"{rel}\t{int(n)}\n")
    return Path(path)


def read_manifest(path: str | os.PathLike) -> tuple[Path, list[tuple[str, int]]]:
    """Read a fairseq TSV manifest: ``(root, [(relative_path, num_samples)])``."""
    path = Path(path)
    if not path.is_file():
        raise TextlessError(f"{path}: no such manifest")
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines:
        raise TextlessError(f"{path}: empty manifest (the first line must be the root folder)")
    entries = []
    for i, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[1].strip().isdigit():
            raise TextlessError(f"{path}:{i}: expected 'relative_path<TAB>num_samples', got {line!r}")
        entries.append((parts[0], int(parts[1])))
    ids = [utt_id(rel) for rel, _ in entries]
    if len(set(ids)) != len(ids):
        raise TextlessError(f"{path}: two files share a name; utterance ids must be unique")
    return Path(lines[0].strip()), entries


def write_table(path, rows: dict[str, str]) -> Path:
    """Write ``{utt_id: value}`` as ``utt_id<TAB>value`` lines."""
    with atomic_open(path, "w", encoding="utf-8") as f:
        for key, value in rows.items():
            f.write(f"{key}\t{value}\n")
    return Path(path)


def read_table(path: str | os.PathLike) -> dict[str, str]:
    """Read ``utt_id<TAB>value`` lines (transcripts.tsv, speakers.tsv)."""
    path = Path(path)
    if not path.is_file():
        raise TextlessError(f"{path}: no such file")
    out = {}
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        key, tab, value = line.partition("\t")
        if not tab:
            raise TextlessError(f"{path}:{i}: expected 'utt_id<TAB>value', got {line!r}")
        out[key] = value.strip()
    return out
