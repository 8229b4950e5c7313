"""Model bundles: names, files (URL + sha256), rates, the cache, and offline rules.

A :class:`Bundle` names one pretrained component (encoder, quantizer, unit LM, vocoder) or a
pipeline of them. Its files are fetched into ``$TEXTLESS_HOME/hub`` (default
``~/.cache/textless/hub``), checked against their sha256, and written atomically: a failed or
corrupt download never leaves a file in the cache. ``get_model(device)`` imports the loader
named in the bundle (``"module:function"``) and returns an ``eval()`` model.

The official entries are the textless model zoo (see ``shared/reference/model_zoo.md``); their
files cannot be fetched without network, so ``textless models import FILE --as NAME`` puts a
file the user already has into the cache after checking its sha256.

Bundle names are plain identifiers (:func:`check_name`): they become folder names in the cache.
A file found in the cache (downloaded, imported, or placed there by hand) is checked against its
sha256 once; a small record beside it (``.NAME.sha256.json``: size, mtime, hash) spares the
hash on later loads until the file's size or mtime changes.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import re
import shutil
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from .errors import ChecksumError, DownloadError, ModelNotFoundError, TextlessError
from .files import atomic_open
from .progress import progress as progress_bar

log = logging.getLogger(__name__)

KINDS = ("encoder", "quantizer", "ulm", "vocoder", "pipeline", "tts")
PACKAGE_PREFIX = "package:"  # url of a file shipped inside the textless package
NAME_MAX_CHARS = 128
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")


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
    """One file of a bundle. ``role`` is how the loader asks for it (checkpoint, config...)."""

    role: str
    url: str
    sha256: str | None
    filename: str

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

    ``sample_rate`` (Hz) is the audio rate; ``frame_rate`` (Hz) the unit/feature rate;
    ``layer`` the encoder layer counted from 1 (fairseq's ``output_layer``); ``vocab_size`` the
    number of units. ``components`` names the bundles of a pipeline (encoder, quantizer, ulm,
    vocoder; absent parts are omitted). ``loader`` is ``"module:function"`` with the signature
    ``load(bundle, files: dict[role, Path], device) -> model``; ``None`` for a format textless
    registers but cannot run (the file can still be downloaded).
    """

    name: str
    kind: str
    description: str
    files: tuple[RemoteFile, ...] = ()
    loader: str | None = None
    sample_rate: int | None = None
    frame_rate: float | None = None
    layer: int | None = None
    vocab_size: int | None = None
    license: str = ""
    components: tuple[str, ...] = ()
    source: str = "official"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"bundle {self.name}: unknown kind {self.kind!r}")

    def fetch(self, *, download: bool = True, progress: bool = False) -> dict[str, Path]:
        """Paths of this bundle's files by role, downloading what is missing from the cache."""
        return {f.role: fetch_file(f, download=download, progress=progress) for f in self.files}

    def get_model(self, device="cpu", *, download: bool = True):
        """The component (or :class:`~textless.pipeline.Pipeline`) in ``eval()`` mode."""
        if self.loader is None:
            raise TextlessError(
                f"{self.name}: textless registers this file but has no loader for its format "
                f"({self.description}); 'textless models download {self.name}' fetches it"
            )
        module, _, func = self.loader.partition(":")
        load = getattr(importlib.import_module(module), func)
        return load(self, self.fetch(download=download), device)

    def info(self) -> dict:
        d = asdict(self)
        d["files"] = [dict(asdict(f), cached=f.cached_path().is_file()) for f in self.files]
        return d


# --------------------------------------------------------------------------------------------
# Files: hashing, download, import


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def fetch_file(f: RemoteFile, *, download: bool = True, progress: bool = False) -> Path:
    """The cached path of ``f``; downloads it first when it is missing and ``download`` is set.

    ``TEXTLESS_OFFLINE=1`` forbids network access. A missing file offline raises one
    :class:`DownloadError` naming the file and where to put it. A file already in the cache
    (perhaps placed there by hand) is checked against ``f.sha256`` by :func:`verify_cached`.
    """
    path = f.cached_path()
    if path.is_file():
        if f.sha256 is not None and not f.url.startswith(PACKAGE_PREFIX):
            verify_cached(path, f.sha256)
        return path
    if f.url.startswith(PACKAGE_PREFIX):
        raise DownloadError(f"{path}: file of the installed package is missing; reinstall textless")
    offline = os.environ.get("TEXTLESS_OFFLINE", "") not in ("", "0")
    if not download or offline:
        raise DownloadError(_where_to_put(f, "offline mode"))
    return download_file(f.url, path, f.sha256, progress=progress, hint=f)


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
    if sha256 is not None:
        _remember_verified(dest, sha256)
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


