"""TagResource (DESIGN §4): add or replace tags on a key; policies see them as aws:ResourceTag/<key>."""

from __future__ import annotations

from qkms.domain.keys import Key
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import EmptyResponse, TagResourceRequest
from qkms.operations.support.keys import change_key
from qkms.operations.support.tags import merged_tags

__all__ = ["tag_resource"]


def tag_resource(ctx: OperationContext, request: TagResourceRequest) -> EmptyResponse:
    tags = request.tags or []

    def add_tags(key: Key) -> Key:
        return key.with_tags(merged_tags(key.tag_map, tags))

    change_key(ctx, request.key_id, KeyOperation.TAG_RESOURCE, add_tags)
    return EmptyResponse()
