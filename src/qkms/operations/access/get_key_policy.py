"""GetKeyPolicy (DESIGN §5): the key policy document, verbatim as it was set."""

from __future__ import annotations

from qkms.domain.errors import NotFoundException
from qkms.domain.lifecycle import KeyOperation
from qkms.domain.policy import default_key_policy
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import GetKeyPolicyRequest, GetKeyPolicyResponse
from qkms.operations.support.keys import load_key

__all__ = ["DEFAULT_POLICY_NAME", "get_key_policy"]

DEFAULT_POLICY_NAME = "default"  # AWS KMS keys have exactly one policy, named "default"


def get_key_policy(ctx: OperationContext, request: GetKeyPolicyRequest) -> GetKeyPolicyResponse:
    key = load_key(ctx, request.key_id, KeyOperation.GET_KEY_POLICY)
    name = request.policy_name or DEFAULT_POLICY_NAME
    if name != DEFAULT_POLICY_NAME:
        raise NotFoundException(f"No such policy exists: {name}")
    policy = key.policy or default_key_policy(key.account_id, ctx.services.arns.partition)
    return GetKeyPolicyResponse(policy=policy, policy_name=DEFAULT_POLICY_NAME)