def verify_cached(path: Path, sha256: str) -> Path:
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
            f"{path}: sha256 {actual} does not match the registered {sha256} (truncated or "
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


def import_file(path: str | os.PathLike, name: str, *, kind: str | None = None) -> Bundle:
    """Put a local file into the cache as (a file of) bundle ``name``.

    For a registered bundle the file's sha256 must match one of the bundle's files, and it is
    copied into the cache under that file's name. For a new name, ``kind`` is required and the
    file is registered as a user bundle in ``$TEXTLESS_HOME/registry.json``.
    """
    check_name(name)
    path = Path(path)
    if not path.is_file():
        raise TextlessError(f"{path}: no such file")
    digest = sha256_of(path)
    registry = all_bundles()
    if name in registry:
        bundle = registry[name]
        match = [f for f in bundle.files if f.sha256 == digest]
        if not match:
            expected = ", ".join(f"{f.filename}={f.sha256}" for f in bundle.files)
            raise ChecksumError(
                f"{path}: sha256 {digest} matches no file of bundle {name} (expected {expected})"
            )
        for f in match:
            with atomic_open(f.cached_path(), "wb") as out, open(path, "rb") as src:
                shutil.copyfileobj(src, out)
            _remember_verified(f.cached_path(), digest)
        return bundle
    if kind not in KINDS or kind == "pipeline":
        raise TextlessError(
            f"{name} is not a registered bundle: give --kind (one of encoder, quantizer, ulm, "
            f"vocoder) to register {path} under that name"
        )
    user = _read_user_registry()
    user[name] = {"kind": kind, "path": str(path.resolve()), "sha256": digest}
    with atomic_open(textless_home() / "registry.json", "w") as out:
        json.dump(user, out, indent=2, sort_keys=True)
    return _user_bundle(name, user[name])


# --------------------------------------------------------------------------------------------
# The registry


def _read_user_registry() -> dict:
    p = textless_home() / "registry.json"
    if not p.is_file():
        return {}
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise TextlessError(f"{p}: corrupt user registry ({e.msg}); fix or delete it") from None


def _user_bundle(name: str, entry: dict) -> Bundle:
    registry = textless_home() / "registry.json"
    check_name(name, lambda msg: TextlessError(f"{registry}: {msg}; remove that entry"))
    url = Path(entry["path"]).as_uri()
    return Bundle(
        name=name,
        kind=entry["kind"],
        description=f"user file {entry['path']}",
        files=(RemoteFile("checkpoint", url, entry["sha256"], f"user/{name}/{Path(entry['path']).name}"),),
        loader=USER_LOADERS.get(entry["kind"]),
        source="user",
    )


# Loaders for user-imported files by component kind ("module:function", resolved lazily).
USER_LOADERS = {
    "encoder": "textless.encoders.hubert:load_bundle",
    "quantizer": "textless.quantizers.kmeans:load_bundle",
    "ulm": "textless.ulm.checkpoint:load_bundle",
    "vocoder": "textless.vocoders.checkpoint:load_bundle",
}


def all_bundles() -> dict[str, Bundle]:
    """Official, packaged and user bundles by name (built on call, no import-time work)."""
    from .zoo import official_bundles, packaged_bundles

    bundles = {b.name: b for b in [*packaged_bundles(), *official_bundles()]}
    for name, entry in _read_user_registry().items():
        bundles.setdefault(name, _user_bundle(name, entry))
    return bundles


def get_bundle(name: str) -> Bundle:
    """The bundle registered as ``name`` (:class:`ModelNotFoundError` if none or invalid)."""
    check_name(name, ModelNotFoundError)
    bundles = all_bundles()
    if name not in bundles:
        import difflib

        close = difflib.get_close_matches(name, bundles, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see 'textless models list'"
        raise ModelNotFoundError(f"unknown model {name!r}{hint}")
    return bundles[name]
