"""The audit trail of one worker: builds each call's event, appends it to the log, mirrors it.

Durability ("durable before the response for state-changing calls"): an event is
fsynced before the response when its operation may change state and the caller authenticated.
Read-only operations (Describe*, Get*, List*, and the cryptographic operations: DeriveSharedSecret,
Encrypt, Decrypt, Sign, Verify, *Mac, Encapsulate, Decapsulate, ...) and unauthenticated calls
(which change nothing) are appended without fsync: the OS flushes them within seconds, and a
crash of the machine (not of QKMS) may lose the last of them. An unknown operation name counts
as state-changing. A store mirror (the `audit_events` table, for PostgreSQL deployments where
the database is the cluster-wide place to query) is fed from a bounded queue by one thread:
best-effort, never on the request path; the file is the record.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from qkms.audit.events import ApiCall, build_event, encode_event
from qkms.audit.writer import AuditFileWriter
from qkms.storage.base import AuditRow, KeyStore

__all__ = ["READ_ONLY_PREFIXES", "AuditTrail", "is_read_only"]

_log = logging.getLogger("qkms.audit")
READ_ONLY_PREFIXES = ("Describe", "Get", "List")
# The cryptographic operations change no state; CloudTrail marks them readOnly too.
_READ_ONLY_NAMES = frozenset(
    {
        "DeriveSharedSecret",
        "Encrypt",
        "Decrypt",
        "ReEncrypt",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "GenerateRandom",
        "Sign",
        "Verify",
        "GenerateMac",
        "VerifyMac",
        "Encapsulate",
        "Decapsulate",
    }
)
_MIRROR_QUEUE = 10000
_MIRROR_BATCH = 500  # events per INSERT; PostgreSQL takes up to 65,535 parameters (7 per event)


def is_read_only(event_name: str) -> bool:
    """True for operations that never change state; anything else (unknown too) may."""
    # GetParametersForImport stores a new import token, but the token is single-use wrapping
    # material, not key state; it is still fsynced as state-changing to stay on the safe side.
    if event_name == "GetParametersForImport":
        return False
    return event_name in _READ_ONLY_NAMES or event_name.startswith(READ_ONLY_PREFIXES)


class AuditTrail:
    """Records API calls; thread-safe; `record` raises AuditWriteError when the log fails."""

    def __init__(
        self,
        writer: AuditFileWriter,
        *,
        region: str,
        key_arn: Callable[[str, str], str],
        mirror: KeyStore | None = None,
    ) -> None:
        self._writer = writer
        self._region = region
        self._key_arn = key_arn
        self._mirror = mirror
        self._queue: queue.Queue[AuditRow | None] = queue.Queue(_MIRROR_QUEUE)
        self._thread: threading.Thread | None = None
        self._dropped = 0

    @property
    def path(self) -> str:
        return str(self._writer.path)

    def needs_fsync(self, call: ApiCall) -> bool:
        return call.identity is not None and not is_read_only(call.event_name)

    def record(self, call: ApiCall) -> None:
        """Append `call`'s event; durable before returning when `needs_fsync(call)`."""
        read_only = is_read_only(call.event_name)
        event = build_event(call, region=self._region, read_only=read_only, key_arn=self._key_arn)
        line = encode_event(event)
        self._writer.append(line, durable=self.needs_fsync(call))
        if self._mirror is not None:
            self._enqueue(
                AuditRow(
                    event_id=str(event["eventID"]),
                    event_time=call.event_time,
                    event_name=call.event_name,
                    account_id=call.identity.account_id if call.identity else None,
                    error_code=call.error_code,
                    resources=tuple(r["ARN"] for r in event["resources"]),
                    record=line.decode().rstrip("\n"),
                )
            )

    def close(self, timeout: float = 5.0) -> None:
        """Flush the store mirror (bounded wait) and close the log."""
        if self._thread is not None:
            try:
                self._queue.put(None, timeout=timeout)
            except queue.Full:
                pass
            self._thread.join(timeout)
        self._writer.close()

    def _enqueue(self, row: AuditRow) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._drain, name="qkms-audit-mirror", daemon=True
            )
            self._thread.start()
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            self._dropped += 1
            if self._dropped in (1, 10, 100) or self._dropped % 1000 == 0:
                _log.warning(
                    "audit store mirror is behind: %d event(s) not copied to the store "
                    "(they are in the audit log file)",
                    self._dropped,
                )

    def _drain(self) -> None:
        """Copy queued events to the store, everything queued so far in one write: under load
        one INSERT carries many events instead of one round trip each."""
        mirror = self._mirror
        stopping = False
        while not stopping and mirror is not None:
            row = self._queue.get()
            if row is None:
                break
            batch = [row]
            while len(batch) < _MIRROR_BATCH:
                try:
                    queued = self._queue.get_nowait()
                except queue.Empty:
                    break
                if queued is None:  # close(): copy what came before it, then stop
                    stopping = True
                    break
                batch.append(queued)
            try:
                mirror.append_audit_events(batch)
            except Exception:
                _log.warning(
                    "%d audit event(s) from %s not copied to the store (they are in the audit "
                    "log file)",
                    len(batch),
                    batch[0].event_id,
                    exc_info=True,
                )
