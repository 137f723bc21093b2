"""ImportKeyMaterial for RSA and ECC signing keys and HMAC keys, then Sign/Verify/GenerateMac."""

from __future__ import annotations

import hmac
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from qkms.domain.errors import IncorrectKeyMaterialException, InvalidCiphertextException
from qkms.operations.key_import.delete_imported_key_material import delete_imported_key_material
from qkms.operations.key_import.get_parameters_for_import import get_parameters_for_import
from qkms.operations.key_import.import_key_material import import_key_material
from qkms.operations.keys.create_key import create_key
from qkms.operations.mac import generate_mac
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import CreateKeyRequest
from qkms.operations.shapes.key_import import (
    DeleteImportedKeyMaterialRequest,
    GetParametersForImportRequest,
    ImportKeyMaterialRequest,
)
from qkms.operations.shapes.mac import GenerateMacRequest
from qkms.operations.shapes.signing import SignRequest, VerifyRequest
from qkms.operations.signing import sign, verify
from tests.import_client import client_wrap, pkcs8

WRAP = "RSA_AES_KEY_WRAP_SHA_256"


def external(ctx: OperationContext, spec: str, usage: str) -> str:
    request = CreateKeyRequest(key_spec=spec, key_usage=usage, origin="EXTERNAL")
    return create_key(ctx, request).key_metadata.key_id


def do_import(ctx: OperationContext, key_id: str, material: bytes, algorithm: str = WRAP) -> None:
    params = get_parameters_for_import(
        ctx,
        GetParametersForImportRequest(
            key_id=key_id, wrapping_algorithm=algorithm, wrapping_key_spec="RSA_2048"
        ),
    )
    import_key_material(
        ctx,
        ImportKeyMaterialRequest(
            key_id=key_id,
            import_token=params.import_token,
            encrypted_key_material=client_wrap(algorithm, params.public_key, material),
            expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE",
        ),
    )


def test_imported_rsa_key_signs_what_its_public_key_verifies(ctx: OperationContext) -> None:
    key_id = external(ctx, "RSA_2048", "SIGN_VERIFY")
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    do_import(ctx, key_id, pkcs8(private))  # type: ignore[arg-type]
    request = SignRequest(key_id=key_id, message=b"m", signing_algorithm="RSASSA_PSS_SHA_256")
    signature = sign(ctx, request).signature
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    private.public_key().verify(signature, b"m", pss, hashes.SHA256())


def test_rsa_material_is_too_large_for_oaep_alone(ctx: OperationContext) -> None:
    key_id = external(ctx, "RSA_2048", "SIGN_VERIFY")
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(ValueError, match="Encryption failed"):
        # The client cannot even wrap it: that is why AWS offers RSA_AES_KEY_WRAP.
        do_import(ctx, key_id, pkcs8(private), "RSAES_OAEP_SHA_256")  # type: ignore[arg-type]


def test_imported_ecc_signing_key_verifies_a_local_signature(ctx: OperationContext) -> None:
    key_id = external(ctx, "ECC_NIST_P384", "SIGN_VERIFY")
    private = ec.generate_private_key(ec.SECP384R1())
    do_import(ctx, key_id, pkcs8(private))
    local = private.sign(b"m", ec.ECDSA(hashes.SHA384()))
    request = VerifyRequest(
        key_id=key_id, message=b"m", signature=local, signing_algorithm="ECDSA_SHA_384"
    )
    assert verify(ctx, request).signature_valid


def test_a_key_of_another_spec_is_incorrect_material(ctx: OperationContext) -> None:
    key_id = external(ctx, "RSA_3072", "SIGN_VERIFY")
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(IncorrectKeyMaterialException, match="RSA_3072"):
        do_import(ctx, key_id, pkcs8(private))  # type: ignore[arg-type]
    on_p256 = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(IncorrectKeyMaterialException):
        do_import(ctx, key_id, pkcs8(on_p256))


def test_imported_hmac_key_macs_as_pythons_hmac(ctx: OperationContext) -> None:
    key_id = external(ctx, "HMAC_256", "GENERATE_VERIFY_MAC")
    material = os.urandom(48)  # longer than the spec's 32 bytes is allowed, up to 128
    do_import(ctx, key_id, material, "RSAES_OAEP_SHA_256")
    request = GenerateMacRequest(key_id=key_id, message=b"m", mac_algorithm="HMAC_SHA_256")
    assert generate_mac(ctx, request).mac == hmac.digest(material, b"m", "sha256")


@pytest.mark.parametrize("size", [31, 129])
def test_hmac_material_outside_the_spec_lengths_is_refused(
    ctx: OperationContext, size: int
) -> None:
    key_id = external(ctx, "HMAC_256", "GENERATE_VERIFY_MAC")
    with pytest.raises((IncorrectKeyMaterialException, InvalidCiphertextException)):
        do_import(ctx, key_id, os.urandom(size))


def test_hmac_reimport_must_be_the_same_material(ctx: OperationContext) -> None:
    key_id = external(ctx, "HMAC_384", "GENERATE_VERIFY_MAC")
    material = os.urandom(48)
    do_import(ctx, key_id, material)
    do_import(ctx, key_id, material)  # the same material again: accepted
    with pytest.raises(IncorrectKeyMaterialException, match="previously imported"):
        do_import(ctx, key_id, os.urandom(48))
    delete_imported_key_material(ctx, DeleteImportedKeyMaterialRequest(key_id=key_id))
    do_import(ctx, key_id, material)
