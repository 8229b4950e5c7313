"""What the benchmarks print about the machine they ran on."""

from __future__ import annotations

from pathlib import Path


def cpu_line() -> str:
    """CPU model and the instruction sets that decide int8/bf16 speed, from /proc/cpuinfo."""
    path = Path("/proc/cpuinfo")
    lines = path.read_text().splitlines() if path.is_file() else []
    model = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), "?")
    flags = set(next((ln.split(":", 1)[1].split() for ln in lines if ln.startswith("flags")), []))
    has = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16") if f in flags]
    return f"CPU: {model} ({', '.join(has) or 'none of avx2/avx512'})"
