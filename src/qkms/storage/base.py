"""The storage contract: rows, the KeyStore protocol every backend implements, and its errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "REGION_ROW_SEPARATOR",
    "AccessKeyRow",
    "AliasRow",
    "AuditRow",
    "Change",
    "DuplicateError",
    "GrantRow",
    "ImportParametersRow",
    "KeyMaterialRow",
    "KeyRow",
    "KeyStore",
    "KeyUsageRow",
    "StoreError",
    "StoreTimeoutError",
    "StoreUnavailableError",
    "UserPolicyRow",
    "UserRow",
    "key_row_id",
    "split_key_row_id",
]

# Multi-region keys (DESIGN §4a) keep one key row per region, as AWS keeps one key per region:
# the `keys` table's key_id column then holds "<mrk- id>@<region>", a row id no key id or ARN
# can spell ('@' is in neither). What every region shares is stored once under the bare key id:
# the material versions (`key_materials`) and the rotation schedule. Per-region rows keep their
# own state, description, policy, tags, grants and aliases, and a copy of the asymmetric
# private key (wrapped with the region-free key ARN as associated data, so one copy fits all).
REGION_ROW_SEPARATOR = "@"
_MULTI_REGION_PREFIX = "mrk-"


def key_row_id(key_id: str, region: str) -> str:
    """The `keys` row id of a key in a region: the key id itself unless multi-region."""
    if key_id.startswith(_MULTI_REGION_PREFIX):
        return f"{key_id}{REGION_ROW_SEPARATOR}{region}"
    return key_id


def split_key_row_id(row_id: str) -> tuple[str, str | None]:
    """(key id, the region a multi-region row id names, else None)."""
    key_id, separator, region = row_id.partition(REGION_ROW_SEPARATOR)
    return (key_id, region) if separator else (row_id, None)


class StoreError(Exception):
    """Base of storage failures; messages name the store, never a value that was stored."""


class StoreTimeoutError(StoreError):
    """The store did not answer within its deadline (locked, hanging or unreachable)."""


class StoreUnavailableError(StoreError):
    """The store refused or failed the call."""


class DuplicateError(StoreError):
    """An insert collided with an existing primary key."""


@dataclass(frozen=True, slots=True)
class KeyRow:
    """A key as stored. Enums are their wire strings (STYLE §4), material is already wrapped."""

    key_id: str
    account_id: str
    description: str
    key_usage: str
    key_spec: str
    origin: str
    key_state: str
    creation_date: float
    deletion_date: float | None
    public_key: bytes | None = field(repr=False)
    wrapped_material: bytes | None = field(repr=False)
    policy: str | None = None  # the key policy document (JSON text)
    tags: str | None = None  # JSON object of tag key -> value
    expiration_model: str | None = None  # imported material: KEY_MATERIAL_(DOES_NOT_)EXPIRE
    valid_to: float | None = None  # imported material expiring: epoch seconds
    # Symmetric keys: the key material (a `key_materials` row) new encryptions use.
    current_key_material_id: str | None = None
    # The region the key belongs to; None for keys stored before regions were (the default one).
    region: str | None = None
    # Multi-region keys: the region of the primary key (the same in every region's row).
    primary_region: str | None = None


@dataclass(frozen=True, slots=True)
class KeyMaterialRow:
    """One version of a symmetric key's material, already wrapped under the root key."""

    key_id: str
    key_material_id: str  # 64 lowercase hex characters, as AWS spells it
    wrapped_material: bytes | None = field(repr=False)
    created_at: float
    # None for a key's first material; AUTOMATIC or ON_DEMAND for a rotation's (ListKeyRotations).
    rotation_type: str | None = None
    # PENDING_ROTATION: imported as NEW_KEY_MATERIAL, not yet made current (RotateKeyOnDemand).
    material_state: str | None = None
    description: str | None = None  # imported material's KeyMaterialDescription


@dataclass(frozen=True, slots=True)
class KeyUsageRow:
    """A key's latest cryptographic use (GetKeyLastUsage)."""

    key_id: str
    operation: str
    used_at: float
    request_id: str
    event_id: str  # the audit event's eventID (CloudTrailEventId)


@dataclass(frozen=True, slots=True)
class AccessKeyRow:
    access_key_id: str
    account_id: str
    user_name: str
    wrapped_secret: bytes = field(repr=False)
    status: str  # "Active" | "Inactive"
    created_at: float


@dataclass(frozen=True, slots=True)
class UserRow:
    account_id: str
    user_name: str
    created_at: float


@dataclass(frozen=True, slots=True)
class UserPolicyRow:
    account_id: str
    user_name: str
    policy_name: str
    document: str


@dataclass(frozen=True, slots=True)
class GrantRow:
    grant_id: str
    key_id: str
    key_account_id: str
    name: str | None
    grantee_principal: str
    retiring_principal: str | None
    operations: tuple[str, ...]
    issuing_account: str
    creation_date: float
    # JSON {"EncryptionContextEquals"|"EncryptionContextSubset": {...}}; None: unconstrained.
    grant_constraints: str | None = None


