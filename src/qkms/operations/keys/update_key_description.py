"""UpdateKeyDescription (DESIGN §4): replace a key's description."""

from __future__ import annotations

from qkms.domain.keys import Key
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import EmptyResponse, UpdateKeyDescriptionRequest
from qkms.operations.support.keys import change_key

__all__ = ["update_key_description"]


def update_key_description(
    ctx: OperationContext, request: UpdateKeyDescriptionRequest
) -> EmptyResponse:
    description = request.description or ""

    def describe(key: Key) -> Key:
        return key.with_description(description)

    change_key(ctx, request.key_id, KeyOperation.UPDATE_KEY_DESCRIPTION, describe)
    return EmptyResponse()
