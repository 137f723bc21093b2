"""What request quotas cost: DeriveSharedSecret P-256 with throttling on and off, side by side.

Two `qkms serve` processes run at once, one with AWS's default quotas (only the ECC class raised
above what the cores can drive, so no call is refused and every one takes a token from the
shared bucket file) and one with `--throttle off`; wrk alternates between them, so load drift
on a shared machine falls on both alike. The median of the paired rounds' ratios is the cost
(goal: < 2%); the CPU time of one `RateLimiter.admit`, measured in-process, backs it up.
A last run against AWS's defaults exactly shows the ECC quota biting (2xx per second).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from benchmarks.run import (
    Report,
    Row,
    SignedBatch,
    _derive_body,
    _peer_keys,
    _server,
    _wrk,
)
from benchmarks.server import BenchServer
from benchmarks.wrk import run_wrk
from qkms.throttling import RateLimiter, parse_throttle

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


def admit_microseconds(work: Path, calls: int = 100_000) -> float:
    """CPU time of one `RateLimiter.admit` on the hot path (shared file, bucket never empty)."""
    limiter = RateLimiter.open(parse_throttle(ON, "us-east-1"), work / "admit.buckets")
    try:
        started = time.process_time()
        for _ in range(calls):
            limiter.admit("111122223333", "DeriveSharedSecret", None)
        return (time.process_time() - started) / calls * 1e6
    finally:
        limiter.close()


def bench_throttling(report: Report, args: argparse.Namespace, work: Path) -> None:
    workers, duration = args.workers, args.duration
    rounds = 1 if args.smoke else 6
    seconds = duration if args.smoke else max(2.0, duration / 2)
    print(
        f"\nThrottling on vs off: {rounds} alternating round(s) of {seconds:g} s at "
        f"{CONNECTIONS} conns",
        flush=True,
    )
    rates: dict[str, list[float]] = {"on": [], "off": []}
    with (
        _server(work, "data-throttle-on", workers, None, throttle=ON) as on,
        _server(work, "data-throttle-off", workers, None, throttle="off") as off,
    ):
        batches = {"on": (on, _derive_batch(on, "on", work))}
        batches["off"] = (off, _derive_batch(off, "off", work))
        for round_ in range(rounds):
            # on, off, off, on, ...: a drift in the machine's load falls on both alike.
            order = ("on", "off") if round_ % 2 == 0 else ("off", "on")
            for name in order:
                server, batch = batches[name]
                rates[name].append(_wrk(server, batch, CONNECTIONS, seconds).requests_per_second)
    for name, label in (("on", "throttling on"), ("off", "throttling off")):
        row = Row(STORE, f"derive P-256, {label}", CONNECTIONS, statistics.median(rates[name]))
        row.ratio = "median of " + ", ".join(f"{r:,.0f}" for r in rates[name])
        row.ratio += f" (--throttle {ON}, other quotas AWS's)" if name == "on" else ""
        report.add(row)
    # Each round's two runs are neighbours in time: the median of their ratios is the figure.
    ratio = statistics.median(a / b for a, b in zip(rates["on"], rates["off"], strict=True) if b)
    cost = 1 - ratio
    report.note(f"throttling on/off, median of paired rounds = {ratio:.1%} (cost {cost:.1%})")
    admit_us = admit_microseconds(work)
    off_rate = statistics.median(rates["off"])
    share = admit_us * off_rate / (workers * 1e6)  # of the server's CPU at the measured rate
    report.note(
        f"RateLimiter.admit: {admit_us:.2f} us of CPU per call in-process = {share:.2%} of "
        f"{workers} cores at {off_rate:,.0f} derives/s"
    )
    report.throttling_cost = cost

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
