"""The audit log writer: whole lines from many processes, rotation by size, durability."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from qkms.audit.writer import AuditFileWriter, AuditWriteError, rotated_paths


def line(n: int, pad: int = 0) -> bytes:
    return json.dumps({"n": n, "pad": "x" * pad}).encode() + b"\n"


def test_appends_lines_to_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "audit.log"
    writer = AuditFileWriter(path, max_bytes=1 << 20, backups=2)
    writer.append(line(1), durable=True)
    writer.append(line(2), durable=False)
    writer.close()
    assert [json.loads(x)["n"] for x in path.read_bytes().splitlines()] == [1, 2]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_durable_appends_fsync_and_others_do_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    writer = AuditFileWriter(tmp_path / "audit.log", max_bytes=1 << 20, backups=1)
    writer.append(line(1), durable=False)  # creating the file syncs its directory once
    before = len(synced)
    writer.append(line(2), durable=False)
    assert len(synced) == before
    writer.append(line(3), durable=True)
    assert len(synced) == before + 1
    writer.close()


def test_rotates_past_the_size_and_keeps_the_backups_count(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    writer = AuditFileWriter(path, max_bytes=4096, backups=3)
    for n in range(200):  # ~100 bytes each: about five rotations
        writer.append(line(n, pad=80), durable=False)
    writer.close()
    assert rotated_paths(path) == [path.with_name(f"audit.log.{n}") for n in (3, 2, 1)]
    for file in [*rotated_paths(path), path]:
        assert file.stat().st_size < 4096 + 200
    numbers = [
        json.loads(x)["n"]
        for f in [*rotated_paths(path), path]
        for x in f.read_bytes().splitlines()
    ]
    assert numbers == sorted(numbers)  # oldest file first, in order
    assert numbers[-1] == 199
    assert not path.with_name("audit.log.4").exists()


def test_a_writer_follows_another_writers_rotation(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    first = AuditFileWriter(path, max_bytes=4096, backups=2)
    second = AuditFileWriter(path, max_bytes=4096, backups=2)
    second.append(line(0), durable=False)
    for n in range(1, 60):
        first.append(line(n, pad=80), durable=False)
    assert path.with_name("audit.log.1").exists()
    second.append(line(1000), durable=False)  # lands in the new audit.log, not in .1
    first.close()
    second.close()
    assert json.loads(path.read_bytes().splitlines()[-1])["n"] == 1000


def test_a_write_that_fails_raises_audit_write_error(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    path.mkdir()  # not a file: cannot be opened for appending
    writer = AuditFileWriter(path, max_bytes=4096, backups=1)
    with pytest.raises(AuditWriteError):
        writer.append(line(1), durable=True)


def test_refuses_settings_that_would_lose_the_log(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        AuditFileWriter(tmp_path / "audit.log", max_bytes=4096, backups=0)


def _append_many(path: str, worker: int, count: int) -> None:
    writer = AuditFileWriter(Path(path), max_bytes=1024 * 1024, backups=100)
    for n in range(count):
        # Lines of varying size, some over 4 KiB, to catch torn or interleaved writes.
        writer.append(
            json.dumps({"w": worker, "n": n, "pad": "y" * (n % 7 * 900)}).encode() + b"\n",
            durable=n % 100 == 0,
        )
    writer.close()


def test_concurrent_processes_write_whole_lines_and_lose_none(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    workers, count = 4, 1500
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_append_many, args=(str(path), w, count)) for w in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
        assert process.exitcode == 0
    seen: dict[int, list[int]] = {w: [] for w in range(workers)}
    files = [*rotated_paths(path), path]
    assert len(files) > 3  # rotation happened while all four were writing
    for file in files:
        for raw in file.read_bytes().splitlines():
            event = json.loads(raw)  # a torn or interleaved line would not parse
            seen[event["w"]].append(event["n"])
    for worker in range(workers):
        assert sorted(seen[worker]) == list(range(count))


def test_check_creates_the_log_or_says_why_it_cannot(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    AuditFileWriter(path, max_bytes=4096, backups=1).check()
    assert path.exists() and path.stat().st_size == 0
    blocked = tmp_path / "blocked.log"
    blocked.mkdir()
    with pytest.raises(AuditWriteError, match=r"blocked\.log"):
        AuditFileWriter(blocked, max_bytes=4096, backups=1).check()


class _Frozen:
    """A writer's clock that never moves: only the bytes it appends make a check due."""

    def monotonic(self) -> float:
        return 1000.0


