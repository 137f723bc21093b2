"""Work done beside requests: following the change feed, and destroying keys whose time is up."""

from __future__ import annotations

import time
from collections.abc import Iterable

from qkms.domain.errors import KmsError
from qkms.domain.keys import KeyState
from qkms.domain.rotation import RotationType, check_rotatable
from qkms.operations.runtime.cache import FreshCache
from qkms.operations.runtime.context import Services
from qkms.operations.runtime.credentials import Credential
from qkms.operations.support.key_rotation import add_rotation_material
from qkms.operations.support.key_rows import key_from_row, key_to_row

__all__ = [
    "ChangeFollower",
    "sweep",
    "sweep_deleted_keys",
    "sweep_due_rotations",
    "sweep_expired_material",
]

_BATCH = 10000


class ChangeFollower:
    """Applies other workers' and nodes' changes to this process's caches (DESIGN §7).

    Each successful poll evicts what changed and then confirms the caches fresh as of the
    moment the poll *started*, so nothing that changed before that moment can be served stale.
    """

    def __init__(self, services: Services, credential_cache: FreshCache[str, Credential]) -> None:
        self._services = services
        self._credential_cache = credential_cache
        self._seq: int | None = None

    def poll(self) -> int:
        """Apply every change since the last poll; return how many were applied."""
        started = time.monotonic()
        store = self._services.store
        if self._seq is None:
            # First poll: nothing is cached yet, so only the position in the feed matters.
            self._seq = store.latest_change()
            applied = 0
        else:
            applied = 0
            while True:
                changes = store.changes_since(self._seq, _BATCH)
                for change in changes:
                    if change.entity == "key":
                        self._services.key_cache.evict(change.entity_id)
                    elif change.entity == "access_key":
                        self._credential_cache.evict(change.entity_id)
                    elif change.entity == "user":
                        self._services.identity_policies.evict(change.entity_id)
                    elif change.entity == "grant":
                        self._services.grants.evict(change.entity_id)
                    elif change.entity == "alias":
                        parts = change.entity_id.split(":", 2)
                        if len(parts) == 3 and parts[1]:
                            self._services.aliases.evict(change.entity_id)
                        else:  # stored before regions: cached under the default region's name
                            self._services.aliases.clear()
                    else:  # an entity this version does not know: drop everything, stay safe
                        self._services.key_cache.clear()
                        self._services.identity_policies.clear()
                        self._services.grants.clear()
                        self._services.aliases.clear()
                        self._credential_cache.clear()
                    self._seq = change.seq
                applied += len(changes)
                if len(changes) < _BATCH:
                    break
        for cache in (
            self._services.key_cache,
            self._services.identity_policies,
            self._services.grants,
            self._services.aliases,
            self._credential_cache,
        ):
            cache.confirm_fresh(started)
        return applied


def sweep_deleted_keys(services: Services) -> list[str]:
    """Destroy the material of keys whose deletion window has passed (DESIGN §4)."""
    deleted = services.store.delete_keys_due(services.clock())
    for key_id in deleted:
        services.key_cache.evict(key_id)
    return deleted


def sweep(services: Services) -> tuple[list[str], list[str]]:
    """One sweeper round: (keys destroyed, keys whose imported material expired); keys whose
    automatic rotation date has come are rotated in the same round."""
    deleted = sweep_deleted_keys(services)
    expired = sweep_expired_material(
        services, services.store.keys_with_expired_material(services.clock())
    )
    sweep_due_rotations(services)
    return deleted, expired


def sweep_due_rotations(services: Services) -> list[str]:
    """Rotate every key whose next automatic rotation date has passed (DESIGN §4a).

    AWS rotates only Enabled keys; a Disabled or PendingDeletion key's rotation waits until it
    is Enabled again, so its date stays due. Several workers may sweep at once: the rotation
    checks and moves the date under the key row's lock, so each due date rotates once.
    Returns the ids rotated.
    """
    now = services.clock()
    rotated: list[str] = []
    for key_id in services.store.keys_due_for_rotation(now):
        # A multi-region key's schedule is shared: its regions rotate together (one material),
        # when its primary's row is Enabled, as AWS rotates the primary and syncs its replicas.
        row = services.store.get_key(key_id) or next(
            (r for r in services.store.region_rows(key_id) if r.region == r.primary_region),
            None,
        )
        if row is None:
            continue
        key = key_from_row(row).as_of(now)
        if key.state is not KeyState.ENABLED:
            continue
        try:
            check_rotatable(key, key_id)
        except KmsError:
            # A schedule on a key that cannot rotate is never created; stop it if one exists.
            services.store.delete_rotation_schedule(key_id)
            continue
        if add_rotation_material(services, key, RotationType.AUTOMATIC):
            rotated.append(key_id)
    return rotated


def sweep_expired_material(services: Services, key_ids: Iterable[str]) -> list[str]:
    """Destroy imported material past its ValidTo and persist PendingImport (DESIGN §4).

    Every read already treats such a key as PendingImport (`Key.as_of`); this writes it down so
    the wrapped material does not outlive its ValidTo at rest. Returns the ids it changed.
    """
    now = services.clock()
    expired: list[str] = []
    for key_id in key_ids:
        row = services.store.get_key(key_id)
        if row is None or not key_from_row(row).material_has_expired(now):
            continue
        # Re-checked under the write lock: a reimport may have landed since the read.
        services.store.update_key(
            key_id, lambda current: key_to_row(key_from_row(current).as_of(now))
        )
        if row.current_key_material_id is not None:
            # An imported symmetric key's versions hold the material itself (DESIGN §4a); the
            # store destroys them only while the key row holds none, so a reimport that landed
            # since is kept.
            services.store.destroy_key_materials(key_id)
        services.key_cache.evict(key_id)
        expired.append(key_id)
    return expired
