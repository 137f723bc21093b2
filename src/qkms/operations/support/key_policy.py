"""Accepting a new key policy: parse it, check its principals exist, and AWS's lockout safety check."""

from __future__ import annotations

from qkms.domain.errors import MalformedPolicyDocumentException
from qkms.domain.keys import Key
from qkms.domain.policy import PolicyDocument, PolicyKind, decide_key_access, parse_policy
from qkms.operations.runtime.context import OperationContext
from qkms.operations.support.access import identity_policies, request_facts

__all__ = ["accept_key_policy"]


def _check_principals_exist(ctx: OperationContext, document: PolicyDocument) -> None:
    """AWS refuses a key policy naming principals that do not exist; so do we for our users."""
    store = ctx.services.store
    for statement in document.statements:
        for principal in (statement.principal, statement.not_principal):
            if principal is None:
                continue
            for identity in principal.identities:
                if (
                    identity.user_name is not None
                    and store.get_user(identity.account, identity.user_name) is None
                ):
                    raise MalformedPolicyDocumentException(
                        "Policy contains a statement with one or more invalid principals."
                    )


def accept_key_policy(
    ctx: OperationContext, key: Key, text: str, bypass_lockout_check: bool
) -> PolicyDocument:
    """Validate `text` as the policy of `key` on behalf of the caller; return it parsed.

    The lockout safety check (AWS "Default key policy"): unless bypassed, the new policy must
    still let the caller change the key policy, so nobody locks the key away by mistake.
    """
    document = parse_policy(text, ctx.services.arns.partition, kind=PolicyKind.KEY)
    _check_principals_exist(ctx, document)
    if not bypass_lockout_check:
        facts = request_facts(ctx, "kms:PutKeyPolicy", key)
        decision = decide_key_access(document, identity_policies(ctx), facts, key.account_id)
        if not decision.is_allowed:
            raise MalformedPolicyDocumentException(
                "The new key policy will not allow you to update the key policy in the future."
            )
    return document
