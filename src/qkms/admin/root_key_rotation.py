"""Root-key rotation (docs/operations.md): re-wrap every private key and access-key secret under a new root key.

Online and resumable. Servers keep serving throughout if they were restarted with the new root
key and `--previous-root-key-file` (they wrap with the new key and unwrap either). Each blob is
re-wrapped in its own transaction and skipped if already under the new key, so an interrupted
rotation is finished by running it again. Only when every blob is re-wrapped does the store's
root-key check value change; after that the old key can be dropped from the servers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from qkms.crypto import RootKey, unwrap, wrap, wrapped_key_check_value
from qkms.domain.arns import canonical_key_arn
from qkms.operations.runtime.context import Services
from qkms.storage.base import KeyRow, split_key_row_id

__all__ = [
    "META_ROOT_KCV",
    "META_ROTATING_TO",
    "RotationError",
    "RotationReport",
    "rotate_root_key",
]

META_ROOT_KCV = "root_key_check_value"
META_ROTATING_TO = "root_key_rotating_to"
_BATCH = 500

Progress = Callable[[str, int, int], None]  # (what, done, total)


class RotationError(Exception):
    """The rotation cannot start or continue; the message says why."""


@dataclass(frozen=True, slots=True)
class RotationReport:
    keys_rewrapped: int
    access_keys_rewrapped: int
    import_parameters_dropped: int
    new_check_value: str


def _all_ids(list_page: Callable[[str | None, int], list[str]]) -> list[str]:
    ids: list[str] = []
    while True:
        page = list_page(ids[-1] if ids else None, _BATCH)
        ids.extend(page)
        if len(page) < _BATCH:
            return ids


def rotate_root_key(services: Services, new_key: RootKey, progress: Progress) -> RotationReport:
    """Re-wrap everything under `new_key`; `services.root_key` must be the key in force now."""
    store = services.store
    old_key = services.root_key
    ring = new_key.with_previous(old_key)
    in_force = store.get_meta(META_ROOT_KCV)
    target = new_key.key_check_value
    if in_force == target and store.get_meta(META_ROTATING_TO) is None:
        raise RotationError(f"the store is already under the root key with check value {target}.")
    if in_force not in (old_key.key_check_value, target):
        raise RotationError(
            f"the current root key given (check value {old_key.key_check_value}) is not the one "
            f"in force (check value {in_force})."
        )
    claimed = store.put_meta_if_absent(META_ROTATING_TO, target)
    if claimed != target:
        raise RotationError(
            f"another rotation, to the root key with check value {claimed}, is under way: "
            "finish it with that key first."
        )

    key_ids = _all_ids(store.list_key_ids)
    keys_done = 0
    for number, key_id in enumerate(key_ids, start=1):

        def rewrap(row: KeyRow) -> KeyRow:
            blob = row.wrapped_material
            if blob is None or wrapped_key_check_value(blob) == target:
                return row
            # A multi-region key's rows all wrap under the region-free key id (storage/base.py).
            aad = canonical_key_arn(row.account_id, split_key_row_id(row.key_id)[0]).encode()
            return replace(row, wrapped_material=wrap(new_key, unwrap(ring, blob, aad), aad))

        before = store.get_key(key_id)
        if before is not None and before.wrapped_material is not None:
            if wrapped_key_check_value(before.wrapped_material) != target:
                store.update_key(key_id, rewrap)
                keys_done += 1
        if before is not None:
            # A symmetric key's material versions are wrapped the same way (DESIGN §4a).
            material_key_id = split_key_row_id(key_id)[0]  # shared by a key's regions
            aad = canonical_key_arn(before.account_id, material_key_id).encode()
            for version in store.list_key_materials(material_key_id):
                blob = version.wrapped_material
                if blob is not None and wrapped_key_check_value(blob) != target:
                    rewrapped = wrap(new_key, unwrap(ring, blob, aad), aad)
                    store.update_key_material_wrapping(
                        material_key_id, version.key_material_id, rewrapped
                    )
                    keys_done += 1
        services.key_cache.evict(key_id)
        progress("keys", number, len(key_ids))

    access_ids = _all_ids(store.list_access_key_ids)
    access_done = 0
    for number, access_key_id in enumerate(access_ids, start=1):
        row = store.get_access_key(access_key_id)
        if row is not None and wrapped_key_check_value(row.wrapped_secret) != target:
            aad = f"qkms-access-key:{access_key_id}".encode()
            secret = unwrap(ring, row.wrapped_secret, aad)
            store.update_access_key_secret(access_key_id, wrap(new_key, secret, aad))
            access_done += 1
        progress("access keys", number, len(access_ids))

    # Import tokens are authenticated with a key derived from the root key: those issued under
    # the old key can no longer be checked, so their parameters go (GetParametersForImport
    # again after the rotation).
    dropped = 0
    for key_id in store.list_import_parameter_key_ids():
        params = store.get_import_parameters(key_id)
        if params is not None and wrapped_key_check_value(params.wrapped_wrapping_key) != target:
            store.delete_import_parameters(key_id)
            dropped += 1

    store.set_meta(META_ROOT_KCV, target)
    store.delete_meta(META_ROTATING_TO)
    return RotationReport(keys_done, access_done, dropped, target)
