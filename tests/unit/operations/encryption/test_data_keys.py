"""GenerateDataKey[WithoutPlaintext], GenerateDataKeyPair[WithoutPlaintext], GenerateRandom."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization

from qkms.domain.errors import (
    CustomKeyStoreNotFoundException,
    UnsupportedOperationException,
    ValidationException,
)
from qkms.operations.encryption import (
    decrypt,
    generate_data_key,
    generate_data_key_pair,
    generate_data_key_pair_without_plaintext,
    generate_data_key_without_plaintext,
    generate_random,
)
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.encryption import (
    DecryptRequest,
    GenerateDataKeyPairRequest,
    GenerateDataKeyPairWithoutPlaintextRequest,
    GenerateDataKeyRequest,
    GenerateDataKeyWithoutPlaintextRequest,
    GenerateRandomRequest,
)


@pytest.mark.parametrize(("spec", "size"), [("AES_128", 16), ("AES_256", 32)])
def test_a_data_key_decrypts_to_its_plaintext(
    ctx: OperationContext, key_id: str, spec: str, size: int
) -> None:
    answer = generate_data_key(
        ctx, GenerateDataKeyRequest(key_id=key_id, key_spec=spec, encryption_context={"a": "b"})
    )
    assert len(answer.plaintext or b"") == size
    opened = decrypt(
        ctx, DecryptRequest(ciphertext_blob=answer.ciphertext_blob, encryption_context={"a": "b"})
    )
    assert opened.plaintext == answer.plaintext
    assert "plaintext=<redacted>" in repr(answer)


@pytest.mark.parametrize("number_of_bytes", [1, 64, 1024])
def test_number_of_bytes_sizes_the_data_key(
    ctx: OperationContext, key_id: str, number_of_bytes: int
) -> None:
    answer = generate_data_key_without_plaintext(
        ctx, GenerateDataKeyWithoutPlaintextRequest(key_id=key_id, number_of_bytes=number_of_bytes)
    )
    opened = decrypt(ctx, DecryptRequest(ciphertext_blob=answer.ciphertext_blob))
    assert len(opened.plaintext or b"") == number_of_bytes


def test_exactly_one_of_key_spec_and_number_of_bytes(ctx: OperationContext, key_id: str) -> None:
    for request in (
        GenerateDataKeyRequest(key_id=key_id),
        GenerateDataKeyRequest(key_id=key_id, key_spec="AES_256", number_of_bytes=32),
    ):
        with pytest.raises(ValidationException, match="either number of bytes or key spec"):
            generate_data_key(ctx, request)


@pytest.mark.parametrize("spec", ["ECC_NIST_P256", "ECC_SECG_P256K1", "RSA_2048"])
def test_a_data_key_pair_private_key_matches_its_public_key(
    ctx: OperationContext, key_id: str, spec: str
) -> None:
    pair = generate_data_key_pair(
        ctx, GenerateDataKeyPairRequest(key_id=key_id, key_pair_spec=spec)
    )
    private = serialization.load_der_private_key(pair.private_key_plaintext or b"", None)
    public_der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert public_der == pair.public_key
    sealed = decrypt(ctx, DecryptRequest(ciphertext_blob=pair.private_key_ciphertext_blob))
    assert sealed.plaintext == pair.private_key_plaintext
    assert "<redacted>" in repr(pair)


def test_a_data_key_pair_without_plaintext_seals_the_private_key(
    ctx: OperationContext, key_id: str
) -> None:
    pair = generate_data_key_pair_without_plaintext(
        ctx,
        GenerateDataKeyPairWithoutPlaintextRequest(key_id=key_id, key_pair_spec="ECC_NIST_P384"),
    )
    private_der = decrypt(
        ctx, DecryptRequest(ciphertext_blob=pair.private_key_ciphertext_blob)
    ).plaintext
    assert private_der is not None
    private = serialization.load_der_private_key(private_der, None)
    assert (
        private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        == pair.public_key
    )


def test_specs_qkms_cannot_generate_are_refused_by_name(ctx: OperationContext, key_id: str) -> None:
    with pytest.raises(UnsupportedOperationException, match="ML_KEM_768"):
        generate_data_key_pair(
            ctx, GenerateDataKeyPairRequest(key_id=key_id, key_pair_spec="ML_KEM_768")
        )


def test_generate_random(ctx: OperationContext) -> None:
    assert (
        len(generate_random(ctx, GenerateRandomRequest(number_of_bytes=1024)).plaintext or b"")
        == 1024
    )
    with pytest.raises(ValidationException, match="NumberOfBytes is required"):
        generate_random(ctx, GenerateRandomRequest())
    with pytest.raises(CustomKeyStoreNotFoundException):
        generate_random(ctx, GenerateRandomRequest(number_of_bytes=8, custom_key_store_id="cks-1"))
