"""The per-request access line: written from its fields when `qkms.logs`' console handler alone
would print it, and then exactly the line `logging` would have printed."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator

import pytest

from qkms.logs import ACCESS_LOGGER, ConsoleHandler, configure_logging
from qkms.wire.pipeline import _log_access

FIELDS: dict[str, object] = {
    "request_id": "0c8f3a4e-1d2b-4c5d-8e9f-0a1b2c3d4e5f",
    "operation": "DeriveSharedSecret",
    "status": 200,
    "error": None,
    "access_key_id": "QKMSATUBRXPKVJLRBJXT",
    "ms": 1.234,
}
ERROR_FIELDS: dict[str, object] = FIELDS | {"status": 400, "error": "NotFoundException"}


@pytest.fixture
def stderr() -> Iterator[io.StringIO]:
    """What `configure`'s handler writes; the loggers it changes are put back."""
    qkms, access = logging.getLogger("qkms"), logging.getLogger(ACCESS_LOGGER)
    saved = (qkms.handlers[:], qkms.level, qkms.propagate, access.level, access.filters[:])
    saved_globals = (
        logging._srcfile,
        logging.logThreads,
        logging.logProcesses,
        logging.logMultiprocessing,
    )
    try:
        yield io.StringIO()
    finally:
        qkms.handlers[:], qkms.level, qkms.propagate = saved[0], saved[1], saved[2]
        access.setLevel(saved[3])
        access.filters[:] = saved[4]
        (
            logging._srcfile,
            logging.logThreads,
            logging.logProcesses,
            logging.logMultiprocessing,
        ) = saved_globals


def configure(stream: io.StringIO, fmt: str) -> None:
    """`configure_logging` as `qkms serve` calls it, its stderr handler writing to `stream`."""
    configure_logging("info", fmt)
    _console().setStream(stream)


def _console() -> ConsoleHandler:
    handler = logging.getLogger("qkms").handlers[0]
    assert isinstance(handler, ConsoleHandler)
    return handler


def _no_records(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> logging.LogRecord:
        raise AssertionError("the access line was made into a LogRecord")

    monkeypatch.setattr(logging.getLogger(ACCESS_LOGGER), "makeRecord", refuse)


def _through_logging(stream: io.StringIO, fields: dict[str, object]) -> str:
    """The line as `logging` writes it: a filter that passes everything makes `_log_access`
    hand the record to the handler as any other record."""
    handler = _console()
    handler.addFilter(lambda record: True)
    try:
        start = len(stream.getvalue())
        _log_access(fields)
        return stream.getvalue()[start:]
    finally:
        handler.filters.clear()


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("fields", [FIELDS, ERROR_FIELDS], ids=["ok", "error"])
@pytest.mark.parametrize("now", [1_764_595_800.0, 1_764_595_800.1234567, 1_764_595_859.9999999])
def test_the_direct_line_is_the_line_logging_writes(
    stderr: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
    fields: dict[str, object],
    now: float,
) -> None:
    configure(stderr, fmt)
    monkeypatch.setattr(time, "time", lambda: now)  # the record's time and the direct line's
    expected = _through_logging(stderr, fields)
    _no_records(monkeypatch)
    start = len(stderr.getvalue())
    _log_access(fields)
    direct = stderr.getvalue()[start:]
    assert direct == expected
    assert direct.endswith("\n") and direct.count("\n") == 1
    if fmt == "json":
        line = json.loads(direct)
        assert line["logger"] == "qkms.access" and line["level"] == "info"
        assert {k: line[k] for k in fields} == fields
    else:
        assert f" INFO qkms.access {json.dumps(fields, separators=(',', ':'))}\n" in direct


def test_a_filter_on_the_access_logger_still_sees_every_record(stderr: io.StringIO) -> None:
    configure(stderr, "text")
    seen: list[logging.LogRecord] = []
    access = logging.getLogger(ACCESS_LOGGER)

    def watch(record: logging.LogRecord) -> bool:
        seen.append(record)
        return True

    access.addFilter(watch)
    _log_access(FIELDS)
    assert [getattr(record, "fields", None) for record in seen] == [FIELDS]
    assert stderr.getvalue().count(" INFO qkms.access ") == 1


def test_another_handler_on_the_way_gets_the_record_too(stderr: io.StringIO) -> None:
    configure(stderr, "json")
    other = io.StringIO()
    extra = logging.StreamHandler(other)
    access = logging.getLogger(ACCESS_LOGGER)
    access.addHandler(extra)
    try:
        _log_access(FIELDS)
    finally:
        access.removeHandler(extra)
    assert json.loads(stderr.getvalue())["request_id"] == FIELDS["request_id"]
    assert json.loads(other.getvalue()) == FIELDS  # the plain handler prints the message


def test_a_handler_that_is_not_ours_gets_a_record(stderr: io.StringIO) -> None:
    configure(stderr, "text")
    other = io.StringIO()
    qkms = logging.getLogger("qkms")
    qkms.handlers[:] = [logging.StreamHandler(other)]
    _log_access(FIELDS)
    assert json.loads(other.getvalue()) == FIELDS
    assert stderr.getvalue() == ""


def test_a_format_of_its_own_is_left_to_logging(stderr: io.StringIO) -> None:
    configure(stderr, "text")
    _console().setFormatter(logging.Formatter("%(levelname)s|%(message)s"))
    _log_access(FIELDS)
    assert stderr.getvalue() == f"INFO|{json.dumps(FIELDS, separators=(',', ':'))}\n"


def test_a_broken_stream_is_reported_like_any_logging_error(
    stderr: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(stderr, "text")
    handler = _console()
    reported: list[logging.LogRecord] = []
    monkeypatch.setattr(handler, "handleError", reported.append)
    broken = io.StringIO()
    broken.close()
    handler.setStream(broken)
    _log_access(FIELDS)  # does not raise
    assert [record.name for record in reported] == [ACCESS_LOGGER]
