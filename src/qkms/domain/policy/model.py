"""The parsed, normalised shape of a policy document: what the evaluator reads, nothing more."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from qkms.domain.policy.conditions import ConditionClause

__all__ = ["Effect", "PolicyDocument", "PolicyKind", "Principal", "PrincipalId", "Statement"]


class PolicyKind(enum.Enum):
    KEY = "key"  # resource policy of one KMS key: every statement names a principal
    IDENTITY = "identity"  # attached to a user: the principal is implicit, never written


class Effect(enum.Enum):
    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True, slots=True)
class PrincipalId:
    """An account root (`user_name` None) or an IAM user, independent of how the ARN was spelled."""

    partition: str
    account: str
    user_name: str | None = None

    @property
    def is_root(self) -> bool:
        return self.user_name is None

    @property
    def arns(self) -> frozenset[str]:
        """Both spellings of this principal's ARN (DESIGN §2: seed shape and aws shape)."""
        tail = "root" if self.user_name is None else f"user/{self.user_name}"
        return frozenset(
            {
                f"arn:{self.partition}:{self.account}:{tail}",
                f"arn:{self.partition}:iam::{self.account}:{tail}",
            }
        )


@dataclass(frozen=True, slots=True)
class Principal:
    """A Principal or NotPrincipal element: `*`, AWS identities, and service names (never ours)."""

    wildcard: bool = False
    identities: frozenset[PrincipalId] = frozenset()
    services: frozenset[str] = frozenset()

    def names_account_root(self, account: str) -> bool:
        return any(i.is_root and i.account == account for i in self.identities)


@dataclass(frozen=True, slots=True)
class Statement:
    index: int
    sid: str | None
    effect: Effect
    principal: Principal | None  # None in identity policies and when NotPrincipal is used
    not_principal: Principal | None
    actions: tuple[str, ...]  # lower-cased patterns: action names are case-insensitive
    not_action: bool  # True when written as NotAction
    resources: tuple[str, ...]
    not_resource: bool  # True when written as NotResource
    conditions: tuple[ConditionClause, ...]


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    text: str  # the original text, returned verbatim by GetKeyPolicy
    kind: PolicyKind
    version: str  # "2012-10-17" or "2008-10-17" (the default when Version is absent)
    policy_id: str | None
    statements: tuple[Statement, ...]
