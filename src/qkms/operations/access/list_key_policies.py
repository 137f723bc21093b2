"""ListKeyPolicies (DESIGN §5): every KMS key has one policy, named "default"."""

from __future__ import annotations

from qkms.domain.lifecycle import KeyOperation
from qkms.operations.access.get_key_policy import DEFAULT_POLICY_NAME
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import ListKeyPoliciesRequest, ListKeyPoliciesResponse
from qkms.operations.support.keys import load_key

__all__ = ["list_key_policies"]


def list_key_policies(
    ctx: OperationContext, request: ListKeyPoliciesRequest
) -> ListKeyPoliciesResponse:
    load_key(ctx, request.key_id, KeyOperation.LIST_KEY_POLICIES)
    return ListKeyPoliciesResponse(policy_names=[DEFAULT_POLICY_NAME], truncated=False)
