"""Appends audit events to a log file shared by every worker process, rotating it by size.

Multi-process safety (uvicorn --workers N all append to one file):
- each event is one `os.write` of one complete line on an O_APPEND descriptor, so lines from
  different processes never interleave (the kernel serialises appends to a local file);
- rotation (`audit.log` -> `audit.log.1` -> ... -> `audit.log.<backups>`) happens under an
  exclusive `flock` on `<log>.lock`, and re-checks the size under the lock, so two processes
  that both see a full file rotate it once;
- every rotation adds one to a counter kept in the lock file: before each append a writer
  reads it (one 8-byte `pread` on a descriptor it keeps, a third of a `stat` of the path) and
  compares it with the count it read before opening its file, and reopens the log after any
  process's rotation. A line racing a rotation may end up as the last line of the file just
  rotated away: never lost, never torn;
- the file's size (for rotation) and the inode at the path (a rename by any other program)
  are checked before every durable append (its fsync costs far more), and otherwise each
  time this process has appended 1/256 of `max_bytes` (64 KiB at most) and at least every
  0.1 s: with N processes writing, a log rotates within about N such steps past `max_bytes`,
  and a read-only call's line may go to a log renamed by hand within 0.1 s (not lost: it is
  in the renamed file).
Durability: `append(line, durable=True)` returns once an fsync begun after its write has
finished (its own, or one of a concurrent durable append's: group fsync); the directory is fsynced
when the log file is created or rotated, so a durable line survives a crash under its name.
Nothing is buffered: each append is written to the file before it returns.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

__all__ = ["AuditFileWriter", "AuditWriteError", "rotated_paths"]

# The size is checked each time this process has appended 1/_CHECK_PARTS of max_bytes (at most
# _CHECK_CAP bytes), and at least every _CHECK_SECONDS: two system calls per append otherwise.
_CHECK_PARTS = 256
_CHECK_CAP = 64 * 1024
_CHECK_SECONDS = 0.1
# The rotation counter: the first 8 bytes of the lock file, little-endian (none yet: zero).
_COUNTER_BYTES = 8


class AuditWriteError(Exception):
    """An audit event could not be written (disk full, permissions, I/O error)."""


def rotated_paths(path: Path, backups: int | None = None) -> list[Path]:
    """The log's rotated predecessors that exist, oldest first (`.N` ... `.1`)."""
    prefix = path.name + "."
    numbers: list[int] = []
    if path.parent.is_dir():
        for candidate in path.parent.iterdir():
            suffix = candidate.name[len(prefix) :]
            if candidate.name.startswith(prefix) and suffix.isdigit():
                numbers.append(int(suffix))
    if backups is not None:
        numbers = [n for n in numbers if n <= backups]
    return [path.with_name(f"{prefix}{n}") for n in sorted(numbers, reverse=True)]


class _OpenFile:
    """A descriptor with a count of appends in flight, closed when retired and idle."""

    __slots__ = (
        "durable_written",
        "fd",
        "inode",
        "retired",
        "rotations",
        "sync_lock",
        "synced",
        "users",
    )

    def __init__(self, fd: int, rotations: int | None) -> None:
        self.fd = fd
        self.inode = os.fstat(fd).st_ino
        self.rotations = rotations  # the rotation counter read before opening; None: unmapped
        self.users = 0
        self.retired = False
        # Group fsync: durable appends are numbered as their write returns; an fsync covers
        # every one numbered before it started, so a thread whose line an fsync begun after its
        # write has covered need not fsync again (concurrent durable calls share one).
        self.durable_written = 0  # mutex held
        self.synced = 0  # sync_lock held
        self.sync_lock = threading.Lock()

    def sync(self, number: int, mutex: threading.Lock) -> None:
        """Make durable append `number` (and every earlier one) durable."""
        with self.sync_lock:
            if self.synced >= number:
                return  # an fsync that began after our write already covered it
            with mutex:
                covered = self.durable_written
            os.fsync(self.fd)
            self.synced = covered


