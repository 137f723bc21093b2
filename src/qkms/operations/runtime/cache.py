"""A bounded LRU whose entries are trusted only while the change feed is known to be current.

DESIGN §7: a change made elsewhere must be effective here within 1 s. The change-feed poller
evicts changed entries and calls `confirm_fresh` after every successful poll; if no poll has
succeeded for `max_staleness` seconds (store down, poller stuck) every lookup misses, so callers
go to the store and fail closed there instead of trusting stale state.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar, overload

__all__ = ["FreshCache"]

K = TypeVar("K")
V = TypeVar("V")


class FreshCache(Generic[K, V]):
    def __init__(
        self,
        max_entries: int,
        max_staleness: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_entries = max(0, max_entries)
        self._max_staleness = max_staleness
        self._monotonic = monotonic
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._confirmed_at = float("-inf")
        # Bumped by every eviction: a value read from the store before an eviction must not be
        # cached after it, or a worker could keep a key it was told had changed.
        self._generation = 0
        # Operations run on the event loop and in a thread pool: guard the OrderedDict.
        self._lock = threading.Lock()
        # Lookups answered and not, read by the metrics sampler (qkms.metrics); plain ints, as
        # a hit ratio tolerates the rare increment lost between threads.
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def is_fresh(self) -> bool:
        return self._monotonic() - self._confirmed_at <= self._max_staleness

    @property
    def staleness(self) -> float:
        """Seconds since the changes were last confirmed applied: the change feed's lag."""
        return self._monotonic() - self._confirmed_at

    def confirm_fresh(self, confirmed_at: float | None = None) -> None:
        """Record that every change up to `confirmed_at` (a monotonic time) has been applied."""
        self._confirmed_at = self._monotonic() if confirmed_at is None else confirmed_at

    def get(self, key: K) -> V | None:
        if not self.is_fresh:
            self.misses += 1
            return None
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
            return value

    @property
    def generation(self) -> int:
        """Read this before loading a value from the store; pass it to `put`."""
        return self._generation

    @overload
    def get_or_load(self, key: K, load: Callable[[], V]) -> V: ...
    @overload
    def get_or_load(self, key: K, load: Callable[[], V | None]) -> V | None: ...
    def get_or_load(self, key: K, load: Callable[[], V | None]) -> V | None:
        """The cached value, else `load()`'s, cached unless it is None.

        The generation is read before loading, so a value loaded across an eviction is returned
        but not cached.
        """
        cached = self.get(key)
        if cached is not None:
            return cached
        generation = self._generation
        value = load()
        if value is not None:
            self.put(key, value, generation)
        return value

    def put(self, key: K, value: V, generation: int | None = None) -> None:
        if self._max_entries == 0:
            return
        with self._lock:
            if generation is not None and generation != self._generation:
                return
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def evict(self, key: K) -> None:
        with self._lock:
            self._generation += 1
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
