"""Unpredictable bytes and tokens from the OS CSPRNG, for key ids, access keys and secrets."""

from __future__ import annotations

import secrets

__all__ = ["random_bytes", "random_token"]


def random_bytes(n: int) -> bytes:
    """`n` bytes from the operating system's CSPRNG."""
    if n < 0:
        raise ValueError("n must not be negative")
    return secrets.token_bytes(n)


def random_token(alphabet: str, length: int) -> str:
    """`length` characters drawn uniformly and independently from `alphabet`."""
    if length < 0:
        raise ValueError("length must not be negative")
    # A repeated character would be drawn more often than the others: the token is biased.
    if not alphabet or len(set(alphabet)) != len(alphabet):
        raise ValueError("alphabet must be non-empty and without repeated characters")
    return "".join(secrets.choice(alphabet) for _ in range(length))
