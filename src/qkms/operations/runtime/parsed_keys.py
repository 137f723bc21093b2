"""How many cached keys keep their parsed private material: the memory side of the key cache.

A cached key's metadata and policy take about 0.9 KB; its parsed private key (an OpenSSL object)
about 2.5 KB more, and unwrapping it again costs ~35 us. So a worker can keep many more keys than
it keeps parsed: the key cache holds `--key-cache-size` keys (no store round trip, no thread
hop on a hit), and only the `--parsed-key-cache-size` most recently parsed of them keep their
material; an older one forgets it and unwraps again on its next use. First in, first out, so a
use costs nothing here; only attaching material does.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Protocol

__all__ = ["HoldsMaterial", "ParsedKeyBudget"]


class HoldsMaterial(Protocol):
    def forget_material(self) -> None: ...


class ParsedKeyBudget:
    """The cached keys holding parsed material, oldest first; thread-safe."""

    def __init__(self, max_keys: int) -> None:
        self._max_keys = max(0, max_keys)
        self._holding: OrderedDict[int, HoldsMaterial] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._holding)

    def holding(self, cached: HoldsMaterial) -> None:
        """`cached` has just attached parsed material; the oldest holders past the budget forget
        theirs (outside the lock: forgetting only drops references)."""
        forgotten = []
        with self._lock:
            if id(cached) not in self._holding:  # a strong reference: the id stays unique
                self._holding[id(cached)] = cached
            while len(self._holding) > self._max_keys:
                forgotten.append(self._holding.popitem(last=False)[1])
        for old in forgotten:
            old.forget_material()
