"""EnableKey (DESIGN §4): Disabled or Enabled -> Enabled; other states are refused."""

from __future__ import annotations

from qkms.domain import lifecycle
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import EmptyResponse, EnableKeyRequest
from qkms.operations.support.keys import change_key

__all__ = ["enable_key"]


def enable_key(ctx: OperationContext, request: EnableKeyRequest) -> EmptyResponse:
    change_key(ctx, request.key_id, KeyOperation.ENABLE_KEY, lifecycle.enable)
    return EmptyResponse()
