"""Shapes of the symmetric data plane: Encrypt, Decrypt, ReEncrypt, data keys, random (DESIGN §4a).

Members and constraints are botocore's `kms` model's. Responses that carry plaintext, a data
key or a private key have reprs without them, so none reaches a log line.
"""

from __future__ import annotations

from qkms.operations.shapes.base import (
    GRANT_TOKENS,
    KEY_ID,
    Member,
    RecipientInfo,
    Request,
    Response,
)

__all__ = [
    "DATA_KEY_PAIR_SPECS",
    "ENCRYPTION_ALGORITHMS",
    "DecryptRequest",
    "DecryptResponse",
    "EncryptRequest",
    "EncryptResponse",
    "GenerateDataKeyPairRequest",
    "GenerateDataKeyPairResponse",
    "GenerateDataKeyPairWithoutPlaintextRequest",
    "GenerateDataKeyPairWithoutPlaintextResponse",
    "GenerateDataKeyRequest",
    "GenerateDataKeyResponse",
    "GenerateDataKeyWithoutPlaintextRequest",
    "GenerateDataKeyWithoutPlaintextResponse",
    "GenerateRandomRequest",
    "GenerateRandomResponse",
    "ReEncryptRequest",
    "ReEncryptResponse",
]

ENCRYPTION_ALGORITHMS = ("SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE")
DATA_KEY_PAIR_SPECS = (
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "SM2",
    "ECC_NIST_EDWARDS25519",
    "ML_KEM_512",
    "ML_KEM_768",
    "ML_KEM_1024",
)
_CIPHERTEXT = Member("CiphertextBlob", required=True, min_length=1, max_length=6144)
_NUMBER_OF_BYTES = Member("NumberOfBytes", min_value=1, max_value=1024)
_DATA_KEY_SPEC = Member("KeySpec", enum=("AES_256", "AES_128"))
_DRY_RUN_MODIFIERS = Member("DryRunModifiers", each_enum=("IGNORE_CIPHERTEXT",))


def _algorithm(name: str) -> Member:
    return Member(name, enum=ENCRYPTION_ALGORITHMS)


class EncryptRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    plaintext: bytes | None = None
    encryption_context: dict[str, str] | None = None
    grant_tokens: list[str] | None = None
    encryption_algorithm: str | None = None
    dry_run: bool | None = None

    constraints = (
        KEY_ID,
        # AWS: "Value at 'plaintext' failed to satisfy constraint: Member must have length
        # less than or equal to 4096" (the codec never echoes a blob).
        Member("Plaintext", required=True, min_length=1, max_length=4096),
        GRANT_TOKENS,
        _algorithm("EncryptionAlgorithm"),
    )


class EncryptResponse(Response, frozen=True, kw_only=True):
    ciphertext_blob: bytes
    key_id: str
    encryption_algorithm: str


class DecryptRequest(Request, frozen=True, kw_only=True):
    ciphertext_blob: bytes | None = None
    encryption_context: dict[str, str] | None = None
    grant_tokens: list[str] | None = None
    key_id: str | None = None
    encryption_algorithm: str | None = None
    recipient: RecipientInfo | None = None
    dry_run: bool | None = None
    dry_run_modifiers: list[str] | None = None

    constraints = (
        _CIPHERTEXT,
        GRANT_TOKENS,
        Member("KeyId", min_length=1, max_length=2048),
        _algorithm("EncryptionAlgorithm"),
        _DRY_RUN_MODIFIERS,
    )


class DecryptResponse(Response, frozen=True, kw_only=True):
    key_id: str
    plaintext: bytes | None = None  # None with a Recipient: CiphertextForRecipient instead
    ciphertext_for_recipient: bytes | None = None
    encryption_algorithm: str
    # AWS returns KeyMaterialId for symmetric keys only; absent for RSA keys.
    key_material_id: str | None = None

    def __repr__(self) -> str:
        return f"DecryptResponse(key_id={self.key_id!r}, plaintext=<redacted>)"


class ReEncryptRequest(Request, frozen=True, kw_only=True):
    ciphertext_blob: bytes | None = None
    source_encryption_context: dict[str, str] | None = None
    source_key_id: str | None = None
    destination_key_id: str | None = None
    destination_encryption_context: dict[str, str] | None = None
    source_encryption_algorithm: str | None = None
    destination_encryption_algorithm: str | None = None
    grant_tokens: list[str] | None = None
    dry_run: bool | None = None
    dry_run_modifiers: list[str] | None = None

    constraints = (
        _CIPHERTEXT,
        Member("SourceKeyId", min_length=1, max_length=2048),
        Member("DestinationKeyId", required=True, min_length=1, max_length=2048),
        _algorithm("SourceEncryptionAlgorithm"),
        _algorithm("DestinationEncryptionAlgorithm"),
        GRANT_TOKENS,
        _DRY_RUN_MODIFIERS,
    )


