"""Logging setup shared by the CLI and worker processes: plain lines on stderr."""

from __future__ import annotations

import logging
import sys

__all__ = ["configure_logging"]


def configure_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
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