@dataclass(frozen=True, slots=True)
class AliasRow:
    account_id: str
    alias_name: str  # "alias/<name>"
    key_id: str
    creation_date: float
    last_updated_date: float
    # Names are unique per (account, region), as in AWS. '' marks an alias stored before
    # regions whose key had none: it belongs to the default region, as that key does.
    region: str = ""

    @property
    def cache_key(self) -> str:
        """Its entry in the alias cache and the change feed: "<account>:<region>:<name>"."""
        return f"{self.account_id}:{self.region}:{self.alias_name}"


@dataclass(frozen=True, slots=True)
class ImportParametersRow:
    key_id: str
    wrapping_key_spec: str
    wrapping_algorithm: str
    wrapped_wrapping_key: bytes = field(
        repr=False
    )  # the RSA private key, wrapped under the root key
    token_id: str
    created_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class AuditRow:
    event_id: str
    event_time: float
    event_name: str
    account_id: str | None
    error_code: str | None
    resources: tuple[str, ...]
    record: str  # the whole event as one JSON object


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of the change feed other workers and nodes poll to invalidate their caches."""

    seq: int
    # "key" | "access_key" | "user" (its policies) | "grant" (entity_id: the key id)
    # | "alias" (entity_id: "<account>:<region>:<alias name>", region '' for unregioned rows)
    entity: str
    entity_id: str


class KeyStore(Protocol):
    """What operations may ask of a store. Every call honours the store's deadline."""

    def migrate(self) -> int:
        """Create or upgrade the schema; return the schema version now in force."""

    def close(self) -> None: ...

    def ping(self) -> None:
        """Raise StoreError when the store cannot answer a trivial query in time."""

    # --- meta -------------------------------------------------------------------------------
    def get_meta(self, name: str) -> str | None: ...

    def put_meta_if_absent(self, name: str, value: str) -> str:
        """Store `value` unless `name` is set; return the value in force."""

    def set_meta(self, name: str, value: str) -> None:
        """Store `value` under `name`, replacing any value."""

    def delete_meta(self, name: str) -> None: ...

    # --- root key rotation: every wrapped blob, in batches ----------------------------------
    def list_key_ids(self, after_key_id: str | None, limit: int) -> list[str]:
        """Ids of all keys of all accounts, ordered, strictly after `after_key_id`."""

    def list_access_key_ids(self, after_id: str | None, limit: int) -> list[str]: ...

    def update_access_key_secret(self, access_key_id: str, wrapped_secret: bytes) -> bool: ...

    def list_import_parameter_key_ids(self) -> list[str]: ...

    # --- keys -------------------------------------------------------------------------------
    def insert_key(self, row: KeyRow, materials: Sequence[KeyMaterialRow] = ()) -> None:
        """Insert a key together with its first material version(s), in one transaction."""

    def get_key_material(self, key_id: str, key_material_id: str) -> KeyMaterialRow | None: ...

    def list_key_materials(self, key_id: str) -> list[KeyMaterialRow]:
        """Every material version of a key, oldest first."""

    def update_key_material_wrapping(
        self, key_id: str, key_material_id: str, wrapped_material: bytes
    ) -> bool:
        """Replace one version's wrapped bytes (root-key rotation); False if there is none."""

    def add_key_material(self, material: KeyMaterialRow, next_rotation_date: float | None) -> bool:
        """Insert a rotation's material and make it the key's current one, in one transaction;
        for an automatic rotation (`next_rotation_date` given) only if the key's schedule is
        still due at the material's creation time, then moved to `next_rotation_date`.
        False: no key, or (automatic) no longer due."""

    def put_imported_key_material(self, material: KeyMaterialRow) -> None:
        """Insert an imported material version, or restore the wrapped bytes (and state and
        description) of the version with that id after a delete or expiry; never current."""

    def destroy_key_materials(self, key_id: str) -> None:
        """Forget the wrapped bytes of every version of a key (imported material deleted or
        expired) if the key row holds no material, checked under its lock; the ids stay, so a
        reimport of the same material is recognised."""

    def promote_pending_material(self, key_id: str, rotated_at: float) -> str | None:
        """Make the key's PENDING_ROTATION version current as an ON_DEMAND rotation, in one
        transaction; its id, or None when there is none."""

    def record_key_usage(self, rows: Sequence[KeyUsageRow]) -> None:
        """Keep each row unless the stored use of that key is later (GetKeyLastUsage)."""

    def get_key_usage(self, key_id: str) -> KeyUsageRow | None: ...

    def get_rotation_schedule(self, key_id: str) -> tuple[int, float] | None:
        """(RotationPeriodInDays, next rotation date) while automatic rotation is enabled."""

    def set_rotation_schedule(self, key_id: str, period_days: int, next_date: float) -> None: ...

    def delete_rotation_schedule(self, key_id: str) -> None: ...

    def keys_due_for_rotation(self, now: float) -> list[str]:
        """Keys whose automatic rotation date has come."""

    def get_key(self, key_id: str) -> KeyRow | None:
        """The row of that row id (`key_row_id`: a multi-region key's is per region)."""

    def region_rows(self, key_id: str) -> list[KeyRow]:
        """Every region's row of a multi-region key, ordered by row id."""

    def insert_replica(self, row: KeyRow) -> bool:
        """Insert a multi-region key's row for another region and record the change for every
        region's row (their ReplicaKeys changed); False if that region already has one."""

    def set_primary_region(self, key_id: str, region: str) -> list[str]:
        """Make `region` the primary of a multi-region key in every region's row, in one
        transaction; return the row ids changed."""

    def update_key(self, key_id: str, change: Callable[[KeyRow], KeyRow]) -> KeyRow | None:
        """Load the key in a write transaction, apply `change`, persist, record a change.

        `change` may raise to abort; nothing is written then. Returns None if no such key.
        """

    def key_counts(self) -> dict[tuple[str, str], int]:
        """How many keys of all accounts are in each (key state, key spec); for metrics."""

    def list_keys(
        self,
        account_id: str,
        after_key_id: str | None,
        limit: int,
        region: str | None = None,
        with_unregioned: bool = True,
    ) -> list[KeyRow]:
        """Keys of the account ordered by key id, strictly after `after_key_id`.

        With `region`, only that region's keys, plus those stored without a region when
        `with_unregioned` (they belong to the default region); without, every region's.
        """

    def delete_keys_due(self, now: float) -> list[str]:
        """Destroy keys whose deletion date has passed; return their ids."""

    def keys_with_expired_material(self, now: float) -> list[str]:
        """Ids of keys that still hold imported material whose ValidTo has passed."""

    # --- principals -------------------------------------------------------------------------
    def ensure_account(self, account_id: str, now: float) -> None: ...

    def ensure_user(self, account_id: str, user_name: str, now: float) -> None: ...

    def insert_access_key(self, row: AccessKeyRow) -> None: ...

    def get_access_key(self, access_key_id: str) -> AccessKeyRow | None: ...

    def get_user(self, account_id: str, user_name: str) -> UserRow | None: ...

    def list_users(self, account_id: str) -> list[UserRow]: ...

    def list_access_keys(self, account_id: str, user_name: str) -> list[AccessKeyRow]: ...

    def set_access_key_status(self, access_key_id: str, status: str) -> bool:
        """Return False if there is no such access key."""

    def delete_access_key(self, access_key_id: str) -> bool: ...

    # --- identity policies ------------------------------------------------------------------
    def put_user_policy(self, row: UserPolicyRow, now: float) -> None: ...

    def delete_user_policy(self, account_id: str, user_name: str, policy_name: str) -> bool: ...

    def list_user_policies(self, account_id: str, user_name: str) -> list[UserPolicyRow]: ...

    # --- grants -----------------------------------------------------------------------------
    def insert_grant(self, row: GrantRow) -> None: ...

    def get_grant(self, grant_id: str) -> GrantRow | None: ...

    def list_grants(self, key_id: str) -> list[GrantRow]:
        """Grants of one key, oldest first."""

    def list_grants_by_retiring_principal(self, principal: str) -> list[GrantRow]: ...

    def delete_grant(self, grant_id: str) -> GrantRow | None:
        """Delete and return the grant, or None if there was none."""

    # --- aliases ----------------------------------------------------------------------------
    def insert_alias(self, row: AliasRow) -> None:
        """DuplicateError if the account already has this alias in the row's region."""

    def get_alias(
        self, account_id: str, alias_name: str, regions: Sequence[str]
    ) -> AliasRow | None:
        """The account's alias of that name in one of `regions` (a region, and '' for the
        default one's rows stored before regions)."""

    def update_alias(
        self, account_id: str, alias_name: str, key_id: str, now: float, region: str
    ) -> bool:
        """Point an existing alias (of exactly `region`) at another key; False if none."""

    def delete_alias(self, account_id: str, alias_name: str, region: str) -> bool: ...

    def list_aliases(
        self,
        account_id: str,
        key_id: str | None,
        after_alias: str | None,
        limit: int,
        regions: Sequence[str],
    ) -> list[AliasRow]:
        """Aliases of the account in `regions` (of one key if `key_id`), ordered by name,
        after `after_alias`."""

    # --- import of key material -------------------------------------------------------------
    def put_import_parameters(self, row: ImportParametersRow) -> None:
        """Replace the key's import parameters (only the latest token is valid)."""

    def get_import_parameters(self, key_id: str) -> ImportParametersRow | None: ...

    def delete_import_parameters(self, key_id: str) -> None: ...

    # --- audit ------------------------------------------------------------------------------
    def append_audit_event(self, row: AuditRow) -> None: ...

    def append_audit_events(self, rows: Sequence[AuditRow]) -> None:
        """Insert several events in one transaction (the audit mirror's batches)."""

    def search_audit_events(
        self, since: float | None, event_name: str | None, resource: str | None, limit: int
    ) -> list[AuditRow]:
        """Events oldest first, filtered by time, name and a resource ARN."""

    # --- change feed ------------------------------------------------------------------------
    def latest_change(self) -> int: ...

    def changes_since(self, seq: int, limit: int = 10000) -> list[Change]: ...
