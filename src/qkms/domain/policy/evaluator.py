"""Decide one policy document against one request (IAM "Policy evaluation logic"), failing closed."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from qkms.domain.policy.conditions import ContextValue, block_holds, normalise_context
from qkms.domain.policy.model import Effect, PolicyDocument, PolicyKind, Principal, Statement
from qkms.domain.policy.principals import PrincipalMatch, match_principal, not_principal_applies
from qkms.domain.policy.wildcards import wildcard_match

__all__ = [
    "Decision",
    "KeyPolicyDecision",
    "PrincipalMatcher",
    "RequestFacts",
    "evaluate",
    "evaluate_key_policy",
]

PrincipalMatcher = Callable[[Principal], PrincipalMatch]


@dataclass(frozen=True)
class RequestFacts:
    """What a policy may look at. Every ARN is given in all its spellings (DESIGN §2)."""

    action: str  # e.g. "kms:DeriveSharedSecret"
    resource: str  # the key ARN, or "*" for account-level actions
    resource_aliases: frozenset[str]  # other spellings of `resource` (both ARN shapes)
    principal_arns: frozenset[str]  # every spelling of the caller's ARN (both shapes)
    principal_account: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)  # condition keys

    @cached_property
    def resources(self) -> frozenset[str]:
        return self.resource_aliases | {self.resource}

    @cached_property
    def normalised_context(self) -> dict[str, tuple[object, ...]]:
        """The context as conditions read it, worked out once for every document and statement
        one authorization evaluates (a key policy, identity policies, grants). An error is not
        remembered: it is raised again each time, and each time fails closed."""
        return normalise_context(self.context)


class Decision(enum.Enum):
    EXPLICIT_DENY = "EXPLICIT_DENY"
    ALLOW = "ALLOW"
    IMPLICIT_DENY = "IMPLICIT_DENY"


class KeyPolicyDecision(enum.Enum):
    EXPLICIT_DENY = "EXPLICIT_DENY"
    ALLOW_PRINCIPAL = "ALLOW_PRINCIPAL"  # a statement names the caller itself, or "*"
    ALLOW_ACCOUNT = "ALLOW_ACCOUNT"  # a statement names the caller's account root: delegation
    IMPLICIT_DENY = "IMPLICIT_DENY"


def _action_matches(statement: Statement, action: str) -> bool:
    hit = any(wildcard_match(p, action, ignore_case=True) for p in statement.actions)
    return hit != statement.not_action


def _resource_matches(statement: Statement, resources: frozenset[str]) -> bool:
    # NotResource must miss every spelling, or a policy in one shape could be dodged by the other.
    hit = any(wildcard_match(p, r) for p in statement.resources for r in resources)
    return hit != statement.not_resource


def _principal_match(
    statement: Statement, facts: RequestFacts, matcher: PrincipalMatcher
) -> PrincipalMatch:
    if statement.principal is not None:
        return matcher(statement.principal)
    if statement.not_principal is not None:
        direct = matcher(statement.not_principal)
        if not_principal_applies(statement.not_principal, direct, facts.principal_account):
            return PrincipalMatch.PRINCIPAL
        return PrincipalMatch.NONE
    return PrincipalMatch.PRINCIPAL  # identity policy: the principal is the policy's owner


def _statement_match(
    statement: Statement,
    facts: RequestFacts,
    context: Mapping[str, tuple[object, ...]],
    matcher: PrincipalMatcher,
) -> PrincipalMatch:
    """How the statement applies to the request; any error makes Deny apply and Allow not."""
    try:
        if not _action_matches(statement, facts.action):
            return PrincipalMatch.NONE
        if not _resource_matches(statement, facts.resources):
            return PrincipalMatch.NONE
        match = _principal_match(statement, facts, matcher)
        if match is PrincipalMatch.NONE or not block_holds(statement.conditions, context):
            return PrincipalMatch.NONE
        return match
    except Exception:  # fail closed (DESIGN §5): an error never allows
        return PrincipalMatch.PRINCIPAL if statement.effect is Effect.DENY else PrincipalMatch.NONE


def _matches(
    document: PolicyDocument, facts: RequestFacts, matcher: PrincipalMatcher | None
) -> list[tuple[Effect, PrincipalMatch]]:
    def default(principal: Principal) -> PrincipalMatch:
        return match_principal(principal, facts.principal_arns, facts.principal_account)

    context = facts.normalised_context
    found: list[tuple[Effect, PrincipalMatch]] = []
    for statement in document.statements:
        match = _statement_match(statement, facts, context, matcher or default)
        if match is not PrincipalMatch.NONE:
            found.append((statement.effect, match))
    return found


def evaluate(
    document: PolicyDocument,
    facts: RequestFacts,
    *,
    principal_matches: PrincipalMatcher | None = None,
) -> Decision:
    """Explicit deny beats allow beats the default (implicit) deny.

    In a key policy an account-root principal covers every principal of that account, as in any
    resource policy; `evaluate_key_policy` tells that case apart. Unexpected errors deny.
    """
    try:
        effects = [effect for effect, _ in _matches(document, facts, principal_matches)]
    except Exception:  # fail closed
        return Decision.EXPLICIT_DENY
    if Effect.DENY in effects:
        return Decision.EXPLICIT_DENY
    return Decision.ALLOW if Effect.ALLOW in effects else Decision.IMPLICIT_DENY


def evaluate_key_policy(
    document: PolicyDocument,
    facts: RequestFacts,
    *,
    principal_matches: PrincipalMatcher | None = None,
) -> KeyPolicyDecision:
    """A key policy's answer, keeping "names the caller" apart from "delegates to its account"."""
    if document.kind is not PolicyKind.KEY:
        return KeyPolicyDecision.EXPLICIT_DENY  # a caller bug; never let it allow
    try:
        found = _matches(document, facts, principal_matches)
    except Exception:  # fail closed
        return KeyPolicyDecision.EXPLICIT_DENY
    if any(effect is Effect.DENY for effect, _ in found):
        return KeyPolicyDecision.EXPLICIT_DENY
    if (Effect.ALLOW, PrincipalMatch.PRINCIPAL) in found:
        return KeyPolicyDecision.ALLOW_PRINCIPAL
    if (Effect.ALLOW, PrincipalMatch.ACCOUNT) in found:
        return KeyPolicyDecision.ALLOW_ACCOUNT
    return KeyPolicyDecision.IMPLICIT_DENY
