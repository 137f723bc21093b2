"""The key-state table and transitions of DESIGN §4."""

from __future__ import annotations

import pytest

from qkms.domain.errors import DisabledException, KMSInvalidStateException
from qkms.domain.keys import Key, KeyOrigin, KeySpec, KeyState, KeyUsage
from qkms.domain.lifecycle import (
    KeyOperation,
    cancel_deletion,
    check_state,
    disable,
    enable,
    schedule_deletion,
)

ARN = "arn:verenc:111122223333:key/00000000-0000-4000-8000-000000000000"


def make_key(state: KeyState = KeyState.ENABLED) -> Key:
    return Key(
        key_id="00000000-0000-4000-8000-000000000000",
        account_id="111122223333",
        description="",
        key_usage=KeyUsage.KEY_AGREEMENT,
        key_spec=KeySpec.ECC_NIST_P256,
        origin=KeyOrigin.AWS_KMS,
        state=state,
        creation_date=1.0,
        deletion_date=None,
        public_key_der=b"pub",
        wrapped_material=b"wrapped",
    )


ACCEPTS = {
    KeyOperation.DERIVE_SHARED_SECRET: {KeyState.ENABLED},
    # AWS "Key states of AWS KMS keys": Encapsulate and Decapsulate need an Enabled key.
    KeyOperation.ENCAPSULATE: {KeyState.ENABLED},
    KeyOperation.DECAPSULATE: {KeyState.ENABLED},
    KeyOperation.GET_PUBLIC_KEY: {KeyState.ENABLED},
    # AWS "Key states of AWS KMS keys": the cryptographic operations need an Enabled key.
    KeyOperation.SIGN: {KeyState.ENABLED},
    KeyOperation.VERIFY: {KeyState.ENABLED},
    KeyOperation.GENERATE_MAC: {KeyState.ENABLED},
    KeyOperation.VERIFY_MAC: {KeyState.ENABLED},
    KeyOperation.DESCRIBE_KEY: set(KeyState),
    KeyOperation.ENABLE_KEY: {KeyState.ENABLED, KeyState.DISABLED},
    KeyOperation.DISABLE_KEY: {KeyState.ENABLED, KeyState.DISABLED},
    KeyOperation.SCHEDULE_KEY_DELETION: {
        KeyState.ENABLED,
        KeyState.DISABLED,
        KeyState.PENDING_IMPORT,
        KeyState.UNAVAILABLE,
    },
    KeyOperation.CANCEL_KEY_DELETION: {KeyState.PENDING_DELETION},
    KeyOperation.UPDATE_KEY_DESCRIPTION: {
        KeyState.ENABLED,
        KeyState.DISABLED,
        KeyState.PENDING_IMPORT,
    },
    KeyOperation.GET_KEY_POLICY: set(KeyState),
    KeyOperation.PUT_KEY_POLICY: {KeyState.ENABLED, KeyState.DISABLED, KeyState.PENDING_IMPORT},
    KeyOperation.LIST_KEY_POLICIES: set(KeyState),
    KeyOperation.CREATE_GRANT: {KeyState.ENABLED, KeyState.DISABLED, KeyState.PENDING_IMPORT},
    KeyOperation.LIST_GRANTS: set(KeyState),
    KeyOperation.RETIRE_GRANT: set(KeyState),
    KeyOperation.REVOKE_GRANT: set(KeyState),
    KeyOperation.GET_PARAMETERS_FOR_IMPORT: {
        KeyState.ENABLED,
        KeyState.DISABLED,
        KeyState.PENDING_IMPORT,
    },
    KeyOperation.IMPORT_KEY_MATERIAL: {
        KeyState.ENABLED,
        KeyState.DISABLED,
        KeyState.PENDING_IMPORT,
    },
    KeyOperation.DELETE_IMPORTED_KEY_MATERIAL: {
        KeyState.ENABLED,
        KeyState.DISABLED,
        KeyState.PENDING_IMPORT,
        KeyState.PENDING_DELETION,
    },
    KeyOperation.CREATE_ALIAS: {KeyState.ENABLED, KeyState.DISABLED, KeyState.PENDING_IMPORT},
    KeyOperation.UPDATE_ALIAS: {KeyState.ENABLED, KeyState.DISABLED, KeyState.PENDING_IMPORT},
    KeyOperation.DELETE_ALIAS: set(KeyState),
    KeyOperation.TAG_RESOURCE: {KeyState.ENABLED, KeyState.DISABLED, KeyState.PENDING_IMPORT},
    KeyOperation.UNTAG_RESOURCE: {KeyState.ENABLED, KeyState.DISABLED, KeyState.PENDING_IMPORT},
    KeyOperation.LIST_RESOURCE_TAGS: set(KeyState),
    # The symmetric data plane: Enabled only ("Key states of AWS KMS keys").
    **{
        op: {KeyState.ENABLED}
        for op in (
            KeyOperation.ENCRYPT,
            KeyOperation.DECRYPT,
            KeyOperation.RE_ENCRYPT_FROM,
            KeyOperation.RE_ENCRYPT_TO,
            KeyOperation.GENERATE_DATA_KEY,
            KeyOperation.GENERATE_DATA_KEY_WITHOUT_PLAINTEXT,
            KeyOperation.GENERATE_DATA_KEY_PAIR,
            KeyOperation.GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT,
        )
    },
    # Rotation: settings change and rotations happen on Enabled keys; status is read always.
    KeyOperation.ENABLE_KEY_ROTATION: {KeyState.ENABLED},
    KeyOperation.DISABLE_KEY_ROTATION: {KeyState.ENABLED},
    KeyOperation.ROTATE_KEY_ON_DEMAND: {KeyState.ENABLED},
    KeyOperation.GET_KEY_ROTATION_STATUS: set(KeyState),
    KeyOperation.LIST_KEY_ROTATIONS: set(KeyState),
    KeyOperation.GET_KEY_LAST_USAGE: set(KeyState),
    # "Key states of AWS KMS keys": never while PendingDeletion.
    KeyOperation.REPLICATE_KEY: {KeyState.ENABLED, KeyState.DISABLED, KeyState.PENDING_IMPORT},
    KeyOperation.UPDATE_PRIMARY_REGION: {
        KeyState.ENABLED,
        KeyState.DISABLED,
        KeyState.PENDING_IMPORT,
    },
}


