"""Shapes of GetKeyLastUsage, mirroring AWS's (botocore's kms 2014-11-01 model)."""

from __future__ import annotations

from qkms.operations.shapes.base import KEY_ID, Request, Response

__all__ = ["GetKeyLastUsageRequest", "GetKeyLastUsageResponse", "KeyLastUsage"]


class GetKeyLastUsageRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None

    constraints = (KEY_ID,)


class KeyLastUsage(Response, frozen=True, kw_only=True):
    """Every member absent (an empty object) when the key has not been used since tracking."""

    operation: str | None = None
    timestamp: float | None = None
    cloud_trail_event_id: str | None = None
    kms_request_id: str | None = None


class GetKeyLastUsageResponse(Response, frozen=True, kw_only=True):
    key_id: str
    key_last_usage: KeyLastUsage
    tracking_start_date: float
    key_creation_date: float
