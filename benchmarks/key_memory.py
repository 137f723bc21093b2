"""What one cached key, and one parsed key, costs a worker in memory: bytes, not time.

One worker's app in this process (`benchmarks.in_process`), N P-256 keys created through
CreateKey, then three passes of signed requests, the memory read after each:

1. DescribeKey of every key: each lands in the key cache (metadata, policy, allow memo);
2. DeriveSharedSecret of the first P keys (P = the parsed-key budget): each keeps its parsed
   private key too;
3. DeriveSharedSecret of every key: what a worker holds after N keys in uniform use.

Figures are deltas of VmRSS (what the goal counts: Python objects, OpenSSL's heap and malloc's
slack) and, with --trace, of tracemalloc (Python's allocations only, exact and repeatable;
tracing inflates RSS, so read RSS from a run without it).

    .venv/bin/python -m benchmarks.key_memory --keys 20000            # RSS per key
    .venv/bin/python -m benchmarks.key_memory --keys 20000 --trace    # + Python bytes per key
    .venv/bin/python -m benchmarks.key_memory --keys 100000           # a worker after 100,000
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from benchmarks.in_process import InProcessApp

__all__ = ["main", "vm_rss"]

_BATCH = 1000  # requests signed at a time, so the signed bodies are not what is measured


def vm_rss() -> int:
    """This process's resident set in bytes (Linux /proc/self/status VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise SystemExit("key_memory: no VmRSS in /proc/self/status (Linux only)")


class _Meter:
    def __init__(self, trace: bool) -> None:
        self._trace = trace
        self.rss, self.traced = self._read()

    def _read(self) -> tuple[int, int]:
        gc.collect()
        traced = tracemalloc.get_traced_memory()[0] if self._trace else 0
        return vm_rss(), traced

    def step(self, label: str, per: int) -> None:
        rss, traced = self._read()
        line = f"{label:<44} RSS {rss / 2**20:6.1f} MB, +{(rss - self.rss) / per:7.0f} B/key"
        if self._trace:
            line += f"; Python +{(traced - self.traced) / per:6.0f} B/key"
        print(line, flush=True)
        self.rss, self.traced = rss, traced


def _run(app: InProcessApp, operation: str, payloads: Iterable[dict[str, str]]) -> None:
    batch: list[dict[str, str]] = []

    def send() -> None:
        app.run_many([app.sign(operation, payload) for payload in batch], len(batch))
        batch.clear()

    for payload in payloads:
        batch.append(payload)
        if len(batch) == _BATCH:
            send()
    if batch:
        send()


def _flush_usage(app: InProcessApp) -> None:
    """Write the GetKeyLastUsage batch, as the background loop would between passes."""
    services = app.app._services  # a benchmark reaching into its own app
    services.key_usage.flush(services.store, time.time())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=20000)
    parser.add_argument("--key-cache", type=int, default=None, help="QKMS_KEY_CACHE_SIZE")
    parser.add_argument(
        "--parsed-key-cache", type=int, default=10000, help="QKMS_PARSED_KEY_CACHE_SIZE"
    )
    parser.add_argument("--trace", action="store_true", help="also count Python bytes")
    args = parser.parse_args(argv)
    parsed = min(args.parsed_key_cache, args.keys)
    peer = ec.generate_private_key(ec.SECP256R1()).public_key()
    peer_b64 = base64.b64encode(
        peer.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).decode()
    tmp = tempfile.mkdtemp()
    try:
        app = InProcessApp(Path(tmp) / "data", args.key_cache, args.parsed_key_cache)
        started = time.monotonic()
        key_ids = []
        for _ in range(args.keys):
            status, answer = app.call(
                *app.sign("CreateKey", {"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"})
            )
            if status != 200:
                raise SystemExit(f"key_memory: CreateKey {status} {answer[:300]!r}")
            key_ids.append(str(json.loads(answer)["KeyMetadata"]["KeyId"]))
        print(f"{args.keys} keys created in {time.monotonic() - started:.0f} s", file=sys.stderr)
        _run(app, "DescribeKey", [{"KeyId": key_ids[0]}] * _BATCH)  # warm every other cache
        _flush_usage(app)
        if args.trace:
            tracemalloc.start()
        meter = _Meter(args.trace)
        print(f"{'before (1 key used)':<44} RSS {meter.rss / 2**20:6.1f} MB")
        _run(app, "DescribeKey", ({"KeyId": key_id} for key_id in key_ids))
        meter.step(f"DescribeKey x {args.keys} (cached)", args.keys)
        derive = {"KeyAgreementAlgorithm": "ECDH", "PublicKey": peer_b64}
        _run(app, "DeriveSharedSecret", ({**derive, "KeyId": k} for k in key_ids[:parsed]))
        _flush_usage(app)
        meter.step(f"DeriveSharedSecret x {parsed} (parsed)", max(parsed, 1))
        _run(app, "DeriveSharedSecret", ({**derive, "KeyId": k} for k in key_ids))
        _flush_usage(app)
        meter.step(f"DeriveSharedSecret x {args.keys} (all in use)", args.keys)
        print(f"worker after {args.keys} keys in use: VmRSS {vm_rss() / 2**20:.1f} MB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    os._exit(0)  # skip tearing down 100,000 cached keys and the app's threads


if __name__ == "__main__":
    main()
