"""Reading the audit trail: all files oldest first, filters, tail, follow across rotation."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from qkms.audit.reader import EventFilter, follow_events, iter_events, parse_time, tail_events
from qkms.audit.writer import AuditFileWriter

KEY = "0b2c6a1e-8f0d-4d4e-9a55-2f4c1b6f7a11"
ARN = f"arn:verenc:111122223333:key/{KEY}"


def event(n: int, name: str = "DescribeKey", error: str | None = None, arn: str = ARN) -> bytes:
    record: dict[str, Any] = {
        "eventTime": f"2024-05-01T12:00:{n % 60:02d}.000Z",
        "eventName": name,
        "requestID": f"r{n}",
        "requestParameters": {"keyId": arn.rsplit("/", 1)[-1] if arn else "alias/a"},
        "resources": [{"ARN": arn}] if arn else [],
        "pad": "p" * 100,
    }
    if error:
        record["errorCode"] = error
    return json.dumps(record).encode() + b"\n"


def write_rotated(path: Path, count: int) -> None:
    writer = AuditFileWriter(path, max_bytes=4096, backups=20)
    for n in range(count):
        writer.append(event(n), durable=False)
    writer.close()


def ids(events: list[dict[str, Any]]) -> list[str]:
    return [e["requestID"] for e in events]


def test_iter_events_reads_rotated_files_oldest_first_and_skips_torn_lines(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    write_rotated(path, 100)
    with path.open("ab") as handle:
        handle.write(b'{"eventName": "Torn')  # a crash mid-line
    assert path.with_name("audit.log.2").exists()
    assert ids(list(iter_events(path))) == [f"r{n}" for n in range(100)]


def test_tail_reaches_into_rotated_files(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    write_rotated(path, 100)
    assert ids(tail_events(path, 3)) == ["r97", "r98", "r99"]
    assert ids(tail_events(path, 60)) == [f"r{n}" for n in range(40, 100)]
    assert ids(tail_events(path, 1000)) == [f"r{n}" for n in range(100)]
    assert tail_events(path, 0) == []
    assert tail_events(tmp_path / "missing.log", 5) == []


def test_filters(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    other = "arn:verenc:111122223333:key/11111111-2222-3333-4444-555555555555"
    path.write_bytes(
        event(1)
        + event(2, "DeriveSharedSecret")
        + event(3, "DeriveSharedSecret", "InvalidPublicKeyException")
        + event(4, "DisableKey", arn=other)
    )
    assert ids(list(iter_events(path, EventFilter(event_name="DeriveSharedSecret")))) == [
        "r2",
        "r3",
    ]
    assert ids(list(iter_events(path, EventFilter(errors_only=True)))) == ["r3"]
    assert ids(list(iter_events(path, EventFilter(key=ARN)))) == ["r1", "r2", "r3"]
    assert ids(list(iter_events(path, EventFilter(key=KEY)))) == ["r1", "r2", "r3"]
    assert ids(list(iter_events(path, EventFilter(key=other)))) == ["r4"]
    assert ids(
        list(iter_events(path, EventFilter(key="11111111-2222-3333-4444-555555555555")))
    ) == ["r4"]
    since = EventFilter(
        since=parse_time("2024-05-01T12:00:02Z"), until=parse_time("2024-05-01T12:00:03.5Z")
    )
    assert ids(list(iter_events(path, since))) == ["r2", "r3"]


def test_key_filter_matches_the_key_id_sent_when_no_arn_was_recorded(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    path.write_bytes(event(1, "DisableKey", "NotFoundException", arn="") + event(2, arn=""))
    assert ids(list(iter_events(path, EventFilter(key="alias/a")))) == ["r1", "r2"]
    assert ids(list(iter_events(path, EventFilter(key="alias/a", errors_only=True)))) == ["r1"]


def test_parse_time_accepts_epoch_and_iso() -> None:
    assert parse_time("1714564800") == 1714564800.0
    assert parse_time("2024-05-01T12:00:00Z") == 1714564800.0
    assert parse_time("2024-05-01T14:00:00+02:00") == 1714564800.0
    assert parse_time("2024-05-01") == 1714521600.0


def test_follow_sees_new_events_across_a_rotation(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    write_rotated(path, 5)  # already there: not followed
    seen: list[str] = []
    done = threading.Event()

    def reader() -> None:
        for found in follow_events(path, should_stop=done.is_set, poll_seconds=0.01):
            seen.append(found["requestID"])

    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(0.2)
    writer = AuditFileWriter(path, max_bytes=4096, backups=20)
    for n in range(100, 160):  # several rotations
        writer.append(event(n), durable=False)
        time.sleep(0.002)
    writer.close()
    deadline = time.monotonic() + 5
    while len(seen) < 60 and time.monotonic() < deadline:
        time.sleep(0.02)
    done.set()
    thread.join(5)
    # Follow polls: a file rotated away between two polls is finished before the next one,
    # so nothing is lost while the follower keeps up.
    assert seen == [f"r{n}" for n in range(100, 160)]
