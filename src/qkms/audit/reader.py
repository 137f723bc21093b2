"""Reads the audit log and its rotated predecessors as a stream: tail, follow and search.

Nothing loads a whole log: lines are read one at a time, oldest file first, and `tail` reads
the newest files backwards in blocks. A line that is not a JSON object (say, the unfinished
last line of a crash) is skipped.
"""

from __future__ import annotations

import datetime
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qkms.audit.writer import rotated_paths

__all__ = ["EventFilter", "follow_events", "iter_events", "parse_time", "tail_events"]

_BLOCK = 64 * 1024


def parse_time(text: str) -> float:
    """Epoch seconds from epoch seconds or ISO 8601 (`2024-05-01`, `...T12:00:00Z`, offsets)."""
    try:
        return float(text)
    except ValueError:
        pass
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


def _event_epoch(event: dict[str, Any]) -> float | None:
    try:
        return parse_time(str(event["eventTime"]))
    except (KeyError, ValueError):
        return None


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


@dataclass(frozen=True, slots=True)
class EventFilter:
    """What `qkms audit search` asks for; every given condition must hold."""

    key: str | None = None  # key id, key ARN or alias as sent
    event_name: str | None = None
    since: float | None = None
    until: float | None = None
    errors_only: bool = False

    def matches(self, event: dict[str, Any]) -> bool:
        if self.event_name is not None and event.get("eventName") != self.event_name:
            return False
        if self.errors_only and not event.get("errorCode"):
            return False
        if self.since is not None or self.until is not None:
            epoch = _event_epoch(event)
            if epoch is None:
                return False
            if self.since is not None and epoch < self.since:
                return False
            if self.until is not None and epoch > self.until:
                return False
        return self.key is None or self._names_key(event, self.key)

    @staticmethod
    def _names_key(event: dict[str, Any], key: str) -> bool:
        for resource in event.get("resources") or []:
            arn = str(resource.get("ARN", "")) if isinstance(resource, dict) else ""
            if arn == key or arn.endswith(f":key/{key}"):
                return True
        parameters = event.get("requestParameters") or {}
        sent = parameters.get("keyId") if isinstance(parameters, dict) else None
        # A key ARN also matches a call that named the key by its bare id.
        return sent is not None and (sent == key or key.endswith(f":key/{sent}"))


def _lines(path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as handle:
            yield from handle
    except FileNotFoundError:  # rotated away between listing and opening
        return


def iter_events(path: Path, event_filter: EventFilter | None = None) -> Iterator[dict[str, Any]]:
    """Every event in the rotated files and the current log, oldest first."""
    for file in [*rotated_paths(path), path]:
        for line in _lines(file):
            event = _parse(line)
            if event is not None and (event_filter is None or event_filter.matches(event)):
                yield event


def _last_lines(path: Path, count: int) -> list[bytes]:
    """Up to `count` last complete lines of `path`, oldest first, read backwards in blocks."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return []
    with handle:
        position = handle.seek(0, os.SEEK_END)
        data = b""
        while position > 0 and data.count(b"\n") <= count:
            step = min(_BLOCK, position)
            position -= step
            handle.seek(position)
            data = handle.read(step) + data
    lines = [line for line in data.split(b"\n") if line]
    if position > 0:
        lines = lines[1:]  # the first piece may be the tail of a line before the block
    return lines[-count:] if count > 0 else []


def tail_events(path: Path, count: int) -> list[dict[str, Any]]:
    """The last `count` events, reaching into rotated files when the current one has fewer."""
    found: list[dict[str, Any]] = []
    for file in [path, *reversed(rotated_paths(path))]:
        if len(found) >= count:
            break
        events = [e for e in map(_parse, _last_lines(file, count - len(found))) if e]
        found = events + found
    return found[-count:] if count > 0 else []


def follow_events(
    path: Path,
    should_stop: Callable[[], bool] = lambda: False,
    poll_seconds: float = 0.5,
) -> Iterator[dict[str, Any]]:
    """Events appended to `path` from now on, across rotations, until `should_stop()`."""
    handle = None
    inode = 0
    from_start = False  # the first file is followed from its end, later ones from their start
    pending = b""
    try:
        while not should_stop():
            if handle is None:
                try:
                    handle = path.open("rb")
                except FileNotFoundError:
                    from_start = True
                    time.sleep(poll_seconds)
                    continue
                inode = os.fstat(handle.fileno()).st_ino
                if not from_start:
                    handle.seek(0, os.SEEK_END)
            chunk = handle.read()
            if chunk:
                *complete, pending = (pending + chunk).split(b"\n")
                for line in complete:
                    event = _parse(line)
                    if event is not None:
                        yield event
                continue
            try:
                rotated = os.stat(path).st_ino != inode
            except FileNotFoundError:
                rotated = True
            if rotated:  # the old file is complete: continue with the new one from its start
                handle.close()
                handle, pending, from_start = None, b"", True
                continue
            time.sleep(poll_seconds)
    finally:
        if handle is not None:
            handle.close()
