"""What one grant permits: the rules of AWS "Grants in AWS KMS" over a grant's operations (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Set

from qkms.domain.grant_constraints import GrantConstraints

__all__ = ["CREATE_GRANT", "grant_permits"]

_NO_CONSTRAINTS = GrantConstraints()

CREATE_GRANT = "CreateGrant"


def grant_permits(
    grant_operations: Set[str],
    operation: str,
    new_grant_operations: Set[str] | None = None,
    *,
    constraints: GrantConstraints = _NO_CONSTRAINTS,
    encryption_context: Mapping[str, str] | None = None,
    new_grant_constraints: GrantConstraints | None = None,
) -> bool:
    """Whether a grant with `grant_operations` lets its grantee do `operation`.

    CreateGrant through a grant is narrower than CreateGrant through a policy: "The grantee
    principal can only create grants that allow some or all of the operations in the parent
    grant", and the child's constraints must be at least as strict (KMS developer guide,
    "Creating grants", section "Granting CreateGrant permission",
    https://docs.aws.amazon.com/kms/latest/developerguide/create-grant-overview.html#grant-creategrant).
    So for CreateGrant the operations of the grant being created (`new_grant_operations`) must
    lie within this one grant's operations and its constraints within this grant's; unknown
    (None), the grant does not permit it (fail closed). For an operation that takes an
    encryption context, the grant's constraints must hold for `encryption_context`
    (`qkms.domain.grant_constraints`).
    """
    if operation not in grant_operations:
        return False
    if operation == CREATE_GRANT:
        if new_grant_operations is None or not set(new_grant_operations) <= grant_operations:
            return False
        child = new_grant_constraints if new_grant_constraints is not None else _NO_CONSTRAINTS
        return child.is_within(constraints)
    return constraints.allow(encryption_context)