def test_appends_between_checks_stat_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("qkms.audit.writer.time", _Frozen())
    writer = AuditFileWriter(tmp_path / "audit.log", max_bytes=64 << 20, backups=2)
    writer.append(line(0), durable=False)  # opens the log and the lock file (its counter)
    calls: list[str] = []

    def counted(name: str) -> Callable[..., os.stat_result]:
        real: Callable[..., os.stat_result] = getattr(os, name)

        def call(*args: Any, **kwargs: Any) -> os.stat_result:
            calls.append(name)
            return real(*args, **kwargs)

        return call

    for name in ("stat", "fstat", "lstat"):
        monkeypatch.setattr(os, name, counted(name))
    for n in range(1, 201):  # ~4 KiB: the size is checked each 64 KiB this process appends
        writer.append(line(n), durable=False)
    assert calls == []
    writer.close()
    assert len((tmp_path / "audit.log").read_bytes().splitlines()) == 201


def test_the_size_is_checked_often_enough_to_rotate_near_max_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("qkms.audit.writer.time", _Frozen())
    path = tmp_path / "audit.log"
    writer = AuditFileWriter(path, max_bytes=256 * 1024, backups=2)  # checked every 1 KiB
    for n in range(3000):  # ~100 bytes each: more than one rotation
        writer.append(line(n, pad=80), durable=False)
    writer.close()
    rotated = rotated_paths(path)
    assert rotated
    for file in rotated:
        assert 256 * 1024 <= file.stat().st_size < 256 * 1024 + 1024 + 200


def test_a_writer_follows_a_rotation_it_did_not_check_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `quiet` checks the path only every 64 KiB it appends (its clock stands still); the
    # rotation counter still tells it, at its very next append, that `busy` rotated twice:
    # with one backup, the file `quiet` had open is deleted by then, and a line written to
    # it would be lost.
    monkeypatch.setattr("qkms.audit.writer.time", _Frozen())
    path = tmp_path / "audit.log"
    quiet = AuditFileWriter(path, max_bytes=64 << 20, backups=1)
    busy = AuditFileWriter(path, max_bytes=4096, backups=1)
    quiet.append(line(0), durable=False)
    for n in range(1, 120):  # ~12 KiB: two rotations or more
        busy.append(line(n, pad=80), durable=False)
    quiet.append(line(1000), durable=False)
    busy.close()
    quiet.close()
    assert json.loads(path.read_bytes().splitlines()[-1])["n"] == 1000


def test_a_writer_follows_a_rename_by_another_program_within_its_check_interval(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.log"
    writer = AuditFileWriter(path, max_bytes=64 << 20, backups=1)
    writer.append(line(0), durable=False)
    path.rename(tmp_path / "elsewhere.log")  # not a rotation: the counter does not move
    deadline = time.monotonic() + 10
    while not path.exists() and time.monotonic() < deadline:
        writer.append(line(1), durable=False)
        time.sleep(0.01)
    writer.close()
    assert path.exists()


def _append_sparsely_checked(path: str, worker: int, count: int) -> None:
    writer = AuditFileWriter(Path(path), max_bytes=512 * 1024, backups=100)  # every 2 KiB
    for n in range(count):
        writer.append(
            json.dumps({"w": worker, "n": n, "pad": "z" * (n % 5 * 60)}).encode() + b"\n",
            durable=False,
        )
    writer.close()


def test_processes_that_check_the_size_sparsely_still_rotate_near_max_bytes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.log"
    workers, count = 4, 4000  # ~3 MiB in all: about six rotations at 512 KiB
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_append_sparsely_checked, args=(str(path), w, count))
        for w in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
        assert process.exitcode == 0
    rotated = rotated_paths(path)
    assert len(rotated) >= 4
    seen: dict[int, list[int]] = {w: [] for w in range(workers)}
    for file in [*rotated, path]:
        for raw in file.read_bytes().splitlines():
            event = json.loads(raw)  # a torn or interleaved line would not parse
            seen[event["w"]].append(event["n"])
    for worker in range(workers):
        assert sorted(seen[worker]) == list(range(count))
    for file in rotated:
        # Each writer appends up to one check interval (2 KiB) past the size before it looks,
        # and the others go on appending while the rotating one takes the lock and renames
        # the backups: on a busy machine that can be many lines, but far from another 512 KiB.
        assert 512 * 1024 <= file.stat().st_size < 512 * 1024 + 64 * 1024


