"""ML-KEM Encapsulate/Decapsulate and X25519/X448 DeriveSharedSecret through boto3 against a
real two-worker `qkms serve` (DESIGN §4a).

The AWS CLI's `encapsulate`/`decapsulate` are exercised in test_cli_kem.py.

Every secret is checked against an independent computation with local `cryptography`: an
encapsulation made here must decapsulate in QKMS to the same secret, an X25519 agreement here
must equal QKMS's, and implicit rejection must give a different 32-byte secret, not an error.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import mlkem, x448, x25519

from tests.e2e.server import QkmsServer
from tests.e2e.support import (
    ACCOUNT_A,
    allow,
    client_error_message,
    error_of,
    make_person,
    policy,
    root_statement,
)
from tests.peer_keys import public_key_der

_CIPHERTEXT_LENGTHS = {"ML_KEM_768": 1088, "ML_KEM_1024": 1568}
_MLKEM_PUBLIC = {"ML_KEM_768": mlkem.MLKEM768PublicKey, "ML_KEM_1024": mlkem.MLKEM1024PublicKey}
_XDH = ("ECC_X25519", "ECC_X448")


def _local_agreement(spec: str, kms_public_der: bytes) -> tuple[bytes, bytes]:
    """(a fresh local peer's DER SPKI, the secret it computes with the KMS key's public key)."""
    loaded = serialization.load_der_public_key(kms_public_der)
    if spec == "ECC_X25519":
        assert isinstance(loaded, x25519.X25519PublicKey)
        local = x25519.X25519PrivateKey.generate()
        return public_key_der(local.public_key()), local.exchange(loaded)
    assert isinstance(loaded, x448.X448PublicKey)
    local448 = x448.X448PrivateKey.generate()
    return public_key_der(local448.public_key()), local448.exchange(loaded)


@pytest.fixture(scope="module")
def qkms(two_workers: QkmsServer) -> QkmsServer:
    return two_workers


@pytest.fixture(scope="module")
def kms(qkms: QkmsServer) -> Any:
    return qkms.client()


def _mlkem_key(kms: Any, spec: str = "ML_KEM_768", **extra: Any) -> str:
    created = kms.create_key(KeySpec=spec, KeyUsage="ENCAPSULATE_DECAPSULATE", **extra)
    return str(created["KeyMetadata"]["KeyId"])


def _xdh_key(kms: Any, spec: str) -> str:
    return str(kms.create_key(KeySpec=spec, KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["KeyId"])


def _decapsulate(kms: Any, key_id: str, ciphertext: bytes, **extra: Any) -> bytes:
    answer = kms.decapsulate(
        KeyId=key_id,
        SharedSecretCiphertextBlob=ciphertext,
        EncapsulationAlgorithm="ML_KEM",
        **extra,
    )
    return bytes(answer["SharedSecret"])


# --- ML-KEM ------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["ML_KEM_768", "ML_KEM_1024"])
def test_a_local_encapsulation_to_the_public_key_decapsulates_to_the_same_secret(
    kms: Any, spec: str
) -> None:
    key_id = _mlkem_key(kms, spec)
    metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert metadata["KeySpec"] == spec
    assert metadata["KeyUsage"] == "ENCAPSULATE_DECAPSULATE"
    assert metadata["EncapsulationAlgorithms"] == ["ML_KEM"]
    assert "KeyAgreementAlgorithms" not in metadata
    answer = kms.get_public_key(KeyId=key_id)
    assert answer["EncapsulationAlgorithms"] == ["ML_KEM"]
    assert answer["KeyUsage"] == "ENCAPSULATE_DECAPSULATE"
    public = serialization.load_der_public_key(answer["PublicKey"])
    assert isinstance(public, mlkem.MLKEM768PublicKey | mlkem.MLKEM1024PublicKey)
    assert isinstance(public, _MLKEM_PUBLIC[spec])
    for _ in range(4):  # both workers serve the same key
        local_secret, ciphertext = public.encapsulate()
        assert len(ciphertext) == _CIPHERTEXT_LENGTHS[spec]
        assert _decapsulate(kms, key_id, ciphertext) == local_secret


def test_encapsulate_in_qkms_then_decapsulate_in_qkms_gives_the_same_secret(kms: Any) -> None:
    key_id = _mlkem_key(kms)
    answer = kms.encapsulate(KeyId=key_id, EncapsulationAlgorithm="ML_KEM")
    assert answer["EncapsulationAlgorithm"] == "ML_KEM"
    assert answer["KeyId"].endswith(key_id)
    secret, ciphertext = bytes(answer["SharedSecret"]), bytes(answer["SharedSecretCiphertextBlob"])
    assert len(secret) == 32 and len(ciphertext) == 1088
    assert answer["ResponseMetadata"]["HTTPHeaders"]["cache-control"] == "no-store"
    decapsulated = kms.decapsulate(
        KeyId=key_id, SharedSecretCiphertextBlob=ciphertext, EncapsulationAlgorithm="ML_KEM"
    )
    assert bytes(decapsulated["SharedSecret"]) == secret
    assert decapsulated["ResponseMetadata"]["HTTPHeaders"]["cache-control"] == "no-store"
    # Each encapsulation is fresh.
    again = kms.encapsulate(KeyId=key_id, EncapsulationAlgorithm="ML_KEM")
    assert bytes(again["SharedSecret"]) != secret


def test_an_altered_or_foreign_ciphertext_gives_another_32_byte_secret_and_no_error(
    kms: Any,
) -> None:
    key_id, other_id = _mlkem_key(kms), _mlkem_key(kms)
    answer = kms.encapsulate(KeyId=key_id, EncapsulationAlgorithm="ML_KEM")
    secret, ciphertext = bytes(answer["SharedSecret"]), bytes(answer["SharedSecretCiphertextBlob"])
    altered = bytes([ciphertext[0] ^ 1]) + ciphertext[1:]
    rejected = _decapsulate(kms, key_id, altered)
    assert len(rejected) == 32 and rejected != secret
    # Implicit rejection is deterministic (FIPS 203: J(z || c)), in every worker.
    assert _decapsulate(kms, key_id, altered) == rejected
    foreign = _decapsulate(kms, other_id, ciphertext)
    assert len(foreign) == 32 and foreign != secret


@pytest.mark.parametrize("length", [1, 1087, 1089, 1568])
def test_a_ciphertext_of_the_wrong_length_is_invalid_ciphertext(kms: Any, length: int) -> None:
    key_id = _mlkem_key(kms)
    message = client_error_message(
        lambda: _decapsulate(kms, key_id, os.urandom(length)), "InvalidCiphertextException"
    )
    assert "ML_KEM_768" in message


def test_ml_kem_512_is_refused_because_the_crypto_library_lacks_it(kms: Any) -> None:
    message = client_error_message(
        lambda: kms.create_key(KeySpec="ML_KEM_512", KeyUsage="ENCAPSULATE_DECAPSULATE"),
        "UnsupportedOperationException",
    )
    assert "cryptography" in message and "ML-KEM-512" in message


def test_ml_kem_keys_take_only_their_usage_and_only_kms_material(kms: Any) -> None:
    assert error_of(lambda: kms.create_key(KeySpec="ML_KEM_768", KeyUsage="KEY_AGREEMENT")) == (
        "ValidationException",
        "KeyUsage KEY_AGREEMENT is not compatible with KeySpec ML_KEM_768",
    )
    code, _ = error_of(
        lambda: kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="ENCAPSULATE_DECAPSULATE")
    )
    assert code == "ValidationException"
    code, _ = error_of(
        lambda: kms.create_key(
            KeySpec="ML_KEM_768", KeyUsage="ENCAPSULATE_DECAPSULATE", Origin="EXTERNAL"
        )
    )
    assert code == "UnsupportedOperationException"


def test_key_usage_is_enforced_both_ways(kms: Any) -> None:
    ecc = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    message = client_error_message(
        lambda: kms.encapsulate(KeyId=ecc["KeyId"], EncapsulationAlgorithm="ML_KEM"),
        "InvalidKeyUsageException",
    )
    assert message == (
        f"{ecc['Arn']} key usage is KEY_AGREEMENT which is not valid for Encapsulate."
    )
    client_error_message(
        lambda: _decapsulate(kms, ecc["KeyId"], os.urandom(1088)), "InvalidKeyUsageException"
    )
    key_id = _mlkem_key(kms)
    peer = x25519.X25519PrivateKey.generate().public_key()
    client_error_message(
        lambda: kms.derive_shared_secret(
            KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=public_key_der(peer)
        ),
        "InvalidKeyUsageException",
    )


def test_key_states_follow_the_table(kms: Any) -> None:
    key_id = _mlkem_key(kms)
    ciphertext = bytes(
        kms.encapsulate(KeyId=key_id, EncapsulationAlgorithm="ML_KEM")["SharedSecretCiphertextBlob"]
    )
    kms.disable_key(KeyId=key_id)
    assert error_of(lambda: kms.encapsulate(KeyId=key_id, EncapsulationAlgorithm="ML_KEM"))[0] == (
        "DisabledException"
    )
    assert error_of(lambda: _decapsulate(kms, key_id, ciphertext))[0] == "DisabledException"
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    for call in (
        lambda: kms.encapsulate(KeyId=key_id, EncapsulationAlgorithm="ML_KEM"),
        lambda: _decapsulate(kms, key_id, ciphertext),
    ):
        assert error_of(call)[0] == "KMSInvalidStateException"


def test_dry_run_checks_everything_and_returns_no_secret(kms: Any) -> None:
    key_id = _mlkem_key(kms)
    client_error_message(
        lambda: kms.encapsulate(KeyId=key_id, EncapsulationAlgorithm="ML_KEM", DryRun=True),
        "DryRunOperationException",
    )
    client_error_message(
        lambda: _decapsulate(kms, key_id, os.urandom(1088), DryRun=True),
        "DryRunOperationException",
    )
    # A wrong length is found before the dry run answers.
    client_error_message(
        lambda: _decapsulate(kms, key_id, os.urandom(10), DryRun=True),
        "InvalidCiphertextException",
    )


def test_actions_are_separate_and_a_grant_with_its_token_allows_decapsulate(
    qkms: QkmsServer, kms: Any
) -> None:
    # Only the admin (through the account root) may use the key; the user is named by grants.
    key_id = _mlkem_key(kms, Policy=policy(root_statement()))
    user = make_person(qkms, ACCOUNT_A, "kem-user", policy(allow("kms:DescribeKey")))
    ciphertext = bytes(
        kms.encapsulate(KeyId=key_id, EncapsulationAlgorithm="ML_KEM")["SharedSecretCiphertextBlob"]
    )
    message = client_error_message(
        lambda: _decapsulate(user.client, key_id, ciphertext), "AccessDeniedException"
    )
    assert "kms:Decapsulate" in message
    grant = kms.create_grant(KeyId=key_id, GranteePrincipal=user.arn, Operations=["Decapsulate"])
    assert (
        len(_decapsulate(user.client, key_id, ciphertext, GrantTokens=[grant["GrantToken"]])) == 32
    )
    # The grant is for Decapsulate only.
    message = client_error_message(
        lambda: user.client.encapsulate(
            KeyId=key_id, EncapsulationAlgorithm="ML_KEM", GrantTokens=[grant["GrantToken"]]
        ),
        "AccessDeniedException",
    )
    assert "kms:Encapsulate" in message
    # A grant for an operation the key type cannot do is refused (AWS "Grant operations").
    assert (
        error_of(
            lambda: kms.create_grant(
                KeyId=key_id, GranteePrincipal=user.arn, Operations=["DeriveSharedSecret"]
            )
        )[0]
        == "ValidationException"
    )


def test_the_audit_log_has_neither_the_secret_nor_the_ciphertext(
    qkms: QkmsServer, kms: Any
) -> None:
    key_id = _mlkem_key(kms)
    answer = kms.encapsulate(KeyId=key_id, EncapsulationAlgorithm="ML_KEM")
    secret, ciphertext = bytes(answer["SharedSecret"]), bytes(answer["SharedSecretCiphertextBlob"])
    _decapsulate(kms, key_id, ciphertext)
    audit = (qkms.data_dir / "audit.log").read_bytes()
    events = [json.loads(line) for line in audit.splitlines()]
    names = [event["eventName"] for event in events]
    assert "Encapsulate" in names and "Decapsulate" in names
    for value in (secret, ciphertext, ciphertext[:64]):
        for text in (value, base64.b64encode(value), value.hex().encode()):
            assert text not in audit
    assert b"sharedSecretCiphertextBlob" not in audit


# --- X25519 / X448 -----------------------------------------------------------------------------


@pytest.mark.parametrize("spec", _XDH)
def test_xdh_keys_agree_with_local_cryptography_and_with_each_other(kms: Any, spec: str) -> None:
    key_a, key_b = _xdh_key(kms, spec), _xdh_key(kms, spec)
    metadata = kms.describe_key(KeyId=key_a)["KeyMetadata"]
    assert (metadata["KeySpec"], metadata["KeyAgreementAlgorithms"]) == (spec, ["ECDH"])
    public_a = kms.get_public_key(KeyId=key_a)["PublicKey"]
    public_b = kms.get_public_key(KeyId=key_b)["PublicKey"]
    peer_der, local_secret = _local_agreement(spec, public_a)
    derived = kms.derive_shared_secret(
        KeyId=key_a, KeyAgreementAlgorithm="ECDH", PublicKey=peer_der
    )
    assert bytes(derived["SharedSecret"]) == local_secret
    a_to_b = kms.derive_shared_secret(KeyId=key_a, KeyAgreementAlgorithm="ECDH", PublicKey=public_b)
    b_to_a = kms.derive_shared_secret(KeyId=key_b, KeyAgreementAlgorithm="ECDH", PublicKey=public_a)
    assert a_to_b["SharedSecret"] == b_to_a["SharedSecret"]


def test_a_small_order_point_or_another_curve_is_an_invalid_public_key(kms: Any) -> None:
    key_id = _xdh_key(kms, "ECC_X25519")
    # RFC 7748 §6.1: u = 0 has order 1, so the shared secret would be all zeros.
    small_order = bytes.fromhex("302a300506032b656e032100") + bytes(32)
    message = client_error_message(
        lambda: kms.derive_shared_secret(
            KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=small_order
        ),
        "InvalidPublicKeyException",
    )
    assert message == "PublicKey is a small-order point."
    x448_peer = public_key_der(x448.X448PrivateKey.generate().public_key())
    message = client_error_message(
        lambda: kms.derive_shared_secret(
            KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=x448_peer
        ),
        "InvalidPublicKeyException",
    )
    assert message == "PublicKey uses a different curve than the KMS key (ECC_X25519)."
