"""What ReplicateKey and UpdatePrimaryRegion both check: the region's spelling, and that the key
is a multi-region primary key."""

from __future__ import annotations

import re

from qkms.domain.errors import UnsupportedOperationException, ValidationException
from qkms.domain.keys import Key

__all__ = ["check_region", "require_primary"]

# botocore's RegionType pattern (kms service model).
_REGION = re.compile(r"^([a-z]+-){2,3}\d+$")


def check_region(value: str, member: str) -> str:
    if not _REGION.match(value):
        raise ValidationException(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
            r"constraint: Member must satisfy regular expression pattern: ^([a-z]+-){2,3}\d+$"
        )
    return value


def require_primary(key: Key, key_arn: str) -> None:
    """Both operations act on the primary key of a multi-region key.

    The wording for a single-region key is the one quoted by public tooling ("... is not a
    multi-region key."); AWS's exact text for a replica is not known, so it says what is wrong.
    """
    if not key.is_multi_region:
        raise UnsupportedOperationException(f"{key_arn} is not a multi-region key.")
    if key.is_replica:
        raise UnsupportedOperationException(
            f"{key_arn} is a replica key; call this operation on the primary key in "
            f"{key.primary_region}."
        )