def test_a_durable_append_checks_the_path_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("qkms.audit.writer.time", _Frozen())
    path = tmp_path / "audit.log"
    writer = AuditFileWriter(path, max_bytes=64 << 20, backups=1)
    writer.append(line(0), durable=False)
    path.rename(tmp_path / "audit.log.saved")  # moved away by hand: no rotation counted
    path.mkdir()  # and nothing can be appended at the path any more
    writer.append(line(1), durable=False)  # between checks: still to the file it had open
    with pytest.raises(AuditWriteError):
        writer.append(line(2), durable=True)  # a state change is never recorded elsewhere
    path.rmdir()
    writer.append(line(3), durable=False)
    writer.close()
    saved = (tmp_path / "audit.log.saved").read_bytes().splitlines()
    assert [json.loads(x)["n"] for x in saved] == [0, 1]
    assert [json.loads(x)["n"] for x in path.read_bytes().splitlines()] == [3]


def test_concurrent_durable_appends_share_fsyncs_yet_each_is_covered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group fsync: a durable append returns only after an fsync that began after its own write
    had returned, and threads appending at once share fsyncs instead of queueing one each."""
    import threading

    events: list[tuple[str, object]] = []  # ("wrote", line) / ("fsync start"|"fsync end", n)
    record = threading.Lock()
    real_write, real_fsync = os.write, os.fsync
    fsyncs = 0

    def logged_write(fd: int, data: bytes) -> int:
        written = real_write(fd, data)
        with record:
            events.append(("wrote", data))
        return written

    def slow_fsync(fd: int) -> None:
        nonlocal fsyncs
        with record:
            fsyncs += 1
            number = fsyncs
            events.append(("fsync start", number))
        time.sleep(0.01)  # a disk's fsync: long enough for other threads to write meanwhile
        real_fsync(fd)
        with record:
            events.append(("fsync end", number))

    monkeypatch.setattr(os, "write", logged_write)
    monkeypatch.setattr(os, "fsync", slow_fsync)
    writer = AuditFileWriter(tmp_path / "audit.log", max_bytes=1 << 20, backups=2)
    returned: list[tuple[bytes, int]] = []  # (line, len(events) when append returned)

    def appender(thread: int) -> None:
        for index in range(10):
            data = line(thread * 100 + index)
            writer.append(data, durable=True)
            with record:
                returned.append((data, len(events)))

    threads = [threading.Thread(target=appender, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    assert len(returned) == 80
    for data, returned_at in returned:
        wrote_at = events.index(("wrote", data))
        starts = {n for kind, n in events[wrote_at:returned_at] if kind == "fsync start"}
        ends = {n for kind, n in events[wrote_at:returned_at] if kind == "fsync end"}
        assert starts & ends, f"append of {data!r} returned before an fsync covered it"
    assert fsyncs < 80  # shared: with 8 threads at once, far fewer than one per append
    lines = (tmp_path / "audit.log").read_bytes().splitlines(keepends=True)
    assert sorted(lines) == sorted(data for data, _ in returned)
