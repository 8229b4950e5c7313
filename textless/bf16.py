"""When a bf16 request runs in bfloat16: natively fast hardware only, unless forced.

A request is ``False`` (fp32), ``True`` (auto: bf16 where it is fast) or ``"force"``; the CLI
spells them: no flag, ``--bf16``, ``--bf16=force`` (two flags, so that ``--bf16 a.wav`` still
leaves ``a.wav`` an input). bf16 autocast is fast on CUDA and on CPUs
with native bfloat16 instructions (``avx512_bf16``, AMX ``amx_bf16``): ~1.5x faster than fp32 on
an AVX-512 EPYC (BENCHMARKS.md). On other CPUs PyTorch emulates it: 145 s against 2.5 s in fp32
for 30 s of audio on an AVX2-only machine, so auto falls back to fp32 there with one warning.
No torch import here.
"""

from __future__ import annotations

import functools
import logging

log = logging.getLogger(__name__)

NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@functools.lru_cache(maxsize=4)
def cpu_has_native_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether this CPU computes bfloat16 natively: the ``flags`` line of ``cpuinfo`` lists
    ``avx512_bf16`` or ``amx_bf16``. False where the file is missing or has no flags line (not
    Linux, not x86: ``--bf16=force`` still works there). :func:`use_bf16` looks this function up
    at each call, so tests patch ``textless.bf16.cpu_has_native_bf16``."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "flags":  # every core lists the same flags: the first is enough
                    return any(flag in value.split() for flag in NATIVE_BF16_FLAGS)
    except OSError:
        pass
    return False


def bf16_mode(value) -> bool | str:
    """Normalise a bf16 request: ``False``/``"off"`` -> ``False``; ``True``/``"auto"``/``""`` ->
    ``True`` (bf16 where it is native); ``"force"`` -> ``"force"`` (bf16 on any CPU). Anything
    else raises ``ValueError``.
    """
    if value is True or value is False:
        return value
    text = str(value).strip().lower()
    if text in ("", "auto"):
        return True
    if text == "off":
        return False
    if text == "force":
        return "force"
    raise ValueError(f"bf16 takes auto, force or off, not {value!r}")


@functools.lru_cache(maxsize=1)
def _warn_emulated_bf16() -> None:
    log.warning(
        "bf16 requested, but this CPU has no native bfloat16 (no avx512_bf16 or amx_bf16 in "
        "/proc/cpuinfo) and emulated bf16 is ~40x slower than fp32: running in fp32 "
        "(--bf16=force to use bf16 anyway)"
    )


def use_bf16(device, bf16) -> bool:
    """Whether a ``bf16`` request (see :func:`bf16_mode`) runs in bfloat16 on ``device`` (``"cpu"``,
    ``"cuda:0"``, a ``torch.device``): always for ``"force"`` and on non-CPU devices; on a CPU only
    where :func:`cpu_has_native_bf16`, else fp32 and a warning (logged once per process)."""
    mode = bf16_mode(bf16)
    if not mode:
        return False
    device_type = getattr(device, "type", None) or str(device).split(":")[0]
    if mode == "force" or device_type != "cpu" or cpu_has_native_bf16():
        return True
    _warn_emulated_bf16()
    return False
