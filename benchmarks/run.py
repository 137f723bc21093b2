"""The QKMS benchmark: one command, figures and ratios measured side by side.

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
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
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

from benchmarks.budget import Budget, format_budgets, sample_budget, sample_budget_in_process
from benchmarks.floor import (
    FLOOR_STORE,
    FloorServer,
    add_floor_arguments,
    floor_scenario,
    floor_servers,
)
from benchmarks.goals import DESCRIBE_BASELINE, GoalInputs, format_goals, judge
from benchmarks.raw_ecdh import CURVES, raw_ecdh_rate
from benchmarks.server import RAISED_QUOTAS, BenchError, BenchServer, Signer
from benchmarks.wrk import WrkResult, ensure_wrk, run_wrk, write_requests

ACCOUNT = "111122223333"
KEY_SPECS = {"P-256": "ECC_NIST_P256", "P-384": "ECC_NIST_P384"}
CONNECTIONS = (1, 16, 64)
SIGNATURE_LIFETIME = 240.0  # seconds we trust a pre-signed request (the server allows 300)
WARM_PASSES = 4  # over the many keys before their warm figure: each worker misses ~6% after
CREATE_CHUNK = 20_000  # keys or grants per replayed signature in bulk creation
QKMS_SERVER = "uvicorn"  # the server software `qkms serve` runs on: its floor is the reference


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
    max_rss_mb: dict[str, float] = field(default_factory=dict)  # store -> after many keys
    budget: list[str] = field(default_factory=list)  # the CPU budget table, when profiled
    cpu_us: dict[str, float] = field(default_factory=dict)  # budget label -> us per request
    throttling_cost: float | None = None  # from benchmarks.throttling's paired rounds
    metrics_cost: float | None = None  # from benchmarks.observability's paired rounds
    access_log_cost: float | None = None  # the same, for the per-request log line

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


RAW_SMOKE_SECONDS = 0.25  # --smoke only checks that each raw in-process rate still comes out


def raw_seconds(args: argparse.Namespace) -> float:
    """How long a raw in-process rate beside a figure is measured."""
    return RAW_SMOKE_SECONDS if args.smoke else max(1.0, args.duration / 2)


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
    work: Path,
    name: str,
    workers: int,
    database_url: str | None,
    throttle: str = RAISED_QUOTAS,
    extra_args: tuple[str, ...] = (),
) -> Iterator[BenchServer]:
    server = BenchServer(
        work / name, workers, database_url, throttle=throttle, extra_args=extra_args
    )
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
    report: Report,
    store: str,
    database_url: str | None,
    args: argparse.Namespace,
    work: Path,
    floors: list[FloorServer] | None = None,
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
            raws: list[float] = []
            for connections in CONNECTIONS:
                # The ceiling is measured right before each figure it is compared with, so the
                # ratio holds even when the machine's load drifts during the run (--smoke, which
                # only checks that every row still comes out: once per curve, briefly).
                if not (args.smoke and raws):
                    raws.append(raw_ecdh_rate(curve, workers, raw_seconds(args)))
                result = _wrk(server, batch, connections, duration)
                ratio = f"e2e/raw {_ratio(result.requests_per_second, raws[-1])}"
                qkms = report.add(Row.of(store, f"derive {curve}, 1 key", result, ratio))
                measure_floors(report, floors or [], curve, batch, qkms, raws[-1], duration)
            if report.find("in-process", f"raw ECDH {curve}", None) is None:
                raw_row = Row("in-process", f"raw ECDH {curve}", None, statistics.median(raws))
                raw_row.ratio = "median of " + ", ".join(f"{r:,.0f}" for r in raws)
                first = [r.scenario for r in report.rows].index(f"derive {curve}, 1 key")
                report.rows.insert(first, raw_row)
                print(f"  {_format_row(raw_row)}", flush=True)
            if curve == "P-256" and args.profile:
                cpu_budget(report, server, floors or [], batch, duration, work, args.profiler)

        describe = SignedBatch(
            work / "describe.req",
            lambda: [signer.raw("DescribeKey", {"KeyId": single["P-256"]})],
        )
        report.add(Row.of(store, "DescribeKey", _wrk(server, describe, 16, duration)))
        create_body = {"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"}
        create = SignedBatch(work / "create.req", lambda: [signer.raw("CreateKey", create_body)])
        create_result = _wrk(server, create, 16, duration)
        report.add(Row.of(store, "CreateKey", create_result))
        _rss_note(report, store, server, "after single-key runs")

        if args.grants:
            bench_grants(report, store, server, args.grants, duration, work)

        if args.keys:
            bench_many_keys(report, store, server, args.keys, single, duration, work)


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
    # First use: nearly every call is the key's first in its worker (a store round trip, an
    # unwrap, a policy evaluation).
    label = f"derive P-256, {len(chosen):,} keys uniform, first use"
    for connections in CONNECTIONS:
        result = _wrk(server, batch, connections, duration)
        base = report.find(store, "derive P-256, 1 key", connections)
        ratio = f"vs 1 key {_ratio(result.requests_per_second, base.rate if base else 0)}"
        report.add(Row.of(store, label, result, ratio))
    # Steady state: every key in use, so in every worker's key cache. The workers share the
    # calls at random, so after n passes over the keys a worker has not seen 1/2^n of them.
    started = time.monotonic()
    for _ in range(WARM_PASSES):
        run_wrk(server.port, batch.fresh(120), 64, SIGNATURE_LIFETIME - 40, limit=len(chosen))
    report.note(
        f"{store}: {WARM_PASSES} passes over the {len(chosen):,} keys before the warm figure "
        f"({time.monotonic() - started:.0f} s)"
    )
    warm = f"derive P-256, {len(chosen):,} keys uniform, warm"
    result = _wrk(server, batch, 16, duration)
    base = report.find(store, "derive P-256, 1 key", 16)
    ratio = f"vs 1 key {_ratio(result.requests_per_second, base.rate if base else 0)}"
    report.add(Row.of(store, warm, result, ratio))
    rss = _rss_note(report, store, server, f"after the {len(chosen):,}-key runs")
    report.max_rss_mb[store] = rss


def measure_floors(
    report: Report,
    floors: list[FloorServer],
    curve: str,
    batch: SignedBatch,
    qkms: Row,
    raw: float,
    duration: float,
) -> None:
    """Each floor server on the same requests and connections, right after QKMS's figure."""
    connections = qkms.connections or 1
    for floor in floors:
        if floor.connections and connections not in floor.connections:
            continue
        data = batch.fresh(duration + WARMUP_SECONDS + 30)
        if not floor.warmed and WARMUP_SECONDS:
            floor.measure(data, 16, WARMUP_SECONDS)
        floor.warmed = True
        result = floor.measure(data, connections, duration)
        ratio = (
            f"QKMS/floor {_ratio(qkms.rate, result.requests_per_second)}, "
            f"floor/raw {_ratio(result.requests_per_second, raw)}"
        )
        report.add(Row.of(FLOOR_STORE, floor_scenario(floor.server, curve), result, ratio))


