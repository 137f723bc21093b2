"""GetKeyLastUsage (AWS API reference): a key's latest successful cryptographic use.

Uses are noted in each worker's memory and written by its background loop every
`FLUSH_INTERVAL_SECONDS` (operations/runtime/key_usage.py), so the answer lags a use by at most
that interval (plus the flush's own time), and this worker's own unflushed use is included.
TrackingStartDate is when this store began recording (the first flush or answer after the
upgrade that added it, kept in the store's meta table) or the key's creation, whichever is
later, as AWS.
"""

from __future__ import annotations

from qkms.domain.lifecycle import KeyOperation
from qkms.operations.runtime.context import OperationContext
from qkms.operations.runtime.key_usage import note_tracking_start
from qkms.operations.shapes.key_usage import (
    GetKeyLastUsageRequest,
    GetKeyLastUsageResponse,
    KeyLastUsage,
)
from qkms.operations.support.keys import load_cached_key

__all__ = ["get_key_last_usage"]


def get_key_last_usage(
    ctx: OperationContext, request: GetKeyLastUsageRequest
) -> GetKeyLastUsageResponse:
    key = load_cached_key(ctx, request.key_id, KeyOperation.GET_KEY_LAST_USAGE).key
    services = ctx.services
    stored = services.store.get_key_usage(key.key_id)
    pending = services.key_usage.pending(key.key_id)
    latest = stored
    if pending is not None and (latest is None or pending.used_at >= latest.used_at):
        latest = pending
    usage = KeyLastUsage()
    if latest is not None:
        usage = KeyLastUsage(
            operation=latest.operation,
            timestamp=latest.used_at,
            cloud_trail_event_id=latest.event_id or None,
            kms_request_id=latest.request_id,
        )
    return GetKeyLastUsageResponse(
        key_id=key.key_id,
        key_last_usage=usage,
        tracking_start_date=max(
            note_tracking_start(services.store, services.clock()), key.creation_date
        ),
        key_creation_date=key.creation_date,
    )
