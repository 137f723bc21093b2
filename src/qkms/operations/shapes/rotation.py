"""Shapes of the rotation operations, mirroring AWS's (botocore's kms 2014-11-01 model)."""

from __future__ import annotations

from typing import Final

from qkms.operations.shapes.base import KEY_ID, LIMIT, MARKER, Member, Request, Response

__all__ = [
    "DisableKeyRotationRequest",
    "EnableKeyRotationRequest",
    "GetKeyRotationStatusRequest",
    "GetKeyRotationStatusResponse",
    "ListKeyRotationsRequest",
    "ListKeyRotationsResponse",
    "RotateKeyOnDemandRequest",
    "RotateKeyOnDemandResponse",
    "RotationsListEntry",
]

INCLUDE_KEY_MATERIAL: Final = ("ALL_KEY_MATERIAL", "ROTATIONS_ONLY")


class EnableKeyRotationRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    rotation_period_in_days: int | None = None

    # AWS EnableKeyRotation: RotationPeriodInDays 90-2560, default 365.
    constraints = (KEY_ID, Member("RotationPeriodInDays", min_value=90, max_value=2560))


class DisableKeyRotationRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None

    constraints = (KEY_ID,)


class GetKeyRotationStatusRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None

    constraints = (KEY_ID,)


class GetKeyRotationStatusResponse(Response, frozen=True, kw_only=True):
    key_rotation_enabled: bool
    key_id: str
    rotation_period_in_days: int | None = None
    next_rotation_date: float | None = None
    on_demand_rotation_start_date: float | None = None


class RotateKeyOnDemandRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None

    constraints = (KEY_ID,)


class RotateKeyOnDemandResponse(Response, frozen=True, kw_only=True):
    key_id: str


class ListKeyRotationsRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    include_key_material: str | None = None
    limit: int | None = None
    marker: str | None = None

    constraints = (
        KEY_ID,
        Member("IncludeKeyMaterial", enum=INCLUDE_KEY_MATERIAL),
        LIMIT,
        MARKER,
    )


class RotationsListEntry(Response, frozen=True, kw_only=True):
    key_id: str
    key_material_id: str
    key_material_state: str
    rotation_date: float | None = None
    rotation_type: str | None = None
    # Symmetric keys with imported material only (AWS RotationsListEntry).
    key_material_description: str | None = None
    import_state: str | None = None
    expiration_model: str | None = None
    valid_to: float | None = None


class ListKeyRotationsResponse(Response, frozen=True, kw_only=True):
    rotations: list[RotationsListEntry]
    truncated: bool
    next_marker: str | None = None
