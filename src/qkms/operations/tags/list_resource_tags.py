"""ListResourceTags (DESIGN §4): a key's tags, sorted by tag key, paged."""

from __future__ import annotations

import base64
import binascii

from qkms.domain.errors import InvalidMarkerException
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import ListResourceTagsRequest, ListResourceTagsResponse, TagEntry
from qkms.operations.support.keys import load_key

__all__ = ["list_resource_tags"]

_DEFAULT_LIMIT = 50


def list_resource_tags(
    ctx: OperationContext, request: ListResourceTagsRequest
) -> ListResourceTagsResponse:
    key = load_key(ctx, request.key_id, KeyOperation.LIST_RESOURCE_TAGS)
    tags = list(key.tags)
    start = 0
    if request.marker is not None:
        try:
            after = base64.urlsafe_b64decode(request.marker.encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            after = None
        names = [k for k, _ in tags]
        if after is None or after not in names:
            raise InvalidMarkerException(
                "The marker that specifies where to start paging is invalid."
            )
        start = names.index(after) + 1
    limit = request.limit or _DEFAULT_LIMIT
    page = tags[start : start + limit]
    entries = [TagEntry(tag_key=k, tag_value=v) for k, v in page]
    if start + limit < len(tags) and page:
        marker = base64.urlsafe_b64encode(page[-1][0].encode()).decode()
        return ListResourceTagsResponse(tags=entries, truncated=True, next_marker=marker)
    return ListResourceTagsResponse(tags=entries, truncated=False)
