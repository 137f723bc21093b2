"""evaluate / evaluate_key_policy: Action, Resource, Principal and their Not- forms, precedence."""

from __future__ import annotations

from datetime import datetime

import pytest

from qkms.domain.policy import (
    Decision,
    KeyPolicyDecision,
    Principal,
    PrincipalMatch,
    evaluate,
    evaluate_key_policy,
)
from qkms.domain.policy.wildcards import wildcard_match
from tests.unit.domain.policy.support import (
    ACCOUNT,
    KEY_ID,
    OTHER_ACCOUNT,
    allow,
    deny,
    facts,
    identity_policy,
    key_arn,
    key_arn_aws,
    key_policy,
)

ALICE_SEED = f"arn:verenc:{ACCOUNT}:user/alice"
ALICE_AWS = f"arn:verenc:iam::{ACCOUNT}:user/alice"
ROOT_SEED = f"arn:verenc:{ACCOUNT}:root"
ROOT_AWS = f"arn:verenc:iam::{ACCOUNT}:root"


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("*", "", True),
        ("a*c", "abbbc", True),
        ("a*c", "abbbd", False),
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("kms:Get?", "kms:Get", False),  # a trailing '?' needs one character, as a middle one
        ("a*?", "a", False),
        ("*a*b*", "xxaxxbxx", True),
        ("a**", "a", True),
        ("", "", True),
        ("", "a", False),
        ("a*" * 20 + "b", "a" * 60, False),  # no exponential backtracking
    ],
)
def test_wildcard_match(pattern: str, value: str, expected: bool) -> None:
    assert wildcard_match(pattern, value) is expected


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("kms:DeriveSharedSecret", Decision.ALLOW),
        ("kms:derivesharedsecret", Decision.ALLOW),  # action names are case-insensitive
        ("KMS:DERIVESHAREDSECRET", Decision.ALLOW),
        ("kms:Derive*", Decision.ALLOW),
        ("kms:*", Decision.ALLOW),
        ("*", Decision.ALLOW),
        ("kms:Derive?haredSecret", Decision.ALLOW),
        ("kms:Decrypt", Decision.IMPLICIT_DENY),
        ("kms:Derive", Decision.IMPLICIT_DENY),
        ("s3:*", Decision.IMPLICIT_DENY),
        (["kms:Decrypt", "kms:DeriveSharedSecret"], Decision.ALLOW),
    ],
)
def test_action_patterns(action: object, expected: Decision) -> None:
    assert evaluate(identity_policy(allow(action)), facts()) is expected


@pytest.mark.parametrize(
    ("not_action", "expected"),
    [
        ("kms:Decrypt", Decision.ALLOW),
        ("kms:DeriveSharedSecret", Decision.IMPLICIT_DENY),
        ("kms:derive*", Decision.IMPLICIT_DENY),
        (["kms:Encrypt", "kms:Derive*"], Decision.IMPLICIT_DENY),
    ],
)
def test_not_action(not_action: object, expected: Decision) -> None:
    statement = {"Effect": "Allow", "NotAction": not_action, "Resource": "*"}
    assert evaluate(identity_policy(statement), facts()) is expected


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ("*", Decision.ALLOW),
        (key_arn(), Decision.ALLOW),
        (key_arn_aws(), Decision.ALLOW),  # either shape names the same key
        (f"arn:verenc:{ACCOUNT}:key/*", Decision.ALLOW),
        (f"arn:verenc:kms:*:{ACCOUNT}:key/*", Decision.ALLOW),
        (f"arn:verenc:kms:us-east-1:{ACCOUNT}:key/????????-*", Decision.ALLOW),
        (f"arn:verenc:{OTHER_ACCOUNT}:key/*", Decision.IMPLICIT_DENY),
        (key_arn().replace("key/", "KEY/"), Decision.IMPLICIT_DENY),  # case-sensitive
        (f"arn:verenc:{ACCOUNT}:alias/*", Decision.IMPLICIT_DENY),
        ([f"arn:verenc:{ACCOUNT}:alias/x", key_arn()], Decision.ALLOW),
    ],
)
def test_resource_patterns(resource: object, expected: Decision) -> None:
    assert evaluate(identity_policy(allow("kms:*", resource)), facts()) is expected


@pytest.mark.parametrize(
    ("not_resource", "expected"),
    [
        (f"arn:verenc:{OTHER_ACCOUNT}:key/*", Decision.ALLOW),
        (key_arn(), Decision.IMPLICIT_DENY),
        # A NotResource in the aws shape must still exclude the key the caller names in seed shape.
        (key_arn_aws(), Decision.IMPLICIT_DENY),
        ("*", Decision.IMPLICIT_DENY),
    ],
)
def test_not_resource(not_resource: str, expected: Decision) -> None:
    statement = {"Effect": "Allow", "Action": "kms:*", "NotResource": not_resource}
    assert evaluate(identity_policy(statement), facts()) is expected


