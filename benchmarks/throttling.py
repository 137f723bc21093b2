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

from benchmarks.paired import (
    CONNECTIONS,
    STORE,
    Variant,
    derive_batch,
    median_row,
    paired_rates,
    paired_ratio,
)
from benchmarks.run import Report, Row, _server
from benchmarks.wrk import run_wrk
from qkms.throttling import RateLimiter, parse_throttle

__all__ = ["bench_throttling"]

ON = "ecc=1000000"  # every other quota at AWS's default


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
    variants = [Variant("throttle-on", throttle=ON), Variant("throttle-off", throttle="off")]
    rates = paired_rates(args, work, "Throttling on vs off", variants)
    report.add(
        median_row(
            rates,
            "throttle-on",
            "derive P-256, throttling on",
            f" (--throttle {ON}, other quotas AWS's)",
        )
    )
    report.add(median_row(rates, "throttle-off", "derive P-256, throttling off"))
    ratio = paired_ratio(rates, "throttle-on", "throttle-off")
    cost = 1 - ratio
    report.note(f"throttling on/off, median of paired rounds = {ratio:.1%} (cost {cost:.1%})")
    admit_us = admit_microseconds(work)
    off_rate = statistics.median(rates["throttle-off"])
    share = admit_us * off_rate / (workers * 1e6)  # of the server's CPU at the measured rate
    report.note(
        f"RateLimiter.admit: {admit_us:.2f} us of CPU per call in-process = {share:.2%} of "
        f"{workers} cores at {off_rate:,.0f} derives/s"
    )
    report.throttling_cost = cost

    with _server(work, "data-throttle-aws", workers, None, throttle="") as shipped:
        batch = derive_batch(shipped, "aws", work)
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
