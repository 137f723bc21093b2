"""What request quotas cost: DeriveSharedSecret P-256 with throttling on and off, side by side.

Two `qkms serve` processes run at once, one with AWS's default quotas (only the ECC class raised
above what the cores can drive, so no call is refused and every one takes a token from the
shared bucket file) and one with `--throttle off`; wrk alternates between them, so load drift
on a shared machine falls on both alike. The ratio of the medians is the cost (goal: < 2%).
A last run against AWS's defaults exactly shows the ECC quota biting (2xx per second).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from benchmarks.run import (
    Report,
    Row,
    SignedBatch,
    _derive_body,
    _goal,
    _peer_keys,
    _server,
    _wrk,
)
from benchmarks.server import BenchServer
from benchmarks.wrk import run_wrk

__all__ = ["bench_throttling"]

ON = "ecc=1000000"  # every other quota at AWS's default
CONNECTIONS = 16
STORE = "SQLite"


def _derive_batch(server: BenchServer, name: str, work: Path) -> SignedBatch:
    signer = server.signer()
    created = signer.call("CreateKey", {"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"})
    key_id = created["KeyMetadata"]["KeyId"]
    peers = [der for der, _ in _peer_keys("P-256", 64)]
    return SignedBatch(
        work / f"throttle-{name}.req",
        lambda: signer.raw_many("DeriveSharedSecret", [_derive_body(key_id, p) for p in peers]),
    )


def bench_throttling(report: Report, args: argparse.Namespace, work: Path) -> None:
    workers, duration = args.workers, args.duration
    rounds = 1 if args.smoke else 3
    print(
        f"\nThrottling on vs off: {rounds} alternating round(s) at {CONNECTIONS} conns", flush=True
    )
    rates: dict[str, list[float]] = {"on": [], "off": []}
    with (
        _server(work, "data-throttle-on", workers, None, throttle=ON) as on,
        _server(work, "data-throttle-off", workers, None, throttle="off") as off,
    ):
        batches = {"on": (on, _derive_batch(on, "on", work))}
        batches["off"] = (off, _derive_batch(off, "off", work))
        for _ in range(rounds):
            for name, (server, batch) in batches.items():
                rates[name].append(_wrk(server, batch, CONNECTIONS, duration).requests_per_second)
    on_rate, off_rate = statistics.median(rates["on"]), statistics.median(rates["off"])
    for name, label, rate in (
        ("on", "derive P-256, throttling on", on_rate),
        ("off", "derive P-256, throttling off", off_rate),
    ):
        row = Row(STORE, label, CONNECTIONS, rate)
        row.ratio = "median of " + ", ".join(f"{r:,.0f}" for r in rates[name])
        row.ratio += f" (--throttle {ON}, other quotas AWS's)" if name == "on" else ""
        report.add(row)
    cost = 1 - on_rate / off_rate if off_rate else 0.0
    report.note(f"throttling on/off = {on_rate / off_rate:.1%} (cost {cost:.1%})")
    _goal(report, cost < 0.02, f"throttling costs {cost:.1%} of derive throughput (goal < 2%)")

    with _server(work, "data-throttle-aws", workers, None, throttle="") as shipped:
        batch = _derive_batch(shipped, "aws", work)
        result = run_wrk(
            shipped.port, batch.fresh(duration + 15), CONNECTIONS, duration, allow_errors=True
        )
    admitted = (result.requests - result.non_2xx) / result.seconds if result.seconds else 0.0
    report.add(
        Row(
            STORE,
            "derive P-256, AWS default quotas",
            CONNECTIONS,
            admitted,
            ratio=f"2xx/s; {result.non_2xx:,} of {result.requests:,} throttled",
        )
    )
