"""Shared builders for the policy tests: ARNs in both shapes, facts, and policy texts."""

from __future__ import annotations

import json
from collections.abc import Mapping

from qkms.domain.policy import (
    ContextValue,
    PolicyDocument,
    PolicyKind,
    RequestFacts,
    parse_policy,
)

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"


def user_arns(name: str, account: str = ACCOUNT) -> frozenset[str]:
    return frozenset(
        {f"arn:verenc:{account}:user/{name}", f"arn:verenc:iam::{account}:user/{name}"}
    )


def root_arns(account: str = ACCOUNT) -> frozenset[str]:
    return frozenset({f"arn:verenc:{account}:root", f"arn:verenc:iam::{account}:root"})


def key_arn(account: str = ACCOUNT, key_id: str = KEY_ID) -> str:
    return f"arn:verenc:{account}:key/{key_id}"


def key_arn_aws(account: str = ACCOUNT, key_id: str = KEY_ID) -> str:
    return f"arn:verenc:kms:us-east-1:{account}:key/{key_id}"


def facts(
    action: str = "kms:DeriveSharedSecret",
    *,
    user: str | None = "alice",
    account: str = ACCOUNT,
    key_account: str = ACCOUNT,
    resource: str | None = None,
    context: Mapping[str, ContextValue] | None = None,
) -> RequestFacts:
    """A request by `user` (None: the account root) on the default key (or `resource`)."""
    if resource is None:
        resource, aliases = key_arn(key_account), frozenset({key_arn_aws(key_account)})
    else:
        aliases = frozenset()
    return RequestFacts(
        action=action,
        resource=resource,
        resource_aliases=aliases,
        principal_arns=root_arns(account) if user is None else user_arns(user, account),
        principal_account=account,
        context=dict(context or {}),
    )


def policy_text(*statements: object, version: str | None = "2012-10-17") -> str:
    document: dict[str, object] = {"Statement": list(statements)}
    if version is not None:
        document["Version"] = version
    return json.dumps(document)


def key_policy(*statements: Mapping[str, object]) -> PolicyDocument:
    return parse_policy(policy_text(*statements), kind=PolicyKind.KEY)


def identity_policy(*statements: Mapping[str, object]) -> PolicyDocument:
    return parse_policy(policy_text(*statements), kind=PolicyKind.IDENTITY)


def allow(
    action: object = "kms:*",
    resource: object = "*",
    principal: object | None = None,
    condition: object | None = None,
    effect: str = "Allow",
) -> dict[str, object]:
    """A statement; `principal` None leaves it out (identity policies)."""
    statement: dict[str, object] = {"Effect": effect, "Action": action, "Resource": resource}
    if principal is not None:
        statement["Principal"] = principal
    if condition is not None:
        statement["Condition"] = condition
    return statement


def deny(
    action: object = "kms:*",
    resource: object = "*",
    principal: object | None = None,
    condition: object | None = None,
) -> dict[str, object]:
    return allow(action, resource, principal, condition, effect="Deny")
