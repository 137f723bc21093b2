"""The QKMS benchmark (issue #6): one command, figures and ratios measured side by side.

    .venv/bin/python -m benchmarks.run                       # full run (several minutes)
    .venv/bin/python -m benchmarks.run --smoke               # a few seconds: keeps it working
    .venv/bin/python -m benchmarks.run --markdown bench.md   # also write the README table

What one run does, all on loopback:
1. raw ECDH (load_der_public_key + exchange) on N processes, for P-256 and P-384: the ceiling;
2. `qkms serve --workers N` on SQLite with a temp data dir; one key per curve; DeriveSharedSecret
   requests pre-signed with botocore's SigV4 signer (a signature is valid for 5 minutes, so they
   are replayed) and driven by wrk at 1, 16 and 64 connections; the ratio end-to-end / raw;
3. DescribeKey/s and CreateKey/s (wrk replaying one signed request);
4. 10,000 grants on one key: derive by a user whose only access is the last grant, against a key
   with a single grant (per-request cost must not grow with grants);
5. 100,000 keys, derive requests spread uniformly (shuffled) over all of them: cache misses;
   worker memory (VmRSS of each worker process);
6. the same on PostgreSQL when `qkms serve --database-url` is available.

wrk runs on the same cores as the server (the goal is "load generator included"); the raw ECDH
figure has the cores to itself. Nothing here asserts a time: goals are reported, not enforced.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
)

from benchmarks.raw_ecdh import CURVES, raw_ecdh_rate
from benchmarks.server import RAISED_QUOTAS, BenchError, BenchServer, Signer
from benchmarks.wrk import WrkResult, ensure_wrk, run_wrk, write_requests

ACCOUNT = "111122223333"
KEY_SPECS = {"P-256": "ECC_NIST_P256", "P-384": "ECC_NIST_P384"}
CONNECTIONS = (1, 16, 64)
SIGNATURE_LIFETIME = 240.0  # seconds we trust a pre-signed request (the server allows 300)
CREATE_CHUNK = 20_000  # keys or grants per replayed signature in bulk creation
GOALS = (
    "P-256 end to end >= 50% of raw ECDH on the same cores (load generator included)",
    "p99 <= 2 ms at 1 connection and <= 5 ms at 16",
    "100,000 keys uniform >= 80% of the single-key rate; <= 200 MB RSS per worker",
    "CreateKey >= 1,000/s on SQLite",
)


@dataclass
class Row:
    store: str
    scenario: str
    connections: int | None
    rate: float
    p50_ms: float | None = None
    p99_ms: float | None = None
    ratio: str = ""

    @classmethod
    def of(cls, store: str, scenario: str, result: WrkResult, ratio: str = "") -> Row:
        return cls(
            store,
            scenario,
            result.connections,
            result.requests_per_second,
            result.p50_ms,
            result.p99_ms,
            ratio,
        )


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    goals: list[str] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        print(f"  {_format_row(row)}", flush=True)
        return row

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  {text}", flush=True)

    def find(self, store: str, scenario: str, connections: int | None) -> Row | None:
        for row in self.rows:
            if (row.store, row.scenario, row.connections) == (store, scenario, connections):
                return row
        return None


# --- helpers -------------------------------------------------------------------------------


def _peer_keys(curve: str, count: int) -> list[tuple[bytes, ec.EllipticCurvePrivateKey]]:
    peers = []
    for _ in range(count):
        private = ec.generate_private_key(CURVES[curve])
        der = private.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        peers.append((der, private))
    return peers


def _derive_body(key_id: str, peer_der: bytes) -> dict[str, Any]:
    return {
        "KeyId": key_id,
        "KeyAgreementAlgorithm": "ECDH",
        "PublicKey": base64.b64encode(peer_der).decode(),
    }


def _ratio(value: float, reference: float) -> str:
    return f"{value / reference:.0%}" if reference else "n/a"


class SignedBatch:
    """A data file of pre-signed requests, signed again when its signatures get old."""

    def __init__(self, path: Path, sign: Callable[[], list[bytes]]) -> None:
        self.path = path
        self._sign = sign
        self._signed_at = -1e9
        self.warmed = False

    def fresh(self, needed_seconds: float) -> Path:
        if time.monotonic() - self._signed_at + needed_seconds > SIGNATURE_LIFETIME:
            write_requests(self.path, self._sign())
            self._signed_at = time.monotonic()
        return self.path


WARMUP_SECONDS = 1.0  # an unrecorded wrk run before a batch's first figure (0 in --smoke)


def _wrk(server: BenchServer, batch: SignedBatch, connections: int, duration: float) -> WrkResult:
    if not batch.warmed and WARMUP_SECONDS:
        run_wrk(server.port, batch.fresh(WARMUP_SECONDS + 15), 16, WARMUP_SECONDS)
    batch.warmed = True
    result = run_wrk(server.port, batch.fresh(duration + 15), connections, duration)
    if result.socket_errors:
        print(f"  warning: wrk {connections} conns: {result.socket_errors}", flush=True)
    return result


def _bulk(
    report: Report,
    store: str,
    signer: Signer,
    operation: str,
    body: dict[str, Any],
    total: int,
    work: Path,
) -> tuple[int, float]:
    """Create `total` things by replaying one signed request (fresh per chunk); (done, per s).

    A failed creation is reported (with the first answers) and made up for, not fatal.
    """
    done, seconds, failed = 0, 0.0, 0
    errors = work / f"bulk-{operation}.done-errors.txt"
    while done < total:
        chunk = min(CREATE_CHUNK, total - done)
        data = write_requests(work / f"bulk-{operation}.req", [signer.raw(operation, body)])
        # bounded in time too: the replayed signature must not expire mid-chunk
        result = run_wrk(
            signer.port, data, 32, SIGNATURE_LIFETIME - 40, limit=chunk, allow_errors=True
        )
        if result.non_2xx:
            failed += result.non_2xx
            if failed == result.non_2xx and errors.exists():
                first = errors.read_text().strip().splitlines()[:2]
                report.note(f"{store}: bulk {operation} failures, first answers: {first}")
        done += result.requests - result.non_2xx
        seconds += result.seconds
    if failed:
        report.note(f"{store}: bulk {operation}: {failed} of {done + failed} answers were not 2xx")
    return done, done / seconds if seconds else 0.0


def _list_keys(signer: Signer) -> list[str]:
    keys: list[str] = []
    marker: str | None = None
    while True:
        body: dict[str, Any] = {"Limit": 1000}
        if marker:
            body["Marker"] = marker
        page = signer.call("ListKeys", body)
        keys += [k["KeyId"] for k in page["Keys"]]
        if not page.get("Truncated"):
            return keys
        marker = page["NextMarker"]


def _count_grants(signer: Signer, key_id: str) -> int:
    count, marker = 0, None
    while True:
        body: dict[str, Any] = {"KeyId": key_id, "Limit": 100}
        if marker:
            body["Marker"] = marker
        page = signer.call("ListGrants", body)
        count += len(page["Grants"])
        if not page.get("Truncated"):
            return count
        marker = page["NextMarker"]


def _check_derive(signer: Signer, key_id: str, peer: tuple[bytes, Any]) -> None:
    """One derive through the API must equal the peer's own ECDH with the key's public key."""
    answer = signer.call("DeriveSharedSecret", _derive_body(key_id, peer[0]))
    public = signer.call("GetPublicKey", {"KeyId": key_id})["PublicKey"]
    kms_public = load_der_public_key(base64.b64decode(public))
    assert isinstance(kms_public, ec.EllipticCurvePublicKey)
    if base64.b64decode(answer["SharedSecret"]) != peer[1].exchange(ec.ECDH(), kms_public):
        raise BenchError("DeriveSharedSecret returned a secret the peer does not compute")


def _rss_note(report: Report, store: str, server: BenchServer, when: str) -> float:
    sizes = server.worker_rss_mb()
    report.note(
        f"{store}: worker RSS {when}: "
        + ", ".join(f"{size:.0f} MB" for size in sizes)
        + f" ({len(sizes)} workers)"
    )
    return max(sizes, default=0.0)


@contextmanager
def _server(
    work: Path, name: str, workers: int, database_url: str | None, throttle: str = RAISED_QUOTAS
) -> Iterator[BenchServer]:
    server = BenchServer(work / name, workers, database_url, throttle=throttle)
    try:
        server.start()
        yield server
    except BaseException:
        print(f"--- server log ({server.log_path}) ---\n{server.log()}", file=sys.stderr)
        raise
    finally:
        server.stop()


# --- scenarios -----------------------------------------------------------------------------


def bench_store(
    report: Report, store: str, database_url: str | None, args: argparse.Namespace, work: Path
) -> None:
    workers, duration = args.workers, args.duration
    print(f"\n{store}: qkms serve --workers {workers}", flush=True)
    with _server(work, f"data-{store.lower()}", workers, database_url) as server:
        signer = server.signer()
        peers = {curve: _peer_keys(curve, 64) for curve in KEY_SPECS}
        single: dict[str, str] = {}
        for curve, spec in KEY_SPECS.items():
            created = signer.call("CreateKey", {"KeySpec": spec, "KeyUsage": "KEY_AGREEMENT"})
            key_id = created["KeyMetadata"]["KeyId"]
            single[curve] = key_id
            _check_derive(signer, key_id, peers[curve][0])
            batch = SignedBatch(
                work / f"derive-{curve}.req",
                lambda k=key_id, c=curve: signer.raw_many(  # type: ignore[misc]
                    "DeriveSharedSecret", [_derive_body(k, der) for der, _ in peers[c]]
                ),
            )
            raws = []
            for connections in CONNECTIONS:
                # The ceiling is measured right before each figure it is compared with, so the
                # ratio holds even when the machine's load drifts during the run.
                raws.append(raw_ecdh_rate(curve, workers, max(1.0, duration / 2)))
                result = _wrk(server, batch, connections, duration)
                ratio = f"e2e/raw {_ratio(result.requests_per_second, raws[-1])}"
                report.add(Row.of(store, f"derive {curve}, 1 key", result, ratio))
            if report.find("in-process", f"raw ECDH {curve}", None) is None:
                raw_row = Row("in-process", f"raw ECDH {curve}", None, statistics.median(raws))
                raw_row.ratio = "median of " + ", ".join(f"{r:,.0f}" for r in raws)
                report.rows.insert(len(report.rows) - len(CONNECTIONS), raw_row)
                print(f"  {_format_row(raw_row)}", flush=True)
            if curve == "P-256" and args.profile:
                profile(report, server, batch, duration, work)

        describe = SignedBatch(
            work / "describe.req",
            lambda: [signer.raw("DescribeKey", {"KeyId": single["P-256"]})],
        )
        report.add(Row.of(store, "DescribeKey", _wrk(server, describe, 16, duration)))
        create_body = {"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"}
        create = SignedBatch(work / "create.req", lambda: [signer.raw("CreateKey", create_body)])
        create_result = _wrk(server, create, 16, duration)
        report.add(Row.of(store, "CreateKey", create_result))
        if store == "SQLite":
            _goal(
                report,
                create_result.requests_per_second >= 1000,
                f"CreateKey on SQLite: {create_result.requests_per_second:,.0f}/s (goal >= 1,000/s)",
            )
        rss_single = _rss_note(report, store, server, "after single-key runs")

        if args.grants:
            bench_grants(report, store, server, args.grants, duration, work)

        if args.keys:
            bench_many_keys(report, store, server, args.keys, single, duration, work)
        else:
            _goal(report, rss_single <= 200, f"{store}: max worker RSS {rss_single:.0f} MB")


def bench_grants(
    report: Report, store: str, server: BenchServer, grants: int, duration: float, work: Path
) -> None:
    """Derive by a user whose only access is one grant among `grants` on the key."""
    admin = server.signer()
    server.admin("create-user", "--account", ACCOUNT, "--user", "bench-grantee")
    server.admin("create-user", "--account", ACCOUNT, "--user", "bench-other")
    created = server.admin("create-access-key", "--account", ACCOUNT, "--user", "bench-grantee")
    key_id_match = re.search(r'"AccessKeyId":\s*"([^"]+)"', created)
    secret_match = re.search(r'"SecretAccessKey":\s*"([^"]+)"', created)
    if not (key_id_match and secret_match):
        raise BenchError(f"cannot read qkms admin create-access-key's output: {created!r}")
    grantee = server.signer(key_id_match[1], secret_match[1])
    grantee_arn = f"arn:verenc:{ACCOUNT}:user/bench-grantee"
    other_arn = f"arn:verenc:{ACCOUNT}:user/bench-other"
    spec = {"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"}
    one = admin.call("CreateKey", spec)["KeyMetadata"]["KeyId"]
    many = admin.call("CreateKey", spec)["KeyMetadata"]["KeyId"]
    grant = {"Operations": ["DeriveSharedSecret"]}
    print(f"  creating {grants - 1:,} grants on one key...", flush=True)
    _, rate = _bulk(
        report,
        store,
        admin,
        "CreateGrant",
        {"KeyId": many, "GranteePrincipal": other_arn, **grant},
        grants - 1,
        work,
    )
    report.add(Row(store, "CreateGrant (bulk, 32 conns)", 32, rate))
    for key_id in (one, many):
        admin.call("CreateGrant", {"KeyId": key_id, "GranteePrincipal": grantee_arn, **grant})
    counted = _count_grants(admin, many)
    report.note(f"{store}: {counted:,} grants on the many-grants key")
    time.sleep(1.5)  # grants reach every worker within 1 s (DESIGN §7)
    peers = _peer_keys("P-256", 64)
    for label, key_id in (("1 grant", one), (f"{counted:,} grants", many)):
        batch = SignedBatch(
            work / f"grants-{key_id}.req",
            lambda k=key_id: grantee.raw_many(  # type: ignore[misc]
                "DeriveSharedSecret", [_derive_body(k, der) for der, _ in peers]
            ),
        )
        for connections in (1, 16):
            result = _wrk(server, batch, connections, duration)
            ratio = ""
            if key_id == many:
                base = report.find(store, "derive P-256 as grantee, 1 grant", connections)
                ratio = f"vs 1 grant {_ratio(result.requests_per_second, base.rate if base else 0)}"
            report.add(Row.of(store, f"derive P-256 as grantee, {label}", result, ratio))


def bench_many_keys(
    report: Report,
    store: str,
    server: BenchServer,
    keys: int,
    single: dict[str, str],
    duration: float,
    work: Path,
) -> None:
    """Derive spread uniformly over `keys` P-256 keys (shuffled, so nearly every call misses)."""
    signer = server.signer()
    others = {single["P-384"]}
    existing = [k for k in _list_keys(signer) if k not in others]
    missing = keys - len(existing)
    if missing > 0:
        print(f"  creating {missing:,} keys...", flush=True)
        body = {"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"}
        _, rate = _bulk(report, store, signer, "CreateKey", body, missing, work)
        report.add(Row(store, "CreateKey (bulk, 32 conns)", 32, rate))
        existing = [k for k in _list_keys(signer) if k not in others]
    # Keys made by CreateGrant runs are P-256 too; every key here can derive with P-256 peers.
    chosen = existing[:keys]
    random.Random(6).shuffle(chosen)
    report.note(
        f"{store}: {len(existing):,} P-256 keys in the store; requests cycle over {len(chosen):,}"
    )
    peers = [der for der, _ in _peer_keys("P-256", 256)]

    def sign() -> list[bytes]:
        started = time.monotonic()
        bodies = [_derive_body(k, peers[i % len(peers)]) for i, k in enumerate(chosen)]
        signed = signer.raw_many("DeriveSharedSecret", bodies)
        print(
            f"  signed {len(signed):,} requests in {time.monotonic() - started:.1f} s", flush=True
        )
        return signed

    batch = SignedBatch(work / "derive-many.req", sign)
    label = f"derive P-256, {len(chosen):,} keys uniform"
    for connections in CONNECTIONS:
        result = _wrk(server, batch, connections, duration)
        base = report.find(store, "derive P-256, 1 key", connections)
        ratio = f"vs 1 key {_ratio(result.requests_per_second, base.rate if base else 0)}"
        report.add(Row.of(store, label, result, ratio))
        if connections == 16 and base:
            share = result.requests_per_second / base.rate
            _goal(
                report,
                share >= 0.8,
                f"{store}: {len(chosen):,} keys uniform at 16 conns = {share:.0%} of 1 key (goal >= 80%)",
            )
    rss = _rss_note(report, store, server, f"after the {len(chosen):,}-key runs")
    _goal(report, rss <= 200, f"{store}: max worker RSS {rss:.0f} MB (goal <= 200 MB)")


def profile(
    report: Report, server: BenchServer, batch: SignedBatch, duration: float, work: Path
) -> None:
    """py-spy on every worker during a P-256 derive at 16 connections: top self-time functions."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        report.note("profile: py-spy not installed (.venv/bin/pip install py-spy); skipped")
        return
    assert server.process is not None
    out = work / "profile.txt"
    seconds = max(2, round(duration))
    spy = subprocess.Popen(
        [
            py_spy, "record", "--pid", str(server.process.pid), "--subprocesses",
            "--nonblocking", "--format", "raw", "--rate", "200",
            "--duration", str(seconds), "--output", str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    time.sleep(0.5)
    _wrk(server, batch, 16, seconds)
    _, err = spy.communicate(timeout=seconds + 60)
    if spy.returncode != 0 or not out.exists():
        report.note(f"profile: py-spy failed: {err.strip()[-300:]}")
        return
    self_time: Counter[str] = Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        leaf = stack.split(";")[-1]
        leaf = re.sub(r":\d+\)$", ")", leaf)  # one entry per function, not per line
        self_time[leaf] += int(count)
        total += int(count)
    print(f"\nProfile: P-256 derive, 16 connections, all workers, {total} samples (self time)")
    lines = []
    for name, samples in self_time.most_common(15):
        lines.append(f"  {samples / total:6.1%}  {name}")
    print("\n".join(lines), flush=True)
    report.notes.append("profile top 15 (self time):\n" + "\n".join(lines))


def _goal(report: Report, met: bool, text: str) -> None:
    report.goals.append(f"[{'met' if met else 'NOT met'}] {text}")


def _postgres_url(given: str | None) -> tuple[str | None, str]:
    """A usable PostgreSQL URL with a private schema, or None and the reason."""
    try:
        import psycopg
    except ImportError:
        return None, "psycopg is not installed (pip install -e '.[postgres]')"
    candidates = [given] if given else [
        os.environ.get("QKMS_BENCH_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test",
        "postgresql://127.0.0.1:5432/test",
    ]  # fmt: skip
    errors = []
    for url in candidates:
        if url is None:
            continue
        try:
            with psycopg.connect(url, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            errors.append(f"{url}: {str(exc).strip().splitlines()[0] if str(exc) else exc!r}")
            continue
        separator = "&" if "?" in url else "?"
        return f"{url}{separator}schema=qkms_bench_{uuid.uuid4().hex[:12]}", ""
    return None, "; ".join(errors)


def _drop_schema(url: str) -> None:
    import psycopg
    from psycopg import sql

    base, _, query = url.partition("?")
    schema = re.search(r"schema=([A-Za-z0-9_]+)", query)
    rest = "&".join(p for p in query.split("&") if p and not p.startswith("schema="))
    if not schema:
        return
    with psycopg.connect(base + (f"?{rest}" if rest else ""), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema[1])))


def bench_postgres(report: Report, args: argparse.Namespace, work: Path) -> None:
    help_text = subprocess.run(
        [sys.executable, "-m", "qkms", "serve", "--help"], capture_output=True, text=True
    ).stdout
    described = re.search(r"--database-url DATABASE_URL\s+([^\n]*)", help_text)
    if described and "not available" in described[1]:
        report.note("PostgreSQL: not available in this build")
        return
    url, reason = _postgres_url(args.database_url)
    if url is None:
        report.note(f"PostgreSQL: not reachable ({reason})")
        return
    try:
        bench_store(report, "PostgreSQL", url, args, work)
    except BenchError as exc:
        if "not available" in str(exc):
            report.note("PostgreSQL: not available in this build")
            return
        raise
    finally:
        _drop_schema(url)


# --- output --------------------------------------------------------------------------------


def _format_row(row: Row) -> str:
    conns = "" if row.connections is None else str(row.connections)
    p50 = "" if row.p50_ms is None else f"{row.p50_ms:.2f}"
    p99 = "" if row.p99_ms is None else f"{row.p99_ms:.2f}"
    return f"{row.store:<11} {row.scenario:<42} {conns:>5} {row.rate:>10,.0f} {p50:>8} {p99:>8}  {row.ratio}"


def _machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    wrk_version = subprocess.run([ensure_wrk(), "-v"], capture_output=True, text=True)
    version = (wrk_version.stdout + wrk_version.stderr).strip().splitlines()
    return {
        "date": datetime.date.today().isoformat(),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "wrk": version[0].split(" [")[0] if version else "wrk",
    }


def _markdown(
    report: Report, machine: dict[str, str], args: argparse.Namespace, command: str
) -> str:
    lines = [
        f"Measured {machine['date']} on {machine['nproc']} cores ({machine['cpu']}), "
        f"Python {machine['python']}, {machine['wrk']} on the same cores, "
        f"`qkms serve --workers {args.workers}`, {args.duration:g} s per figure; "
        f"command: `{command}`.",
        "",
        "| Store | Scenario | Connections | Requests/s | p50 ms | p99 ms | Ratio |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for row in report.rows:
        lines.append(
            f"| {row.store} | {row.scenario} | {row.connections or ''} | {row.rate:,.0f} | "
            f"{'' if row.p50_ms is None else f'{row.p50_ms:.2f}'} | "
            f"{'' if row.p99_ms is None else f'{row.p99_ms:.2f}'} | {row.ratio} |"
        )
    lines.append("")
    lines += [f"- {note}" for note in report.notes if "\n" not in note]
    lines += [f"- {goal}" for goal in report.goals]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="server workers and raw ECDH processes (default: one per core)",
    )
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds per figure (default 10)"
    )
    parser.add_argument(
        "--keys",
        type=int,
        default=100_000,
        help="keys for the uniform run (default 100000; 0 skips)",
    )
    parser.add_argument(
        "--grants", type=int, default=10_000, help="grants on one key (default 10000; 0 skips)"
    )
    parser.add_argument(
        "--database-url", help="PostgreSQL URL (default: 127.0.0.1:5432/test if it answers)"
    )
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--smoke", action="store_true", help="a few seconds: 1 s figures, no 100k/grants/PostgreSQL"
    )
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the P-256 derive at 16 connections"
    )
    parser.add_argument(
        "--markdown", type=Path, help="also write the results as a Markdown table here"
    )
    args = parser.parse_args(argv)  # fmt: skip
    if args.smoke:
        args.duration, args.keys, args.grants, args.skip_postgres = 1.0, 0, 0, True
    command = "python -m benchmarks.run " + " ".join(sys.argv[1:] if argv is None else argv)

    machine = _machine()
    print(
        f"QKMS benchmark {machine['date']}: {machine['nproc']} cores ({machine['cpu']}), "
        f"Python {machine['python']}, {machine['wrk']}; workers={args.workers}, "
        f"{args.duration:g} s per figure. wrk shares the cores with the server; raw ECDH "
        f"(load_der_public_key + exchange) runs on {args.workers} processes alone.",
        flush=True,
    )
    report = Report()
    if args.smoke:
        global WARMUP_SECONDS
        WARMUP_SECONDS = 0.0

    with tempfile.TemporaryDirectory(prefix="qkms-bench-") as tmp:
        work = Path(tmp)
        bench_store(report, "SQLite", None, args, work)
        report.note(f"quotas for the figures above: --throttle {RAISED_QUOTAS} (buckets consulted)")
        from benchmarks.throttling import bench_throttling  # it builds on this module's helpers

        bench_throttling(report, args, work)
        if not args.skip_postgres:
            bench_postgres(report, args, work)

    p256 = [r for r in report.rows if r.store == "SQLite" and r.scenario == "derive P-256, 1 key"]
    if p256:
        best = max(p256, key=lambda r: r.rate)
        share = float(best.ratio.split()[-1].rstrip("%")) / 100
        _goal(
            report,
            share >= 0.5,
            f"P-256 end to end (best, {best.connections} conns) = {share:.0%} of raw ECDH measured "
            "just before it (goal >= 50%)",
        )
    for row in report.rows:
        if (
            row.store == "SQLite"
            and row.scenario == "derive P-256, 1 key"
            and row.p99_ms is not None
        ):
            limit = {1: 2.0, 16: 5.0}.get(row.connections or 0)
            if limit:
                _goal(
                    report,
                    row.p99_ms <= limit,
                    f"P-256 p99 at {row.connections} conn(s): {row.p99_ms:.2f} ms (goal <= {limit:g} ms)",
                )

    print("\nResults (requests/s; latency in ms; ratios measured side by side in this run)")
    print(
        f"{'store':<11} {'scenario':<42} {'conns':>5} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8}  ratio"
    )
    for row in report.rows:
        print(_format_row(row))
    print("\nNotes")
    for note in report.notes:
        print(f"  {note}")
    print("\nGoals (reported, not asserted)")
    for goal in report.goals:
        print(f"  {goal}")
    if args.markdown:
        args.markdown.write_text(_markdown(report, machine, args, command))
        print(f"\nMarkdown table written to {args.markdown}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        sys.exit(1)
