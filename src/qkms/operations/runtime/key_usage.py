"""GetKeyLastUsage's record: each key's latest successful cryptographic use, kept in memory.

A cryptographic call must not write to the store (DESIGN §7: the hot path reads caches), so
each worker keeps, per key, only the latest use it served; the background loop writes that
batch every `FLUSH_INTERVAL_SECONDS` and the store keeps the later of what it holds and what it
is given. GetKeyLastUsage therefore lags a use by at most one flush interval plus the time the
flush takes (and a use still in memory when a worker is killed -9 is lost; a clean shutdown
flushes first).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Final

from qkms.domain.lifecycle import KeyOperation
from qkms.storage.base import KeyStore, KeyUsageRow

__all__ = [
    "FLUSH_INTERVAL_SECONDS",
    "TRACKING_SINCE",
    "KeyUsageTracker",
    "note_tracking_start",
    "usage_operation",
]

FLUSH_INTERVAL_SECONDS: Final = 2.0
TRACKING_SINCE: Final = "key_last_usage_tracking_since"  # a meta row: epoch seconds

# The operations botocore's model lists for KeyLastUsage.Operation, by the key operation that
# loads the key; ReEncrypt counts for both its keys (AWS GetKeyLastUsage).
_TRACKED: Final = {
    KeyOperation.DECRYPT: "Decrypt",
    KeyOperation.DERIVE_SHARED_SECRET: "DeriveSharedSecret",
    KeyOperation.ENCRYPT: "Encrypt",
    KeyOperation.GENERATE_DATA_KEY: "GenerateDataKey",
    KeyOperation.GENERATE_DATA_KEY_PAIR: "GenerateDataKeyPair",
    KeyOperation.GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT: "GenerateDataKeyPairWithoutPlaintext",
    KeyOperation.GENERATE_DATA_KEY_WITHOUT_PLAINTEXT: "GenerateDataKeyWithoutPlaintext",
    KeyOperation.GENERATE_MAC: "GenerateMac",
    KeyOperation.RE_ENCRYPT_FROM: "ReEncrypt",
    KeyOperation.RE_ENCRYPT_TO: "ReEncrypt",
    KeyOperation.SIGN: "Sign",
    KeyOperation.VERIFY: "Verify",
    KeyOperation.VERIFY_MAC: "VerifyMac",
    KeyOperation.ENCAPSULATE: "Encapsulate",
    KeyOperation.DECAPSULATE: "Decapsulate",
}


def usage_operation(operation: KeyOperation) -> str | None:
    """The KeyLastUsage.Operation a use of `operation` records, or None if it records none."""
    return _TRACKED.get(operation)


def note_tracking_start(store: KeyStore, since: float) -> float:
    """When this store began recording uses: `since`, unless it already knew an earlier time."""
    known = store.get_meta(TRACKING_SINCE)
    if known is None:
        known = store.put_meta_if_absent(TRACKING_SINCE, repr(since))
    return float(known)


class KeyUsageTracker:
    """Latest use per key since the last flush; safe to call from any request thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: dict[str, KeyUsageRow] = {}
        self._since_written = False

    def note(
        self, uses: Sequence[tuple[str, str]], used_at: float, request_id: str, event_id: str
    ) -> None:
        """Record that one successful request used each (key id, operation) of `uses`."""
        if not uses:
            return
        with self._lock:
            for key_id, operation in uses:
                held = self._latest.get(key_id)
                if held is None or held.used_at <= used_at:
                    self._latest[key_id] = KeyUsageRow(
                        key_id, operation, used_at, request_id, event_id
                    )

    def pending(self, key_id: str) -> KeyUsageRow | None:
        """This worker's not yet flushed use of `key_id`."""
        with self._lock:
            return self._latest.get(key_id)

    def flush(self, store: KeyStore, now: float) -> int:
        """Write the batch; on failure it goes back, unless a later use replaced it meanwhile.

        The first flush of a process also makes sure the store knows since when it tracks
        (no later than any use it holds), for GetKeyLastUsage's TrackingStartDate.
        """
        with self._lock:
            batch, self._latest = self._latest, {}
        if not self._since_written:
            since = min([now] + [row.used_at for row in batch.values()])
            note_tracking_start(store, since)
            self._since_written = True
        if not batch:
            return 0
        try:
            store.record_key_usage(list(batch.values()))
        except Exception:
            with self._lock:
                for key_id, row in batch.items():
                    held = self._latest.get(key_id)
                    if held is None or held.used_at < row.used_at:
                        self._latest[key_id] = row
            raise
        return len(batch)
