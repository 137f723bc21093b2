"""Which key states each operation accepts, the error for the rest, and the state transitions (DESIGN §4)."""

from __future__ import annotations

import enum
from dataclasses import replace

from qkms.domain.errors import (
    DisabledException,
    IncorrectKeyMaterialException,
    KMSInvalidStateException,
)
from qkms.domain.keys import Key, KeyState

__all__ = [
    "MAX_PENDING_WINDOW_DAYS",
    "MIN_PENDING_WINDOW_DAYS",
    "KeyOperation",
    "cancel_deletion",
    "check_state",
    "delete_imported_material",
    "disable",
    "enable",
    "import_material",
    "schedule_deletion",
]

MIN_PENDING_WINDOW_DAYS = 7
MAX_PENDING_WINDOW_DAYS = 30
_DAY = 86400.0


class KeyOperation(enum.Enum):
    """Operations that act on one key; the value is the IAM action name's suffix."""

    DERIVE_SHARED_SECRET = "DeriveSharedSecret"  # noqa: S105 - an operation name
    ENCAPSULATE = "Encapsulate"
    DECAPSULATE = "Decapsulate"
    GET_PUBLIC_KEY = "GetPublicKey"
    SIGN = "Sign"
    VERIFY = "Verify"
    GENERATE_MAC = "GenerateMac"
    VERIFY_MAC = "VerifyMac"
    DESCRIBE_KEY = "DescribeKey"
    ENABLE_KEY = "EnableKey"
    DISABLE_KEY = "DisableKey"
    SCHEDULE_KEY_DELETION = "ScheduleKeyDeletion"
    CANCEL_KEY_DELETION = "CancelKeyDeletion"
    UPDATE_KEY_DESCRIPTION = "UpdateKeyDescription"
    GET_KEY_POLICY = "GetKeyPolicy"
    PUT_KEY_POLICY = "PutKeyPolicy"
    LIST_KEY_POLICIES = "ListKeyPolicies"
    CREATE_GRANT = "CreateGrant"
    LIST_GRANTS = "ListGrants"
    RETIRE_GRANT = "RetireGrant"
    REVOKE_GRANT = "RevokeGrant"
    GET_PARAMETERS_FOR_IMPORT = "GetParametersForImport"
    IMPORT_KEY_MATERIAL = "ImportKeyMaterial"
    DELETE_IMPORTED_KEY_MATERIAL = "DeleteImportedKeyMaterial"
    CREATE_ALIAS = "CreateAlias"
    UPDATE_ALIAS = "UpdateAlias"
    DELETE_ALIAS = "DeleteAlias"
    ENABLE_KEY_ROTATION = "EnableKeyRotation"
    DISABLE_KEY_ROTATION = "DisableKeyRotation"
    GET_KEY_ROTATION_STATUS = "GetKeyRotationStatus"
    ROTATE_KEY_ON_DEMAND = "RotateKeyOnDemand"
    LIST_KEY_ROTATIONS = "ListKeyRotations"
    GET_KEY_LAST_USAGE = "GetKeyLastUsage"
    TAG_RESOURCE = "TagResource"
    UNTAG_RESOURCE = "UntagResource"
    LIST_RESOURCE_TAGS = "ListResourceTags"
    ENCRYPT = "Encrypt"
    DECRYPT = "Decrypt"
    RE_ENCRYPT_FROM = "ReEncryptFrom"
    RE_ENCRYPT_TO = "ReEncryptTo"
    GENERATE_DATA_KEY = "GenerateDataKey"
    GENERATE_DATA_KEY_WITHOUT_PLAINTEXT = "GenerateDataKeyWithoutPlaintext"
    GENERATE_DATA_KEY_PAIR = "GenerateDataKeyPair"
    GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT = "GenerateDataKeyPairWithoutPlaintext"
    REPLICATE_KEY = "ReplicateKey"
    UPDATE_PRIMARY_REGION = "UpdatePrimaryRegion"

    @property
    def action(self) -> str:
        return f"kms:{self.value}"


