"""Tests of qkms.crypto.ciphertext_blob: QKMS's symmetric ciphertext format and recipe."""

from __future__ import annotations

import base64
import uuid

import pytest

from qkms.crypto import (
    CIPHERTEXT_BLOB_OVERHEAD,
    CiphertextBlob,
    CiphertextError,
    SymmetricKey,
    canonical_encryption_context,
    decode_ciphertext_blob,
    decrypt_ciphertext_blob,
    encode_ciphertext_blob,
    encrypt_to_ciphertext_blob,
    new_key_material_id,
)

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
MRK_ID = "mrk-1234abcd12ab34cd56ef1234567890ab"
MATERIAL_ID = "0b7fd7ddbac6eef27907413567cad8c810e2883dc8a7534067a82ee1142fc1e6"
CONTEXT = {"purpose": "test", "tenant": "acme"}
PLAINTEXT = b"attack at dawn"


@pytest.fixture
def key() -> SymmetricKey:
    return SymmetricKey.generate()


def _encrypt(key: SymmetricKey, key_id: str = KEY_ID) -> bytes:
    return encrypt_to_ciphertext_blob(key, key_id, MATERIAL_ID, PLAINTEXT, CONTEXT)


def _decrypt(key: SymmetricKey, blob: bytes, context: dict[str, str] | None = None) -> bytes:
    used = CONTEXT if context is None else context
    return decrypt_ciphertext_blob(key, decode_ciphertext_blob(blob), used)


def test_round_trip(key: SymmetricKey) -> None:
    assert _decrypt(key, _encrypt(key)) == PLAINTEXT


def test_round_trip_without_context(key: SymmetricKey) -> None:
    blob = encrypt_to_ciphertext_blob(key, KEY_ID, MATERIAL_ID, b"", None)
    assert decrypt_ciphertext_blob(key, decode_ciphertext_blob(blob), {}) == b""


def test_context_order_does_not_matter(key: SymmetricKey) -> None:
    blob = _encrypt(key)
    assert _decrypt(key, blob, {"tenant": "acme", "purpose": "test"}) == PLAINTEXT


def test_byte_layout_of_version_1(key: SymmetricKey) -> None:
    blob = _encrypt(key)
    assert blob[:2] == b"QK"
    assert blob[2] == 0x01
    assert blob[3] == 0x01  # a UUID key id
    assert blob[4:20] == uuid.UUID(KEY_ID).bytes
    assert blob[20:52] == bytes.fromhex(MATERIAL_ID)
    assert len(blob) == 64 + len(PLAINTEXT) + 16 == CIPHERTEXT_BLOB_OVERHEAD + len(PLAINTEXT)


def test_the_blob_never_contains_the_context_or_the_plaintext(key: SymmetricKey) -> None:
    blob = _encrypt(key)
    assert b"tenant" not in blob and b"acme" not in blob
    assert PLAINTEXT not in blob


def test_decoding_names_key_material_and_nonce(key: SymmetricKey) -> None:
    blob = _encrypt(key)
    parsed = decode_ciphertext_blob(blob)
    assert parsed.key_id == KEY_ID
    assert parsed.key_material_id == MATERIAL_ID
    assert parsed.nonce == blob[52:64]
    assert parsed.ciphertext_and_tag == blob[64:]
    assert encode_ciphertext_blob(parsed) == blob


def test_multi_region_key_ids_round_trip(key: SymmetricKey) -> None:
    blob = _encrypt(key, MRK_ID)
    assert blob[3] == 0x02
    assert blob[4:20] == bytes.fromhex(MRK_ID.removeprefix("mrk-"))
    assert decode_ciphertext_blob(blob).key_id == MRK_ID
    assert _decrypt(key, blob) == PLAINTEXT


def test_a_replica_with_the_same_material_decrypts(key: SymmetricKey) -> None:
    # Multi-Region replicas share the key id and material; the blob names nothing regional.
    blob = _encrypt(key, MRK_ID)
    replica = SymmetricKey(key.to_bytes())
    assert _decrypt(replica, blob) == PLAINTEXT


def test_every_encryption_differs(key: SymmetricKey) -> None:
    assert _encrypt(key) != _encrypt(key)


def test_wrong_context_is_refused(key: SymmetricKey) -> None:
    blob = _encrypt(key)
    for context in (
        {},
        {"purpose": "test"},
        {**CONTEXT, "extra": "x"},
        {**CONTEXT, "tenant": "ACME"},
    ):
        with pytest.raises(CiphertextError):
            _decrypt(key, blob, context)


