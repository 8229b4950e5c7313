"""A trainer's ``log.jsonl``: one JSON record per step, kept consistent with its checkpoint.

A run killed after its last checkpoint has logged steps the resumed run takes again; the
resumed run first drops them (:func:`truncate_log`), so the log holds each step once.
"""

from __future__ import annotations

import json
from pathlib import Path

from .files import atomic_open


def read_log(out_dir) -> list[dict]:
    """The step records of ``out_dir/log.jsonl`` (a line cut by a kill is ignored)."""
    records = []
    path = Path(out_dir) / "log.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else []:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return records


def truncate_log(path: Path, step: int) -> None:
    """Keep the lines of ``path`` whose ``"step"`` is at most ``step`` (0: start an empty log)."""
    keep = []
    for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else []:
        try:
            if json.loads(line)["step"] <= step:
                keep.append(line)
        except (json.JSONDecodeError, KeyError, TypeError):
            continue  # a line cut by the kill
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write("".join(k + "\n" for k in keep))
