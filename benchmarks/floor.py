"""The floor rows: the bare app (benchmarks.floor_app) on each server, driven like QKMS.

Each floor server is started once per run, the same way as `qkms serve` (same workers, loopback),
and stays idle while QKMS is measured. Right after each QKMS derive figure, wrk replays the very
same pre-signed request file against every floor server at the same connections, so each
`QKMS / floor` ratio is measured side by side. granian is optional (`pip install granian`): its
rows are skipped, with a note, when it is not installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.budget import sampler_env
from benchmarks.floor_app import SERVERS
from benchmarks.server import LOOPBACK, BenchError, free_port, worker_processes
from benchmarks.wrk import WrkResult, run_wrk

__all__ = [
    "FLOOR_STORE",
    "FloorServer",
    "add_floor_arguments",
    "available_servers",
    "floor_scenario",
    "floor_servers",
]

FLOOR_STORE = "floor"  # the Row.store of every floor row
ROOT = Path(__file__).resolve().parents[1]
_DESCRIPTION = {
    "uvicorn": "uvicorn (httptools, uvloop)",
    "granian-asgi": "granian ASGI",
    "granian-rsgi": "granian RSGI",
}


def floor_scenario(server: str, curve: str) -> str:
    """The scenario name of a floor row: one place, so the goal table finds the rows."""
    return f"bare app {curve}, {_DESCRIPTION[server]}"


def available_servers(wanted: list[str]) -> tuple[list[str], list[str]]:
    """(servers to measure, notes on those skipped): granian rows need granian installed."""
    usable, notes = [], []
    for server in wanted:
        if server.startswith("granian") and importlib.util.find_spec("granian") is None:
            notes.append(
                f"floor {_DESCRIPTION[server]}: skipped, granian is not installed "
                "(optional benchmark dependency: .venv/bin/pip install granian)"
            )
            continue
        usable.append(server)
    return usable, notes


@dataclass
class FloorServer:
    """`python -m benchmarks.floor_app --server S` on a free loopback port."""

    server: str
    workers: int
    log_path: Path
    connections: tuple[int, ...] = ()  # the connection counts to measure it at; () = all
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    warmed: bool = False

    def start(self) -> FloorServer:
        if self.server not in SERVERS:
            raise BenchError(f"unknown floor server {self.server!r}")
        env = {**os.environ, **sampler_env(self.log_path.parent / "cpu-samples")}
        command = [
            sys.executable, "-m", "benchmarks.floor_app", "--server", self.server,
            "--host", LOOPBACK, "--port", str(self.port), "--workers", str(self.workers),
        ]  # fmt: skip
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
                start_new_session=True,  # its own group: stop() ends exactly its processes
            )  # fmt: skip
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 60.0) -> None:
        probe = json.dumps({"KeyId": "ready", "PublicKey": ""}).encode()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise BenchError(f"floor {self.server} exited:\n{self._log()}")
            try:
                request = urllib.request.Request(f"http://{LOOPBACK}:{self.port}/", data=probe)
                urllib.request.urlopen(request, timeout=1).close()
            except urllib.error.HTTPError as answer:  # the probe is refused (400): it is up
                if answer.code == 400 and len(self.worker_pids()) >= self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise BenchError(f"floor {self.server} did not become ready:\n{self._log()}")

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        if self.workers <= 1:
            return [self.process.pid]
        return worker_processes(self.process.pid)

    def measure(self, data_file: Path, connections: int, duration: float) -> WrkResult:
        return run_wrk(self.port, data_file, connections, duration)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def _log(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text[-3000:]


def add_floor_arguments(parser: argparse.ArgumentParser, baseline: tuple[float, str]) -> None:
    """`--floors` and `--describe-baseline` of `python -m benchmarks.run`."""
    parser.add_argument(
        "--floors",
        default=",".join(SERVERS),
        help="bare-floor servers to measure, comma-separated, or 'none' "
        f"(default {','.join(SERVERS)}; granian ones need `pip install granian`)",
    )
    parser.add_argument(
        "--describe-baseline",
        type=float,
        help=f"DescribeKey/s the 2x goal is judged against (default {baseline[0]:,.0f}, "
        f"recorded {baseline[1]})",
    )


@contextmanager
def floor_servers(
    spec: str,
    workers: int,
    work: Path,
    connections: tuple[int, ...],
    note: Callable[[str], None],
) -> Iterator[list[FloorServer]]:
    """The servers named in `spec` (comma-separated or 'none'), started, then stopped."""
    wanted = [] if spec == "none" else [name for name in spec.split(",") if name]
    unknown = [name for name in wanted if name not in SERVERS]
    if unknown:
        raise BenchError(f"unknown --floors {unknown}: choose from {', '.join(SERVERS)}")
    usable, skipped = available_servers(wanted)
    for text in skipped:
        note(text)
    floors = [FloorServer(s, workers, work / f"floor-{s}.log", connections) for s in usable]
    try:
        for floor in floors:
            floor.start()
        yield floors
    finally:
        for floor in floors:
            floor.stop()