def test_account_level_action_matches_only_a_star_resource() -> None:
    request = facts("kms:CreateKey", resource="*")
    assert evaluate(identity_policy(allow("kms:CreateKey")), request) is Decision.ALLOW
    scoped = identity_policy(allow("kms:CreateKey", f"arn:verenc:{ACCOUNT}:key/*"))
    assert evaluate(scoped, request) is Decision.IMPLICIT_DENY


def test_default_deny_and_explicit_deny_beats_allow() -> None:
    assert evaluate(identity_policy(allow("kms:Decrypt")), facts()) is Decision.IMPLICIT_DENY
    both = identity_policy(allow(), deny("kms:DeriveSharedSecret"))
    assert evaluate(both, facts()) is Decision.EXPLICIT_DENY
    assert evaluate(both, facts("kms:Decrypt")) is Decision.ALLOW
    reversed_order = identity_policy(deny("kms:Derive*"), allow())
    assert evaluate(reversed_order, facts()) is Decision.EXPLICIT_DENY


def test_conditions_decide_whether_a_statement_applies() -> None:
    policy = identity_policy(
        allow(condition={"StringEquals": {"kms:KeySpec": "ECC_NIST_P256"}}),
    )
    assert evaluate(policy, facts(context={"kms:keyspec": "ECC_NIST_P256"})) is Decision.ALLOW
    assert evaluate(policy, facts(context={"kms:keyspec": "ECC_NIST_P384"})) is (
        Decision.IMPLICIT_DENY
    )
    assert evaluate(policy, facts()) is Decision.IMPLICIT_DENY


PRINCIPALS: list[tuple[object, str | None, KeyPolicyDecision]] = [
    ("*", "alice", KeyPolicyDecision.ALLOW_PRINCIPAL),
    ({"AWS": "*"}, "alice", KeyPolicyDecision.ALLOW_PRINCIPAL),
    ({"AWS": ALICE_SEED}, "alice", KeyPolicyDecision.ALLOW_PRINCIPAL),
    ({"AWS": ALICE_AWS}, "alice", KeyPolicyDecision.ALLOW_PRINCIPAL),
    ({"AWS": [ALICE_AWS, ROOT_SEED]}, "alice", KeyPolicyDecision.ALLOW_PRINCIPAL),
    ({"AWS": f"arn:verenc:{ACCOUNT}:user/bob"}, "alice", KeyPolicyDecision.IMPLICIT_DENY),
    ({"AWS": f"arn:verenc:{ACCOUNT}:user/ALICE"}, "alice", KeyPolicyDecision.IMPLICIT_DENY),
    ({"AWS": ROOT_SEED}, "alice", KeyPolicyDecision.ALLOW_ACCOUNT),
    ({"AWS": ROOT_AWS}, "alice", KeyPolicyDecision.ALLOW_ACCOUNT),
    ({"AWS": ACCOUNT}, "alice", KeyPolicyDecision.ALLOW_ACCOUNT),  # account-id shorthand
    ({"AWS": OTHER_ACCOUNT}, "alice", KeyPolicyDecision.IMPLICIT_DENY),
    ({"AWS": ROOT_AWS}, None, KeyPolicyDecision.ALLOW_PRINCIPAL),  # the root itself calls
    ({"AWS": ACCOUNT}, None, KeyPolicyDecision.ALLOW_PRINCIPAL),
    ({"Service": "kms.amazonaws.com"}, "alice", KeyPolicyDecision.IMPLICIT_DENY),
]


@pytest.mark.parametrize(("principal", "user", "expected"), PRINCIPALS)
def test_key_policy_principal_forms(
    principal: object, user: str | None, expected: KeyPolicyDecision
) -> None:
    assert evaluate_key_policy(key_policy(allow(principal=principal)), facts(user=user)) is expected


@pytest.mark.parametrize(("principal", "user", "expected"), PRINCIPALS)
def test_generic_evaluate_treats_account_principals_as_covering_the_account(
    principal: object, user: str | None, expected: KeyPolicyDecision
) -> None:
    decision = evaluate(key_policy(allow(principal=principal)), facts(user=user))
    applies = expected is not KeyPolicyDecision.IMPLICIT_DENY
    assert decision is (Decision.ALLOW if applies else Decision.IMPLICIT_DENY)


def test_allow_principal_wins_over_allow_account() -> None:
    policy = key_policy(allow(principal={"AWS": ROOT_SEED}), allow(principal={"AWS": ALICE_AWS}))
    assert evaluate_key_policy(policy, facts()) is KeyPolicyDecision.ALLOW_PRINCIPAL


def test_key_policy_deny_wins_over_everything() -> None:
    policy = key_policy(
        allow(principal="*"),
        allow(principal={"AWS": ROOT_SEED}),
        deny("kms:DeriveSharedSecret", principal={"AWS": ALICE_SEED}),
    )
    assert evaluate_key_policy(policy, facts()) is KeyPolicyDecision.EXPLICIT_DENY
    assert evaluate_key_policy(policy, facts(user="bob")) is KeyPolicyDecision.ALLOW_PRINCIPAL


