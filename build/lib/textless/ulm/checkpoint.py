"""Load and save unit LMs: our ``.safetensors`` files and GSLM fairseq directories."""

from __future__ import annotations

import os
from pathlib import Path

from ..checkpoint import config_from_dict, load_checkpoint, save_checkpoint
from ..errors import CheckpointError
from .model import UnitLM, UnitLMConfig

KIND = "ulm"


def save_ulm(path: str | os.PathLike, model: UnitLM) -> Path:
    """Write ``model`` (config + weights) as a textless ``.safetensors`` file, atomically."""
    state = {k: v for k, v in model.state_dict().items()}
    return save_checkpoint(path, KIND, model.config, state)


def from_native(config: dict, state_dict: dict, device="cpu") -> UnitLM:
    """NATIVE_LOADERS entry: build :class:`UnitLM` from a config dict and weights, ``eval()``."""
    model = UnitLM(config_from_dict(UnitLMConfig, config))
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    if missing or unexpected:
        raise CheckpointError(f"ulm checkpoint: missing keys {missing}, unexpected {unexpected}")
    return model.to(device).eval()


def _is_archive(path: Path) -> bool:
    return path.name.endswith((".tgz", ".tar.gz", ".tar"))


# Limits on what an archive may unpack into the cache. A GSLM ULM archive (hubert100_lm.tgz)
# holds checkpoint_best.pt (a few hundred MB), dict.txt and a few small files; the caps leave
# room for ten times that and stop a tar bomb before it fills the disk.
MAX_ARCHIVE_MEMBER_BYTES = 4 << 30  # 4 GiB per file
MAX_ARCHIVE_TOTAL_BYTES = 8 << 30  # 8 GiB in all
MAX_ARCHIVE_MEMBERS = 10_000


def extract_gslm_archive(
    path: str | os.PathLike,
    *,
    max_member_bytes: int = MAX_ARCHIVE_MEMBER_BYTES,
    max_total_bytes: int = MAX_ARCHIVE_TOTAL_BYTES,
    max_members: int = MAX_ARCHIVE_MEMBERS,
) -> Path:
    """Unpack a GSLM ULM archive (``hubert100_lm.tgz``) once into the cache and return the
    folder holding ``checkpoint_best.pt`` and ``dict.txt``.

    Only regular files and folders are extracted: a link, a device, an absolute name or one
    holding ``..`` is refused (tarfile's ``data`` filter stays on behind these checks), as is
    a file over ``max_member_bytes`` (bytes, the size its header declares, checked before any
    byte of it is written), more than ``max_total_bytes`` in all, or more than ``max_members``
    entries. A refused archive raises :class:`CheckpointError` and leaves nothing in the
    cache. The cache folder is named after the archive's sha256.
    """
    import shutil
    import tarfile
    import tempfile

    from ..hub import cache_dir, sha256_of

    path = Path(path)
    target = cache_dir() / "extracted" / f"{path.name.split('.')[0]}-{sha256_of(path)[:16]}"
    if not target.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".extract-"))
        try:
            with tarfile.open(path) as tar:
                for member in _checked_members(tar, path, max_member_bytes, max_total_bytes,
                                               max_members):
                    tar.extract(member, tmp, filter="data")
            os.replace(tmp, target)
        except (tarfile.TarError, OSError, CheckpointError) as e:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(e, CheckpointError):
                raise
            if not target.is_dir():  # (a concurrent extraction that won the rename is fine)
                raise CheckpointError(f"{path}: cannot extract ({e})") from None
    found = sorted(p.parent for p in target.rglob("checkpoint_best.pt") if (p.parent / "dict.txt").is_file())
    if not found:
        raise CheckpointError(f"{path}: no checkpoint_best.pt with a dict.txt beside it inside")
    return found[0]


def _checked_members(tar, path: Path, max_member_bytes: int, max_total_bytes: int,
                     max_members: int):
    """The members of ``tar`` one by one, each checked before it is yielded (see
    :func:`extract_gslm_archive`); the first that breaks a rule raises :class:`CheckpointError`."""
    total = 0
    for count, member in enumerate(tar, 1):
        if count > max_members:
            raise CheckpointError(f"{path}: more than {max_members} entries; refused")
        parts = member.name.replace("\\", "/").split("/")
        if member.name.startswith(("/", "\\")) or ".." in parts:
            raise CheckpointError(
                f"{path}: {member.name!r} is an absolute path or climbs with '..'; refused"
            )
        if not (member.isfile() or member.isdir()):
            raise CheckpointError(
                f"{path}: {member.name!r} is a link or special file; a GSLM archive holds only "
                f"files and folders"
            )
        total += member.size
        if member.size > max_member_bytes or total > max_total_bytes:
            raise CheckpointError(
                f"{path}: {member.name!r} ({member.size} bytes) is over the size limit "
                f"({max_member_bytes} bytes per file, {max_total_bytes} in all)"
            )
        yield member


def load_ulm(path: str | os.PathLike, device="cpu") -> UnitLM:
    """A unit LM from our ``.safetensors`` file, a GSLM directory (``checkpoint_best.pt`` +
    ``dict.txt``), a GSLM archive (``hubert100_lm.tgz``, unpacked into the cache) or a fairseq
    ``.pt`` file with ``dict.txt`` beside it."""
    path = Path(path)
    if path.is_file() and _is_archive(path):
        path = extract_gslm_archive(path)
    if path.is_dir():
        from .fairseq_import import load_fairseq_ulm

        if not (path / "checkpoint_best.pt").is_file():
            raise CheckpointError(f"{path}: a GSLM ULM folder needs checkpoint_best.pt and dict.txt")
        return load_fairseq_ulm(path, device=device)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such unit LM file or folder")
    if path.suffix == ".safetensors":
        config, state = load_checkpoint(path, KIND)
        return from_native(config, state, device)
    from .fairseq_import import load_fairseq_ulm

    return load_fairseq_ulm(path, device=device)


def load_bundle(bundle, files: dict, device="cpu") -> UnitLM:
    """Hub loader: ``files["checkpoint"]`` is ours or fairseq's (``files["dict"]`` or a
    ``dict.txt`` beside it gives the dictionary)."""
    ckpt = Path(files["checkpoint"])
    if ckpt.suffix == ".safetensors" or _is_archive(ckpt):
        return load_ulm(ckpt, device)
    from .fairseq_import import load_fairseq_ulm

    dictionary = files.get("dict")
    if dictionary is None and not (ckpt.parent / "dict.txt").is_file():
        # a user bundle is cached away from its folder: look beside the imported original
        from urllib.parse import unquote, urlparse

        for f in bundle.files:
            url = urlparse(f.url)
            if f.role == "checkpoint" and url.scheme == "file":
                beside = Path(unquote(url.path)).parent / "dict.txt"
                if beside.is_file():
                    dictionary = beside
    return load_fairseq_ulm(ckpt, dictionary, device=device)