def cpu_budget(
    report: Report,
    server: BenchServer,
    floors: list[FloorServer],
    batch: SignedBatch,
    duration: float,
    work: Path,
    profiler: str = "cpu",
) -> None:
    """Sample every worker, QKMS then its server's floor, P-256 derive at 16 connections."""
    assert server.process is not None
    seconds = max(2.0, duration)
    targets: list[tuple[str, int, list[int], Callable[[float], int]]] = [
        (
            "QKMS",
            server.process.pid,
            server.worker_pids() or [server.process.pid],
            lambda s: _wrk(server, batch, 16, s).requests,
        )
    ]
    for floor in floors:
        if floor.server == QKMS_SERVER and floor.process is not None:
            targets.append(
                (
                    f"floor ({floor.server})",
                    floor.process.pid,
                    floor.worker_pids(),
                    lambda s, f=floor: f.measure(batch.fresh(s + 30), 16, s).requests,  # type: ignore[misc]
                )
            )
    budgets: list[Budget] = []
    for label, pid, workers, load in targets:
        if profiler == "py-spy":
            out = work / f"profile-{len(budgets)}.txt"
            budget = sample_budget(label, pid, workers, load, seconds, out)
        else:
            budget = sample_budget_in_process(label, workers, load, seconds, work / "cpu-samples")
        if isinstance(budget, str):
            report.note(f"profile: {budget}; skipped")
            return
        budgets.append(budget)
    how = "py-spy samples" if profiler == "py-spy" else "samples per slice of CPU time"
    title = f"CPU budget per request: P-256 derive, 16 connections, all workers ({how})"
    lines = format_budgets(budgets)
    print(f"\n{title}\n" + "\n".join(lines), flush=True)
    top = [
        f"  {n / budgets[0].total:6.1%}  {name}" for name, n in budgets[0].leaves.most_common(15)
    ]
    print("QKMS: top 15 functions by self time\n" + "\n".join(top), flush=True)
    report.budget = [title, *lines]
    report.cpu_us = {b.label: b.cpu_seconds * 1e6 / max(1, b.requests) for b in budgets}
    report.notes.append("profile top 15 (self time):\n" + "\n".join(top))


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
    if report.budget:
        lines += ["", "```", *report.budget, "```"]
    return "\n".join(lines) + "\n"


