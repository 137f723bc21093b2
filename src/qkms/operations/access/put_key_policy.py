"""PutKeyPolicy (DESIGN §5): replace a key's policy, with AWS's lockout safety check."""

from __future__ import annotations

from qkms.domain.errors import NotFoundException
from qkms.domain.keys import Key
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.access.get_key_policy import DEFAULT_POLICY_NAME
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import EmptyResponse, PutKeyPolicyRequest
from qkms.operations.support.key_policy import accept_key_policy
from qkms.operations.support.keys import change_key

__all__ = ["put_key_policy"]


def put_key_policy(ctx: OperationContext, request: PutKeyPolicyRequest) -> EmptyResponse:
    name = request.policy_name or DEFAULT_POLICY_NAME
    if name != DEFAULT_POLICY_NAME:
        raise NotFoundException(f"No such policy exists: {name}")
    text = request.policy or ""
    bypass = bool(request.bypass_policy_lockout_safety_check)

    def replace_policy(key: Key) -> Key:
        accept_key_policy(ctx, key, text, bypass)
        return key.with_policy(text)

    change_key(ctx, request.key_id, KeyOperation.PUT_KEY_POLICY, replace_policy)
    return EmptyResponse()
