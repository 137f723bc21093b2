"""TagResource (issue #4): add or replace tags on a key; policies see them as aws:ResourceTag/<key>."""

from __future__ import annotations

from qkms.domain.keys import Key
from qkms.domain.lifecycle import KeyOperation
from qkms.operations._keys import change_key
from qkms.operations._tags import merged_tags
from qkms.operations.context import OperationContext
from qkms.operations.shapes import EmptyResponse, TagResourceRequest

__all__ = ["tag_resource"]


def tag_resource(ctx: OperationContext, request: TagResourceRequest) -> EmptyResponse:
    tags = request.tags or []

    def add_tags(key: Key) -> Key:
        return key.with_tags(merged_tags(key.tag_map, tags))

    change_key(ctx, request.key_id, KeyOperation.TAG_RESOURCE, add_tags)
    return EmptyResponse()
