"""Logging setup shared by the CLI and worker processes: plain lines on stderr."""

from __future__ import annotations

import logging
import sys
import time

__all__ = ["LineFormatter", "configure_logging"]


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


def configure_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LineFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger("qkms")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    # The line above names no source file, thread or process, so spare every record the work
    # of finding them (the logging HOWTO's "Optimization" section): one INFO line per request
    # otherwise costs a stack walk and a multiprocessing lookup it never prints.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
