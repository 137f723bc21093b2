"""DeleteImportedKeyMaterial (DESIGN §4): drop a key's imported material.

AWS's rules kept (API reference, DeleteImportedKeyMaterial): the key's Origin must be EXTERNAL
(UnsupportedOperationException); the key goes PendingImport, except that a PendingDeletion key
keeps its state. The public key stays: a later reimport must bring the same material.
A symmetric key loses every material version's bytes (QKMS keeps one ExpirationModel per key,
operations/key_import/_symmetric.py); the response names its current material.
"""

from __future__ import annotations

from qkms.domain.errors import UnsupportedOperationException
from qkms.domain.keys import Key
from qkms.domain.lifecycle import KeyOperation, delete_imported_material
from qkms.operations.key_import.get_parameters_for_import import require_external
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.key_import import (
    DeleteImportedKeyMaterialRequest,
    DeleteImportedKeyMaterialResponse,
)
from qkms.operations.support.keys import change_key, key_arn

__all__ = ["delete_imported_key_material"]


def delete_imported_key_material(
    ctx: OperationContext, request: DeleteImportedKeyMaterialRequest
) -> DeleteImportedKeyMaterialResponse:
    if request.key_material_id is not None:
        raise UnsupportedOperationException("KeyMaterialId is not supported by QKMS.")
    operation = KeyOperation.DELETE_IMPORTED_KEY_MATERIAL

    def transition(key: Key) -> Key:
        require_external(ctx, key, operation)
        return delete_imported_material(key)

    key = change_key(ctx, request.key_id, operation, transition)
    if key.current_key_material_id is not None:
        # A symmetric key's material lives in its versions: every one is destroyed, their ids
        # kept so the same material can be imported again (operations/key_import/_symmetric.py).
        ctx.services.store.destroy_key_materials(key.key_id)
        ctx.services.key_cache.evict(key.key_id)
    return DeleteImportedKeyMaterialResponse(
        key_id=key_arn(ctx, key), key_material_id=key.current_key_material_id
    )
