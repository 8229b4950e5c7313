"""Bundles: a named pretrained component or pipeline, its files (URL + sha256) and the cache.

A :class:`Bundle` names one pretrained component (encoder, quantizer, unit LM, vocoder) or a
pipeline of them (``role="pipeline"``, whose ``components`` are the component bundles). Its files
are fetched into ``$TEXTLESS_HOME/hub`` (default ``~/.cache/textless/hub``), checked against their
sha256, and written atomically: a failed or corrupt download never leaves a file in the cache.
``get_model(device)`` calls the bundle's ``loader`` (a function, see :data:`Loader`) and returns
an ``eval()`` model; pipelines are assembled by :func:`textless.pipeline.load_pipeline`.

This module is the bottom of the loading layer: it imports no stage and no registry. The names
live in :mod:`textless.hub` (the one registry), the official entries in :mod:`textless.zoo`.
Kinds are spelled one way everywhere (docs/loading.md): a ``role`` (one of :data:`ROLES`) and a
``format`` (``hubert``, ``kmeans``, ``hifigan``...).

Bundle names are plain identifiers (:func:`check_name`): they become folder names in the cache.
A file found in the cache (downloaded, imported, or placed there by hand) is checked against its
sha256 once; a small record beside it (``.NAME.sha256.json``: size, mtime, hash) spares the
hash on later loads until the file's size or mtime changes.

Trust on first use (TOFU): a file published without a sha256 (``RemoteFile.sha256 is None``)
gets its hash recorded the first time it enters the cache (downloaded, imported, or found
there), in ``.NAME.tofu.json`` beside it (``sha256``, ``recorded`` date, ``url``). Every later
use checks the file against that hash exactly as against a published one; a later download
must match it too. Where the publisher gives an md5 instead (``RemoteFile.md5``), the file must
match it before its sha256 is recorded. :func:`sha256_status` says how a file's hash is known.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

from .errors import ChecksumError, DownloadError, TextlessError
from .files import atomic_open
from .progress import progress as progress_bar

log = logging.getLogger(__name__)

#: What a bundle is for. ``tts`` is a stage of a unit-to-speech system that is no unit vocoder by
#: itself (WaveGlow: mel -> waveform, the second stage of the GSLM Tacotron2 vocoders).
ROLES = ("encoder", "quantizer", "ulm", "vocoder", "pipeline", "tts")
#: Roles a user may give a file of their own (``textless models import --role``).
COMPONENT_ROLES = ("encoder", "quantizer", "ulm", "vocoder")
PACKAGE_PREFIX = "package:"  # url of a file shipped inside the textless package
NAME_MAX_CHARS = 128
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")

#: ``load(bundle, files, device) -> model``: ``files`` maps each file role of the bundle
#: (``checkpoint``, ``config``, ``speakers``...) to its path in the cache; returns an ``eval()``
#: model on ``device``.
Loader = Callable[["Bundle", Mapping[str, Path], Any], Any]


def check_name(name: str, error: Callable[[str], Exception] = TextlessError) -> str:
    """``name`` if it is a valid bundle name, else ``error`` (one line) saying why.

    A name is ASCII letters, digits, ``-``, ``_`` and ``.``, starts with a letter, digit or
    ``_`` (no leading dot or dash), at most :data:`NAME_MAX_CHARS` characters: it becomes a
    folder name in the cache, so it can hold no separator and never mean ``..``.

    >>> check_name("hubert-base-ls960-l6-km100")
    'hubert-base-ls960-l6-km100'
    """
    if not (isinstance(name, str) and len(name) <= NAME_MAX_CHARS and _NAME.fullmatch(name)):
        raise error(
            f"invalid model name {name!r}: use ASCII letters, digits, '-', '_' and '.', "
            f"starting with a letter, digit or '_', at most {NAME_MAX_CHARS} characters"
        )
    return name


def textless_home() -> Path:
    """``$TEXTLESS_HOME`` or ``~/.cache/textless``, resolved at call time."""
    return Path(os.environ.get("TEXTLESS_HOME") or Path.home() / ".cache" / "textless")


def cache_dir() -> Path:
    return textless_home() / "hub"


@dataclass(frozen=True)
class RemoteFile:
    """One file of a bundle. ``role`` is how the loader asks for it (checkpoint, config...).
    ``md5``: a digest the publisher gives where it gives no sha256, checked on first use."""

    role: str
    url: str
    sha256: str | None
    filename: str
    md5: str | None = None

    def cached_path(self) -> Path:
        """Where the file lives: inside the package, or under :func:`cache_dir` (never outside:
        a ``filename`` that is absolute or holds ``..`` raises :class:`TextlessError`)."""
        if self.url.startswith(PACKAGE_PREFIX):
            return Path(__file__).parent / self.url[len(PACKAGE_PREFIX) :]
        parts = self.filename.replace("\\", "/").split("/")
        if self.filename.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise TextlessError(
                f"cache file name {self.filename!r} would leave the cache {cache_dir()}; "
                f"refusing to read or write it"
            )
        return cache_dir() / self.filename


@dataclass(frozen=True)
class Bundle:
    """A named pretrained component or pipeline.

    ``role``: one of :data:`ROLES`; ``format``: the model family (``hubert``, ``kmeans``,
    ``hifigan``, ``transformer``...; empty for a pipeline). ``sample_rate`` (Hz) is the audio
    rate; ``frame_rate`` (Hz) the unit/feature rate; ``layer`` the encoder layer counted from 1
    (fairseq's ``output_layer``); ``vocab_size`` the number of units. ``components``: the
    component bundles of a pipeline (encoder, quantizer, then ulm and vocoder when present).
    ``loader`` (:data:`Loader`) builds the model from the fetched files; ``None`` for a format
    textless registers but cannot run (the files can still be downloaded) and for pipelines.
    """

    name: str
    role: str
    description: str
    format: str = ""
    files: tuple[RemoteFile, ...] = ()
    loader: Loader | None = field(default=None, compare=False)
    sample_rate: int | None = None
    frame_rate: float | None = None
    layer: int | None = None
    vocab_size: int | None = None
    license: str = ""
    components: tuple["Bundle", ...] = ()
    source: str = "official"

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"bundle {self.name}: unknown role {self.role!r} (one of {ROLES})")

    def fetch(self, *, download: bool = True, progress: bool = False) -> dict[str, Path]:
        """Paths of this bundle's files by role, downloading what is missing from the cache."""
        return {f.role: fetch_file(f, download=download, progress=progress) for f in self.files}

    def get_model(self, device="cpu", *, download: bool = True):
        """The component in ``eval()`` mode on ``device``, built by ``loader`` from the files."""
        if self.role == "pipeline":
            raise TextlessError(
                f"{self.name} is a pipeline: load it with textless.load_pipeline({self.name!r})"
            )
        if self.loader is None:
            raise TextlessError(
                f"{self.name}: textless registers this file but has no loader for its format "
                f"({self.description}); 'textless models download {self.name}' fetches it"
            )
        return self.loader(self, self.fetch(download=download), device)

    def info(self) -> dict:
        """Everything known about the bundle as JSON-ready values (files say if cached)."""
        d = {k: v for k, v in asdict(self).items() if k not in ("loader", "components", "files")}
        d["loader"] = None if self.loader is None else f"{self.loader.__module__}.{self.loader.__qualname__}"
        d["components"] = [c.name for c in self.components]
        d["files"] = [dict(asdict(f), cached=f.cached_path().is_file(), sha256_status=sha256_status(f))
                      for f in self.files]
        return d


# --------------------------------------------------------------------------------------------
# Files: hashing, download, import


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    return _digest(path, hashlib.sha256(), chunk)


def _digest(path: Path, h, chunk: int = 1 << 20) -> str:
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def fetch_file(f: RemoteFile, *, download: bool = True, progress: bool = False) -> Path:
    """The cached path of ``f``; downloads it first when it is missing and ``download`` is set.

    ``TEXTLESS_OFFLINE=1`` forbids network access. A missing file offline raises one
    :class:`DownloadError` naming the file and where to put it. A file already in the cache
    (perhaps placed there by hand) is checked against ``f.sha256`` by :func:`verify_cached`.
    A file with no published sha256 is checked against the hash recorded on its first use
    (:func:`trust_on_first_use`), and recorded now if this is its first use.
    """
    path = f.cached_path()
    if f.url.startswith(PACKAGE_PREFIX):
        if not path.is_file():
            raise DownloadError(f"{path}: file of the installed package is missing; reinstall textless")
        return path
    expected = f.sha256 or recorded_sha256(f)
    if path.is_file():
        if expected is not None:
            verify_cached(path, expected, "registered" if f.sha256 else "one recorded on first use")
        else:
            trust_on_first_use(f, sha256_of(path))
        return path
    offline = os.environ.get("TEXTLESS_OFFLINE", "") not in ("", "0")
    if not download or offline:
        raise DownloadError(_where_to_put(f, "offline mode"))
    download_file(f.url, path, expected, progress=progress, hint=f)
    if expected is None:
        try:
            trust_on_first_use(f, _known_hash(path) or sha256_of(path))
        except ChecksumError:  # the published md5 does not match: keep nothing
            path.unlink(missing_ok=True)
            raise
    return path


def download_file(
    url: str,
    dest: Path,
    sha256: str | None,
    *,
    progress: bool = False,
    hint: RemoteFile | None = None,
    timeout_s: float = 30.0,
) -> Path:
    """Stream ``url`` to ``dest`` through a temporary file, check sha256, rename atomically.

    On any failure (network, HTTP status, checksum, interruption) nothing is left at ``dest``.
    """
    h = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            bar = progress_bar(total=total, desc=dest.name, unit="B", unit_scale=True,
                               enabled=progress)
            with atomic_open(dest, "wb") as out:
                while block := resp.read(1 << 20):
                    h.update(block)
                    out.write(block)
                    bar.update(len(block))
                bar.close()
                if sha256 is not None and h.hexdigest() != sha256:
                    raise ChecksumError(
                        f"{url}: sha256 {h.hexdigest()} does not match the registered {sha256}; "
                        f"nothing was written to the cache"
                    )
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or e
        if hint is not None:
            raise DownloadError(_where_to_put(hint, str(reason))) from None
        raise DownloadError(f"cannot download {url}: {reason}") from None
    _remember_verified(dest, h.hexdigest())  # (the hash just computed: spares one on TOFU)
    return dest


def _record_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.sha256.json")


def _stat_key(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _remember_verified(path: Path, sha256: str, key: dict | None = None) -> None:
    """Write the record that ``path`` (as it is now: size, mtime) hashed to ``sha256``.

    Best effort: a cache that cannot be written (read-only) only costs a hash next time.
    """
    try:
        record = dict(key or _stat_key(path), sha256=sha256)
        with atomic_open(_record_path(path), "w") as out:
            json.dump(record, out)
    except OSError as e:
        log.debug("cannot record the checked sha256 of %s: %s", path, e)


def verify_cached(path: Path, sha256: str, what: str = "registered") -> Path:
    """``path`` once its content is known to hash to ``sha256``, else :class:`ChecksumError`.

    The hash is computed once; while the file keeps the size (bytes) and mtime (ns) stored in
    its record (``.NAME.sha256.json`` beside it), later calls trust the record and read
    nothing. A changed size or mtime, or a different expected hash, checks again.
    """
    key = _stat_key(path)
    try:
        if json.loads(_record_path(path).read_text()) == dict(key, sha256=sha256):
            return path
    except (OSError, ValueError):
        pass  # no record, unreadable or stale: hash the file
    actual = sha256_of(path)
    if actual != sha256:
        raise ChecksumError(
            f"{path}: sha256 {actual} does not match the {what} {sha256} (truncated or "
            f"the wrong file?); delete it, then download or import the right file"
        )
    if _stat_key(path) == key:  # (not rewritten while it was being hashed)
        _remember_verified(path, sha256, key)
    return path


def _where_to_put(f: RemoteFile, reason: str) -> str:
    return (
        f"cannot fetch {f.filename} ({reason}): download {f.url} yourself and put it at "
        f"{f.cached_path()}, or run 'textless models import FILE --as NAME'"
    )




# --------------------------------------------------------------------------------------------
# Trust on first use: files published without a sha256


def _tofu_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tofu.json")


def _known_hash(path: Path) -> str | None:
    """The hash in ``path``'s stat record if the file still has the recorded size and mtime."""
    try:
        record = json.loads(_record_path(path).read_text())
        if {k: record.get(k) for k in ("size", "mtime_ns")} == _stat_key(path):
            return record.get("sha256")
    except (OSError, ValueError, AttributeError):
        pass
    return None


def tofu_record(f: RemoteFile) -> dict | None:
    """``{"sha256", "recorded", "url"}`` recorded on the first use of ``f``, or None."""
    try:
        record = json.loads(_tofu_path(f.cached_path()).read_text())
    except (OSError, ValueError):
        return None
    if not (isinstance(record, dict) and re.fullmatch(r"[0-9a-f]{64}", str(record.get("sha256")))):
        raise ChecksumError(f"{_tofu_path(f.cached_path())}: corrupt trust-on-first-use record; "
                            f"delete it and the file beside it, then fetch the file again")
    return record


def recorded_sha256(f: RemoteFile) -> str | None:
    """The sha256 recorded on the first use of ``f`` (a file with no published sha256), or None."""
    record = None if f.sha256 is not None else tofu_record(f)
    return None if record is None else record["sha256"]


def trust_on_first_use(f: RemoteFile, sha256: str) -> None:
    """Record ``sha256`` as the hash of ``f`` (no published one): later uses must match it.

    A file whose hash is already recorded is checked instead: a different ``sha256`` raises
    :class:`ChecksumError`; so does a first file that misses the published ``f.md5`` (nothing is
    recorded; the caller removes what it put in the cache). Unlike the stat record, this one is
    not a cache: it is the only knowledge of the right content, so it is written even when it
    cannot be cheaply.
    """
    known = recorded_sha256(f)
    if known is not None:
        if known != sha256:
            raise ChecksumError(
                f"{f.cached_path()}: sha256 {sha256} differs from {known}, recorded on first use "
                f"of {f.url}; if the file was replaced on purpose, delete "
                f"{_tofu_path(f.cached_path())} to trust the new one"
            )
        return
    path = f.cached_path()
    if f.md5 is not None and path.is_file() and (md5 := _digest(path, hashlib.md5(usedforsecurity=False))) != f.md5:
        raise ChecksumError(f"{path}: md5 {md5} does not match the published {f.md5} of {f.url}; "
                            f"nothing was recorded (truncated or the wrong file?)")
    record = {"sha256": sha256, "recorded": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
              "url": f.url}
    with atomic_open(_tofu_path(path), "w") as out:
        json.dump(record, out)
    if path.is_file():
        _remember_verified(path, sha256)
    log.info("%s: no published sha256; recorded %s on first use", path.name, sha256)


def sha256_status(f: RemoteFile) -> str:
    """How the sha256 of ``f`` is known, for ``models list`` / ``models info``:
    ``published``, ``recorded on first use <date>`` or ``none published; recorded on first use``,
    saying so when a published md5 is checked first."""
    if f.sha256 is not None:
        return "published"
    if f.url.startswith(PACKAGE_PREFIX):
        return "package file"
    try:
        record = tofu_record(f)
    except ChecksumError:
        return "corrupt first-use record"
    if record is None:
        return "none published; recorded on first use" + (" once the published md5 matches" if f.md5 else "")
    return f"recorded on first use {record.get('recorded', '?')}" + (", the published md5 matched" if f.md5 else "")
