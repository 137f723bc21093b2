"""SQLite writes per second from many threads of one process, as a CreateKey burst makes them.

`qkms serve` runs up to 8 request threads per worker; a burst of state changes has them all
writing at once. The store queues a process's writers on a lock before SQLite's own file lock
(`qkms.storage.sqlite`); this prints what a burst achieves: writes/s, p99 and the slowest
write, and how many missed the deadline.

    .venv/bin/python -m benchmarks.sqlite_writers --threads 32 --writes 40 --deadline 0.5
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from qkms.storage import SqliteKeyStore
from qkms.storage.base import StoreTimeoutError

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--writes", type=int, default=40, help="per thread")
    parser.add_argument("--deadline", type=float, default=2.0, help="the store deadline, s")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteKeyStore(Path(tmp) / "q.db", deadline_seconds=args.deadline)
        store.migrate()
        timeouts = 0
        latencies: list[float] = []
        guard = threading.Lock()

        def writer(number: int) -> None:
            nonlocal timeouts
            for index in range(args.writes):
                started = time.perf_counter()
                try:
                    store.put_meta_if_absent(f"w{number}-{index}", "x")
                except StoreTimeoutError:
                    with guard:
                        timeouts += 1
                with guard:
                    latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(args.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        store.close()
    latencies.sort()
    total = args.threads * args.writes
    print(
        f"{args.threads} threads x {args.writes} writes, deadline {args.deadline:g} s: "
        f"{total / elapsed:,.0f} writes/s, p99 {latencies[int(len(latencies) * 0.99)] * 1000:.0f} ms, "
        f"slowest {latencies[-1] * 1000:.0f} ms, {timeouts} of {total} timed out"
    )


if __name__ == "__main__":
    main()
