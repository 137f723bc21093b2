"""DisableKey (DESIGN §4, §7): effective here before returning, everywhere within 1 s."""

from __future__ import annotations

from qkms.domain import lifecycle
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import DisableKeyRequest, EmptyResponse
from qkms.operations.support.keys import change_key

__all__ = ["disable_key"]


def disable_key(ctx: OperationContext, request: DisableKeyRequest) -> EmptyResponse:
    change_key(ctx, request.key_id, KeyOperation.DISABLE_KEY, lifecycle.disable)
    return EmptyResponse()
