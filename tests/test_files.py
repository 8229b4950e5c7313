"""Atomic writes: durable on commit (fsync), nothing torn, orphans of killed writers cleaned up."""

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import textless
from textless.files import atomic_open, atomic_path

WRITER = """
import sys
from textless.files import atomic_open
with atomic_open(sys.argv[1], "wb") as f:
    f.write(b"half of the new content")
    f.flush()
    print("writing", flush=True)
    sys.stdin.read()  # blocks until killed
"""


def _killed_writer(target: Path) -> Path:
    """Run a writer of ``target`` in another process, SIGKILL it mid-write; returns its orphan."""
    env = dict(os.environ, PYTHONPATH=str(Path(textless.__file__).parent.parent))
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, env=env)
    try:
        assert p.stdout.readline() == b"writing\n"
        p.send_signal(signal.SIGKILL)
        p.wait()
    finally:
        p.kill()
        p.stdin.close()
        p.stdout.close()
    assert p.returncode == -signal.SIGKILL
    orphans = list(target.parent.glob(f".{target.name}.*.tmp"))
    assert len(orphans) == 1
    return orphans[0]


def test_temporary_of_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / "units.jsonl"
    target.write_text("old\n")
    orphan = _killed_writer(target)
    assert target.read_text() == "old\n"  # the kill tore nothing
    with atomic_open(target, "w") as f:
        f.write("new\n")
    assert target.read_text() == "new\n"
    assert not orphan.exists() and [p.name for p in tmp_path.iterdir()] == [target.name]


def test_temporaries_of_live_writers_and_other_hosts_are_kept(tmp_path):
    from textless.files import _host

    target = tmp_path / "a.wav"
    orphan = _killed_writer(target)
    dead_pid = orphan.name.split(".")[-3]
    assert orphan.name.startswith(f".a.wav.{_host()}.{dead_pid}.")
    # a concurrent writer that is alive (this process's parent), one on another host: kept
    live = tmp_path / f".a.wav.{_host()}.{os.getppid()}.abc123.tmp"
    remote = tmp_path / f".a.wav.otherhost.{dead_pid}.abc123.tmp"
    live.write_text("busy")
    remote.write_text("busy")
    with atomic_open(target, "wb") as f:
        f.write(b"new")
    assert not orphan.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, live.name, remote.name])


def test_remove_orphans_keeps_files_that_are_not_dead_writers_temporaries(tmp_path):
    from textless.files import _host, remove_orphans

    host = _host()
    names = [
        "a.wav", ".a.wav.x1_2.tmp",  # a target; a temporary of the old naming (no pid)
        f".a.wav.{host}.{os.getpid()}.abc.tmp",  # this process
        f".a.wav.{host}.0.abc.tmp",  # pid 0 is no writer
        f".a.wav.{host}.notapid.abc.tmp",
    ]
    for n in names:
        (tmp_path / n).write_text("x")
    assert remove_orphans(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)


def test_commit_fsyncs_the_file_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    events = []
    fsync, replace = os.fsync, os.replace

    def recording_fsync(fd):
        st = os.fstat(fd)
        events.append(("fsync", "dir" if stat.S_ISDIR(st.st_mode) else "file", st.st_ino))
        fsync(fd)

    def recording_replace(src, dst):
        events.append(("replace", os.stat(src).st_ino))
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(os, "replace", recording_replace)
    target = tmp_path / "sub" / "state.bin"
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"payload")
    file_ino, dir_ino = target.stat().st_ino, target.parent.stat().st_ino
    assert events == [("fsync", "file", file_ino), ("replace", file_ino), ("fsync", "dir", dir_ino)]