@contextmanager
def _floor_servers(
    report: Report, args: argparse.Namespace, work: Path
) -> Iterator[list[FloorServer]]:
    """The bare-floor servers of --floors (--smoke: at 16 connections only)."""
    connections = (16,) if args.smoke else ()
    with floor_servers(args.floors, args.workers, work, connections, report.note) as floors:
        yield floors


def goal_table(report: Report, args: argparse.Namespace) -> list[str]:
    baseline = args.describe_baseline
    source = "--describe-baseline" if baseline else f"recorded {DESCRIBE_BASELINE[1]}"
    inputs = GoalInputs(
        server=QKMS_SERVER,
        workers=args.workers,
        describe_baseline=baseline or DESCRIBE_BASELINE[0],
        describe_baseline_source=source,
        max_rss_mb=report.max_rss_mb,
        cpu_us=report.cpu_us,
        throttling_cost=report.throttling_cost,
        metrics_cost=report.metrics_cost,
        access_log_cost=report.access_log_cost,
    )
    goals = judge(report.rows, inputs)
    report.goals = [
        f"[{g.status}] {g.goal.strip()}: {g.measured}"
        if g.status
        else f"{g.goal.strip()}: {g.measured}"
        for g in goals
    ]
    return format_goals(goals, inputs)


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
        "--core-only",
        action="store_true",
        help="only the store figures (derive, DescribeKey, CreateKey, many keys, grants): no "
        "throttling, metrics/log, key-establishment or data-plane sections",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="a few seconds: 1 s figures, no 100k/grants/PostgreSQL"
    )
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the P-256 derive at 16 connections"
    )
    parser.add_argument(
        "--markdown", type=Path, help="also write the results as a Markdown table here"
    )
    add_floor_arguments(parser, DESCRIBE_BASELINE)
    parser.add_argument(
        "--profiler",
        choices=["cpu", "py-spy"],
        default="cpu",
        help="--profile's sampler: 'cpu' (in-process, one sample per slice of CPU time; "
        "default) or 'py-spy' (counts runnable threads too: inflated on a busy machine)",
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
        with _floor_servers(report, args, work) as floors:
            bench_store(report, "SQLite", None, args, work, floors)
        report.note(f"quotas for the figures above: --throttle {RAISED_QUOTAS} (buckets consulted)")
        if not args.core_only:
            from benchmarks.throttling import bench_throttling  # builds on this module's helpers

            bench_throttling(report, args, work)
            from benchmarks.observability import bench_observability  # the same paired runner

            bench_observability(report, args, work)
            from benchmarks.key_establishment import bench_key_establishment

            bench_key_establishment(report, args, work)
            from benchmarks.data_plane import bench_data_plane  # builds on this module's helpers

            bench_data_plane(report, args, work)
        if not args.skip_postgres:
            bench_postgres(report, args, work)

    print("\nResults (requests/s; latency in ms; ratios measured side by side in this run)")
    print(
        f"{'store':<11} {'scenario':<42} {'conns':>5} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8}  ratio"
    )
    for row in report.rows:
        print(_format_row(row))
    print("\nNotes")
    for note in report.notes:
        print(f"  {note}")
    if report.budget:
        print("\n" + "\n".join(report.budget))
    print("\n" + "\n".join(goal_table(report, args)))
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