class AuditFileWriter:
    """Thread-safe and process-safe appender of complete lines to one rotating log file."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        if max_bytes <= 0 or backups < 1:
            raise ValueError("max_bytes must be positive and backups at least 1")
        self.path = path
        self._max_bytes = max_bytes
        self._backups = backups
        self._lock_path = path.with_name(path.name + ".lock")
        self._mutex = threading.Lock()
        self._file: _OpenFile | None = None
        self._lock_fd = -1  # kept open to read the rotation counter
        self._check_bytes = max(1, min(max_bytes // _CHECK_PARTS, _CHECK_CAP))
        self._unchecked = 0  # bytes appended since the size was last checked
        self._check_at = 0.0  # time.monotonic() by which the next check is due

    def append(self, line: bytes, durable: bool) -> None:
        """Write `line` (one complete, newline-terminated event); fsync it if `durable`."""
        try:
            with self._mutex:
                now = time.monotonic()
                self._unchecked += len(line)
                check = durable or self._unchecked >= self._check_bytes or now >= self._check_at
                if check:
                    self._unchecked, self._check_at = 0, now + _CHECK_SECONDS
                current = self._current(check)
                current.users += 1
            try:
                written = os.write(current.fd, line)
                if written != len(line):
                    raise AuditWriteError(f"short write to {self.path}: {written}/{len(line)}")
                if durable:
                    with self._mutex:
                        current.durable_written += 1
                        number = current.durable_written
                    current.sync(number, self._mutex)
                full = check and os.fstat(current.fd).st_size >= self._max_bytes
            finally:
                with self._mutex:
                    current.users -= 1
                    self._close_if_idle(current)
            if full:
                self._rotate()
        except OSError as exc:
            raise AuditWriteError(f"cannot write the audit log {self.path}: {exc}") from exc

    def check(self) -> None:
        """Open (creating) the log once, so a server that cannot write it fails at startup."""
        try:
            with self._mutex:
                self._current(True)
        except OSError as exc:
            raise AuditWriteError(f"cannot write the audit log {self.path}: {exc}") from exc
        self.close()

    def close(self) -> None:
        with self._mutex:
            if self._file is not None:
                self._file.retired = True
                self._close_if_idle(self._file)
                self._file = None
            if self._lock_fd >= 0:
                os.close(self._lock_fd)
                self._lock_fd = -1

    # --- internals (called with self._mutex held where noted) -------------------------------
    def _current(self, check_path: bool) -> _OpenFile:
        """The descriptor of the file now at `path`, reopened after a rotation (known from the
        counter) or, when `check_path`, after the path changed by any means. Mutex held."""
        file = self._file
        if file is not None:
            rotations = self._rotations()
            if rotations is not None and rotations == file.rotations and not check_path:
                return file
            if rotations == file.rotations or rotations is None:
                try:
                    if os.stat(self.path).st_ino == file.inode:
                        return file
                except FileNotFoundError:
                    pass
            file.retired = True
            self._close_if_idle(file)
            self._file = None
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Read before opening: a rotation in between makes the count stale, never the file.
        rotations = self._rotations()
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        if created:
            self._sync_directory()
        self._file = _OpenFile(fd, rotations)
        return self._file

    def _rotations(self) -> int | None:
        """How many times any process has rotated the log; None where the lock file cannot be
        opened (the path is then checked before every append). Mutex held."""
        if self._lock_fd < 0:
            try:
                self._lock_fd = os.open(
                    self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
                )
            except OSError:
                return None
        return int.from_bytes(os.pread(self._lock_fd, _COUNTER_BYTES, 0), "little")

    @staticmethod
    def _close_if_idle(file: _OpenFile) -> None:
        """Mutex held."""
        if file.retired and file.users == 0 and file.fd >= 0:
            os.close(file.fd)
            file.fd = -1

    def _rotate(self) -> None:
        lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            try:
                if os.stat(self.path).st_size < self._max_bytes:
                    return  # another process rotated it while we waited for the lock
            except FileNotFoundError:
                return
            oldest = self.path.with_name(f"{self.path.name}.{self._backups}")
            oldest.unlink(missing_ok=True)
            for number in range(self._backups - 1, 0, -1):
                older = self.path.with_name(f"{self.path.name}.{number}")
                if older.exists():
                    older.rename(self.path.with_name(f"{self.path.name}.{number + 1}"))
            self.path.rename(self.path.with_name(f"{self.path.name}.1"))
            self._count_rotation(lock_fd)
            self._sync_directory()
        finally:
            os.close(lock_fd)  # releases the flock

    @staticmethod
    def _count_rotation(lock_fd: int) -> None:
        """Add one to the rotation counter. The flock is held, so no other process adds."""
        count = int.from_bytes(os.pread(lock_fd, _COUNTER_BYTES, 0), "little")
        os.pwrite(lock_fd, (count + 1).to_bytes(_COUNTER_BYTES, "little"), 0)

    def _sync_directory(self) -> None:
        fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
