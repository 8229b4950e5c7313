"""GSLM ULM archives (``.tgz``) are unpacked into the cache with no escape and a size cap."""

import io
import re
import tarfile

import pytest

from textless.errors import CheckpointError
from textless.hub import cache_dir
from textless.ulm import checkpoint
from textless.ulm.checkpoint import extract_gslm_archive


def _file(tar, name, data: bytes):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _link(tar, name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    tar.addfile(info)


def _archive(tmp_path, build, name="lm.tgz"):
    path = tmp_path / name
    with tarfile.open(path, "w:gz") as tar:
        _file(tar, "lm/checkpoint_best.pt", b"c" * 40_000)
        _file(tar, "lm/dict.txt", b"0 1\n1 1\n")
        build(tar)
    return path


def _extracted():
    """Everything under the cache's extraction folder (also half-written temporary folders)."""
    root = cache_dir() / "extracted"
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) if root.exists() else []


def test_archive_within_the_limits_is_extracted(tmp_path):
    path = _archive(tmp_path, lambda tar: _file(tar, "lm/README", b"r" * 10_000))
    folder = extract_gslm_archive(path, max_member_bytes=40_000, max_total_bytes=50_008)
    assert (folder / "checkpoint_best.pt").read_bytes() == b"c" * 40_000
    assert (folder / "dict.txt").is_file()


@pytest.mark.parametrize(
    "limits",
    [
        {"max_member_bytes": 39_999},  # checkpoint_best.pt is 40 000 bytes
        {"max_total_bytes": 50_007},  # 40 000 + 8 + 10 000 in all
        {"max_members": 2},
    ],
    ids=["member", "total", "count"],
)
def test_archive_over_a_size_limit_is_refused_and_leaves_nothing(tmp_path, limits):
    path = _archive(tmp_path, lambda tar: _file(tar, "lm/README", b"r" * 10_000))
    with pytest.raises(CheckpointError, match="limit|entries"):
        extract_gslm_archive(path, **limits)
    assert _extracted() == []


def _sparse_member(name: str, apparent_size: int, data: bytes = b"x" * 512) -> bytes:
    """An old-GNU sparse member (type ``S``): ``data`` stored at offset 0 of a file whose
    extracted size is ``apparent_size`` bytes; tarfile extracts it as a sparse file."""
    info = tarfile.TarInfo(name)
    info.type, info.size = tarfile.GNUTYPE_SPARSE, len(data)
    header = bytearray(info.tobuf(tarfile.GNU_FORMAT)[-512:])
    header[386:410] = tarfile.itn(0, 12, tarfile.GNU_FORMAT) + tarfile.itn(len(data), 12, tarfile.GNU_FORMAT)
    header[483:495] = tarfile.itn(apparent_size, 12, tarfile.GNU_FORMAT)
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header) + data + bytes(-len(data) % 512)


def test_sparse_member_over_the_default_cap_is_refused(tmp_path):
    """5 GiB once extracted, 512 bytes in the archive: refused from its header."""
    dict_txt = b"0 1\n1 1\n"
    info = tarfile.TarInfo("lm/dict.txt")
    info.size = len(dict_txt)
    path = tmp_path / "bomb.tar"
    path.write_bytes(
        _sparse_member("lm/checkpoint_best.pt", 5 << 30)
        + info.tobuf(tarfile.GNU_FORMAT) + dict_txt + bytes(-len(dict_txt) % 512)
        + bytes(1024)
    )
    with tarfile.open(path) as tar:  # the archive is what it claims to be
        assert tar.getmember("lm/checkpoint_best.pt").size == 5 << 30
        assert tar.extractfile("lm/dict.txt").read() == dict_txt
    with pytest.raises(CheckpointError, match="over the size limit"):
        extract_gslm_archive(path)
    assert _extracted() == []
    assert checkpoint.MAX_ARCHIVE_MEMBER_BYTES < 5 << 30 <= checkpoint.MAX_ARCHIVE_TOTAL_BYTES


def test_default_limits_fit_a_real_gslm_archive():
    # hubert100_lm.tgz: checkpoint_best.pt of a few hundred MB, dict.txt, a few small files
    assert checkpoint.MAX_ARCHIVE_MEMBER_BYTES >= 2 << 30
    assert checkpoint.MAX_ARCHIVE_TOTAL_BYTES >= checkpoint.MAX_ARCHIVE_MEMBER_BYTES


@pytest.mark.parametrize(
    "build",
    [
        lambda tar: _file(tar, "../escaped", b"x"),
        lambda tar: _file(tar, "/tmp/escaped-abs", b"x"),
        lambda tar: _file(tar, "lm/../lm/x", b"x"),
        lambda tar: _link(tar, "lm/escaped", "../../../../escaped"),
        lambda tar: _link(tar, "lm/passwd", "/etc/passwd"),
        lambda tar: _link(tar, "lm/alias.pt", "checkpoint_best.pt"),  # inside, still a link
        lambda tar: _link(tar, "lm/hard.pt", "lm/checkpoint_best.pt", tarfile.LNKTYPE),
        lambda tar: _link(tar, "lm/fifo", "", tarfile.FIFOTYPE),
    ],
    ids=["dotdot", "absolute", "dotdot-inside", "symlink-out", "symlink-abs", "symlink-in", "hardlink", "fifo"],
)
def test_archive_with_links_or_escaping_paths_is_refused(tmp_path, build):
    path = _archive(tmp_path, build)
    with pytest.raises(CheckpointError, match=re.escape(str(path))):
        extract_gslm_archive(path)
    assert _extracted() == []
    assert not (cache_dir() / "escaped").exists() and not (tmp_path / "escaped").exists()
