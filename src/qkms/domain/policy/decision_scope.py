"""Which decisions may be remembered: those that read nothing a single request brings along.

A decision reads the action, the key (ARN, account, spec, usage, origin, region role, tags), the
caller (account, user) and the condition keys its documents name. When every condition key
named is a fact of the caller or of the key, the same caller doing the same action on the same
version of the same key under the same documents always gets the same answer, so a worker may
remember it (`qkms.operations.support.access`). A document naming anything else -- the time,
the source address, TLS, an encryption context, a grant's operations, a recipient's
attestation, or a key this module does not know -- makes every decision it takes part in
request-specific, and none of them is remembered. Policy variables are refused at parse time,
so resources and condition values never depend on the request either.
"""

from __future__ import annotations

from collections.abc import Iterable

from qkms.domain.policy.model import PolicyDocument

__all__ = ["PRINCIPAL_AND_KEY_CONDITION_KEYS", "decided_by_principal_and_key"]

# Lower-case, as conditions store them. Each is set in `request_facts` from the caller or the key.
PRINCIPAL_AND_KEY_CONDITION_KEYS = frozenset(
    {
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principaltype",
        "aws:username",
        "kms:calleraccount",
        "kms:keyspec",
        "kms:keyusage",
        "kms:keyorigin",
        "kms:multiregion",
        "kms:multiregionkeytype",
    }
)
_KEY_TAG_PREFIX = "aws:resourcetag/"


def _is_principal_or_key_fact(condition_key: str) -> bool:
    return condition_key in PRINCIPAL_AND_KEY_CONDITION_KEYS or condition_key.startswith(
        _KEY_TAG_PREFIX
    )


def decided_by_principal_and_key(documents: Iterable[PolicyDocument]) -> bool:
    """True when no condition of `documents` reads a request-specific condition key."""
    return all(
        _is_principal_or_key_fact(clause.key)
        for document in documents
        for statement in document.statements
        for clause in statement.conditions
    )
