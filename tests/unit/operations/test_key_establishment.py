"""Encapsulate, Decapsulate and X25519/X448 DeriveSharedSecret on a real SQLite store (DESIGN §4a).

The wire and boto3 are covered end to end in tests/e2e/test_key_establishment.py; here the
operations meet the domain directly: what is stored, what is refused, what reaches a repr.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import mlkem, x448, x25519

from qkms.crypto import unwrap
from qkms.domain.arns import canonical_key_arn
from qkms.domain.errors import (
    InvalidCiphertextException,
    InvalidKeyUsageException,
    InvalidPublicKeyException,
    UnsupportedOperationException,
)
from qkms.operations.key_agreement.decapsulate import decapsulate
from qkms.operations.key_agreement.derive_shared_secret import derive_shared_secret
from qkms.operations.key_agreement.encapsulate import encapsulate
from qkms.operations.keys.create_key import create_key
from qkms.operations.keys.get_public_key import get_public_key
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.shapes import CreateKeyRequest, DeriveSharedSecretRequest, GetPublicKeyRequest
from qkms.operations.shapes.key_agreement import DecapsulateRequest, EncapsulateRequest
from tests.peer_keys import public_key_der


def _create(ctx: OperationContext, spec: str, usage: str) -> str:
    return create_key(ctx, CreateKeyRequest(key_spec=spec, key_usage=usage)).key_metadata.key_id


def _decapsulate(ctx: OperationContext, key_id: str, ciphertext: bytes) -> bytes:
    request = DecapsulateRequest(
        key_id=key_id, shared_secret_ciphertext_blob=ciphertext, encapsulation_algorithm="ML_KEM"
    )
    return decapsulate(ctx, request).shared_secret


def test_ml_kem_material_is_stored_wrapped_as_pkcs8_and_decapsulates(
    ctx: OperationContext, services: Services
) -> None:
    key_id = _create(ctx, "ML_KEM_1024", "ENCAPSULATE_DECAPSULATE")
    row = services.store.get_key(key_id)
    assert row is not None and row.wrapped_material is not None
    aad = canonical_key_arn(row.account_id, key_id).encode()
    private = serialization.load_der_private_key(
        unwrap(services.root_key, row.wrapped_material, aad), password=None
    )
    assert isinstance(private, mlkem.MLKEM1024PrivateKey)
    public = get_public_key(ctx, GetPublicKeyRequest(key_id=key_id))
    assert public.public_key == row.public_key
    assert public.encapsulation_algorithms == ["ML_KEM"]
    assert public.key_agreement_algorithms is None
    # The private key decapsulates what its own public key encapsulated.
    secret, ciphertext = private.public_key().encapsulate()
    assert _decapsulate(ctx, key_id, ciphertext) == secret


def test_encapsulate_then_decapsulate_and_nothing_secret_in_a_repr(ctx: OperationContext) -> None:
    key_id = _create(ctx, "ML_KEM_768", "ENCAPSULATE_DECAPSULATE")
    sent = encapsulate(ctx, EncapsulateRequest(key_id=key_id, encapsulation_algorithm="ML_KEM"))
    assert _decapsulate(ctx, key_id, sent.shared_secret_ciphertext_blob) == sent.shared_secret
    assert sent.shared_secret.hex() not in repr(sent)
    assert "redacted" in repr(sent)


def test_a_wrong_length_is_the_only_decapsulate_refusal(ctx: OperationContext) -> None:
    key_id = _create(ctx, "ML_KEM_768", "ENCAPSULATE_DECAPSULATE")
    with pytest.raises(InvalidCiphertextException, match="ML_KEM_768"):
        _decapsulate(ctx, key_id, bytes(1568))
    assert len(_decapsulate(ctx, key_id, bytes(1088))) == 32


def test_ml_kem_512_is_refused_by_name(ctx: OperationContext) -> None:
    with pytest.raises(UnsupportedOperationException, match="ML-KEM-512"):
        _create(ctx, "ML_KEM_512", "ENCAPSULATE_DECAPSULATE")


def test_kem_operations_refuse_other_keys(ctx: OperationContext) -> None:
    key_id = _create(ctx, "ECC_X25519", "DERIVE_SHARED_SECRET")
    with pytest.raises(InvalidKeyUsageException, match="not valid for Encapsulate"):
        encapsulate(ctx, EncapsulateRequest(key_id=key_id, encapsulation_algorithm="ML_KEM"))
    with pytest.raises(InvalidKeyUsageException, match="not valid for Decapsulate"):
        _decapsulate(ctx, key_id, bytes(1088))


@pytest.mark.parametrize("spec", ["ECC_X25519", "ECC_X448"])
def test_xdh_keys_derive_the_rfc_7748_secret(ctx: OperationContext, spec: str) -> None:
    key_id = _create(ctx, spec, "KEY_AGREEMENT")
    der = get_public_key(ctx, GetPublicKeyRequest(key_id=key_id)).public_key
    loaded = serialization.load_der_public_key(der)
    if isinstance(loaded, x25519.X25519PublicKey):
        peer = x25519.X25519PrivateKey.generate()
        expected, peer_der = peer.exchange(loaded), public_key_der(peer.public_key())
    else:
        assert isinstance(loaded, x448.X448PublicKey)
        peer448 = x448.X448PrivateKey.generate()
        expected, peer_der = peer448.exchange(loaded), public_key_der(peer448.public_key())
    request = DeriveSharedSecretRequest(key_id=key_id, public_key=peer_der)
    assert derive_shared_secret(ctx, request).shared_secret == expected


def test_a_small_order_point_is_an_invalid_public_key(ctx: OperationContext) -> None:
    key_id = _create(ctx, "ECC_X25519", "KEY_AGREEMENT")
    small_order = bytes.fromhex("302a300506032b656e032100") + bytes(32)
    request = DeriveSharedSecretRequest(key_id=key_id, public_key=small_order)
    with pytest.raises(InvalidPublicKeyException, match=r"^PublicKey is a small-order point\.$"):
        derive_shared_secret(ctx, request)
