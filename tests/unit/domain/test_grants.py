"""What one grant permits: its own operations, and CreateGrant only within them (pure rules)."""

from __future__ import annotations

import pytest

from qkms.domain.grants import grant_permits

PARENT = frozenset({"CreateGrant", "DeriveSharedSecret", "GetPublicKey"})


@pytest.mark.parametrize(
    ("operation", "new_grant", "permitted"),
    [
        ("DeriveSharedSecret", None, True),
        ("DescribeKey", None, False),
        ("CreateGrant", frozenset({"DeriveSharedSecret"}), True),
        ("CreateGrant", frozenset({"CreateGrant", "GetPublicKey"}), True),
        ("CreateGrant", PARENT, True),
        ("CreateGrant", frozenset({"DeriveSharedSecret", "DescribeKey"}), False),
        ("CreateGrant", frozenset({"RetireGrant"}), False),
        ("CreateGrant", None, False),  # what is being granted unknown: fail closed
    ],
)
def test_a_grant_permits_its_operations_and_hands_on_only_a_subset(
    operation: str, new_grant: frozenset[str] | None, permitted: bool
) -> None:
    assert grant_permits(PARENT, operation, new_grant) is permitted


def test_a_grant_without_create_grant_hands_on_nothing() -> None:
    derive_only = frozenset({"DeriveSharedSecret"})
    assert grant_permits(derive_only, "CreateGrant", frozenset({"DeriveSharedSecret"})) is False
    assert grant_permits(frozenset({"CreateGrant"}), "CreateGrant", derive_only) is False
