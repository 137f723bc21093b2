"""Grant constraints as AWS defines them: keys case-insensitive, values case-sensitive."""

from __future__ import annotations

import pytest

from qkms.domain.grant_constraints import GrantConstraints
from qkms.domain.grants import grant_permits

EQUALS = GrantConstraints(equals={"Tenant": "a", "app": "x"})
SUBSET = GrantConstraints(subset={"tenant": "a"})


@pytest.mark.parametrize(
    ("constraints", "context", "allowed"),
    [
        (EQUALS, {"tenant": "a", "APP": "x"}, True),  # keys fold case
        (EQUALS, {"tenant": "A", "app": "x"}, False),  # values do not
        (EQUALS, {"tenant": "a"}, False),
        (EQUALS, {"tenant": "a", "app": "x", "more": "y"}, False),
        (EQUALS, {}, False),
        (SUBSET, {"TENANT": "a", "more": "y"}, True),
        (SUBSET, {"tenant": "b"}, False),
        (SUBSET, {}, False),
        (EQUALS, None, True),  # an operation without an encryption context: not applied
        (GrantConstraints(), {}, True),
    ],
)
def test_constraints_allow_by_context(
    constraints: GrantConstraints, context: dict[str, str] | None, allowed: bool
) -> None:
    assert constraints.allow(context) is allowed
    assert (
        grant_permits({"Decrypt"}, "Decrypt", constraints=constraints, encryption_context=context)
        is allowed
    )


def test_constraints_round_trip_through_storage_json() -> None:
    for constraints in (EQUALS, SUBSET, GrantConstraints()):
        assert GrantConstraints.from_json(constraints.to_json()) == constraints


@pytest.mark.parametrize(
    ("child", "parent", "within"),
    [
        (GrantConstraints(), GrantConstraints(), True),
        (SUBSET, GrantConstraints(), True),
        (GrantConstraints(), SUBSET, False),
        (GrantConstraints(subset={"tenant": "a", "b": "c"}), SUBSET, True),
        (GrantConstraints(equals={"TENANT": "a"}), SUBSET, True),
        (GrantConstraints(subset={"tenant": "b"}), SUBSET, False),
        (EQUALS, EQUALS, True),
        (SUBSET, EQUALS, False),
    ],
)
def test_a_child_grant_must_be_at_least_as_strict(
    child: GrantConstraints, parent: GrantConstraints, within: bool
) -> None:
    permitted = grant_permits(
        {"CreateGrant", "Decrypt"},
        "CreateGrant",
        {"Decrypt"},
        constraints=parent,
        new_grant_constraints=child,
    )
    assert permitted is within