_ALL = frozenset(KeyState)
_ENABLED = frozenset({KeyState.ENABLED})
_ENABLED_OR_DISABLED = frozenset({KeyState.ENABLED, KeyState.DISABLED})
_ENABLED_DISABLED_OR_PENDING_IMPORT = frozenset(
    {KeyState.ENABLED, KeyState.DISABLED, KeyState.PENDING_IMPORT}
)

# AWS "Key states of AWS KMS keys": the one table of what each operation accepts.
_ACCEPTED_STATES: dict[KeyOperation, frozenset[KeyState]] = {
    KeyOperation.DERIVE_SHARED_SECRET: _ENABLED,
    KeyOperation.ENCAPSULATE: _ENABLED,
    KeyOperation.DECAPSULATE: _ENABLED,
    KeyOperation.GET_PUBLIC_KEY: _ENABLED,
    KeyOperation.SIGN: _ENABLED,
    KeyOperation.VERIFY: _ENABLED,
    KeyOperation.GENERATE_MAC: _ENABLED,
    KeyOperation.VERIFY_MAC: _ENABLED,
    KeyOperation.DESCRIBE_KEY: _ALL,
    KeyOperation.ENABLE_KEY: _ENABLED_OR_DISABLED,
    KeyOperation.DISABLE_KEY: _ENABLED_OR_DISABLED,
    KeyOperation.SCHEDULE_KEY_DELETION: frozenset(
        {KeyState.ENABLED, KeyState.DISABLED, KeyState.PENDING_IMPORT, KeyState.UNAVAILABLE}
    ),
    KeyOperation.CANCEL_KEY_DELETION: frozenset({KeyState.PENDING_DELETION}),
    KeyOperation.UPDATE_KEY_DESCRIPTION: _ENABLED_DISABLED_OR_PENDING_IMPORT,
    KeyOperation.GET_KEY_POLICY: _ALL,
    KeyOperation.PUT_KEY_POLICY: _ENABLED_DISABLED_OR_PENDING_IMPORT,
    KeyOperation.LIST_KEY_POLICIES: _ALL,
    KeyOperation.CREATE_GRANT: _ENABLED_DISABLED_OR_PENDING_IMPORT,
    KeyOperation.LIST_GRANTS: _ALL,
    KeyOperation.RETIRE_GRANT: _ALL,
    KeyOperation.REVOKE_GRANT: _ALL,
    # Import (re)imports into Enabled and Disabled keys too: same material, new expiration.
    KeyOperation.GET_PARAMETERS_FOR_IMPORT: _ENABLED_DISABLED_OR_PENDING_IMPORT,
    KeyOperation.IMPORT_KEY_MATERIAL: _ENABLED_DISABLED_OR_PENDING_IMPORT,
    # AWS: on a PendingDeletion key the material goes and the state stays.
    KeyOperation.DELETE_IMPORTED_KEY_MATERIAL: frozenset(
        {KeyState.ENABLED, KeyState.DISABLED, KeyState.PENDING_IMPORT, KeyState.PENDING_DELETION}
    ),
    KeyOperation.CREATE_ALIAS: _ENABLED_DISABLED_OR_PENDING_IMPORT,
    KeyOperation.UPDATE_ALIAS: _ENABLED_DISABLED_OR_PENDING_IMPORT,
    KeyOperation.DELETE_ALIAS: _ALL,
    KeyOperation.TAG_RESOURCE: _ENABLED_DISABLED_OR_PENDING_IMPORT,
    KeyOperation.UNTAG_RESOURCE: _ENABLED_DISABLED_OR_PENDING_IMPORT,
    KeyOperation.LIST_RESOURCE_TAGS: _ALL,
    # The cryptographic operations need an Enabled key: Disabled is DisabledException, every
    # other state KMSInvalidStateException ("Key states of AWS KMS keys").
    KeyOperation.ENCRYPT: _ENABLED,
    KeyOperation.DECRYPT: _ENABLED,
    KeyOperation.RE_ENCRYPT_FROM: _ENABLED,
    KeyOperation.RE_ENCRYPT_TO: _ENABLED,
    KeyOperation.GENERATE_DATA_KEY: _ENABLED,
    KeyOperation.GENERATE_DATA_KEY_WITHOUT_PLAINTEXT: _ENABLED,
    KeyOperation.GENERATE_DATA_KEY_PAIR: _ENABLED,
    KeyOperation.GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT: _ENABLED,
    # "Key states of AWS KMS keys": rotation settings change on Enabled keys only, are read
    # in any state; a rotation itself needs an Enabled key.
    KeyOperation.ENABLE_KEY_ROTATION: _ENABLED,
    KeyOperation.DISABLE_KEY_ROTATION: _ENABLED,
    KeyOperation.GET_KEY_ROTATION_STATUS: _ALL,
    KeyOperation.ROTATE_KEY_ON_DEMAND: _ENABLED,
    KeyOperation.LIST_KEY_ROTATIONS: _ALL,
    # A read of the key's record, like DescribeKey: any state.
    KeyOperation.GET_KEY_LAST_USAGE: _ALL,
    # "Key states of AWS KMS keys": a multi-region key replicates and changes its primary
    # while Enabled, Disabled or PendingImport, never while PendingDeletion.
    KeyOperation.REPLICATE_KEY: _ENABLED_DISABLED_OR_PENDING_IMPORT,
    KeyOperation.UPDATE_PRIMARY_REGION: _ENABLED_DISABLED_OR_PENDING_IMPORT,
}

