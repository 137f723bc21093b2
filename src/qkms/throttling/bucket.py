"""The token bucket: pure arithmetic on (tokens, last refill time), no clock and no I/O."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Quota", "take"]


@dataclass(frozen=True, slots=True)
class Quota:
    """`rate` requests per second, with bursts of up to `burst` requests after a quiet spell."""

    rate: float
    burst: float

    @classmethod
    def per_second(cls, rate: float) -> Quota:
        # AWS counts requests "in each one-second interval": a full bucket holds one second's
        # worth, and at least one request so that fractional rates (1 in 4 s) admit anything.
        return cls(rate=rate, burst=max(rate, 1.0))

    @property
    def refill_seconds(self) -> float:
        """How long an empty bucket takes to fill: after that, its state is the initial one."""
        return self.burst / self.rate


def take(quota: Quota, tokens: float, last: float, now: float) -> tuple[bool, float, float]:
    """Refill the bucket up to `now` and take one token: (admitted, tokens, last) afterwards.

    A clock that went backwards (a reboot under a persisted state) refills nothing and never
    yields more than a full bucket.
    """
    elapsed = now - last if now > last else 0.0
    tokens = min(quota.burst, tokens + elapsed * quota.rate)
    if tokens >= 1.0:
        return True, tokens - 1.0, now
    return False, tokens, now
