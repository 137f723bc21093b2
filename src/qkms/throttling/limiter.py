"""The rate limiter the request pipeline asks: may this account make this call now?"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from qkms.throttling.bucket import Quota
from qkms.throttling.quotas import ThrottleConfig, classify
from qkms.throttling.shared import SharedBuckets, bucket_key

__all__ = ["THROTTLED_MESSAGE", "RateLimiter"]

# AWS KMS's own words when it throttles (the Java SDK appends "(Service: AWSKMS; Status Code:
# 400; Error Code: ThrottlingException; ...)"): "Throttling AWS KMS requests",
# https://docs.aws.amazon.com/kms/latest/developerguide/throttling.html
THROTTLED_MESSAGE = (
    "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls."
)
_MAX_CACHED = 65536


class RateLimiter:
    """Per-account token buckets, one per quota class, shared by the node's workers."""

    def __init__(
        self,
        config: ThrottleConfig,
        buckets: SharedBuckets,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # A rate of 0 means unlimited: such classes get no bucket at all.
        self._quotas = {
            name: Quota.per_second(rate) for name, rate in config.rates.items() if rate > 0
        }
        self._buckets = buckets
        self._clock = clock
        self._keys: dict[tuple[str, str], bytes] = {}

    @classmethod
    def open(
        cls, config: ThrottleConfig, path: Path, clock: Callable[[], float] = time.monotonic
    ) -> RateLimiter:
        quotas = [Quota.per_second(rate) for rate in config.rates.values() if rate > 0]
        idle = max((quota.refill_seconds for quota in quotas), default=1.0)
        return cls(config, SharedBuckets(path, idle_seconds=idle), clock)

    def close(self) -> None:
        self._buckets.close()

    def admit(self, account_id: str, operation: str, request: object) -> bool:
        """Take a token for this call from the caller's account's bucket; False = throttle."""
        quota_class = classify(operation, request)
        quota = self._quotas.get(quota_class) if quota_class is not None else None
        if quota is None or quota_class is None:
            return True
        key = self._keys.get((account_id, quota_class))
        if key is None:
            if len(self._keys) >= _MAX_CACHED:
                self._keys.clear()
            key = self._keys[(account_id, quota_class)] = bucket_key(account_id, quota_class)
        return self._buckets.take(key, quota, self._clock())
