"""Instructions per DeriveSharedSecret, counted by valgrind: a figure a busy machine cannot move.

CPU time per request drifts by tens of percent on a shared 2-core machine (other processes
evict caches and steal cycles mid-request). `valgrind --tool=callgrind` counts instructions
instead: the same code, inputs and environment give the same count. The in-process driver
(`benchmarks.in_process --no-raw`) runs twice, with `--count` A and B; everything but the
requests (start-up, bootstrap, key creation, warm-up) is the same in both runs, so
(count_B - count_A) / (B - A) is the instructions of one request, QKMS's and the curve's.
Only the main thread (the event loop) is counted: a derive on a cached key runs there whole,
while the background threads (change-feed polls, usage flushes) work per second of wall time,
which valgrind stretches.

    .venv/bin/python -m benchmarks.instructions                      # this checkout
    .venv/bin/python -m benchmarks.instructions --src /path/to/other/src --src src   # side by side

Each count takes about a minute (valgrind runs Python ~50x slower). Needs valgrind (Debian).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["instructions_per_request", "main"]

_TOTALS = re.compile(r"^(?:totals|summary): (\d+)", re.MULTILINE)


def _count(src: Path, requests: int, curve: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={tmp}/callgrind.out",
            "--separate-threads=yes",
            sys.executable,
            "-m",
            "benchmarks.in_process",
            "--no-raw",
            "--rounds",
            "1",
            "--count",
            str(requests),
            "--curve",
            curve,
        ]
        environ = {**os.environ, "PYTHONPATH": str(src.resolve()), "PYTHONHASHSEED": "0"}
        done = subprocess.run(command, env=environ, capture_output=True, text=True, check=False)
        main_thread = Path(tmp) / "callgrind.out-01"
        if done.returncode != 0 or not main_thread.exists():
            raise SystemExit(f"instructions: valgrind run failed:\n{done.stderr[-2000:]}")
        match = _TOTALS.search(main_thread.read_text())
        if match is None:
            raise SystemExit(f"instructions: no totals in {main_thread}")
        return int(match.group(1))


def instructions_per_request(src: Path, low: int, high: int, curve: str) -> float:
    return (_count(src, high, curve) - _count(src, low, curve)) / (high - low)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--src",
        type=Path,
        action="append",
        help="a source tree (its src/ directory) to count; repeat to compare (default: src)",
    )
    parser.add_argument("--low", type=int, default=100, help="requests in the short run")
    parser.add_argument("--high", type=int, default=600, help="requests in the long run")
    parser.add_argument("--curve", choices=("P-256", "P-384"), default="P-256")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("instructions: needs valgrind (apt-get install valgrind)")
    sources = args.src or [Path("src")]
    results = []
    for src in sources:
        per_request = instructions_per_request(src, args.low, args.high, args.curve)
        results.append(per_request)
        print(f"{src}: {per_request / 1e6:.3f} M instructions per derive {args.curve}", flush=True)
    for src, per_request in zip(sources[1:], results[1:], strict=True):
        print(f"{src} / {sources[0]}: {per_request / results[0]:.3f}")


if __name__ == "__main__":
    main()
