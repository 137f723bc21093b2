"""ListKeys (DESIGN §4, §4a): the caller's account's keys in the request's region, paged with
Limit and an opaque Marker."""

from __future__ import annotations

import base64
import binascii
import re

from qkms.domain.errors import InvalidMarkerException
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import KeyListEntry, ListKeysRequest, ListKeysResponse
from qkms.operations.support.access import authorize_account_action
from qkms.operations.support.key_rows import key_from_row, row_id_of

__all__ = ["list_keys"]

_DEFAULT_LIMIT = 100
# A marker is the last row id listed: a UUID, or a multi-region key's "mrk-<hex>@<region>".
_UUID = re.compile(
    r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|mrk-[0-9a-f]{32}@([a-z]+-){2,3}\d+)$"
)


def _encode_marker(key_id: str) -> str:
    return base64.urlsafe_b64encode(key_id.encode()).decode()


def _decode_marker(marker: str) -> str:
    try:
        key_id = base64.urlsafe_b64decode(marker.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        key_id = ""
    if not _UUID.match(key_id):
        raise InvalidMarkerException("The marker that specifies where to start paging is invalid.")
    return key_id


def list_keys(ctx: OperationContext, request: ListKeysRequest) -> ListKeysResponse:
    services = ctx.services
    authorize_account_action(ctx, "ListKeys")
    limit = request.limit or _DEFAULT_LIMIT
    after = _decode_marker(request.marker) if request.marker is not None else None
    now = services.clock()
    # One extra row tells whether another page follows. Keys past their deletion date are
    # already gone even if the sweeper has not run yet, so they are filtered, not paged.
    # Keys stored before regions were belong to the default region (DESIGN §4a).
    region = ctx.region
    rows = services.store.list_keys(
        ctx.caller.account_id,
        after,
        limit + 1,
        region=region,
        with_unregioned=region == services.arns.region,
    )
    keys = [k for k in (key_from_row(r) for r in rows) if not k.is_gone(now)]
    page, truncated = keys[:limit], len(rows) > limit
    entries = [
        KeyListEntry(key_id=k.key_id, key_arn=services.arns.key_arn(k.account_id, k.key_id, region))
        for k in page
    ]
    if truncated and page:
        return ListKeysResponse(
            keys=entries, truncated=True, next_marker=_encode_marker(row_id_of(page[-1]))
        )
    return ListKeysResponse(keys=entries, truncated=False)
