"""Logging setup shared by the CLI and worker processes: text or JSON lines on stderr.

The wire layer logs each API call on the `qkms.access` logger with its fields in the record's
`fields` attribute (and as JSON text in the message, which the text format prints as is). The
JSON format writes one object per line: time, level, logger, then either those fields or the
message. No secret reaches a log line in either format: the callers log none.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

__all__ = ["ACCESS_LOGGER", "JsonFormatter", "LineFormatter", "configure_logging"]

ACCESS_LOGGER = "qkms.access"
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class LineFormatter(logging.Formatter):
    """`logging.Formatter` with its default time format, worked out once per second: one INFO
    line per request otherwise pays `localtime` and `strftime` for a text that rarely changes."""

    _second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        whole = int(record.created)  # `msecs` is taken from the same truncation by logging
        second, text = self._second
        if whole != second:
            text = time.strftime("%Y-%m-%d %H:%M:%S", self.converter(whole))
            self._second = (whole, text)
        return f"{text},{int(record.msecs):03d}"  # logging's default_msec_format


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
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
        return json.dumps(line, separators=(",", ":"), default=str)


def configure_logging(level: str = "info", fmt: str = "text", access_log: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
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
