"""Parse a policy's JSON text into a validated PolicyDocument, and write the default key policy."""

from __future__ import annotations

import json
import re
from decimal import Decimal

from qkms.domain.errors import MalformedPolicyDocumentException
from qkms.domain.policy.conditions import ConditionClause, parse_condition_block
from qkms.domain.policy.model import Effect, PolicyDocument, PolicyKind, Principal, Statement
from qkms.domain.policy.principals import parse_principal

__all__ = ["MAX_POLICY_BYTES", "default_key_policy", "parse_policy"]

MAX_POLICY_BYTES = 32 * 1024  # AWS KMS key policy size quota (32 KB); applied to both kinds
_VERSIONS = ("2012-10-17", "2008-10-17")
_TOP = frozenset({"Version", "Id", "Statement"})
_STATEMENT = frozenset(
    {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction"}
    | {"Resource", "NotResource", "Condition"}
)
_PARTITION = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_ACTION = re.compile(r"^(?:\*|[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+)$")


def default_key_policy(account_id: str, partition: str = "verenc") -> str:
    """The policy CreateKey attaches when none is given: the account root may do kms:*."""
    _check_partition(partition)
    if not _ACCOUNT.match(account_id):
        raise MalformedPolicyDocumentException(f"'{account_id}' is not a 12-digit account id")
    statement = {
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:{account_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, separators=(",", ":"))


def _check_partition(partition: str) -> None:
    if not _PARTITION.match(partition):
        raise MalformedPolicyDocumentException(f"'{partition}' is not a valid partition")


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedPolicyDocumentException(f"duplicate element '{key}'")
        result[key] = value
    return result


def _reject_constant(name: str) -> object:
    raise MalformedPolicyDocumentException(f"{name} is not a JSON value")


def _load(text: str) -> object:
    try:
        return json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_float=Decimal,
            parse_constant=_reject_constant,
        )
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise MalformedPolicyDocumentException("policy is not valid JSON") from exc


def _strings(raw: object, where: str) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise MalformedPolicyDocumentException(
            f"{where} must be a non-empty string or a non-empty list of strings"
        )
    return tuple(str(item) for item in items)


def _exactly_one(raw: dict[str, object], names: tuple[str, str], where: str) -> str | None:
    present = [name for name in names if name in raw]
    if len(present) > 1:
        raise MalformedPolicyDocumentException(f"{where} has both {names[0]} and {names[1]}")
    return present[0] if present else None


def _actions(raw: object, where: str) -> tuple[str, ...]:
    actions = _strings(raw, where)
    for action in actions:
        if not _ACTION.match(action):
            raise MalformedPolicyDocumentException(
                f"{where}: '{action}' is not '*' or '<service>:<action>'"
            )
    return tuple(action.lower() for action in actions)


def _resources(raw: object, where: str, variables: bool) -> tuple[str, ...]:
    resources = _strings(raw, where)
    for resource in resources:
        if resource != "*" and not resource.startswith("arn:"):
            raise MalformedPolicyDocumentException(f"{where}: '{resource}' is not '*' or an ARN")
        if variables and "${" in resource:
            raise MalformedPolicyDocumentException(f"{where}: policy variables are not supported")
    return resources


def _principals(
    raw: dict[str, object], kind: PolicyKind, effect: Effect, where: str, partition: str
) -> tuple[Principal | None, Principal | None]:
    name = _exactly_one(raw, ("Principal", "NotPrincipal"), where)
    if kind is PolicyKind.IDENTITY:
        if name is not None:
            raise MalformedPolicyDocumentException(
                f"{where}.{name} is not allowed in an identity policy"
            )
        return None, None
    if name is None:
        raise MalformedPolicyDocumentException(f"{where} must have a Principal or NotPrincipal")
    principal = parse_principal(raw[name], f"{where}.{name}", partition)
    if name == "Principal":
        return principal, None
    # IAM reference, "NotPrincipal": must be used with Deny; Allow is not supported.
    if effect is not Effect.DENY:
        raise MalformedPolicyDocumentException(f"{where}.NotPrincipal may only be used with Deny")
    if principal.wildcard:
        raise MalformedPolicyDocumentException(f'{where}.NotPrincipal cannot be "*"')
    return None, principal


def _statement(
    raw: object, index: int, kind: PolicyKind, partition: str, variables: bool
) -> Statement:
    where = f"Statement[{index}]"
    if not isinstance(raw, dict):
        raise MalformedPolicyDocumentException(f"{where} must be an object")
    unknown = sorted(set(raw) - _STATEMENT)
    if unknown:
        raise MalformedPolicyDocumentException(f"{where} has unknown element '{unknown[0]}'")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise MalformedPolicyDocumentException(f"{where}.Sid must be a string")
    effect_text = raw.get("Effect")
    if effect_text not in ("Allow", "Deny"):
        raise MalformedPolicyDocumentException(f"{where}.Effect must be Allow or Deny")
    effect = Effect(effect_text)
    principal, not_principal = _principals(raw, kind, effect, where, partition)
    action_name = _exactly_one(raw, ("Action", "NotAction"), where)
    if action_name is None:
        raise MalformedPolicyDocumentException(f"{where} must have an Action or NotAction")
    resource_name = _exactly_one(raw, ("Resource", "NotResource"), where)
    if resource_name is None:
        raise MalformedPolicyDocumentException(f"{where} must have a Resource or NotResource")
    conditions: tuple[ConditionClause, ...] = ()
    if "Condition" in raw:
        conditions = parse_condition_block(
            raw["Condition"], f"{where}.Condition", variables=variables
        )
    return Statement(
        index=index,
        sid=sid,
        effect=effect,
        principal=principal,
        not_principal=not_principal,
        actions=_actions(raw[action_name], f"{where}.{action_name}"),
        not_action=action_name == "NotAction",
        resources=_resources(raw[resource_name], f"{where}.{resource_name}", variables),
        not_resource=resource_name == "NotResource",
        conditions=conditions,
    )


def parse_policy(
    text: str, partition: str = "verenc", *, kind: PolicyKind = PolicyKind.KEY
) -> PolicyDocument:
    """Validate and normalise a policy; MalformedPolicyDocumentException says what and where."""
    _check_partition(partition)
    if not isinstance(text, str):
        raise MalformedPolicyDocumentException("policy must be a JSON string")
    if len(text.encode("utf-8", errors="surrogatepass")) > MAX_POLICY_BYTES:
        raise MalformedPolicyDocumentException(f"policy is larger than {MAX_POLICY_BYTES} bytes")
    document = _load(text)
    if not isinstance(document, dict):
        raise MalformedPolicyDocumentException("policy must be a JSON object")
    unknown = sorted(set(document) - _TOP)
    if unknown:
        raise MalformedPolicyDocumentException(f"policy has unknown element '{unknown[0]}'")
    # IAM reference, "Version": a policy without Version is read as 2008-10-17.
    version = document.get("Version", "2008-10-17")
    if version not in _VERSIONS:
        raise MalformedPolicyDocumentException("Version must be 2012-10-17 or 2008-10-17")
    policy_id = document.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        raise MalformedPolicyDocumentException("Id must be a string")
    if "Statement" not in document:
        raise MalformedPolicyDocumentException("policy must have a Statement")
    raw_statements = document["Statement"]
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list) or not raw_statements:
        raise MalformedPolicyDocumentException(
            "Statement must be an object or a non-empty list of objects"
        )
    variables = version == "2012-10-17"
    statements = tuple(
        _statement(raw, index, kind, partition, variables)
        for index, raw in enumerate(raw_statements)
    )
    sids = [s.sid for s in statements if s.sid]
    duplicate = next((sid for sid in sids if sids.count(sid) > 1), None)
    if duplicate is not None:
        raise MalformedPolicyDocumentException(
            f"Sid '{duplicate}' is used by more than one statement"
        )
    return PolicyDocument(text, kind, str(version), policy_id, statements)
