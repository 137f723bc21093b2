"""Two versions of QKMS side by side: the same figure, alternating rounds, one ratio per round.

The before/after of an optimisation, measured the way `benchmarks.paired` measures a feature:
both servers run at once (`qkms serve --workers 2`, raised quotas, everything else as shipped),
each from its own source tree, and wrk runs the same operation against each in turn, forward
then backward order, so load drift on a shared machine falls on both alike. The result is the
median over rounds of after/before in the same round.

    git worktree add /tmp/before <commit>
    .venv/bin/python -m benchmarks.versions --before /tmp/before/src --after src
    .venv/bin/python -m benchmarks.versions --before /tmp/before/src --operation describe
    .venv/bin/python -m benchmarks.versions --before /tmp/before/src --operation create
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from benchmarks.paired import derive_batch
from benchmarks.run import SignedBatch, _wrk
from benchmarks.server import BenchServer

__all__ = ["main"]


def _describe_batch(server: BenchServer, name: str, work: Path) -> SignedBatch:
    signer = server.signer()
    created = signer.call("CreateKey", {"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"})
    key_id = created["KeyMetadata"]["KeyId"]
    return SignedBatch(
        work / f"versions-{name}.req",
        lambda: signer.raw_many("DescribeKey", [{"KeyId": key_id}] * 16),
    )


def _create_batch(server: BenchServer, name: str, work: Path) -> SignedBatch:
    signer = server.signer()
    body = {"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"}
    return SignedBatch(work / f"versions-{name}.req", lambda: [signer.raw("CreateKey", body)])


_BATCHES = {"derive": derive_batch, "describe": _describe_batch, "create": _create_batch}
_LABELS = {"derive": "DeriveSharedSecret P-256", "describe": "DescribeKey", "create": "CreateKey"}


@contextmanager
def _started(
    sources: dict[str, Path], workers: int, operation: str, work: Path
) -> Iterator[dict[str, tuple[BenchServer, SignedBatch]]]:
    with ExitStack() as stack:
        started = {}
        for name, src in sources.items():
            server = BenchServer(work / f"data-{name}", workers, pythonpath=str(src.resolve()))
            server.start()
            stack.callback(server.stop)
            batch = _BATCHES[operation](server, name, work)
            started[name] = (server, batch)
        yield started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the old tree's src/")
    parser.add_argument("--after", type=Path, default=Path("src"), help="default: src")
    parser.add_argument("--operation", choices=sorted(_BATCHES), default="derive")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=4.0, help="per server per round")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    sources = {"before": args.before, "after": args.after}
    rates: dict[str, list[float]] = {name: [] for name in sources}
    with (
        tempfile.TemporaryDirectory(prefix="qkms-versions-") as tmp,
        _started(sources, args.workers, args.operation, Path(tmp)) as servers,
    ):
        for round_ in range(args.rounds):
            order = list(sources) if round_ % 2 == 0 else list(reversed(sources))
            for name in order:
                server, batch = servers[name]
                result = _wrk(server, batch, args.connections, args.seconds)
                rates[name].append(result.requests_per_second)
    ratios = [a / b for a, b in zip(rates["after"], rates["before"], strict=True) if b]
    label = _LABELS[args.operation]
    print(f"{label}, {args.connections} connections, {args.rounds} rounds of {args.seconds:g} s")
    for name in sources:
        each = ", ".join(f"{r:,.0f}" for r in rates[name])
        print(f"  {name:<6} median {statistics.median(rates[name]):>8,.0f}/s  ({each})")
    print(f"  after/before, median of paired rounds: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