def test_every_operation_has_a_row() -> None:
    assert set(ACCEPTS) == set(KeyOperation)


@pytest.mark.parametrize("operation", list(KeyOperation), ids=lambda o: o.value)
@pytest.mark.parametrize("state", list(KeyState), ids=lambda s: s.value)
def test_state_table(operation: KeyOperation, state: KeyState) -> None:
    key = make_key(state)
    if state in ACCEPTS[operation]:
        check_state(key, operation, ARN)
        return
    expected = (
        DisabledException
        if state is KeyState.DISABLED and operation is not KeyOperation.CANCEL_KEY_DELETION
        else KMSInvalidStateException
    )
    with pytest.raises(expected) as raised:
        check_state(key, operation, ARN)
    assert raised.value.message.startswith(ARN)


def test_messages_follow_aws() -> None:
    with pytest.raises(DisabledException, match=r"is disabled\.$"):
        check_state(make_key(KeyState.DISABLED), KeyOperation.DERIVE_SHARED_SECRET, ARN)
    with pytest.raises(KMSInvalidStateException, match=r"is pending deletion\.$"):
        check_state(make_key(KeyState.PENDING_DELETION), KeyOperation.DERIVE_SHARED_SECRET, ARN)
    with pytest.raises(KMSInvalidStateException, match=r"is not pending deletion\.$"):
        check_state(make_key(KeyState.ENABLED), KeyOperation.CANCEL_KEY_DELETION, ARN)


def test_transitions() -> None:
    key = make_key()
    assert disable(key).state is KeyState.DISABLED
    assert enable(disable(key)).state is KeyState.ENABLED
    pending = schedule_deletion(key, now=1000.0, pending_window_days=7)
    assert pending.state is KeyState.PENDING_DELETION
    assert pending.deletion_date == 1000.0 + 7 * 86400
    # AWS: cancelling a deletion leaves the key Disabled, never Enabled.
    cancelled = cancel_deletion(pending)
    assert cancelled.state is KeyState.DISABLED
    assert cancelled.deletion_date is None


def test_is_gone_only_after_the_window() -> None:
    pending = schedule_deletion(make_key(), now=0.0, pending_window_days=7)
    assert not pending.is_gone(7 * 86400 - 1)
    assert pending.is_gone(7 * 86400)
    assert not make_key().is_gone(1e12)
