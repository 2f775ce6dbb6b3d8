"""Where a benchmark ran: the CPU model, its cores, and whether bfloat16 / AMX kernels are used.

Every benchmark prints :func:`describe` first and stores :func:`machine` with its results, because
figures differ by a factor of two between CPUs with AMX/AVX-512-BF16 and those with AVX2 only.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any


def _cpuinfo() -> tuple[str, set[str]]:
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    except OSError:
        pass
    return model, flags


def bf16_used() -> bool:
    """True when the embedder's ``precision="auto"`` runs in bfloat16 here (native bf16 kernels)."""
    try:
        from models.backends.embedders import _bfloat16_is_fast

        return _bfloat16_is_fast()
    except ImportError:
        return False


def machine() -> dict[str, Any]:
    model, flags = _cpuinfo()
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "avx2": "avx2" in flags,
        "avx512_bf16": "avx512_bf16" in flags,
        "amx": "amx_bf16" in flags or "amx_tile" in flags,
        "bf16_used": bf16_used(),
        "python": platform.python_version(),
        "isa_cap": os.environ.get("ONEDNN_MAX_CPU_ISA"),
    }


def describe(info: dict[str, Any] | None = None) -> str:
    m = info or machine()
    kind = "AMX/AVX-512-BF16" if (m["amx"] or m["avx512_bf16"]) else ("AVX2 only" if m["avx2"] else "no AVX2")
    capped = f" (oneDNN/ATen capped at {m['isa_cap']})" if m.get("isa_cap") else ""
    return (
        f"machine: {m['cpu']}, {m['cores']} cores, {kind}{capped}; "
        f"embedder runs in {'bfloat16' if m['bf16_used'] else 'float32'}"
    )


if __name__ == "__main__":
    print(describe())
