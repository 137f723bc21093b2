"""Glob matching with IAM's two wildcards, `*` (any run) and `?` (one character), nothing else."""

from __future__ import annotations

from functools import lru_cache

__all__ = ["wildcard_match"]

_CACHED_TEXT = 512  # characters of pattern + value; 4096 entries stay under ~4 MB


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """True when `value` matches `pattern` entirely; `[`, `]` and `\\` are ordinary characters.

    Every authorization asks this of every action and resource pattern of every statement, so
    the two common shapes answer at once: `*` matches anything, a pattern without a wildcard
    only its own text. The rest is remembered per (pattern, value) in a bounded cache, for
    short texts only, so what a caller sends cannot make the cache large.
    """
    if ignore_case:
        pattern, value = pattern.lower(), value.lower()
    if pattern == "*":
        return True
    if "*" not in pattern and "?" not in pattern:
        return pattern == value
    if len(pattern) + len(value) <= _CACHED_TEXT:
        return _cached_glob(pattern, value)
    return _glob(pattern, value)


def _glob(pattern: str, value: str) -> bool:
    """Greedy two-pointer matching with backtracking to the last `*`: linear in practice and
    never exponential, unlike a translated regular expression on hostile patterns."""
    p = v = 0
    star = -1
    mark = 0
    while v < len(value):
        if p < len(pattern) and pattern[p] in ("?", value[v]) and pattern[p] != "*":
            p += 1
            v += 1
        elif p < len(pattern) and pattern[p] == "*":
            star = p
            mark = v
            p += 1
        elif star != -1:
            p = star + 1
            mark += 1
            v = mark
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


_cached_glob = lru_cache(maxsize=4096)(_glob)