_STATE_PHRASE = {
    KeyState.ENABLED: "is enabled",
    KeyState.DISABLED: "is disabled",
    KeyState.PENDING_DELETION: "is pending deletion",
    KeyState.PENDING_IMPORT: "is pending import",
    KeyState.UNAVAILABLE: "is unavailable",
}


def check_state(key: Key, operation: KeyOperation, key_arn: str) -> None:
    """Raise the error AWS gives when `operation` meets `key` in a state it does not accept."""
    if key.state in _ACCEPTED_STATES[operation]:
        return
    if operation is KeyOperation.CANCEL_KEY_DELETION:
        raise KMSInvalidStateException(f"{key_arn} is not pending deletion.")
    if key.state is KeyState.DISABLED:
        raise DisabledException(f"{key_arn} is disabled.")
    raise KMSInvalidStateException(f"{key_arn} {_STATE_PHRASE[key.state]}.")


def enable(key: Key) -> Key:
    return key.with_state(KeyState.ENABLED)


def disable(key: Key) -> Key:
    return key.with_state(KeyState.DISABLED)


def schedule_deletion(key: Key, now: float, pending_window_days: int) -> Key:
    return key.with_state(KeyState.PENDING_DELETION, deletion_date=now + pending_window_days * _DAY)


def cancel_deletion(key: Key) -> Key:
    # AWS: a key whose deletion is cancelled comes back Disabled, never straight to Enabled.
    return key.with_state(KeyState.DISABLED)


def import_material(
    key: Key,
    public_key_der: bytes | None,
    wrapped_material: bytes,
    expiration_model: str,
    valid_to: float | None,
) -> Key:
    """(Re)import: a key keeps its first material forever (AWS: asymmetric keys cannot change
    theirs), so a key that has a public key accepts only material with that public key.
    HMAC keys have none (`public_key_der` None); their caller compares the material itself."""
    if key.public_key_der is not None and key.public_key_der != public_key_der:
        raise IncorrectKeyMaterialException(
            "The key material in the request is not the key material that was previously "
            "imported into this KMS key."
        )
    # A PendingImport key becomes usable; an Enabled or Disabled key keeps its state.
    state = KeyState.ENABLED if key.state is KeyState.PENDING_IMPORT else key.state
    return replace(
        key,
        state=state,
        public_key_der=public_key_der,
        wrapped_material=wrapped_material,
        expiration_model=expiration_model,
        valid_to=valid_to,
    )


def delete_imported_material(key: Key) -> Key:
    """AWS: the key goes PendingImport (a PendingDeletion key keeps its state); the public key
    stays as the binding that a later reimport must match."""
    state = key.state if key.state is KeyState.PENDING_DELETION else KeyState.PENDING_IMPORT
    return replace(key, state=state, wrapped_material=None, expiration_model=None, valid_to=None)
