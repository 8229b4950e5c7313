"""Atomic file writes: a reader never sees a half-written file, a failure leaves none behind.

A write goes to a temporary ``.NAME.HOST.PID.XXXXXX.tmp`` beside the target; on success the
temporary is fsynced, renamed onto the target, and the folder is fsynced, so that after a crash
the target holds either the old or the new content, never a torn file.

A writer killed with SIGKILL (or by a power cut) cannot remove its temporary. The first atomic
write into a folder in each process removes the temporaries there whose writer is gone: named
with this host's name and a process id that no longer runs here. A temporary of a live process
(a concurrent writer, here or as another user) or of another host (a shared file system) is never
touched; temporaries of textless versions before this naming (``.NAME.XXXXXX.tmp``) are left alone.
The rule assumes one process-id space per host name: containers that share a folder and a host
name but not their process ids could see each other's live writers as gone (that writer's
rename then fails loudly; no file is torn).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import socket
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

log = logging.getLogger(__name__)

# .NAME.HOST.PID.XXXXXX.tmp, XXXXXX from tempfile's alphabet (letters, digits, underscore)
_TEMPORARY = re.compile(r"^\..*\.(?P<host>[A-Za-z0-9-]+)\.(?P<pid>[0-9]+)\.[a-z0-9_]+\.tmp$")
_NAME_CHARS = 40  # of the target's name kept in its temporary's name (file names max 255 bytes)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _host() -> str:
    """This machine's name reduced to ``[A-Za-z0-9-]`` (no dots: they separate the fields)."""
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:32] or "host"


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return True  # not a real writer's id: keep its file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it runs, as another user
        return True
    return True


def remove_orphans(directory: str | os.PathLike) -> list[Path]:
    """Delete the temporaries in ``directory`` left by dead writers of this host (see the module
    docstring for the rule); returns the paths removed."""
    host, removed = _host(), []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMPORARY.match(entry.name)
        if m is None or m["host"] != host or int(m["pid"]) == os.getpid() or _pid_alive(int(m["pid"])):
            continue
        try:
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:  # gone already (another process cleaned it) or not ours to remove
            continue
    if removed:
        log.info("removed %d temporaries of killed writers in %s", len(removed), directory)
    return removed


@functools.lru_cache(maxsize=1024)
def _sweep_once(directory: str) -> None:
    """:func:`remove_orphans` once per folder and process (a listing per write would make writing
    N files into one folder cost N^2)."""
    remove_orphans(directory)


def _fsync_file(path: str | os.PathLike) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: str | os.PathLike) -> None:
    """Make a rename in ``path`` durable; a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a folder: the rename is all we can do
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success fsync it, rename it onto ``path`` and
    fsync the folder.

    For writers that take a file name (``torch.save``, ``safetensors.torch.save_file``).
    Parent folders are created. On any exception the temporary file is removed. Temporaries of
    killed writers in the folder are removed first (once per folder and process; module docstring).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _sweep_once(os.path.abspath(path.parent))
    prefix = f".{path.name[:_NAME_CHARS]}.{_host()}.{os.getpid()}."
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a normal file respects the umask
    try:
        yield Path(tmp)
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator[IO]:
    """``open(path, mode)`` that writes to a temporary file and renames it on success."""
    with atomic_path(path) as tmp:
        with open(tmp, mode, **kwargs) as f:
            yield f
