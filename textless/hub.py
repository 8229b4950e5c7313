"""The one registry of bundle names: official (:mod:`textless.zoo`), packaged and user bundles.

:func:`registry` maps every name to its :class:`~textless.bundle.Bundle`; :func:`get_bundle`
finds one. The official entries are the textless model zoo (docs/models.md); their files cannot
be fetched without network, so ``textless models import FILE --as NAME`` puts a file the user
already has into the cache after checking its sha256, and a file under a new name is
registered as a user bundle (``$TEXTLESS_HOME/registry.json``) with the loader of its role
(:data:`USER_LOADERS`).

The bundle types, names, cache and downloads live in :mod:`textless.bundle`; they are
re-exported here for convenience.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from .bundle import (  # noqa: F401  (re-exported: the hub's public names)
    COMPONENT_ROLES, PACKAGE_PREFIX, ROLES, Bundle, Loader, RemoteFile, _remember_verified,
    cache_dir, check_name, download_file, fetch_file, recorded_sha256, sha256_of, sha256_status,
    textless_home, trust_on_first_use, verify_cached,
)
from .encoders.fairseq_import import load_bundle as _load_encoder
from .errors import ChecksumError, ModelNotFoundError, TextlessError
from .files import atomic_open
from .quantizers.kmeans import load_bundle as _load_kmeans
from .ulm.checkpoint import load_bundle as _load_ulm
from .vocoders.checkpoint import load_bundle as _load_vocoder
from .zoo import official_bundles, packaged_bundles

#: Loader of a user-imported file by its role (ours or the official format of that role).
USER_LOADERS: dict[str, Loader] = {
    "encoder": _load_encoder,
    "quantizer": _load_kmeans,
    "ulm": _load_ulm,
    "vocoder": _load_vocoder,
}


def import_file(path: str | os.PathLike, name: str, *, role: str | None = None) -> Bundle:
    """Put a local file into the cache as (a file of) bundle ``name``.

    For a registered bundle the file's sha256 must match one of the bundle's files, and it is
    copied into the cache under that file's name. A file of the bundle with no published sha256
    is matched by name instead (the last part of its URL, or the bundle's only such file): on
    its first use its hash is recorded (trust on first use), later imports must match it. For a new name, ``role`` (one of
    :data:`COMPONENT_ROLES`) is required and the file is registered as a user bundle in
    ``$TEXTLESS_HOME/registry.json``.
    """
    check_name(name)
    path = Path(path)
    if not path.is_file():
        raise TextlessError(f"{path}: no such file")
    digest = sha256_of(path)
    bundles = registry()
    if name in bundles:
        bundle = bundles[name]
        match = [f for f in bundle.files if f.sha256 == digest] or _tofu_match(bundle, path)
        if not match:
            expected = ", ".join(
                f"{f.filename}={f.sha256}" if f.sha256 else
                f"{f.url.rsplit('/', 1)[-1]} (by name, no published sha256)" for f in bundle.files)
            raise ChecksumError(
                f"{path}: sha256 {digest} matches no file of bundle {name} (expected {expected})"
            )
        for f in match:
            if f.sha256 is None:
                known = recorded_sha256(f)
                if known is not None and known != digest:
                    raise ChecksumError(
                        f"{path}: sha256 {digest} differs from {known}, recorded on first use of "
                        f"{f.filename}; nothing was imported"
                    )
            with atomic_open(f.cached_path(), "wb") as out, open(path, "rb") as src:
                shutil.copyfileobj(src, out)
            _remember_verified(f.cached_path(), digest)
            if f.sha256 is None:
                try:
                    trust_on_first_use(f, digest)
                except ChecksumError:  # the published md5 does not match: nothing imported
                    f.cached_path().unlink(missing_ok=True)
                    raise
        return bundle
    if role not in COMPONENT_ROLES:
        raise TextlessError(
            f"{name} is not a registered bundle: give --role (one of "
            f"{', '.join(COMPONENT_ROLES)}) to register {path} under that name"
        )
    user = _read_user_registry()
    user[name] = {"role": role, "path": str(path.resolve()), "sha256": digest}
    with atomic_open(textless_home() / "registry.json", "w") as out:
        json.dump(user, out, indent=2, sort_keys=True)
    return _user_bundle(name, user[name])


def _tofu_match(bundle: Bundle, path: Path) -> list[RemoteFile]:
    """The file(s) of ``bundle`` without a published sha256 that ``path`` stands for: the one
    whose URL ends in ``path``'s name, else the bundle's only such file."""
    tofu = [f for f in bundle.files if f.sha256 is None and not f.url.startswith(PACKAGE_PREFIX)]
    by_name = [f for f in tofu if f.url.rstrip("/").rsplit("/", 1)[-1] == path.name]
    return by_name or (tofu if len(tofu) == 1 else [])


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
    """A ``registry.json`` entry as a bundle. Entries written before roles had one name carry
    ``"kind"`` instead of ``"role"``; both are read."""
    where = textless_home() / "registry.json"
    check_name(name, lambda msg: TextlessError(f"{where}: {msg}; remove that entry"))
    role = entry.get("role", entry.get("kind"))
    if role not in COMPONENT_ROLES:
        raise TextlessError(f"{where}: entry {name} has role {role!r}, not one of "
                            f"{', '.join(COMPONENT_ROLES)}; fix or remove that entry")
    url = Path(entry["path"]).as_uri()
    return Bundle(
        name=name,
        role=role,
        description=f"user file {entry['path']}",
        files=(RemoteFile("checkpoint", url, entry["sha256"], f"user/{name}/{Path(entry['path']).name}"),),
        loader=USER_LOADERS[role],
        source="user",
    )


def registry() -> dict[str, Bundle]:
    """Every bundle by name: packaged, official, then user bundles (built on call, no
    import-time work; a user entry never shadows a textless name)."""
    bundles = {b.name: b for b in [*packaged_bundles(), *official_bundles()]}
    for name, entry in _read_user_registry().items():
        bundles.setdefault(name, _user_bundle(name, entry))
    return bundles


def get_bundle(name: str) -> Bundle:
    """The bundle registered as ``name`` (:class:`ModelNotFoundError` if none or invalid)."""
    check_name(name, ModelNotFoundError)
    bundles = registry()
    if name not in bundles:
        import difflib

        close = difflib.get_close_matches(name, bundles, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see 'textless models list'"
        raise ModelNotFoundError(f"unknown model {name!r}{hint}")
    return bundles[name]
