"""ListKeyRotations (DESIGN §4a): a key's rotations, oldest first, paged with Limit and Marker.

IncludeKeyMaterial=ALL_KEY_MATERIAL also lists the key's first material (no RotationDate or
RotationType); the default ROTATIONS_ONLY lists rotations alone, as AWS does.
"""

from __future__ import annotations

import base64
import binascii

from qkms.domain.errors import InvalidMarkerException, UnsupportedOperationException
from qkms.domain.keys import Key, KeyOrigin, KeySpec
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.rotation import (
    ListKeyRotationsRequest,
    ListKeyRotationsResponse,
    RotationsListEntry,
)
from qkms.operations.support.keys import key_arn, load_cached_key
from qkms.storage.base import KeyMaterialRow

__all__ = ["list_key_rotations"]

_DEFAULT_LIMIT = 100


def _bad_marker() -> InvalidMarkerException:
    return InvalidMarkerException("The marker that specifies where to start paging is invalid.")


def _decode_marker(marker: str) -> str:
    try:
        return base64.urlsafe_b64decode(marker.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _bad_marker() from None


def _entry(key: Key, arn: str, m: KeyMaterialRow) -> RotationsListEntry:
    imported: dict[str, object] = {}
    if key.origin is KeyOrigin.EXTERNAL:
        # QKMS keeps one expiration per key (operations/key_import/_symmetric.py).
        held = m.wrapped_material is not None
        imported = {
            "key_material_description": m.description,
            "import_state": "IMPORTED" if held else "PENDING_IMPORT",
            "expiration_model": key.expiration_model if held else None,
            "valid_to": key.valid_to if held else None,
        }
    return RotationsListEntry(
        key_id=arn,
        key_material_id=m.key_material_id,
        key_material_state=(
            "CURRENT"
            if m.key_material_id == key.current_key_material_id
            else m.material_state or "NON_CURRENT"
        ),
        rotation_date=m.created_at if m.rotation_type is not None else None,
        rotation_type=m.rotation_type,
        **imported,  # type: ignore[arg-type]
    )


def list_key_rotations(
    ctx: OperationContext, request: ListKeyRotationsRequest
) -> ListKeyRotationsResponse:
    # load
    key = load_cached_key(ctx, request.key_id, KeyOperation.LIST_KEY_ROTATIONS).key
    arn = key_arn(ctx, key)

    # check: only symmetric encryption keys have material versions.
    if key.key_spec is not KeySpec.SYMMETRIC_DEFAULT:
        raise UnsupportedOperationException(f"{arn} is not a symmetric encryption KMS key.")

    # act: the versions in creation order; the marker names the last one already returned.
    materials = ctx.services.store.list_key_materials(key.key_id)
    if request.include_key_material != "ALL_KEY_MATERIAL":
        materials = [m for m in materials if m.rotation_type is not None]
    start = 0
    if request.marker is not None:
        after = _decode_marker(request.marker)
        ids = [m.key_material_id for m in materials]
        if after not in ids:
            raise _bad_marker()
        start = ids.index(after) + 1
    limit = request.limit or _DEFAULT_LIMIT
    page = materials[start : start + limit]
    truncated = start + limit < len(materials)

    # respond
    entries = [_entry(key, arn, m) for m in page]
    if truncated and page:
        marker = base64.urlsafe_b64encode(page[-1].key_material_id.encode()).decode()
        return ListKeyRotationsResponse(rotations=entries, truncated=True, next_marker=marker)
    return ListKeyRotationsResponse(rotations=entries, truncated=False)
