"""Keeping freed memory for reuse, so that each tile's large temporaries are not page-faulted in afresh."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc's mallopt() parameter numbers


def keep_freed_memory(retain_bytes: int = 1 << 30) -> bool:
    """Ask glibc to serve large blocks from the heap and keep up to `retain_bytes` of freed memory.

    glibc maps every block over 32 MB afresh and unmaps it on free, so a tile's activations (50-150 MB each)
    were zero-filled page by page on every tile: ~1.4x of the CPU forward. A process-wide choice, so the
    programs (CLI, GUI, benchmarks) call it, never an import. Returns False where it does not apply.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, min(retain_bytes, 2**31 - 1)))
