"""Token buckets shared by every worker process of one node: a small mmap'd file of records.

Layout (little-endian): a 64-byte header (magic, slot count), then `slots` records of 32 bytes:
an 8-byte key (a BLAKE2b digest of account and quota class; all zeros = free), the tokens left
(float64) and the time of the last refill (float64, on the node's monotonic clock, which every
process of a node shares). A record is read and written only under an fcntl lock on its own
byte range, so workers serialise per bucket and never on each other's buckets; finding or
claiming a record for a new key happens under a lock on the header.

Scope: one node. uvicorn's workers on a node share the file in the data directory; several
nodes (PostgreSQL, `--database-url`) each enforce the quotas on their own, so a cluster of N
nodes admits up to N times a quota. AWS's quotas are per account and region; QKMS's are per
account and node.

A record whose bucket has been idle long enough to be full again holds no information (a new
bucket starts full) and may be reused for another key, so the table never fills with old keys.
If all records near a key's place are in use by live buckets, the call is admitted (a quota is
a fairness limit, not an access control) and the event is logged.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import mmap
import os
import struct
import threading
from pathlib import Path

from qkms.throttling.bucket import Quota, take

__all__ = ["DEFAULT_SLOTS", "SharedBuckets", "bucket_key"]

DEFAULT_SLOTS = 16384  # 512 KiB: far more live (account, class) buckets than one node serves
_MAGIC = b"QKMSTHR1"
_HEADER = struct.Struct("<8sI")
_HEADER_SIZE = 64
_RECORD = struct.Struct("<8sdd")
_RECORD_SIZE = 32
_PROBES = 32
_FREE = bytes(8)
_MAX_CACHED = 65536
_log = logging.getLogger("qkms.throttling")


def bucket_key(account_id: str, quota_class: str) -> bytes:
    """The record key of one account's bucket for one quota class: the same in every process."""
    key = hashlib.blake2b(f"{account_id}\0{quota_class}".encode(), digest_size=8).digest()
    return key if key != _FREE else b"\x01" + key[1:]


class SharedBuckets:
    """The node's buckets in `path` (created 0600); `take` is safe across processes and threads."""

    def __init__(self, path: Path, idle_seconds: float, slots: int = DEFAULT_SLOTS) -> None:
        """`idle_seconds`: the longest refill of any quota in use (`Quota.refill_seconds`); a
        record untouched that long is a full bucket and may be reused."""
        self.path = path
        self._idle_seconds = idle_seconds
        self._slots = slots
        self._size = _HEADER_SIZE + slots * _RECORD_SIZE
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.fchmod(self._fd, 0o600)
            self._initialise()
            self._map = mmap.mmap(self._fd, self._size)
        except BaseException:
            os.close(self._fd)
            raise
        # fcntl locks belong to the process: threads of one process exclude each other here.
        self._thread_lock = threading.Lock()
        self._places: dict[bytes, int] = {}  # key -> record offset, as last found
        self._warned_full = False

    def _initialise(self) -> None:
        header = _HEADER.pack(_MAGIC, self._slots).ljust(_HEADER_SIZE, b"\0")
        fcntl.lockf(self._fd, fcntl.LOCK_EX, _HEADER_SIZE, 0)
        try:
            current = os.pread(self._fd, _HEADER_SIZE, 0)
            if os.fstat(self._fd).st_size != self._size or current != header:
                # A new file, or one of another layout: start with every bucket full.
                os.ftruncate(self._fd, 0)
                os.ftruncate(self._fd, self._size)
                os.pwrite(self._fd, header, 0)
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN, _HEADER_SIZE, 0)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)

    def take(self, key: bytes, quota: Quota, now: float) -> bool:
        """Take one token from the bucket `key` at time `now`: False when it is empty."""
        with self._thread_lock:
            for _ in range(2):
                offset = self._places.get(key)
                if offset is None:
                    offset = self._find_or_claim(key, quota, now)
                    if offset is None:
                        return self._admit_unrecorded(key)
                    if len(self._places) >= _MAX_CACHED:
                        self._places.clear()
                    self._places[key] = offset
                admitted = self._take_at(offset, key, quota, now)
                if admitted is not None:
                    return admitted
                del self._places[key]  # its record was reused for another key: find it again
            return self._admit_unrecorded(key)

    def _take_at(self, offset: int, key: bytes, quota: Quota, now: float) -> bool | None:
        fcntl.lockf(self._fd, fcntl.LOCK_EX, _RECORD_SIZE, offset)
        try:
            found, tokens, last = _RECORD.unpack_from(self._map, offset)
            if found != key:
                return None
            admitted, tokens, last = take(quota, tokens, last, now)
            _RECORD.pack_into(self._map, offset, key, tokens, last)
            return admitted
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN, _RECORD_SIZE, offset)

    def _find_or_claim(self, key: bytes, quota: Quota, now: float) -> int | None:
        """The offset of `key`'s record, claimed (as a full bucket) if it has none."""
        start = int.from_bytes(key[:4], "little") % self._slots
        fcntl.lockf(self._fd, fcntl.LOCK_EX, _HEADER_SIZE, 0)
        try:
            claimable: int | None = None
            for probe in range(_PROBES):
                offset = _HEADER_SIZE + ((start + probe) % self._slots) * _RECORD_SIZE
                state = self._read_locked(offset)
                if state[0] == key:
                    return offset
                if claimable is None and self._reusable(state, now):
                    claimable = offset
            if claimable is None:
                return None
            fcntl.lockf(self._fd, fcntl.LOCK_EX, _RECORD_SIZE, claimable)
            try:
                # Its owner may have used it since the scan: only a still-idle record is taken.
                if not self._reusable(_RECORD.unpack_from(self._map, claimable), now):
                    return None
                _RECORD.pack_into(self._map, claimable, key, quota.burst, now)
                return claimable
            finally:
                fcntl.lockf(self._fd, fcntl.LOCK_UN, _RECORD_SIZE, claimable)
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN, _HEADER_SIZE, 0)

    def _read_locked(self, offset: int) -> tuple[bytes, float, float]:
        fcntl.lockf(self._fd, fcntl.LOCK_SH, _RECORD_SIZE, offset)
        try:
            found, tokens, last = _RECORD.unpack_from(self._map, offset)
            return found, tokens, last
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN, _RECORD_SIZE, offset)

    def _reusable(self, state: tuple[bytes, float, float], now: float) -> bool:
        """Free, idle long enough to be a full bucket again, or stamped by a clock that has
        since restarted (a reboot under a persisted file)."""
        key, _tokens, last = state
        return key == _FREE or now - last >= self._idle_seconds or last > now + 1.0

    def _admit_unrecorded(self, key: bytes) -> bool:
        if not self._warned_full:
            self._warned_full = True
            _log.warning(
                "throttling: no free record near bucket %s in %s; calls of that bucket are "
                "admitted unthrottled (more live buckets than the file holds)",
                key.hex(),
                self.path,
            )
        return True
