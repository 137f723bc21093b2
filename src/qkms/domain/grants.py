"""What one grant permits: the rules of AWS "Grants in AWS KMS" over a grant's operations (pure)."""

from __future__ import annotations

from collections.abc import Set

__all__ = ["CREATE_GRANT", "grant_permits"]

CREATE_GRANT = "CreateGrant"


def grant_permits(
    grant_operations: Set[str], operation: str, new_grant_operations: Set[str] | None = None
) -> bool:
    """Whether a grant with `grant_operations` lets its grantee do `operation`.

    CreateGrant through a grant is narrower than CreateGrant through a policy: "The grantee
    principal can only create grants that allow some or all of the operations in the parent
    grant", and the child's constraints must be at least as strict (KMS developer guide,
    "Creating grants", section "Granting CreateGrant permission",
    https://docs.aws.amazon.com/kms/latest/developerguide/create-grant-overview.html#grant-creategrant).
    So for CreateGrant the operations of the grant being created (`new_grant_operations`) must
    lie within this one grant's operations; unknown (None), the grant does not permit it (fail
    closed). Constraints need no comparison here: QKMS refuses grant constraints (none of its
    key types take an encryption context), so parent and child both have none.
    """
    if operation not in grant_operations:
        return False
    if operation == CREATE_GRANT:
        return new_grant_operations is not None and set(new_grant_operations) <= grant_operations
    return True