def test_another_key_is_refused(key: SymmetricKey) -> None:
    with pytest.raises(CiphertextError):
        _decrypt(SymmetricKey.generate(), _encrypt(key))


def test_flipping_any_bit_of_any_byte_is_refused(key: SymmetricKey) -> None:
    blob = _encrypt(key)
    for index in range(len(blob)):
        for bit in (0x01, 0x80):
            tampered = blob[:index] + bytes([blob[index] ^ bit]) + blob[index + 1 :]
            with pytest.raises(CiphertextError):
                _decrypt(key, tampered)


def test_every_truncation_and_any_extension_is_refused(key: SymmetricKey) -> None:
    blob = _encrypt(key)
    for length in range(len(blob)):
        with pytest.raises(CiphertextError):
            _decrypt(key, blob[:length])
    with pytest.raises(CiphertextError):
        _decrypt(key, blob + b"\x00")


def test_relabelling_the_header_to_another_key_or_material_is_refused(key: SymmetricKey) -> None:
    parsed = decode_ciphertext_blob(_encrypt(key))
    for other in (
        CiphertextBlob(
            str(uuid.uuid4()), parsed.key_material_id, parsed.nonce, parsed.ciphertext_and_tag
        ),
        CiphertextBlob(
            parsed.key_id, new_key_material_id(), parsed.nonce, parsed.ciphertext_and_tag
        ),
    ):
        with pytest.raises(CiphertextError):
            decrypt_ciphertext_blob(
                key, decode_ciphertext_blob(encode_ciphertext_blob(other)), CONTEXT
            )


def test_the_context_is_bound_after_the_header(key: SymmetricKey) -> None:
    parsed = decode_ciphertext_blob(_encrypt(key))
    aad = parsed.associated_data(CONTEXT)
    assert aad[:2] == b"QK"
    assert len(aad) == 52 + len(canonical_encryption_context(CONTEXT))
    assert aad.endswith(canonical_encryption_context(CONTEXT))


# The shape of an AWS KMS ciphertext blob: it starts 01 02 02 00 (base64 "AQICA..."),
# followed by the key's wrapped data; long enough to get past every length check.
AWS_LIKE_BLOB = base64.b64decode("AQICAH" + "A" * 202)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"QK",
        b"QK\x01",
        bytes(CIPHERTEXT_BLOB_OVERHEAD - 1),
        bytes(CIPHERTEXT_BLOB_OVERHEAD),  # zero magic
        b"QK\x02" + bytes(CIPHERTEXT_BLOB_OVERHEAD),  # a version we do not know
        b"QK\x00" + bytes(CIPHERTEXT_BLOB_OVERHEAD),  # version 0 was never issued
        b"QK\x01\x03" + bytes(CIPHERTEXT_BLOB_OVERHEAD),  # an unknown key id form
        b"QK\x01\x00" + bytes(CIPHERTEXT_BLOB_OVERHEAD),
        AWS_LIKE_BLOB,
        b"not a ciphertext at all, just text that is long enough to pass length checks" * 2,
    ],
    ids=lambda data: f"{len(data)}-bytes-{bytes(data[:4]).hex()}",
)
def test_foreign_short_or_garbage_blobs_give_the_one_error(data: bytes) -> None:
    with pytest.raises(CiphertextError):
        decode_ciphertext_blob(data)


def test_decoding_accepts_bytearray_and_memoryview(key: SymmetricKey) -> None:
    blob = _encrypt(key)
    assert decode_ciphertext_blob(bytearray(blob)) == decode_ciphertext_blob(blob)
    assert decode_ciphertext_blob(memoryview(blob)) == decode_ciphertext_blob(blob)


@pytest.mark.parametrize(
    "key_id",
    [
        "1234ABCD-12AB-34CD-56EF-1234567890AB",  # never issued in upper case
        "1234abcd12ab34cd56ef1234567890ab",
        "mrk-1234ABCD12AB34CD56EF1234567890AB",
        "mrk-1234abcd",
        "alias/test",
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "",
    ],
)
def test_encoding_refuses_key_ids_qkms_never_issues(key: SymmetricKey, key_id: str) -> None:
    with pytest.raises(ValueError):
        encrypt_to_ciphertext_blob(key, key_id, MATERIAL_ID, PLAINTEXT, None)


@pytest.mark.parametrize("material_id", ["", "ab" * 31, "AB" * 32, "zz" * 32, "ab" * 33])
def test_encoding_refuses_malformed_key_material_ids(key: SymmetricKey, material_id: str) -> None:
    with pytest.raises(ValueError):
        encrypt_to_ciphertext_blob(key, KEY_ID, material_id, PLAINTEXT, None)
