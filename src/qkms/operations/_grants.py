"""Grant tokens: accepted on every operation that takes them (DESIGN §5).

No grants exist yet, so an empty list (what the AWS Encryption SDK sends) is fine and any
actual token names no grant: refused rather than ignored, so nobody believes it took effect.
"""

from __future__ import annotations

from qkms.domain.errors import InvalidGrantTokenException

__all__ = ["check_grant_tokens"]


def check_grant_tokens(grant_tokens: list[str] | None) -> None:
    if grant_tokens:
        raise InvalidGrantTokenException("The grant token is not valid.")
