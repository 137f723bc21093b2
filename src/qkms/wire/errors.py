"""The single table of error code -> HTTP status, and the single renderer of error bodies (DESIGN §1)."""

from __future__ import annotations

import msgspec

from qkms.domain.errors import (
    DependencyTimeoutException,
    KmsError,
    KMSInternalException,
    RequestEntityTooLargeException,
    RequestTimeoutException,
    ServiceUnavailableException,
)

__all__ = ["render_error", "status_of"]

# Everything not listed is a client error (400), AccessDenied and Throttling included.
_STATUS: dict[type[KmsError], int] = {
    KMSInternalException: 500,
    DependencyTimeoutException: 503,
    RequestEntityTooLargeException: 413,
    RequestTimeoutException: 408,
    ServiceUnavailableException: 503,
}

_encoder = msgspec.json.Encoder()


def status_of(error: KmsError) -> int:
    return _STATUS.get(type(error), 400)


def render_error(error: KmsError) -> tuple[int, bytes]:
    """(status, body) with AWS JSON 1.1's `__type` and `message`; `x-amzn-ErrorType` is added
    by the app from `error.code`."""
    return status_of(error), _encoder.encode({"__type": error.code, "message": error.message})
