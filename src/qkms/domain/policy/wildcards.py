"""Glob matching with IAM's two wildcards, `*` (any run) and `?` (one character), nothing else."""

from __future__ import annotations

__all__ = ["wildcard_match"]


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """True when `value` matches `pattern` entirely; `[`, `]` and `\\` are ordinary characters.

    Greedy two-pointer matching with backtracking to the last `*`: linear in practice and
    never exponential, unlike a translated regular expression on hostile patterns.
    """
    if ignore_case:
        pattern, value = pattern.lower(), value.lower()
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
