"""The resume journal of corpus runs (encode, features, S2ST targets): which inputs are done.

A run appends one JSON line per finished item to a journal beside its output, after a header with
the run's fingerprint: its settings (with the model's :func:`weights_digest`) and each input's
path, size and mtime. A rerun with the same fingerprint skips what is done; any change starts over.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Sequence

import torch

log = logging.getLogger(__name__)


class Journal:
    """Append-only record of finished batches: ``{"i": index, "line": str}`` or
    ``{"i": index, "error": str}`` per item, after a header with the run's fingerprint."""

    def __init__(self, path: Path, fingerprint: str):
        self.path, self.fingerprint = Path(path), fingerprint
        self.done: dict[int, dict] = {}
        if self.path.is_file():
            self._read()
        if not self.done:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "w", encoding="utf-8") as f:
                f.write(json.dumps({"fingerprint": fingerprint}) + "\n")

    def _read(self):
        with open(self.path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        try:
            header = json.loads(lines[0])
        except (json.JSONDecodeError, IndexError):
            header = {}
        if header.get("fingerprint") != self.fingerprint:
            log.warning("%s belongs to another run (inputs or settings changed): starting over", self.path)
            return
        for ln in lines[1:]:
            try:
                rec = json.loads(ln)
            except json.JSONDecodeError:
                continue  # the line a kill cut short
            if isinstance(rec, dict) and "i" in rec:
                self.done[int(rec["i"])] = rec

    def has_batch(self, batch: Sequence) -> bool:
        return all(it.index in self.done for it in batch)

    def add(self, records: list[dict]):
        with open(self.path, "a", encoding="utf-8") as f:
            f.write("".join(json.dumps(r) + "\n" for r in records))
            f.flush()
            os.fsync(f.fileno())
        for r in records:
            self.done[int(r["i"])] = r


def weights_digest(*modules) -> str:
    """sha256 (hex) of the class, ``cfg`` and every parameter and buffer (name, dtype, shape,
    bytes) of each ``torch.nn.Module`` in ``modules``: what makes their outputs. Objects that are
    not modules contribute their class name and ``repr(cfg)`` only."""
    h = hashlib.sha256()
    for m in modules:
        h.update(f"{type(m).__module__}.{type(m).__qualname__}\t{getattr(m, 'cfg', None)!r}\n".encode())
        if not isinstance(m, torch.nn.Module):
            continue
        tensors = dict(m.named_parameters())
        tensors.update(m.named_buffers())
        for name in sorted(tensors):
            t = tensors[name].detach()
            h.update(f"{name}\t{t.dtype}\t{tuple(t.shape)}\n".encode())
            h.update(t.cpu().contiguous().reshape(-1).view(torch.uint8).numpy())  # no copy
    return h.hexdigest()


def _file_state(path: Path) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return "missing"
    return f"{st.st_size}\t{st.st_mtime_ns}"


def fingerprint(items: Sequence, settings: dict) -> str:
    """Settings (with the model's :func:`weights_digest`), and each input's path, size and mtime."""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for it in items:
        h.update(f"{it.index}\t{it.path}\t{_file_state(it.path)}\n".encode())
    return h.hexdigest()[:32]
