"""decide_key_access / decide_account_action: AWS KMS's documented access scenarios."""

from __future__ import annotations

import pytest

from qkms.domain.policy import (
    Access,
    AccessDecision,
    PolicyKind,
    decide_account_action,
    decide_key_access,
    default_key_policy,
    parse_policy,
)
from tests.unit.domain.policy.support import (
    ACCOUNT,
    OTHER_ACCOUNT,
    allow,
    deny,
    facts,
    identity_policy,
    key_arn,
    key_arn_aws,
    key_policy,
)

DEFAULT = parse_policy(default_key_policy(ACCOUNT, "verenc"))
ALICE = f"arn:verenc:{ACCOUNT}:user/alice"
EXTERNAL_BOB = f"arn:verenc:iam::{OTHER_ACCOUNT}:user/bob"
ALLOW_DERIVE = identity_policy(allow("kms:DeriveSharedSecret", key_arn()))


def assert_allowed(decision: AccessDecision) -> None:
    assert decision.access is Access.ALLOWED and decision.is_allowed, decision.reason


def assert_denied(decision: AccessDecision, reason: str = "") -> None:
    assert decision.access is Access.DENIED and not decision.is_allowed
    assert reason in decision.reason


def test_default_key_policy_and_no_identity_policy_denies() -> None:
    # KMS "Troubleshooting", example 1: the key policy only enables IAM policies.
    assert_denied(decide_key_access(DEFAULT, [], facts(), ACCOUNT), "no identity policy")


def test_default_key_policy_plus_identity_policy_allows_only_that_action() -> None:
    assert_allowed(decide_key_access(DEFAULT, [ALLOW_DERIVE], facts(), ACCOUNT))
    assert_denied(decide_key_access(DEFAULT, [ALLOW_DERIVE], facts("kms:Decrypt"), ACCOUNT))


def test_identity_policy_for_another_key_does_not_allow() -> None:
    other_key = identity_policy(
        allow("kms:*", key_arn(key_id="0" * 8 + "-0000-0000-0000-" + "0" * 12))
    )
    assert_denied(decide_key_access(DEFAULT, [other_key], facts(), ACCOUNT))


def test_identity_policy_in_aws_shape_matches_a_seed_shape_key() -> None:
    policy = identity_policy(allow("kms:DeriveSharedSecret", key_arn_aws()))
    assert_allowed(decide_key_access(DEFAULT, [policy], facts(), ACCOUNT))


def test_key_policy_naming_the_user_allows_without_identity_policy() -> None:
    policy = key_policy(allow("kms:DeriveSharedSecret", principal={"AWS": ALICE}))
    assert_allowed(decide_key_access(policy, [], facts(), ACCOUNT))
    assert_denied(decide_key_access(policy, [], facts(user="bob"), ACCOUNT))


def test_identity_policy_alone_cannot_allow_without_key_policy_delegation() -> None:
    policy = key_policy(allow(principal={"AWS": f"arn:verenc:{ACCOUNT}:user/admin"}))
    decision = decide_key_access(policy, [ALLOW_DERIVE], facts(), ACCOUNT)
    assert_denied(decision, "no key policy statement")


def test_explicit_deny_in_key_policy_beats_identity_allow() -> None:
    policy = key_policy(
        allow(principal={"AWS": ACCOUNT}), deny("kms:DeriveSharedSecret", principal="*")
    )
    assert_denied(decide_key_access(policy, [ALLOW_DERIVE], facts(), ACCOUNT), "key policy")


def test_explicit_deny_in_identity_policy_beats_key_policy_allow() -> None:
    policy = key_policy(allow(principal={"AWS": ALICE}))
    denying = identity_policy(deny("kms:Derive*"))
    decision = decide_key_access(policy, [ALLOW_DERIVE, denying], facts(), ACCOUNT)
    assert_denied(decision, "identity policy")


def test_cross_account_needs_both_sides() -> None:
    external = facts(user="bob", account=OTHER_ACCOUNT)
    bob_identity = identity_policy(allow("kms:DeriveSharedSecret", key_arn_aws()))
    names_account = key_policy(
        allow(principal={"AWS": ACCOUNT}), allow(principal={"AWS": OTHER_ACCOUNT})
    )
    names_bob = key_policy(
        allow(principal={"AWS": ACCOUNT}), allow(principal={"AWS": EXTERNAL_BOB})
    )
    assert_allowed(decide_key_access(names_account, [bob_identity], external, ACCOUNT))
    assert_allowed(decide_key_access(names_bob, [bob_identity], external, ACCOUNT))
    # Key policy allows but no identity policy: even naming bob directly is not enough.
    assert_denied(decide_key_access(names_bob, [], external, ACCOUNT))
    assert_denied(decide_key_access(names_account, [], external, ACCOUNT))
    # Identity policy allows but the key policy only trusts the owning account.
    assert_denied(decide_key_access(DEFAULT, [bob_identity], external, ACCOUNT))


def test_principal_star_allows_same_account_alone_but_cross_account_needs_identity() -> None:
    everyone = key_policy(allow("kms:DeriveSharedSecret", principal="*"))
    assert_allowed(decide_key_access(everyone, [], facts(), ACCOUNT))
    external = facts(user="bob", account=OTHER_ACCOUNT)
    assert_denied(decide_key_access(everyone, [], external, ACCOUNT))
    assert_allowed(decide_key_access(everyone, [ALLOW_DERIVE], external, ACCOUNT))


