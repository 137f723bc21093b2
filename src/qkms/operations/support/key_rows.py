"""Key records to and from the store's rows: the one place a `Key` meets its `KeyRow` (STYLE §8).

The mapping lives beside the store boundary, not in the domain, so the domain stays free of
storage types (STYLE §1); storage itself knows nothing of `Key`.
"""

from __future__ import annotations

import json
import sys

from qkms.domain.keys import Key, KeyOrigin, KeySpec, KeyState, KeyUsage
from qkms.storage.base import KeyRow, key_row_id, split_key_row_id

__all__ = ["key_from_row", "key_to_row", "row_id_of"]


def row_id_of(key: Key) -> str:
    """The key's `keys` row id: per region for a multi-region key (storage/base.py)."""
    return key_row_id(key.key_id, key.region or "") if key.is_multi_region else key.key_id


def _shared(text: str | None) -> str | None:
    # Texts most keys repeat (the account, the region, CreateKey's default policy) are kept
    # once per worker instead of once per cached key: ~300 bytes of each ~1 KB cached key.
    return None if text is None else sys.intern(text)


def key_from_row(row: KeyRow) -> Key:
    key_id, _ = split_key_row_id(row.key_id)
    return Key(
        key_id=key_id,
        account_id=sys.intern(row.account_id),
        description=row.description,
        key_usage=KeyUsage(row.key_usage),
        key_spec=KeySpec(row.key_spec),
        origin=KeyOrigin(row.origin),
        state=KeyState(row.key_state),
        creation_date=row.creation_date,
        deletion_date=row.deletion_date,
        public_key_der=row.public_key,
        wrapped_material=row.wrapped_material,
        policy=_shared(row.policy),
        tags=tuple(sorted(json.loads(row.tags).items())) if row.tags else (),
        expiration_model=row.expiration_model,
        valid_to=row.valid_to,
        current_key_material_id=row.current_key_material_id,
        region=_shared(row.region),
        primary_region=_shared(row.primary_region),
    )


def key_to_row(key: Key) -> KeyRow:
    return KeyRow(
        key_id=row_id_of(key),
        account_id=key.account_id,
        description=key.description,
        key_usage=key.key_usage.value,
        key_spec=key.key_spec.value,
        origin=key.origin.value,
        key_state=key.state.value,
        creation_date=key.creation_date,
        deletion_date=key.deletion_date,
        public_key=key.public_key_der,
        wrapped_material=key.wrapped_material,
        policy=key.policy,
        tags=json.dumps(dict(key.tags), sort_keys=True) if key.tags else None,
        expiration_model=key.expiration_model,
        valid_to=key.valid_to,
        current_key_material_id=key.current_key_material_id,
        region=key.region,
        primary_region=key.primary_region,
    )
