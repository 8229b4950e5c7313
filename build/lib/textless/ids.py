"""Utterance ids as file names: the one check every command that names output files after ids
goes through (no torch import, so that ``textless.data`` can use it too)."""

from __future__ import annotations

from .errors import TextlessError

#: Longest file stem accepted (UTF-8 bytes): file systems cap names at 255 bytes, and the
#: commands add suffixes such as ``-12.wav`` or ``.npy``.
MAX_STEM_BYTES = 200


def safe_file_stem(name: str) -> str:
    """``name`` unchanged when it can name a file inside an output folder; raises
    :class:`TextlessError` otherwise.

    Every command that names output files after utterance ids (``continue``, ``resynth``,
    ``features``, ``s2st-targets --split``, ``data``) goes through this check, so that an id from
    a unit file, manifest or command line can never write outside ``--out``. Refused: empty
    names, ``.`` and ``..``, path separators (``/``, ``\\``), NUL and other control characters,
    and names longer than :data:`MAX_STEM_BYTES` bytes.

    >>> safe_file_stem("spk1_utt-0.b")
    'spk1_utt-0.b'
    >>> safe_file_stem("../../escaped")
    Traceback (most recent call last):
    ...
    textless.errors.TextlessError: id '../../escaped' cannot name a file: it must not contain '/' or '\\'
    """
    if not isinstance(name, str) or name in ("", ".", ".."):
        raise TextlessError(f"id {name!r} cannot name a file: it must not be empty, '.' or '..'")
    if "/" in name or "\\" in name:
        raise TextlessError(f"id {name!r} cannot name a file: it must not contain '/' or '\\'")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise TextlessError(f"id {name!r} cannot name a file: it contains control characters")
    if len(name.encode("utf-8", "surrogatepass")) > MAX_STEM_BYTES:
        raise TextlessError(f"id {name[:40]!r}...: longer than {MAX_STEM_BYTES} bytes, cannot name a file")
    return name
