"""UntagResource (DESIGN §4): remove tags from a key by tag key; absent keys are ignored, as in AWS."""

from __future__ import annotations

from qkms.domain.keys import Key
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import EmptyResponse, UntagResourceRequest
from qkms.operations.support.keys import change_key

__all__ = ["untag_resource"]


def untag_resource(ctx: OperationContext, request: UntagResourceRequest) -> EmptyResponse:
    removed = set(request.tag_keys or [])

    def remove_tags(key: Key) -> Key:
        return key.with_tags({k: v for k, v in key.tags if k not in removed})

    change_key(ctx, request.key_id, KeyOperation.UNTAG_RESOURCE, remove_tags)
    return EmptyResponse()
