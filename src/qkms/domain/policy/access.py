"""Combine key policy, identity policies and grants into one KMS access decision (pure)."""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

from qkms.domain.policy.evaluator import (
    Decision,
    KeyPolicyDecision,
    RequestFacts,
    evaluate,
    evaluate_key_policy,
)
from qkms.domain.policy.model import PolicyDocument, PolicyKind

__all__ = ["Access", "AccessDecision", "decide_account_action", "decide_key_access"]

_ACCOUNT = re.compile(r"^[0-9]{12}$")


class Access(enum.Enum):
    ALLOWED = "ALLOWED"
    DENIED = "DENIED"


@dataclass(frozen=True, slots=True)
class AccessDecision:
    """The answer, and why: `reason` is for logs and audit only, never for the caller."""

    access: Access
    reason: str

    @property
    def is_allowed(self) -> bool:
        return self.access is Access.ALLOWED


def _allowed(reason: str) -> AccessDecision:
    return AccessDecision(Access.ALLOWED, reason)


def _denied(reason: str) -> AccessDecision:
    return AccessDecision(Access.DENIED, reason)


def _identity_decisions(
    identity_policies: Sequence[PolicyDocument], facts: RequestFacts
) -> list[Decision]:
    return [
        evaluate(policy, facts) if policy.kind is PolicyKind.IDENTITY else Decision.EXPLICIT_DENY
        for policy in identity_policies
    ]


def decide_key_access(
    key_policy: PolicyDocument,
    identity_policies: Sequence[PolicyDocument],
    facts: RequestFacts,
    key_account: str,
    grant_allows: bool = False,
) -> AccessDecision:
    """AWS KMS "Determining access to KMS keys", for an action on one key.

    - An explicit Deny in the key policy or in any identity policy of the caller denies, and a
      grant cannot override it ("explicitly allowed, and never denied, in a key policy, IAM
      policy, or grant" - KMS "Key policies").
    - Same account: the key policy naming the caller (or "*") suffices; a key policy naming the
      account root delegates, so some identity policy must also allow.
    - Cross account: the key policy must allow the caller or its account root, and an identity
      policy in the caller's account must allow too ("Allowing users in other accounts").
    - A grant for the caller allows on its own, in either case: grants are a permission
      mechanism beside policies, so a cross-account grantee needs no IAM policy.
    """
    try:
        if not (_ACCOUNT.match(key_account) and _ACCOUNT.match(facts.principal_account)):
            return _denied("unusable account id")
        key_decision = evaluate_key_policy(key_policy, facts)
        if key_decision is KeyPolicyDecision.EXPLICIT_DENY:
            return _denied("explicit deny in the key policy")
        identity = _identity_decisions(identity_policies, facts)
        if Decision.EXPLICIT_DENY in identity:
            return _denied("explicit deny in an identity policy")
        identity_allows = Decision.ALLOW in identity
        if facts.principal_account == key_account:
            if key_decision is KeyPolicyDecision.ALLOW_PRINCIPAL:
                return _allowed("key policy allows the principal")
            if key_decision is KeyPolicyDecision.ALLOW_ACCOUNT and identity_allows:
                return _allowed("key policy delegates to the account; identity policy allows")
        elif key_decision is not KeyPolicyDecision.IMPLICIT_DENY and identity_allows:
            return _allowed("cross-account: key policy and identity policy both allow")
        if grant_allows:
            return _allowed("a grant allows")
        if key_decision is KeyPolicyDecision.IMPLICIT_DENY:
            return _denied("no key policy statement allows the principal")
        return _denied("no identity policy allows the action")
    except Exception:  # fail closed (DESIGN §5)
        return _denied("policy evaluation failed")


def decide_account_action(
    identity_policies: Sequence[PolicyDocument], facts: RequestFacts
) -> AccessDecision:
    """Account-level actions (CreateKey, ListKeys, ListAliases): an identity Allow and no Deny."""
    try:
        if not _ACCOUNT.match(facts.principal_account):
            return _denied("unusable account id")
        identity = _identity_decisions(identity_policies, facts)
        if Decision.EXPLICIT_DENY in identity:
            return _denied("explicit deny in an identity policy")
        if Decision.ALLOW in identity:
            return _allowed("identity policy allows")
        return _denied("no identity policy allows the action")
    except Exception:  # fail closed
        return _denied("policy evaluation failed")
