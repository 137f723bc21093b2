"""Principal and NotPrincipal: parse the element, and tell how it names the calling principal."""

from __future__ import annotations

import enum
import re
from collections.abc import Set

from qkms.domain.errors import MalformedPolicyDocumentException
from qkms.domain.policy.model import Principal, PrincipalId

__all__ = ["PrincipalMatch", "match_principal", "not_principal_applies", "parse_principal"]

_ACCOUNT = re.compile(r"^[0-9]{12}$")
_NAME = r"[A-Za-z0-9_+=,.@\-/]{1,512}"
_SEED = re.compile(rf"^arn:(?P<p>[^:]+):(?P<a>[0-9]{{12}}):(?:root|user/(?P<u>{_NAME}))$")
_AWS = re.compile(rf"^arn:(?P<p>[^:]+):iam::(?P<a>[0-9]{{12}}):(?:root|user/(?P<u>{_NAME}))$")
_TYPES = ("AWS", "Service")


class PrincipalMatch(enum.Enum):
    NONE = "none"
    PRINCIPAL = "principal"  # "*" or the caller's own ARN (in either shape)
    ACCOUNT = "account"  # the root of the caller's account: delegation to its identity policies


def _identity(text: str, where: str, partition: str) -> PrincipalId:
    if _ACCOUNT.match(text):  # "111122223333" is shorthand for that account's root
        return PrincipalId(partition, text)
    found = _SEED.match(text) or _AWS.match(text)
    if found is None:
        raise MalformedPolicyDocumentException(
            f"{where}: '{text}' is not '*', an account id, or a root or user ARN"
        )
    if found["p"] != partition:
        raise MalformedPolicyDocumentException(
            f"{where}: '{text}' is not in partition '{partition}'"
        )
    return PrincipalId(partition, found["a"], found["u"])


def _strings(raw: object, where: str) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise MalformedPolicyDocumentException(
            f"{where} must be a non-empty string or a non-empty list of strings"
        )
    return [str(item) for item in items]


def parse_principal(raw: object, where: str, partition: str) -> Principal:
    """`"*"` or `{"AWS": ..., "Service": ...}`; wildcards inside ARNs are refused, as in IAM."""
    if raw == "*":
        return Principal(wildcard=True)
    if not isinstance(raw, dict) or not raw:
        raise MalformedPolicyDocumentException(
            f'{where} must be "*" or an object such as {{"AWS": ...}}'
        )
    wildcard = False
    identities: set[PrincipalId] = set()
    services: set[str] = set()
    for kind, value in raw.items():
        if kind not in _TYPES:
            raise MalformedPolicyDocumentException(
                f"{where}: unsupported principal type '{kind}' (use AWS or Service)"
            )
        for text in _strings(value, f"{where}.{kind}"):
            if kind == "Service":
                services.add(text)
            elif text == "*":
                wildcard = True
            else:
                identities.add(_identity(text, f"{where}.{kind}", partition))
    return Principal(wildcard, frozenset(identities), frozenset(services))


def match_principal(
    principal: Principal, principal_arns: Set[str], principal_account: str
) -> PrincipalMatch:
    """How `principal` names the caller: itself (or everyone), its account root, or not at all."""
    if principal.wildcard:
        return PrincipalMatch.PRINCIPAL
    if any(identity.arns & principal_arns for identity in principal.identities):
        return PrincipalMatch.PRINCIPAL
    if principal.names_account_root(principal_account):
        return PrincipalMatch.ACCOUNT
    return PrincipalMatch.NONE


def not_principal_applies(
    not_principal: Principal, direct: PrincipalMatch, principal_account: str
) -> bool:
    """Whether a NotPrincipal statement covers the caller (IAM reference, "NotPrincipal").

    A caller is excepted only when its own ARN *and* its account's root are listed: AWS checks
    the account first, so listing a user without its account still denies that user, and
    listing the account root alone still covers the account's users. `direct` is how the
    element names the caller (PRINCIPAL when the caller's ARN itself is listed).
    """
    excepted = direct is PrincipalMatch.PRINCIPAL and not_principal.names_account_root(
        principal_account
    )
    return not excepted
