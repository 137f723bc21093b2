"""Two glibc malloc arenas per worker instead of up to eight per core: the same heap, less RSS.

glibc gives threads their own malloc arenas, and memory freed in one arena serves only that
arena. A worker's request threads and its event loop parse private keys (OpenSSL objects, ~2.2 KB
each) and drop them again as the parsed-key budget turns over, so with many keys in use that
churn leaves free space stranded in many arenas. Two arenas measured 8 MB less per worker after
100,000 keys in use (`python -m benchmarks.key_memory --keys 100000`: 197 -> 189 MB) and no
change in instructions per derive (`benchmarks.instructions`). An operator's own
MALLOC_ARENA_MAX is left as glibc applied it at start; without glibc's mallopt, nothing happens.
"""

from __future__ import annotations

import ctypes
from collections.abc import Mapping

__all__ = ["WORKER_ARENAS", "limit_malloc_arenas"]

WORKER_ARENAS = 2
_M_ARENA_MAX = -8  # glibc <malloc.h>


def limit_malloc_arenas(environ: Mapping[str, str], arenas: int = WORKER_ARENAS) -> bool:
    """Cap this process's malloc arenas (before its threads start); True if it was set here."""
    if "MALLOC_ARENA_MAX" in environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, arenas))