class ReEncryptResponse(Response, frozen=True, kw_only=True):
    ciphertext_blob: bytes
    source_key_id: str
    key_id: str
    source_encryption_algorithm: str
    destination_encryption_algorithm: str
    # Symmetric keys only (AWS); absent on the side of an RSA key.
    source_key_material_id: str | None = None
    destination_key_material_id: str | None = None


class GenerateDataKeyRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    encryption_context: dict[str, str] | None = None
    number_of_bytes: int | None = None
    key_spec: str | None = None
    grant_tokens: list[str] | None = None
    recipient: RecipientInfo | None = None
    dry_run: bool | None = None

    constraints = (KEY_ID, _NUMBER_OF_BYTES, _DATA_KEY_SPEC, GRANT_TOKENS)


class GenerateDataKeyResponse(Response, frozen=True, kw_only=True):
    ciphertext_blob: bytes
    plaintext: bytes | None = None  # None with a Recipient: CiphertextForRecipient instead
    ciphertext_for_recipient: bytes | None = None
    key_id: str
    key_material_id: str

    def __repr__(self) -> str:
        return f"GenerateDataKeyResponse(key_id={self.key_id!r}, plaintext=<redacted>)"


class GenerateDataKeyWithoutPlaintextRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    encryption_context: dict[str, str] | None = None
    key_spec: str | None = None
    number_of_bytes: int | None = None
    grant_tokens: list[str] | None = None
    dry_run: bool | None = None

    constraints = (KEY_ID, _DATA_KEY_SPEC, _NUMBER_OF_BYTES, GRANT_TOKENS)


class GenerateDataKeyWithoutPlaintextResponse(Response, frozen=True, kw_only=True):
    ciphertext_blob: bytes
    key_id: str
    key_material_id: str


class GenerateDataKeyPairRequest(Request, frozen=True, kw_only=True):
    encryption_context: dict[str, str] | None = None
    key_id: str | None = None
    key_pair_spec: str | None = None
    grant_tokens: list[str] | None = None
    recipient: RecipientInfo | None = None
    dry_run: bool | None = None

    constraints = (
        KEY_ID,
        Member("KeyPairSpec", required=True, enum=DATA_KEY_PAIR_SPECS),
        GRANT_TOKENS,
    )


class GenerateDataKeyPairResponse(Response, frozen=True, kw_only=True):
    private_key_ciphertext_blob: bytes
    private_key_plaintext: bytes | None = None  # None with a Recipient
    public_key: bytes
    ciphertext_for_recipient: bytes | None = None
    key_id: str
    key_pair_spec: str
    key_material_id: str

    def __repr__(self) -> str:
        return (
            f"GenerateDataKeyPairResponse(key_id={self.key_id!r}, "
            f"key_pair_spec={self.key_pair_spec!r}, private_key_plaintext=<redacted>)"
        )


class GenerateDataKeyPairWithoutPlaintextRequest(Request, frozen=True, kw_only=True):
    encryption_context: dict[str, str] | None = None
    key_id: str | None = None
    key_pair_spec: str | None = None
    grant_tokens: list[str] | None = None
    dry_run: bool | None = None

    constraints = (
        KEY_ID,
        Member("KeyPairSpec", required=True, enum=DATA_KEY_PAIR_SPECS),
        GRANT_TOKENS,
    )


class GenerateDataKeyPairWithoutPlaintextResponse(Response, frozen=True, kw_only=True):
    private_key_ciphertext_blob: bytes
    public_key: bytes
    key_id: str
    key_pair_spec: str
    key_material_id: str


class GenerateRandomRequest(Request, frozen=True, kw_only=True):
    number_of_bytes: int | None = None
    custom_key_store_id: str | None = None
    recipient: RecipientInfo | None = None

    constraints = (_NUMBER_OF_BYTES, Member("CustomKeyStoreId", min_length=1, max_length=64))


class GenerateRandomResponse(Response, frozen=True, kw_only=True):
    plaintext: bytes | None = None  # None with a Recipient: CiphertextForRecipient instead
    ciphertext_for_recipient: bytes | None = None

    def __repr__(self) -> str:
        return "GenerateRandomResponse(plaintext=<redacted>)"
