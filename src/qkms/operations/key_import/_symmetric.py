"""Imported material of a symmetric encryption key (DESIGN §4a; AWS "Importing key material").

A symmetric key with Origin EXTERNAL holds material versions like any symmetric key
(`key_materials` rows), each named by `imported_key_material_id(key id, material)`, so the same
material always has the same id and a reimport is recognised by its id alone. AWS's rules kept:
- the material is exactly 256 bits ("Requirements for imported key material");
- the first material imported becomes current and permanently associated with the key;
- ImportType EXISTING_KEY_MATERIAL (the default) must bring material associated before
  (IncorrectKeyMaterialException otherwise); it restores that version after a delete or expiry;
- ImportType NEW_KEY_MATERIAL adds a PENDING_ROTATION version that RotateKeyOnDemand makes
  current; one pending version at a time (AWS: delete it to import another in its place);
- the key is usable only while every associated version is imported.

QKMS keeps one ExpirationModel/ValidTo per key (AWS keeps one per version): each import sets
it for the key, and when it passes every version's material is destroyed, as when
DeleteImportedKeyMaterial is called; reimporting each version makes the key usable again.
The key row also carries the current version's wrapped bytes, so the expiry sweeper and
DeleteImportedKeyMaterial find imported symmetric keys as they find every other imported key.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from qkms.crypto import SYMMETRIC_KEY_SIZE, imported_key_material_id
from qkms.domain.errors import ConflictException, IncorrectKeyMaterialException
from qkms.domain.key_material import wrap_imported_material
from qkms.domain.keys import Key, KeyState
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.key_import.get_parameters_for_import import require_external
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.key_import import ImportKeyMaterialRequest
from qkms.operations.support.keys import change_key
from qkms.storage.base import KeyMaterialRow

__all__ = ["PENDING_ROTATION", "import_symmetric_material"]

PENDING_ROTATION: Final = "PENDING_ROTATION"
NEW_KEY_MATERIAL: Final = "NEW_KEY_MATERIAL"
_NOT_PREVIOUS: Final = (
    "The key material in the request is not the key material that was previously imported "
    "into this KMS key."
)


def _checked_size(material: bytes) -> None:
    if len(material) != SYMMETRIC_KEY_SIZE:
        # AWS's text for this case is not recorded publicly; this one names the requirement.
        raise IncorrectKeyMaterialException(
            "The key material must be a 256-bit (32-byte) symmetric key for key spec "
            "SYMMETRIC_DEFAULT."
        )


def _after(versions: dict[str, KeyMaterialRow], now: float) -> float:
    """A new version's creation time: strictly after every other (ListKeyRotations order)."""
    latest = max((v.created_at for v in versions.values()), default=None)
    return now if latest is None or now > latest else latest + 0.001


def import_symmetric_material(
    ctx: OperationContext,
    key: Key,
    material: bytes,
    request: ImportKeyMaterialRequest,
    expiration_model: str,
    valid_to: float | None,
) -> Key:
    """Bind `material` to the symmetric key `key` as AWS's ImportType says; the updated key."""
    _checked_size(material)
    services = ctx.services
    store = services.store
    material_id = imported_key_material_id(key.key_id, material)
    if request.key_material_id is not None and request.key_material_id != material_id:
        raise IncorrectKeyMaterialException(
            "The key material in the request does not match the KeyMaterialId in the request."
        )
    versions = {v.key_material_id: v for v in store.list_key_materials(key.key_id)}
    wrapped = wrap_imported_material(services.root_key, key, material)
    first = not versions
    new = request.import_type == NEW_KEY_MATERIAL and not first
    if new:
        if material_id in versions:
            raise IncorrectKeyMaterialException(
                "ImportType NEW_KEY_MATERIAL: this key material is already associated with "
                "this KMS key; import it with ImportType EXISTING_KEY_MATERIAL."
            )
        if any(v.material_state == PENDING_ROTATION for v in versions.values()):
            raise ConflictException(
                "This KMS key already has key material pending rotation. Rotate the key with "
                "RotateKeyOnDemand, or delete that key material, before importing new key "
                "material."
            )
    elif not first and material_id not in versions:
        raise IncorrectKeyMaterialException(_NOT_PREVIOUS)

    previous = versions.get(material_id)
    row = KeyMaterialRow(
        key.key_id,
        material_id,
        wrapped,
        previous.created_at if previous is not None else _after(versions, services.clock()),
        previous.rotation_type if previous is not None else None,
        PENDING_ROTATION if new else (previous.material_state if previous else None),
        request.key_material_description,
    )
    # Stored before the key row names it (no moment with a current id but no material), and
    # again after: a destroy from an expiry or deletion that slipped in between is undone, and
    # one after the key row holds material again is refused by the store.
    store.put_imported_key_material(row)
    services.key_cache.evict(key.key_id)
    # Usable once every version bound to the key holds material again (pending ones are not
    # bound): the restored one counts, the others as stored.
    restored = all(
        v.wrapped_material is not None or v.key_material_id == material_id
        for v in versions.values()
        if v.material_state != PENDING_ROTATION
    )

    def transition(current: Key) -> Key:
        require_external(ctx, current, KeyOperation.IMPORT_KEY_MATERIAL)
        current_id = current.current_key_material_id
        if first and current_id is not None and current_id != material_id:
            raise IncorrectKeyMaterialException(_NOT_PREVIOUS)  # a racing first import won
        current_id = current_id or material_id
        wrapped_current = wrapped if current_id == material_id else current.wrapped_material
        usable = restored and wrapped_current is not None
        state = current.state
        if state is KeyState.PENDING_IMPORT and usable:
            state = KeyState.ENABLED
        return replace(
            current,
            state=state,
            current_key_material_id=current_id,
            wrapped_material=wrapped_current,
            expiration_model=expiration_model,
            valid_to=valid_to,
        )

    updated = change_key(ctx, request.key_id, KeyOperation.IMPORT_KEY_MATERIAL, transition)
    store.put_imported_key_material(row)
    services.key_cache.evict(key.key_id)
    return updated
