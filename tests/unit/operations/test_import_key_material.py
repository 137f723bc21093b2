"""GetParametersForImport / ImportKeyMaterial against a real SQLite store, with a moved clock."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from qkms.crypto import unwrap
from qkms.domain.arns import canonical_key_arn
from qkms.domain.errors import (
    DisabledException,
    ExpiredImportTokenException,
    IncorrectKeyMaterialException,
    InvalidCiphertextException,
    InvalidImportTokenException,
    KMSInvalidStateException,
    UnsupportedOperationException,
    ValidationException,
)
from qkms.domain.key_material import unwrap_wrapping_key
from qkms.operations.key_import.get_parameters_for_import import get_parameters_for_import
from qkms.operations.key_import.import_key_material import import_key_material
from qkms.operations.keys.create_key import create_key
from qkms.operations.keys.describe_key import describe_key
from qkms.operations.keys.disable_key import disable_key
from qkms.operations.keys.get_public_key import get_public_key
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.shapes import (
    CreateKeyRequest,
    DescribeKeyRequest,
    DisableKeyRequest,
    GetPublicKeyRequest,
)
from qkms.operations.shapes.key_import import (
    GetParametersForImportRequest,
    GetParametersForImportResponse,
    ImportKeyMaterialRequest,
)
from tests.import_client import client_wrap, pkcs8, spki
from tests.peer_keys import public_key_der
from tests.unit.support import (
    DAY,
    FakeClock,
    derive,
    do_import,
    external_key,
    parameters,
    state,
)

CURVES: dict[str, ec.EllipticCurve] = {
    "ECC_NIST_P256": ec.SECP256R1(),
    "ECC_NIST_P384": ec.SECP384R1(),
    "ECC_NIST_P521": ec.SECP521R1(),
    "ECC_SECG_P256K1": ec.SECP256K1(),
}
# --- CreateKey with Origin=EXTERNAL -----------------------------------------------------------


def test_external_key_starts_pending_import_without_material(
    ctx: OperationContext, services: Services
) -> None:
    key_id = external_key(ctx)
    metadata = describe_key(ctx, DescribeKeyRequest(key_id=key_id)).key_metadata
    assert (metadata.origin, metadata.key_state, metadata.enabled) == (
        "EXTERNAL",
        "PendingImport",
        False,
    )
    assert metadata.expiration_model is None and metadata.valid_to is None
    row = services.store.get_key(key_id)
    assert row is not None and row.public_key is None and row.wrapped_material is None
    with pytest.raises(KMSInvalidStateException, match="pending import"):
        derive(ctx, key_id, ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(KMSInvalidStateException):
        get_public_key(ctx, GetPublicKeyRequest(key_id=key_id))


@pytest.mark.parametrize(
    ("spec", "usage"),
    [
        # AWS: "AWS KMS creates and protects all ML-DSA keys" - none is imported.
        ("ML_DSA_44", "SIGN_VERIFY"),
        ("ML_DSA_87", "SIGN_VERIFY"),
    ],
)
def test_external_refused_for_ml_dsa_keys(ctx: OperationContext, spec: str, usage: str) -> None:
    with pytest.raises(UnsupportedOperationException, match="EXTERNAL"):
        create_key(ctx, CreateKeyRequest(key_spec=spec, key_usage=usage, origin="EXTERNAL"))


@pytest.mark.parametrize("origin", ["AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"])
def test_other_origins_stay_refused(ctx: OperationContext, origin: str) -> None:
    request = CreateKeyRequest(key_spec="ECC_NIST_P256", key_usage="KEY_AGREEMENT", origin=origin)
    with pytest.raises(UnsupportedOperationException, match=origin):
        create_key(ctx, request)


# --- a successful import ----------------------------------------------------------------------


@pytest.mark.parametrize("spec", list(CURVES))
def test_import_then_derive_on_every_curve(ctx: OperationContext, spec: str) -> None:
    key_id = external_key(ctx, spec)
    private_key = ec.generate_private_key(CURVES[spec])
    do_import(ctx, key_id, private_key)
    metadata = describe_key(ctx, DescribeKeyRequest(key_id=key_id)).key_metadata
    assert (metadata.key_state, metadata.expiration_model, metadata.valid_to) == (
        "Enabled",
        "KEY_MATERIAL_DOES_NOT_EXPIRE",
        None,
    )
    peer = ec.generate_private_key(CURVES[spec])
    assert derive(ctx, key_id, peer) == peer.exchange(ec.ECDH(), private_key.public_key())
    assert get_public_key(ctx, GetPublicKeyRequest(key_id=key_id)).public_key == spki(private_key)


@pytest.mark.parametrize(
    "algorithm",
    [
        "RSAES_OAEP_SHA_1",
        "RSAES_OAEP_SHA_256",
        "RSA_AES_KEY_WRAP_SHA_1",
        "RSA_AES_KEY_WRAP_SHA_256",
    ],
)
def test_every_wrapping_algorithm(ctx: OperationContext, algorithm: str) -> None:
    key_id = external_key(ctx)
    do_import(ctx, key_id, ec.generate_private_key(ec.SECP256R1()), algorithm)
    assert state(ctx, key_id) == "Enabled"


def test_material_and_wrapping_key_are_stored_only_wrapped(
    ctx: OperationContext, services: Services
) -> None:
    key_id = external_key(ctx)
    params = parameters(ctx, key_id)
    stored = services.store.get_import_parameters(key_id)
    assert stored is not None
    wrapping_private = unwrap_wrapping_key(
        services.root_key, key_id, stored.token_id, stored.wrapped_wrapping_key
    )
    assert wrapping_private not in stored.wrapped_wrapping_key
    loaded = serialization.load_der_private_key(wrapping_private, None)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    assert public_key_der(loaded.public_key()) == params.public_key
    assert stored.expires_at == services.clock() + DAY
    assert params.parameters_valid_to == stored.expires_at

    private_key = ec.generate_private_key(ec.SECP256R1())
    do_import(ctx, key_id, private_key, params=params)
    row = services.store.get_key(key_id)
    assert row is not None and row.wrapped_material is not None
    plain = unwrap(
        services.root_key, row.wrapped_material, canonical_key_arn(row.account_id, key_id).encode()
    )
    assert plain == pkcs8(private_key) and plain not in row.wrapped_material


def test_import_into_a_disabled_key_keeps_it_disabled(ctx: OperationContext) -> None:
    key_id = external_key(ctx)
    private_key = ec.generate_private_key(ec.SECP256R1())
    do_import(ctx, key_id, private_key)
    disable_key(ctx, DisableKeyRequest(key_id=key_id))
    do_import(ctx, key_id, private_key)  # reimport the same material, e.g. a new expiration
    assert state(ctx, key_id) == "Disabled"
    with pytest.raises(DisabledException):
        derive(ctx, key_id, ec.generate_private_key(ec.SECP256R1()))


# --- tokens -----------------------------------------------------------------------------------


def test_token_valid_for_24_hours(ctx: OperationContext, clock: FakeClock) -> None:
    key_id = external_key(ctx)
    params = parameters(ctx, key_id)
    clock.advance(DAY)
    with pytest.raises(ExpiredImportTokenException):
        do_import(ctx, key_id, ec.generate_private_key(ec.SECP256R1()), params=params)
    clock.advance(-1)
    do_import(ctx, key_id, ec.generate_private_key(ec.SECP256R1()), params=params)


def test_only_the_latest_token_is_valid(ctx: OperationContext) -> None:
    key_id = external_key(ctx)
    first = parameters(ctx, key_id)
    second = parameters(ctx, key_id)
    with pytest.raises(InvalidImportTokenException):
        do_import(ctx, key_id, ec.generate_private_key(ec.SECP256R1()), params=first)
    do_import(ctx, key_id, ec.generate_private_key(ec.SECP256R1()), params=second)


def test_token_is_bound_to_its_key(ctx: OperationContext) -> None:
    key_a, key_b = external_key(ctx), external_key(ctx)
    params_a = parameters(ctx, key_a)
    parameters(ctx, key_b)
    with pytest.raises(InvalidImportTokenException, match="different KMS key"):
        do_import(ctx, key_b, ec.generate_private_key(ec.SECP256R1()), params=params_a)


def test_tampered_token_is_invalid(ctx: OperationContext) -> None:
    key_id = external_key(ctx)
    params = parameters(ctx, key_id)
    token = bytearray(params.import_token)
    token[5] ^= 0x40
    forged = GetParametersForImportResponse(
        key_id=params.key_id,
        import_token=bytes(token),
        public_key=params.public_key,
        parameters_valid_to=params.parameters_valid_to,
    )
    with pytest.raises(InvalidImportTokenException):
        do_import(ctx, key_id, ec.generate_private_key(ec.SECP256R1()), params=forged)


# --- refused material -------------------------------------------------------------------------


def test_material_that_does_not_decrypt(ctx: OperationContext) -> None:
    key_id = external_key(ctx)
    params = parameters(ctx, key_id, "RSAES_OAEP_SHA_256")
    other = parameters(ctx, external_key(ctx), "RSAES_OAEP_SHA_256")
    material = pkcs8(ec.generate_private_key(ec.SECP256R1()))
    for ciphertext in (
        client_wrap("RSAES_OAEP_SHA_256", other.public_key, material),  # another wrapping key
        client_wrap("RSAES_OAEP_SHA_1", params.public_key, material),  # another algorithm
        b"\x00" * 256,
    ):
        request = ImportKeyMaterialRequest(
            key_id=key_id,
            import_token=params.import_token,
            encrypted_key_material=ciphertext,
            expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE",
        )
        with pytest.raises(InvalidCiphertextException):
            import_key_material(ctx, request)


def test_material_of_another_curve(ctx: OperationContext) -> None:
    key_id = external_key(ctx, "ECC_NIST_P384")
    with pytest.raises(IncorrectKeyMaterialException, match="ECC_NIST_P384"):
        do_import(ctx, key_id, ec.generate_private_key(ec.SECP256R1()))
    assert state(ctx, key_id) == "PendingImport"


def test_reimport_of_other_material_is_refused(ctx: OperationContext) -> None:
    key_id = external_key(ctx)
    original = ec.generate_private_key(ec.SECP256R1())
    do_import(ctx, key_id, original)
    with pytest.raises(IncorrectKeyMaterialException, match="previously imported"):
        do_import(ctx, key_id, ec.generate_private_key(ec.SECP256R1()))
    peer = ec.generate_private_key(ec.SECP256R1())
    assert derive(ctx, key_id, peer) == peer.exchange(ec.ECDH(), original.public_key())


def test_existing_key_material_needs_a_previous_import(ctx: OperationContext) -> None:
    key_id = external_key(ctx)
    private_key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(IncorrectKeyMaterialException):
        do_import(ctx, key_id, private_key, import_type="EXISTING_KEY_MATERIAL")
    do_import(ctx, key_id, private_key, import_type="NEW_KEY_MATERIAL")
    do_import(ctx, key_id, private_key, import_type="EXISTING_KEY_MATERIAL")


# --- refused requests -------------------------------------------------------------------------


def test_aws_kms_keys_refuse_import(ctx: OperationContext) -> None:
    request = CreateKeyRequest(key_spec="ECC_NIST_P256", key_usage="KEY_AGREEMENT")
    key_id = create_key(ctx, request).key_metadata.key_id
    with pytest.raises(UnsupportedOperationException, match="origin is AWS_KMS"):
        parameters(ctx, key_id)
    params = parameters(ctx, external_key(ctx))
    with pytest.raises(UnsupportedOperationException, match="origin is AWS_KMS"):
        do_import(ctx, key_id, ec.generate_private_key(ec.SECP256R1()), params=params)


@pytest.mark.parametrize(
    ("algorithm", "spec"),
    [("RSAES_PKCS1_V1_5", "RSA_2048"), ("SM2PKE", "RSA_2048"), ("RSAES_OAEP_SHA_256", "SM2")],
)
def test_unserved_wrapping_choices(ctx: OperationContext, algorithm: str, spec: str) -> None:
    request = GetParametersForImportRequest(
        key_id=external_key(ctx), wrapping_algorithm=algorithm, wrapping_key_spec=spec
    )
    with pytest.raises(UnsupportedOperationException):
        get_parameters_for_import(ctx, request)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"expiration_model": None}, "ValidTo is required"),
        ({"expiration_model": "KEY_MATERIAL_EXPIRES"}, "ValidTo is required"),
        (
            {"expiration_model": "KEY_MATERIAL_DOES_NOT_EXPIRE", "valid_to": 1_800_003_600.0},
            "must not be set",
        ),
        ({"expiration_model": "KEY_MATERIAL_EXPIRES", "valid_to": 1_800_000_000.0}, "future"),
        (
            {"expiration_model": "KEY_MATERIAL_EXPIRES", "valid_to": 1_800_000_000.0 + 366 * DAY},
            "365",
        ),
    ],
)
def test_expiration_parameters(ctx: OperationContext, extra: dict[str, Any], message: str) -> None:
    key_id = external_key(ctx)
    with pytest.raises(ValidationException, match=message):
        do_import(ctx, key_id, ec.generate_private_key(ec.SECP256R1()), **extra)


@pytest.mark.parametrize(
    "extra", [{"key_material_id": "a" * 64}, {"key_material_description": "rotation"}]
)
def test_material_rotation_parameters_are_refused(
    ctx: OperationContext, extra: dict[str, Any]
) -> None:
    with pytest.raises(UnsupportedOperationException):
        do_import(ctx, external_key(ctx), ec.generate_private_key(ec.SECP256R1()), **extra)
