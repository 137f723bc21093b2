"""What a feature costs: servers that differ in one setting, run at once, measured in turns.

Every variant is a `qkms serve` of its own, all started before the first figure; wrk then runs
DeriveSharedSecret P-256 at 16 connections against each in turn, in the given order, then in
the reverse order, and so on (A B, B A, A B... for two variants). Load drift on a shared machine
falls on neighbours alike, so the cost of a feature is the median over rounds of the ratio of
two variants' rates in the same round, not the ratio of their medians. With three variants,
put the reference in the middle: it is then the neighbour of both others in every round.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.run import Row, SignedBatch, _derive_body, _peer_keys, _server, _wrk
from benchmarks.server import RAISED_QUOTAS, BenchServer

__all__ = [
    "CONNECTIONS",
    "STORE",
    "Variant",
    "derive_batch",
    "median_row",
    "paired_rates",
    "paired_ratio",
]

CONNECTIONS = 16
STORE = "SQLite"


@dataclass(frozen=True)
class Variant:
    name: str  # short and unique in the run: it names the data dir and the request file
    throttle: str = RAISED_QUOTAS  # --throttle, as every other figure of the run
    extra_args: tuple[str, ...] = ()  # more `qkms serve` options, e.g. ("--no-metrics",)


def derive_batch(server: BenchServer, name: str, work: Path) -> SignedBatch:
    """A P-256 key on `server` and 64 pre-signed derives with it (64 different peers)."""
    signer = server.signer()
    created = signer.call("CreateKey", {"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"})
    key_id = created["KeyMetadata"]["KeyId"]
    peers = [der for der, _ in _peer_keys("P-256", 64)]
    return SignedBatch(
        work / f"paired-{name}.req",
        lambda: signer.raw_many("DeriveSharedSecret", [_derive_body(key_id, p) for p in peers]),
    )


@contextmanager
def _servers(
    variants: Sequence[Variant], workers: int, work: Path
) -> Iterator[dict[str, tuple[BenchServer, SignedBatch]]]:
    with ExitStack() as stack:
        started = {}
        for variant in variants:
            server = stack.enter_context(
                _server(
                    work,
                    f"data-paired-{variant.name}",
                    workers,
                    None,
                    throttle=variant.throttle,
                    extra_args=variant.extra_args,
                )
            )
            started[variant.name] = (server, derive_batch(server, variant.name, work))
        yield started


def paired_rates(
    args: argparse.Namespace, work: Path, title: str, variants: Sequence[Variant]
) -> dict[str, list[float]]:
    """Each variant's derive rate per round (6 rounds of half the figure duration; 1 in smoke)."""
    rounds = 1 if args.smoke else 6
    seconds = args.duration if args.smoke else max(2.0, args.duration / 2)
    print(
        f"\n{title}: {rounds} alternating round(s) of {seconds:g} s at {CONNECTIONS} conns",
        flush=True,
    )
    rates: dict[str, list[float]] = {v.name: [] for v in variants}
    with _servers(variants, args.workers, work) as servers:
        for round_ in range(rounds):
            # forward, then backward: a drift in the machine's load falls on neighbours alike
            order = list(variants) if round_ % 2 == 0 else list(reversed(variants))
            for variant in order:
                server, batch = servers[variant.name]
                result = _wrk(server, batch, CONNECTIONS, seconds)
                rates[variant.name].append(result.requests_per_second)
    return rates


def paired_ratio(rates: dict[str, list[float]], numerator: str, denominator: str) -> float:
    """The median over rounds of one variant's rate over another's in the same round."""
    pairs = zip(rates[numerator], rates[denominator], strict=True)
    return statistics.median(a / b for a, b in pairs if b)


def median_row(rates: dict[str, list[float]], name: str, scenario: str, detail: str = "") -> Row:
    """A row of the run's table: the median rate of one variant, its rounds in the ratio column."""
    row = Row(STORE, scenario, CONNECTIONS, statistics.median(rates[name]))
    row.ratio = "median of " + ", ".join(f"{r:,.0f}" for r in rates[name]) + detail
    return row