@pytest.mark.parametrize(
    ("context", "allowed"),
    [
        ({"kms:KeyAgreementAlgorithm": "ECDH", "kms:KeySpec": "ECC_NIST_P256"}, True),
        ({"kms:KeyAgreementAlgorithm": "ECDH", "kms:KeySpec": "ECC_NIST_P384"}, True),
        ({"kms:KeyAgreementAlgorithm": "ECDH", "kms:KeySpec": "ECC_SECG_P256K1"}, False),
        ({"kms:KeyAgreementAlgorithm": "OTHER", "kms:KeySpec": "ECC_NIST_P256"}, False),
        ({"kms:KeySpec": "ECC_NIST_P256"}, False),  # algorithm missing: StringEquals is false
    ],
)
def test_conditions_on_key_agreement_algorithm_and_key_spec(
    context: dict[str, str], allowed: bool
) -> None:
    policy = key_policy(
        allow(
            "kms:DeriveSharedSecret",
            principal={"AWS": ALICE},
            condition={
                "StringEquals": {"kms:KeyAgreementAlgorithm": "ECDH"},
                "StringLike": {"kms:KeySpec": "ECC_NIST_*"},
            },
        )
    )
    decision = decide_key_access(policy, [], facts(context=context), ACCOUNT)
    assert decision.is_allowed is allowed


def test_deny_on_key_spec_in_identity_policy() -> None:
    denying = identity_policy(
        allow("kms:DeriveSharedSecret"),
        deny(
            "kms:DeriveSharedSecret",
            condition={"StringNotEquals": {"kms:KeySpec": "ECC_NIST_P256"}},
        ),
    )
    p256 = facts(context={"kms:KeySpec": "ECC_NIST_P256"})
    p384 = facts(context={"kms:KeySpec": "ECC_NIST_P384"})
    assert_allowed(decide_key_access(DEFAULT, [denying], p256, ACCOUNT))
    assert_denied(decide_key_access(DEFAULT, [denying], p384, ACCOUNT))


def test_grant_allows_without_any_policy_allow() -> None:
    assert_allowed(decide_key_access(DEFAULT, [], facts(), ACCOUNT, grant_allows=True))
    external = facts(user="bob", account=OTHER_ACCOUNT)
    assert_allowed(decide_key_access(DEFAULT, [], external, ACCOUNT, grant_allows=True))


def test_grant_cannot_override_an_explicit_deny() -> None:
    key_deny = key_policy(allow(principal={"AWS": ACCOUNT}), deny(principal={"AWS": ALICE}))
    assert_denied(decide_key_access(key_deny, [], facts(), ACCOUNT, grant_allows=True))
    identity_deny = identity_policy(deny("kms:DeriveSharedSecret"))
    assert_denied(decide_key_access(DEFAULT, [identity_deny], facts(), ACCOUNT, grant_allows=True))


def test_a_key_policy_passed_as_identity_policy_fails_closed() -> None:
    everyone = key_policy(allow(principal="*"))
    assert_denied(decide_key_access(DEFAULT, [everyone], facts(), ACCOUNT))
    assert_denied(decide_account_action([everyone], facts("kms:CreateKey", resource="*")))


def test_identity_policy_passed_as_key_policy_fails_closed() -> None:
    policy = parse_policy(
        '{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}',
        kind=PolicyKind.IDENTITY,
    )
    assert_denied(decide_key_access(policy, [policy], facts(), ACCOUNT, grant_allows=True))


@pytest.mark.parametrize("key_account", ["", "1111", "x" * 12])
def test_unusable_account_ids_deny(key_account: str) -> None:
    assert_denied(decide_key_access(DEFAULT, [ALLOW_DERIVE], facts(), key_account, True), "account")


def test_unusable_caller_account_denies() -> None:
    request = facts(account="bad")
    everyone = key_policy(allow(principal="*"))
    assert_denied(decide_key_access(everyone, [], request, ACCOUNT, grant_allows=True))
    assert_denied(decide_account_action([identity_policy(allow())], request))


def test_broken_context_denies_everywhere() -> None:
    request = facts(context={"a": "1", "A": "1"})
    assert_denied(decide_key_access(key_policy(allow(principal="*")), [], request, ACCOUNT))


def test_account_action_needs_an_identity_allow_and_no_deny() -> None:
    request = facts("kms:CreateKey", resource="*")
    create = identity_policy(allow("kms:CreateKey"))
    assert_allowed(decide_account_action([create], request))
    assert_denied(decide_account_action([], request), "no identity policy")
    assert_denied(decide_account_action([identity_policy(allow("kms:ListKeys"))], request))
    no_create = identity_policy(deny("kms:Create*"))
    assert_denied(decide_account_action([create, no_create], request), "explicit deny")


def test_list_actions_with_wildcard_identity_policy() -> None:
    admin = identity_policy(allow("kms:*"))
    for action in ("kms:ListKeys", "kms:ListAliases", "kms:CreateKey"):
        assert_allowed(decide_account_action([admin], facts(action, resource="*")))
