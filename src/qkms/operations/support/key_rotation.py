"""Adding a rotation's material version, shared by RotateKeyOnDemand and the sweeper (DESIGN §4a).

The new material is generated and wrapped like a key's first material, then inserted and made
current in one store transaction, so a crash leaves either the old current material or the new
one, never a current id without its material.
"""

from __future__ import annotations

from qkms.domain.key_material import create_symmetric_material
from qkms.domain.keys import Key
from qkms.domain.rotation import RotationType, next_rotation_date
from qkms.operations.runtime.context import Services
from qkms.storage.base import KeyMaterialRow

__all__ = ["add_rotation_material"]


def add_rotation_material(services: Services, key: Key, rotation_type: RotationType) -> bool:
    """Rotate `key` now; False if the key is gone (or, automatic, no longer due). An automatic rotation moves the schedule
    one period on; an on-demand one leaves it alone (AWS: "On-demand rotation doesn't change
    existing automatic rotation schedules")."""
    now = services.clock()
    material = create_symmetric_material(services.root_key, key.account_id, key.key_id)
    next_date: float | None = None
    if rotation_type is RotationType.AUTOMATIC:
        schedule = services.store.get_rotation_schedule(key.key_id)
        if schedule is None:  # disabled since the sweeper saw it due
            return False
        next_date = next_rotation_date(now, schedule[0])
    row = KeyMaterialRow(
        key.key_id, material.key_material_id, material.wrapped_material, now, rotation_type.value
    )
    added = services.store.add_key_material(row, next_date)
    # Effective in this worker before the call returns; others follow the change feed. A
    # multi-region key's regions share the material: each region's row moved with it.
    services.key_cache.evict(key.key_id)
    if key.is_multi_region:
        for region_row in services.store.region_rows(key.key_id):
            services.key_cache.evict(region_row.key_id)
    return added
