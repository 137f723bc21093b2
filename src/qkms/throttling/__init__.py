"""Per-account request-rate limits with AWS KMS's quotas, shared by the workers of one node.

Neither wire nor domain: the wire layer asks `RateLimiter.admit` once per authenticated call,
before the operation runs, and answers `ThrottlingException` when it says no.
"""

from qkms.throttling.bucket import Quota, take
from qkms.throttling.limiter import THROTTLED_MESSAGE, RateLimiter
from qkms.throttling.quotas import (
    AWS_QUOTAS_PAGE,
    QuotaSpecError,
    ThrottleConfig,
    classify,
    default_rates,
    parse_throttle,
)
from qkms.throttling.shared import SharedBuckets, bucket_key

__all__ = [
    "AWS_QUOTAS_PAGE",
    "THROTTLED_MESSAGE",
    "Quota",
    "QuotaSpecError",
    "RateLimiter",
    "SharedBuckets",
    "ThrottleConfig",
    "bucket_key",
    "classify",
    "default_rates",
    "parse_throttle",
    "take",
]