def test_deny_naming_the_account_root_covers_its_users() -> None:
    policy = key_policy(allow(principal="*"), deny(principal={"AWS": ACCOUNT}))
    assert evaluate_key_policy(policy, facts()) is KeyPolicyDecision.EXPLICIT_DENY
    outsider = facts(account=OTHER_ACCOUNT)
    assert evaluate_key_policy(policy, outsider) is KeyPolicyDecision.ALLOW_PRINCIPAL


@pytest.mark.parametrize(
    ("listed", "user", "denied"),
    [
        # IAM "NotPrincipal": a caller is spared only if its ARN and its account are listed.
        ([ALICE_SEED, ROOT_SEED], "alice", False),
        ([ALICE_AWS, ACCOUNT], "alice", False),
        ([ALICE_SEED], "alice", True),
        ([ROOT_SEED], "alice", True),
        ([ALICE_SEED, ROOT_SEED], "bob", True),
        ([ROOT_AWS], None, False),  # the root caller is spared by its own ARN
        ([f"arn:verenc:{OTHER_ACCOUNT}:root"], None, True),
    ],
)
def test_not_principal_with_deny(listed: list[str], user: str | None, denied: bool) -> None:
    policy = key_policy(
        allow(principal="*"),
        {"Effect": "Deny", "NotPrincipal": {"AWS": listed}, "Action": "kms:*", "Resource": "*"},
    )
    expected = KeyPolicyDecision.EXPLICIT_DENY if denied else KeyPolicyDecision.ALLOW_PRINCIPAL
    assert evaluate_key_policy(policy, facts(user=user)) is expected


def test_custom_principal_matcher_is_used() -> None:
    seen: list[Principal] = []

    def matcher(principal: Principal) -> PrincipalMatch:
        seen.append(principal)
        return PrincipalMatch.ACCOUNT

    policy = key_policy(allow(principal={"AWS": f"arn:verenc:{OTHER_ACCOUNT}:user/x"}))
    assert evaluate(policy, facts(), principal_matches=matcher) is Decision.ALLOW
    assert evaluate_key_policy(policy, facts(), principal_matches=matcher) is (
        KeyPolicyDecision.ALLOW_ACCOUNT
    )
    assert len(seen) == 2


def test_a_failing_matcher_fails_closed() -> None:
    def broken(principal: Principal) -> PrincipalMatch:
        raise RuntimeError("boom")

    allow_only = key_policy(allow(principal="*"))
    assert evaluate(allow_only, facts(), principal_matches=broken) is Decision.IMPLICIT_DENY
    with_deny = key_policy(allow(principal="*"), deny("kms:Decrypt", principal={"AWS": ACCOUNT}))
    assert evaluate(with_deny, facts("kms:Decrypt"), principal_matches=broken) is (
        Decision.EXPLICIT_DENY
    )


def test_unreadable_context_value_never_allows_and_makes_a_deny_apply() -> None:
    numeric = {"NumericLessThan": {"n": "5"}}
    request = facts(context={"n": "not a number"})
    assert evaluate(identity_policy(allow(condition=numeric)), request) is Decision.IMPLICIT_DENY
    policy = identity_policy(allow(), deny(condition=numeric))
    assert evaluate(policy, request) is Decision.EXPLICIT_DENY
    # The same Deny does not apply when the value is readable and out of range.
    assert evaluate(policy, facts(context={"n": 9})) is Decision.ALLOW


def test_context_with_one_key_spelled_twice_denies() -> None:
    request = facts(context={"kms:KeySpec": "A", "KMS:KEYSPEC": "A"})
    assert evaluate(identity_policy(allow()), request) is Decision.EXPLICIT_DENY
    assert evaluate_key_policy(key_policy(allow(principal="*")), request) is (
        KeyPolicyDecision.EXPLICIT_DENY
    )


def test_evaluate_key_policy_refuses_an_identity_policy() -> None:
    assert evaluate_key_policy(identity_policy(allow()), facts()) is (
        KeyPolicyDecision.EXPLICIT_DENY
    )


def test_identity_policy_principal_is_implicit() -> None:
    assert evaluate(identity_policy(allow()), facts(user="anyone")) is Decision.ALLOW


def test_date_condition_against_current_time() -> None:
    policy = identity_policy(
        allow(
            condition={
                "DateGreaterThan": {"aws:CurrentTime": "2020-04-01T00:00:00Z"},
                "DateLessThan": {"aws:CurrentTime": "2020-06-30T23:59:59Z"},
            }
        )
    )
    inside = facts(context={"aws:currenttime": datetime(2020, 5, 1)})
    outside = facts(context={"aws:currenttime": datetime(2020, 7, 1)})
    assert evaluate(policy, inside) is Decision.ALLOW
    assert evaluate(policy, outside) is Decision.IMPLICIT_DENY


def test_key_id_is_in_the_helper_arns() -> None:
    assert key_arn().endswith(KEY_ID) and key_arn_aws().endswith(KEY_ID)
