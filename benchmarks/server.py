"""A `qkms serve` process on loopback for the benchmark, and SigV4-signed raw requests to it.

Requests are signed once with botocore's own SigV4 signer and kept as raw HTTP/1.1 bytes: a
signature stays valid for 5 minutes (DESIGN §5), so the load generator replays them verbatim.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from benchmarks.budget import sampler_env

__all__ = [
    "ADMIN_ACCESS_KEY_ID",
    "ADMIN_SECRET",
    "RAISED_QUOTAS",
    "BenchError",
    "BenchServer",
    "Signer",
    "free_port",
    "worker_processes",
]

ADMIN_ACCESS_KEY_ID = "QKMSBENCHADMIN000001"
ADMIN_SECRET = "bench-secret-access-key-0123456789abcdef"  # a throwaway benchmark key
REGION = "us-east-1"
LOOPBACK = "127.0.0.1"  # DESIGN: only loopback addresses are ever targets of load tests.
# AWS's default request quotas would cap CreateKey at 5/s and DeriveSharedSecret at 1,000/s per
# account, below what one account drives here. Raising every quota (as an AWS customer raises
# theirs) keeps the buckets consulted on every call, so their cost stays in every figure;
# `benchmarks.throttling` measures that cost against throttling off.
RAISED_QUOTAS = "*=1000000"


class BenchError(RuntimeError):
    """The benchmark cannot produce honest figures (a server error, a failed request...)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Signer:
    """Builds raw, SigV4-signed `POST /` requests for one server and one access key."""

    port: int
    access_key_id: str = ADMIN_ACCESS_KEY_ID
    secret: str = ADMIN_SECRET

    @property
    def host(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def raw(self, operation: str, body: dict[str, Any]) -> bytes:
        """One signed request as the bytes a client sends (headers exactly as signed)."""
        data = json.dumps(body, separators=(",", ":")).encode()
        request = AWSRequest(
            method="POST",
            url=f"http://{self.host}/",
            data=data,
            headers={
                "Host": self.host,
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": f"TrentService.{operation}",
            },
        )
        botocore.auth.SigV4Auth(
            Credentials(self.access_key_id, self.secret), "kms", REGION
        ).add_auth(request)
        lines = ["POST / HTTP/1.1"]
        lines += [f"{name}: {value}" for name, value in request.headers.items()]
        lines.append(f"Content-Length: {len(data)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data

    def raw_many(self, operation: str, bodies: Sequence[dict[str, Any]]) -> list[bytes]:
        """Sign many requests; large batches are signed on every core (botocore is slow-ish)."""
        if len(bodies) < 4000:
            return [self.raw(operation, body) for body in bodies]
        workers = os.cpu_count() or 1
        chunk = -(-len(bodies) // workers)
        parts = [bodies[i : i + chunk] for i in range(0, len(bodies), chunk)]
        with ProcessPoolExecutor(workers) as pool:
            results = pool.map(_sign_chunk, [self] * len(parts), [operation] * len(parts), parts)
            return [raw for part in results for raw in part]

    def call(self, operation: str, body: dict[str, Any], timeout: float = 30.0) -> Any:
        """Send one signed request; the decoded JSON answer, or BenchError on a non-200."""
        raw = self.raw(operation, body)
        head, _, data = raw.partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:])
        connection = http.client.HTTPConnection(LOOPBACK, self.port, timeout=timeout)
        try:
            connection.request("POST", "/", body=data, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise BenchError(f"{operation} answered {response.status}: {payload[:300]!r}")
        return json.loads(payload) if payload else {}


def _sign_chunk(signer: Signer, operation: str, bodies: Sequence[dict[str, Any]]) -> list[bytes]:
    return [signer.raw(operation, body) for body in bodies]


@dataclass
class BenchServer:
    """`qkms serve` with a temp data dir on a free loopback port; output goes to a log file."""

    data_dir: Path
    workers: int
    database_url: str | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    throttle: str = RAISED_QUOTAS  # --throttle; "" = AWS's default quotas, "off" = none
    # None: the shipped default (info, one line per request). The benchmark measures QKMS as
    # shipped, so its per-request log line is part of every figure and of the CPU budget.
    log_level: str | None = None
    extra_args: tuple[str, ...] = ()  # more options, e.g. ("--no-metrics",) for an off row
    # Another source tree's `src` to run instead of the installed one (benchmarks.versions).
    pythonpath: str | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}-server.log"

    def signer(
        self, access_key_id: str = ADMIN_ACCESS_KEY_ID, secret: str = ADMIN_SECRET
    ) -> Signer:
        return Signer(self.port, access_key_id, secret)

    def start(self) -> BenchServer:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QKMS_")}
        env["QKMS_ADMIN_ACCESS_KEY_ID"] = ADMIN_ACCESS_KEY_ID
        env["QKMS_ADMIN_SECRET_ACCESS_KEY"] = ADMIN_SECRET
        env.update(sampler_env(self.data_dir.parent / "cpu-samples"))  # idle until signalled
        if self.pythonpath:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [self.pythonpath, env["PYTHONPATH"]]))
        command = [
            sys.executable, "-m", "qkms", "serve",
            "--host", LOOPBACK,
            "--port", str(self.port),
            "--data-dir", str(self.data_dir),
            "--workers", str(self.workers),
        ]  # fmt: skip
        if self.log_level:
            command += ["--log-level", self.log_level]
        if self.database_url:
            command += ["--database-url", self.database_url]
        if self.throttle:
            command += ["--throttle", self.throttle]
        command += self.extra_args
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise BenchError(f"qkms serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/readyz", timeout=1) as response:
                    if response.status == 200 and len(self.worker_pids()) >= self.workers:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise BenchError(f"qkms serve did not become ready:\n{self.log()}")

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: uvicorn's spawned workers, or the server itself."""
        if self.process is None:
            return []
        if self.workers <= 1:
            return [self.process.pid]
        pids = []
        for child in _children(self.process.pid):
            cmdline = _cmdline(child)
            if "multiprocessing.spawn" in cmdline and "resource_tracker" not in cmdline:
                pids.append(child)
        return pids

    def worker_rss_mb(self) -> list[float]:
        """VmRSS of each worker, in MiB (from /proc/<pid>/status)."""
        sizes = []
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        return sizes

    def admin(self, *args: str) -> str:
        """Run `qkms admin` on this server's store (running servers see changes within 1 s)."""
        command = [sys.executable, "-m", "qkms", "admin", "--data-dir", str(self.data_dir)]
        if self.database_url:
            command += ["--database-url", self.database_url]
        env = {k: v for k, v in os.environ.items() if not k.startswith("QKMS_")}
        done = subprocess.run(
            [*command, *args], capture_output=True, text=True, env=env, check=False
        )
        if done.returncode != 0:
            raise BenchError(f"qkms admin {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log(self, tail: int = 4000) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text[-tail:]


def worker_processes(pid: int) -> list[int]:
    """The children of a multi-worker server that serve requests (not multiprocessing's tracker)."""
    return [child for child in _children(pid) if "resource_tracker" not in _cmdline(child)]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4 is the parent pid; the command name (field 2) may hold spaces, so split after ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
