"""Request and response shapes of GetParametersForImport, ImportKeyMaterial and
DeleteImportedKeyMaterial, mirroring AWS's (botocore's kms 2014-11-01 model; STYLE §2, §4)."""

from __future__ import annotations

from typing import Final

from qkms.operations.shapes import Member, Request, Response

__all__ = [
    "EXPIRATION_MODELS",
    "KEY_MATERIAL_DOES_NOT_EXPIRE",
    "KEY_MATERIAL_EXPIRES",
    "DeleteImportedKeyMaterialRequest",
    "DeleteImportedKeyMaterialResponse",
    "GetParametersForImportRequest",
    "GetParametersForImportResponse",
    "ImportKeyMaterialRequest",
    "ImportKeyMaterialResponse",
]

KEY_MATERIAL_EXPIRES: Final = "KEY_MATERIAL_EXPIRES"
KEY_MATERIAL_DOES_NOT_EXPIRE: Final = "KEY_MATERIAL_DOES_NOT_EXPIRE"
EXPIRATION_MODELS: Final = (KEY_MATERIAL_EXPIRES, KEY_MATERIAL_DOES_NOT_EXPIRE)

# Every value AWS's model knows, so a valid-but-unserved value is told apart from a typo.
_WRAPPING_ALGORITHMS: Final = (
    "RSAES_PKCS1_V1_5",
    "RSAES_OAEP_SHA_1",
    "RSAES_OAEP_SHA_256",
    "RSA_AES_KEY_WRAP_SHA_1",
    "RSA_AES_KEY_WRAP_SHA_256",
    "SM2PKE",
)
_WRAPPING_KEY_SPECS: Final = ("RSA_2048", "RSA_3072", "RSA_4096", "SM2")
_KEY_ID: Final = Member("KeyId", required=True, min_length=1, max_length=2048)
_KEY_MATERIAL_ID: Final = Member("KeyMaterialId", min_length=64, max_length=64)


class GetParametersForImportRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    wrapping_algorithm: str | None = None
    wrapping_key_spec: str | None = None

    constraints = (
        _KEY_ID,
        Member("WrappingAlgorithm", required=True, enum=_WRAPPING_ALGORITHMS),
        Member("WrappingKeySpec", required=True, enum=_WRAPPING_KEY_SPECS),
    )


class ImportKeyMaterialRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    import_token: bytes | None = None
    encrypted_key_material: bytes | None = None
    valid_to: float | None = None  # epoch seconds on the wire
    expiration_model: str | None = None
    import_type: str | None = None
    key_material_description: str | None = None
    key_material_id: str | None = None

    constraints = (
        _KEY_ID,
        Member("ImportToken", required=True, min_length=1, max_length=6144),
        Member("EncryptedKeyMaterial", required=True, min_length=1, max_length=6144),
        Member("ExpirationModel", enum=EXPIRATION_MODELS),
        Member("ImportType", enum=("NEW_KEY_MATERIAL", "EXISTING_KEY_MATERIAL")),
        Member("KeyMaterialDescription", min_length=0, max_length=256),
        _KEY_MATERIAL_ID,
    )

    def __repr__(self) -> str:  # wrapped material and tokens stay out of log lines
        return f"ImportKeyMaterialRequest(key_id={self.key_id!r})"


class DeleteImportedKeyMaterialRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    key_material_id: str | None = None

    constraints = (_KEY_ID, _KEY_MATERIAL_ID)


class GetParametersForImportResponse(Response, frozen=True, kw_only=True):
    key_id: str
    import_token: bytes
    public_key: bytes
    parameters_valid_to: float

    def __repr__(self) -> str:
        return f"GetParametersForImportResponse(key_id={self.key_id!r})"


class ImportKeyMaterialResponse(Response, frozen=True, kw_only=True):
    key_id: str
    key_material_id: str | None = None


class DeleteImportedKeyMaterialResponse(Response, frozen=True, kw_only=True):
    key_id: str
    key_material_id: str | None = None
