"""A private PostgreSQL cluster that a test may stop, restart and freeze (DESIGN §6).

The shared server (127.0.0.1:5432) belongs to every test run on the machine; fault tests must
never stop it. `PgCluster` runs its own postmaster instead: `initdb` into a fresh temporary
directory, listening only on 127.0.0.1 at a free port (its Unix socket in that directory), trust
authentication, fsync on. Run as root, PostgreSQL refuses to start, so every PostgreSQL binary
then runs as the `postgres` system user (`runuser -u postgres --`), which owns the directory.

- `stop()` is `pg_ctl stop -m immediate` (a crash, as far as clients can tell) or `fast`;
- `start()` starts it again on the same port and data directory;
- `hang()` freezes the postmaster and every backend with SIGSTOP: TCP connects still complete
  (the kernel's backlog) but nothing ever answers, as with a hung server or a dropped network;
  `resume()` sends SIGCONT.

Binaries come from QKMS_TEST_PG_BIN, else /usr/lib/postgresql/<newest>/bin, else PATH. Without
them the tests using `private_postgres` skip with the reason, except under CI=true (fail).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

__all__ = ["PgCluster", "PgClusterUnavailable", "descendants", "find_pg_bin", "private_postgres"]

_RUN_AS = "postgres"
_START_SECONDS = 30


class PgClusterUnavailable(Exception):
    """The private cluster cannot be set up here; the message says why."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_pg_bin() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres, or None."""
    candidates: list[Path] = []
    if given := os.environ.get("QKMS_TEST_PG_BIN"):
        candidates.append(Path(given))
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = sorted(
            (p for p in debian.iterdir() if p.name.isdigit()), key=lambda p: int(p.name)
        )
        candidates.extend(p / "bin" for p in reversed(versions))
    if found := shutil.which("initdb"):
        candidates.append(Path(found).parent)
    for directory in candidates:
        if all((directory / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (children, grandchildren, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4 (ppid) follows the command name, which is in parentheses and may hold spaces.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@dataclass
class PgCluster:
    """One postmaster on 127.0.0.1:`port` with its data in `base`/data."""

    bin_dir: Path
    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="qkms-pg-")))
    port: int = field(default_factory=_free_port)
    dbname: str = "postgres"
    user: str = "postgres"
    _hung: list[int] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    @property
    def log_path(self) -> Path:
        return self.base / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.dbname}"

    def url_with_schema(self, schema: str) -> str:
        return f"{self.url}?schema={schema}"

    # --- running the binaries ----------------------------------------------------------------
    def _command(self, name: str, *args: str) -> list[str]:
        command = [str(self.bin_dir / name), *args]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            runuser = shutil.which("runuser")
            if runuser is not None:
                return [runuser, "-u", _RUN_AS, "--", *command]
            return ["su", _RUN_AS, "-s", "/bin/sh", "-c", " ".join(_quote(c) for c in command)]
        return command

    def _run(self, name: str, *args: str, timeout: float = 60) -> str:
        result = subprocess.run(
            self._command(name, *args),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=self.base,
        )
        if result.returncode != 0:
            raise PgClusterUnavailable(
                f"{name} {' '.join(args)} failed ({result.returncode}): "
                f"{result.stderr.strip() or result.stdout.strip()}\n{self.server_log()}"
            )
        return result.stdout

    def server_log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    # --- lifecycle ---------------------------------------------------------------------------
    def init(self) -> PgCluster:
        if os.geteuid() == 0:
            try:
                shutil.chown(self.base, _RUN_AS, _RUN_AS)
            except (LookupError, OSError) as exc:
                raise PgClusterUnavailable(
                    f"running as root and cannot hand {self.base} to user {_RUN_AS!r}: {exc}"
                ) from None
        self._run(
            "initdb",
            "-D", str(self.data_dir),
            "-U", self.user,
            "--auth=trust",
            "-E", "UTF8",
            "--locale=C",
            "--no-sync",  # initdb's own files only; the server runs with fsync on
        )  # fmt: skip
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.base}'",
            "fsync": "on",
            "synchronous_commit": "on",
            "max_connections": "60",
            "shared_buffers": "16MB",
            "logging_collector": "off",
        }
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write("\n# qkms test cluster\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        return self

    def start(self) -> None:
        self._run(
            "pg_ctl",
            "-D", str(self.data_dir),
            "-l", str(self.log_path),
            "-w", "-t", str(_START_SECONDS),
            "start",
        )  # fmt: skip
        self.wait_accepting()

    def wait_accepting(self, timeout: float = _START_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.url, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.Error as exc:
                if time.monotonic() > deadline:
                    raise PgClusterUnavailable(
                        f"private PostgreSQL did not accept connections: {exc}\n{self.server_log()}"
                    ) from None
                time.sleep(0.1)

    def stop(self, mode: str = "immediate") -> None:
        """`immediate` (SIGQUIT): no checkpoint, clients cut off at once, as in a crash."""
        self.resume()
        pid = self.postmaster_pid
        if pid is None:
            return
        if mode != "immediate":
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")
            return
        # What `pg_ctl stop -m immediate` sends, without its slow wait loop.
        try:
            os.kill(pid, signal.SIGQUIT)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + _START_SECONDS
        while _alive(pid) or (self.data_dir / "postmaster.pid").exists():
            if time.monotonic() > deadline:
                raise PgClusterUnavailable(f"postmaster {pid} did not stop\n{self.server_log()}")
            time.sleep(0.01)

    @property
    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def hang(self) -> None:
        """Freeze the postmaster and every backend (SIGSTOP): the server stops answering."""
        pid = self.postmaster_pid
        assert pid is not None, "the private cluster is not running"
        frozen = [pid]
        os.kill(pid, signal.SIGSTOP)  # first, so it forks no new backend meanwhile
        for child in descendants(pid):
            try:
                os.kill(child, signal.SIGSTOP)
                frozen.append(child)
            except ProcessLookupError:
                pass
        self._hung = frozen

    def resume(self) -> None:
        for pid in reversed(self._hung):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self._hung = []

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except PgClusterUnavailable:
            pass
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _unavailable(reason: str) -> None:
    message = f"private PostgreSQL cluster unavailable: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI must run the fault tests", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PgCluster]:
    """A running private cluster for the module; stopped and removed afterwards.

    Use it in a test module with `private_postgres = pg_cluster.private_postgres`.
    """
    bin_dir = find_pg_bin()
    if bin_dir is None:
        _unavailable("initdb/pg_ctl/postgres not found (set QKMS_TEST_PG_BIN)")
        raise AssertionError("unreachable")
    cluster = PgCluster(bin_dir)
    try:
        cluster.init().start()
    except (PgClusterUnavailable, OSError, subprocess.TimeoutExpired) as exc:
        cluster.destroy()
        _unavailable(str(exc))
        raise AssertionError("unreachable") from None
    try:
        yield cluster
    finally:
        cluster.destroy()
