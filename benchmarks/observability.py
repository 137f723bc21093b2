"""What metrics and the per-request log line cost: each as shipped (on) against switched off.

Three `qkms serve` processes run at once: `--no-metrics`, QKMS as shipped (metrics and the
access line on), `--no-access-log`; wrk runs DeriveSharedSecret P-256 at 16 connections on
them in that order, then in reverse (`benchmarks.paired`), so the shipped server is the
neighbour of each other in every round. Each feature's cost is 1 - the median over rounds of
shipped / off (goal for metrics: < 2%). Backing it up, the CPU time of one `record_request`
and of one access line (built, encoded and written by the shipped text formatter to a file,
as the servers' stderr is here), measured in a fresh process: prometheus_client picks its
multiprocess storage when it is first imported, from the environment.

    python -m benchmarks.observability --calls 50000   # the in-process figures alone, as JSON
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.paired import Variant, median_row, paired_rates, paired_ratio
from benchmarks.run import Report
from benchmarks.server import BenchError

__all__ = ["bench_observability", "per_call_microseconds"]

SHIPPED = "shipped"
NO_METRICS = "no-metrics"
NO_ACCESS_LOG = "no-access-log"
ROOT = Path(__file__).resolve().parents[1]


def per_call_microseconds(calls: int) -> dict[str, float]:
    """CPU us per call of `record_request` and of one access line, measured in a new process."""
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.observability", "--calls", str(calls)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise BenchError(f"the per-call measurement failed: {done.stderr.strip()[-2000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _record_request_us(directory: Path, calls: int) -> float:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)  # before prometheus_client loads
    from qkms import metrics
    from qkms.operations.runtime.registry import OPERATIONS

    if not metrics.install(OPERATIONS):
        raise BenchError("metrics did not install in the measuring process")
    started = time.process_time()
    for _ in range(calls):
        metrics.record_request("DeriveSharedSecret", None, 0.0031)
    return (time.process_time() - started) / calls * 1e6


def _access_line_us(log_path: Path, calls: int) -> float:
    from qkms.audit.ids import random_uuid
    from qkms.logs import ACCESS_LOGGER, configure_logging
    from qkms.wire.pipeline import _log_access

    with log_path.open("w") as log_file:
        sys.stderr = log_file  # the shipped handler writes to stderr: here a file, as in a run
        try:
            configure_logging("info", "text", access_log=True)
        finally:
            sys.stderr = sys.__stderr__
        access_log = logging.getLogger(ACCESS_LOGGER)
        started = time.process_time()
        for _ in range(calls):
            # What ApiPipeline.serve does after each answer (qkms.wire.pipeline): the same fields.
            if access_log.isEnabledFor(logging.INFO):
                _log_access(
                    {
                        "request_id": random_uuid(),
                        "operation": "DeriveSharedSecret",
                        "status": 200,
                        "error": None,
                        "access_key_id": "QKMSBENCHADMIN000001",
                        "ms": round(3.1234567, 3),
                    }
                )
        return (time.process_time() - started) / calls * 1e6


def bench_observability(report: Report, args: argparse.Namespace, work: Path) -> None:
    variants = [
        Variant(NO_METRICS, extra_args=("--no-metrics",)),
        Variant(SHIPPED),  # in the middle: the neighbour of both others in every round
        Variant(NO_ACCESS_LOG, extra_args=("--no-access-log",)),
    ]
    title = "Metrics and the per-request log line, each as shipped (on) vs off"
    rates = paired_rates(args, work, title, variants)
    report.add(median_row(rates, SHIPPED, "derive P-256, as shipped", " (metrics, access log)"))
    costs = {}
    for name, feature in ((NO_METRICS, "metrics"), (NO_ACCESS_LOG, "access log")):
        ratio = paired_ratio(rates, SHIPPED, name)
        costs[name] = 1 - ratio
        detail = f"; shipped/this, median of paired rounds {ratio:.1%}"
        report.add(median_row(rates, name, f"derive P-256, --{name}", detail))
        report.note(
            f"{feature} on/off, median of paired rounds = {ratio:.1%} (cost {1 - ratio:.1%})"
        )
    report.metrics_cost, report.access_log_cost = costs[NO_METRICS], costs[NO_ACCESS_LOG]

    per_call = per_call_microseconds(10_000 if args.smoke else 100_000)
    for name, figure, label in (
        (NO_METRICS, "record_request", "metrics.record_request"),
        (NO_ACCESS_LOG, "access_line", "one access log line (text, to a file)"),
    ):
        us, off_rate = per_call[figure], statistics.median(rates[name])
        share = us * off_rate / (args.workers * 1e6)  # of the server's CPU at the measured rate
        report.note(
            f"{label}: {us:.2f} us of CPU per call in-process = {share:.2%} of "
            f"{args.workers} cores at {off_rate:,.0f} derives/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description="CPU us per call of record_request and of one access line"
    )
    parser.add_argument("--calls", type=int, default=100_000)
    calls = parser.parse_args().calls
    with tempfile.TemporaryDirectory(prefix="qkms-observability-") as tmp:
        figures = {
            "record_request": _record_request_us(Path(tmp), calls),
            "access_line": _access_line_us(Path(tmp) / "access.log", calls),
        }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
