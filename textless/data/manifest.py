"""Manifests: the one reader of the lists of audio that encode, the trainers and eval take.

:func:`read_items` returns typed :class:`ManifestItem` s from any of

- a fairseq ``manifest.tsv``: line 1 is the root folder, then ``relative/path.wav<TAB>num_samples``;
  ``speakers.tsv`` and ``transcripts.tsv`` beside it (a corpus folder, as ``textless data synth``
  writes) give each item its speaker and text;
- a list: ``path``, ``path<TAB>speaker`` or ``id<TAB>path`` per line (the second column is the
  path when it ends in an audio suffix), relative paths taken from the list's folder; blank
  lines and ``#`` comments are skipped;

and :func:`folder_items` from a folder searched recursively for audio. ``utt_id`` is the file
name without folder and extension unless a list names it; ids are unique (:func:`check_unique_ids`).

- ``transcripts.tsv``: ``utt_id<TAB>lower-case words``, one utterance a line.
- ``speakers.tsv``: ``utt_id<TAB>speaker_id``.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = write_manifest(d / "m.tsv", d, [("a/x.wav", 16000), ("b/y.wav", 8000)])
>>> read_manifest(d / "m.tsv") == (d, [("a/x.wav", 16000), ("b/y.wav", 8000)])
True
>>> [(it.id, it.path == d / "a" / "x.wav", it.num_samples) for it in read_items(d / "m.tsv")][0]
('x', True, 16000)
>>> _ = write_table(d / "t.tsv", {"x": "the cat", "y": "a dog"})
>>> read_table(d / "t.tsv")
{'x': 'the cat', 'y': 'a dog'}
>>> _ = (d / "list.txt").write_text("a/x.wav\\tkal\\nz\\tb/y.flac\\n")
>>> [(it.id, it.path.relative_to(d).as_posix(), it.speaker) for it in read_items(d / "list.txt")]
[('x', 'a/x.wav', 'kal'), ('z', 'b/y.flac', None)]
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..errors import TextlessError
from ..files import atomic_open


AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".opus", ".aiff", ".aif", ".au", ".sph")


@dataclass(frozen=True)
class ManifestItem:
    """One utterance of a manifest: ``id`` (unique), ``path`` and what the manifest knows of it
    (``num_samples`` from a fairseq manifest, ``speaker``, ``text``)."""

    id: str
    path: Path
    num_samples: int | None = None
    speaker: str | None = None
    text: str | None = None


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


def check_unique_ids(items: Sequence) -> None:
    """Raise :class:`TextlessError` naming both paths when two items (anything with ``id`` and
    ``path``) share an id: their outputs, or their lines in a unit file, would be confused."""
    seen: dict[str, Path] = {}
    for it in items:
        if it.id in seen:
            raise TextlessError(
                f"two inputs have the id {it.id!r}: {seen[it.id]} and {it.path} (ids are file stems; "
                "rename one, or give a list file naming the ids)"
            )
        seen[it.id] = it.path


def folder_items(folder: str | os.PathLike) -> list[ManifestItem]:
    """The audio files under ``folder`` (recursive, sorted by path), ids their stems."""
    folder = Path(folder)
    found = sorted(f for f in folder.rglob("*") if f.suffix.lower() in AUDIO_SUFFIXES and f.is_file())
    if not found:
        raise TextlessError(f"{folder}: no audio files ({', '.join(AUDIO_SUFFIXES[:3])}...) in this folder")
    return [ManifestItem(f.stem, f) for f in found]


def _is_fairseq(lines: list[str]) -> bool:
    """A root folder on line 1, then ``path<TAB>num_samples`` lines."""
    if "\t" in lines[0]:
        return False
    rest = [ln.split("\t") for ln in lines[1:3]]
    return Path(lines[0]).is_dir() or bool(rest) and all(len(r) == 2 and r[1].strip().isdigit() for r in rest)


def read_items(path: str | os.PathLike) -> list[ManifestItem]:
    """Every item of the manifest or list file ``path`` (module docstring for the formats), in
    its order. Unreadable or malformed files are a :class:`TextlessError` naming the line."""
    path = Path(path)
    try:
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines()
                 if ln.strip() and not ln.startswith("#")]
    except OSError as e:
        raise TextlessError(f"{path}: cannot read manifest ({e.strerror})") from None
    if not lines:
        return []
    if _is_fairseq(lines):
        root, entries = read_manifest(path)
        texts, speakers = (read_table(path.parent / name) if (path.parent / name).is_file() else {}
                           for name in ("transcripts.tsv", "speakers.tsv"))
        items = [ManifestItem(utt_id(rel), root / rel, n, speakers.get(utt_id(rel)), texts.get(utt_id(rel)))
                 for rel, n in entries]
    else:
        items = [_list_item(path.parent, ln.rstrip("\n").split("\t")) for ln in lines]
    check_unique_ids(items)
    return items


def _list_item(root: Path, cols: list[str]) -> ManifestItem:
    """``path`` / ``path<TAB>speaker`` / ``id<TAB>path`` (the second column ends in an audio suffix)."""
    second = cols[1].strip() if len(cols) > 1 else ""
    uid = None
    if Path(second).suffix.lower() in AUDIO_SUFFIXES:
        uid, p, speaker = cols[0], Path(second), None
    else:
        p, speaker = Path(cols[0]), second or None
    p = p if p.is_absolute() else root / p
    return ManifestItem(uid or p.stem, p, speaker=speaker)
