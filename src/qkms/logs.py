"""Logging setup shared by the CLI and worker processes: text or JSON lines on stderr.

The wire layer logs each API call on the `qkms.access` logger with its fields in the record's
`fields` attribute (and as JSON text in the message, which the text format prints as is). The
JSON format writes one object per line: time, level, logger, then either those fields or the
message. No secret reaches a log line in either format: the callers log none.

One line per request through `logging` costs a LogRecord and its formatting, several times
the cost of the line itself. So the handler set up here also takes an access line as its
fields (`ConsoleHandler.emit_fields`) and writes exactly the line `format(record)` would, under
the handler's lock; the wire layer uses that when this handler is the only one that would see
the record (no filter, no other handler), and `logging` otherwise.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

import msgspec

__all__ = [
    "ACCESS_LOGGER",
    "ConsoleHandler",
    "JsonFormatter",
    "LineFormatter",
    "configure_logging",
]

ACCESS_LOGGER = "qkms.access"
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
_json = json.JSONEncoder(separators=(",", ":"), default=str)  # json.dumps makes one per call
_fields_encoder = msgspec.json.Encoder()


def _fields_text(fields: Mapping[str, object]) -> str:
    """An access line's fields as the text format prints them (its message): compact JSON."""
    return _fields_encoder.encode(fields).decode()


class LineFormatter(logging.Formatter):
    """`logging.Formatter` with its default time format, worked out once per second: one INFO
    line per request otherwise pays `localtime` and `strftime` for a text that rarely changes."""

    _second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        return self._time_text(record.created, record.msecs)

    def _time_text(self, created: float, msecs: float) -> str:
        whole = int(created)  # `msecs` is taken from the same truncation by logging
        second, text = self._second
        if whole != second:
            text = time.strftime("%Y-%m-%d %H:%M:%S", self.converter(whole))
            self._second = (whole, text)
        return f"{text},{int(msecs):03d}"  # logging's default_msec_format

    def format_fields(self, created: float, name: str, fields: Mapping[str, object]) -> str | None:
        """The INFO line `format` gives a record of `name` logged at `created` whose message is
        `_fields_text(fields)`; None when this formatter is set up to print something else."""
        if self._fmt != _TEXT_FORMAT or self.datefmt is not None:
            return None
        msecs = int((created - int(created)) * 1000)  # as LogRecord works it out
        return f"{self._time_text(created, msecs)} INFO {name} {_fields_text(fields)}"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _iso_time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        else:
            line["message"] = record.getMessage()
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _json.encode(line)

    def format_fields(self, created: float, name: str, fields: Mapping[str, object]) -> str:
        """The line `format` gives an INFO record of `name` at `created` carrying `fields`."""
        return _json.encode({"time": _iso_time(created), "level": "info", "logger": name, **fields})


def _iso_time(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


class ConsoleHandler(logging.StreamHandler[TextIO]):
    """The stream handler `configure_logging` installs, able to write a line from its fields."""

    def emit_fields(self, name: str, fields: Mapping[str, object]) -> bool:
        """Write the line `emit` would write for an INFO record of `name` carrying `fields`;
        False (nothing written) when this handler's formatter is not one of ours."""
        created = time.time()
        formatter = self.formatter
        # Exactly ours: a subclass may format records differently.
        if type(formatter) is JsonFormatter:
            line = formatter.format_fields(created, name, fields)
        elif type(formatter) is LineFormatter:
            text = formatter.format_fields(created, name, fields)
            if text is None:
                return False
            line = text
        else:
            return False
        self.acquire()
        try:
            self.stream.write(line + self.terminator)
            self.flush()
        except RecursionError:
            raise
        except Exception:  # as `emit` does: report on stderr, never fail the request
            record = logging.LogRecord(name, logging.INFO, "", 0, "%s", (line,), None)
            self.handleError(record)
        finally:
            self.release()
        return True


def configure_logging(level: str = "info", fmt: str = "text", access_log: bool = True) -> None:
    handler = ConsoleHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else LineFormatter(_TEXT_FORMAT))
    root = logging.getLogger("qkms")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    # Without the per-request lines, warnings about requests still go out.
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.NOTSET if access_log else logging.WARNING)
    # The line above names no source file, thread or process, so spare every record the work
    # of finding them (the logging HOWTO's "Optimization" section): one INFO line per request
    # otherwise costs a stack walk and a multiprocessing lookup it never prints.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
