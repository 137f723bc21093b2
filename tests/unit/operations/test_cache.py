"""The freshness-bounded cache behind DESIGN §7's 1-second rule."""

from __future__ import annotations

from qkms.operations.runtime.cache import FreshCache


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_are_served_only_while_fresh() -> None:
    clock = FakeMonotonic()
    cache = FreshCache[str, int](10, max_staleness=1.0, monotonic=clock)
    cache.put("a", 1)
    assert cache.get("a") is None  # never confirmed: fail closed
    cache.confirm_fresh()
    assert cache.get("a") == 1
    clock.now += 1.0
    assert cache.get("a") == 1
    clock.now += 0.01
    assert cache.get("a") is None  # no successful poll for over 1 s
    cache.confirm_fresh()
    assert cache.get("a") == 1


def test_lru_bound() -> None:
    clock = FakeMonotonic()
    cache = FreshCache[str, int](2, monotonic=clock)
    cache.confirm_fresh()
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now most recent
    cache.put("c", 3)
    assert cache.get("b") is None
    assert cache.get("a") == 1 and cache.get("c") == 3
    assert len(cache) == 2


def test_a_value_read_before_an_eviction_is_not_cached_after_it() -> None:
    clock = FakeMonotonic()
    cache = FreshCache[str, int](10, monotonic=clock)
    cache.confirm_fresh()
    generation = cache.generation  # a reader starts loading "a" from the store...
    cache.evict("a")  # ...the change feed says "a" changed meanwhile...
    cache.put("a", 1, generation)  # ...so the possibly stale value is dropped.
    assert cache.get("a") is None
    cache.put("a", 2, cache.generation)
    assert cache.get("a") == 2


def test_size_zero_caches_nothing() -> None:
    cache = FreshCache[str, int](0)
    cache.confirm_fresh()
    cache.put("a", 1)
    assert cache.get("a") is None
