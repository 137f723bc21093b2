"""The rate limiter over the node's shared bucket file, with an injected clock."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path
from typing import Any

from qkms.throttling import Quota, RateLimiter, SharedBuckets, bucket_key, parse_throttle

ACCOUNT = "111122223333"
OTHER = "444455556666"


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def limiter(path: Path, spec: str, clock: Clock) -> RateLimiter:
    return RateLimiter.open(parse_throttle(spec, "us-east-1"), path, clock)


def derives(limit: RateLimiter, count: int, account: str = ACCOUNT) -> list[bool]:
    return [limit.admit(account, "DeriveSharedSecret", None) for _ in range(count)]


def test_an_account_gets_its_quota_per_second_and_no_more(tmp_path: Path) -> None:
    clock = Clock()
    limit = limiter(tmp_path / "b", "ecc=5", clock)
    assert derives(limit, 7) == [True] * 5 + [False] * 2
    clock.now += 0.5  # 2.5 tokens
    assert derives(limit, 3) == [True, True, False]


def test_accounts_and_quota_classes_have_separate_buckets(tmp_path: Path) -> None:
    limit = limiter(tmp_path / "b", "ecc=2,CreateKey=1", Clock())
    assert derives(limit, 3) == [True, True, False]
    assert derives(limit, 3, OTHER) == [True, True, False]
    assert limit.admit(ACCOUNT, "CreateKey", None)
    assert not limit.admit(ACCOUNT, "CreateKey", None)
    assert limit.admit(ACCOUNT, "DescribeKey", None)  # its own default: 2000/s


def test_a_rate_of_zero_is_unlimited(tmp_path: Path) -> None:
    limit = limiter(tmp_path / "b", "ecc=0", Clock())
    assert all(derives(limit, 5000))


def test_unknown_operations_are_not_throttled(tmp_path: Path) -> None:
    limit = limiter(tmp_path / "b", "*=1", Clock())
    assert all(limit.admit(ACCOUNT, "NoSuchOperation", None) for _ in range(5))


def test_two_workers_on_one_file_share_the_buckets(tmp_path: Path) -> None:
    clock = Clock()
    first = limiter(tmp_path / "b", "ecc=4", clock)
    second = limiter(tmp_path / "b", "ecc=4", clock)
    assert derives(first, 3) == [True] * 3
    assert derives(second, 2) == [True, False]
    assert derives(first, 1) == [False]


def test_the_file_is_private_to_the_owner(tmp_path: Path) -> None:
    limiter(tmp_path / "b", "", Clock())
    assert stat.S_IMODE((tmp_path / "b").stat().st_mode) == 0o600


def test_a_file_of_another_layout_is_started_afresh(tmp_path: Path) -> None:
    path = tmp_path / "b"
    path.write_bytes(b"not a bucket file" * 10)
    limit = limiter(path, "ecc=2", Clock())
    assert derives(limit, 3) == [True, True, False]


def test_an_idle_record_is_reused_when_the_table_is_full(tmp_path: Path) -> None:
    quota = Quota.per_second(1)
    buckets = SharedBuckets(tmp_path / "b", idle_seconds=quota.refill_seconds, slots=1)
    first, second = bucket_key(ACCOUNT, "ecc"), bucket_key(OTHER, "ecc")
    assert buckets.take(first, quota, 100.0)
    assert not buckets.take(first, quota, 100.0)
    # The only record is in live use: the other bucket cannot be kept, its call goes through.
    assert buckets.take(second, quota, 100.5)
    # Once the first bucket is full again its record is taken over...
    assert buckets.take(second, quota, 101.0)
    assert not buckets.take(second, quota, 101.0)
    # ...and the first key, finding its record gone, starts again from a full bucket.
    assert buckets.take(first, quota, 102.0)


def _hammer(path: Path, attempts: int, start: Any, results: multiprocessing.Queue[int]) -> None:
    # A bucket of BURST tokens that refills at most 0.001 token during the test: exactly BURST
    # of all attempts can succeed, unless two processes read the same count (a lost update).
    quota = Quota(rate=0.001, burst=BURST)
    buckets = SharedBuckets(path, idle_seconds=quota.refill_seconds)
    key = bucket_key(ACCOUNT, "ecc")
    buckets.take(key, quota, 50.0)  # claim the record before the race
    start.wait(timeout=30)
    results.put(sum(buckets.take(key, quota, 50.0) for _ in range(attempts)))
    buckets.close()


BURST = 30_000.0


def test_processes_hammering_one_bucket_never_take_more_than_it_holds(tmp_path: Path) -> None:
    path = tmp_path / "b"
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[int] = context.Queue()
    start = context.Barrier(4)
    workers = [
        context.Process(target=_hammer, args=(path, 12_000, start, results)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    admitted = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    # 4 claimed before the race; 48,000 attempts for the 29,996 tokens left.
    assert sum(admitted) == BURST - 4, admitted
