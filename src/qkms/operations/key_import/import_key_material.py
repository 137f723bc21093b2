"""ImportKeyMaterial (DESIGN §4): unwrap a client's key material and bind it to a key.

Material kinds (AWS "Requirements for imported key material"): a PKCS#8 EC private key for
key agreement and ECC signing keys, a PKCS#8 RSA private key for RSA signing keys (wrapped with
RSA_AES_KEY_WRAP_*, being too large for OAEP alone), raw HMAC key bytes for HMAC keys; a PKCS#8 X25519 or X448 private key (RFC 8410) for those
key-agreement keys.

Reads top to bottom: parse -> load -> check the token -> unwrap -> check the material -> act.
AWS's rules kept (API reference, ImportKeyMaterial):
- the key's Origin must be EXTERNAL (UnsupportedOperationException);
- the token must come from this key's latest GetParametersForImport (InvalidImportTokenException,
  also for a tampered token or one for another key) and be under 24 hours old
  (ExpiredImportTokenException);
- material that does not decrypt under the wrapping key is InvalidCiphertextException; material
  that decrypts but is not a PKCS#8 EC private key on the key's curve, or is not the material
  imported before (asymmetric keys never change material), is IncorrectKeyMaterialException;
- ExpirationModel defaults to KEY_MATERIAL_EXPIRES; ValidTo is required with it, refused without
  it, and must lie in the future and at most 365 days ahead (ValidationException).
"""

from __future__ import annotations

import hmac
from typing import Final

from qkms.crypto import (
    CryptoError,
    HmacKey,
    ImportToken,
    ImportTokenError,
    ImportUnwrapError,
    KeyMaterialError,
    PrivateKeyError,
    WrappingAlgorithm,
    import_signing_private_key,
    import_xdh_private_key,
    imported_key_material_id,
    load_imported_private_key,
    open_import_token,
    unwrap_key_material,
)
from qkms.domain.errors import (
    ExpiredImportTokenException,
    IncorrectKeyMaterialException,
    InvalidCiphertextException,
    InvalidImportTokenException,
    KMSInternalException,
    UnsupportedOperationException,
    ValidationException,
)
from qkms.domain.key_material import (
    unwrap_hmac_key,
    unwrap_wrapping_key,
    wrap_imported_material,
)
from qkms.domain.keys import Key
from qkms.domain.lifecycle import KeyOperation, import_material
from qkms.operations.key_import._symmetric import import_symmetric_material
from qkms.operations.key_import.get_parameters_for_import import require_external
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.key_import import (
    KEY_MATERIAL_DOES_NOT_EXPIRE,
    KEY_MATERIAL_EXPIRES,
    ImportKeyMaterialRequest,
    ImportKeyMaterialResponse,
)
from qkms.operations.support.keys import change_key, key_arn, load_cached_key

__all__ = ["MAX_VALID_TO_SECONDS", "import_key_material"]

# AWS: "The maximum value is 365 days from the request date."
MAX_VALID_TO_SECONDS: Final = 365 * 86400
_INVALID_TOKEN: Final = "The import token is invalid or is associated with a different KMS key."  # noqa: S105


def _refuse_unserved(request: ImportKeyMaterialRequest) -> None:
    """Multi-material (rotation) parameters serve symmetric keys only (AWS: asymmetric and HMAC
    keys hold one material); elsewhere they are refused by name, never silently ignored."""
    if request.key_material_id is not None:
        raise UnsupportedOperationException("KeyMaterialId is not supported by QKMS.")
    if request.key_material_description is not None:
        raise UnsupportedOperationException("KeyMaterialDescription is not supported by QKMS.")


def _expiration(request: ImportKeyMaterialRequest, now: float) -> tuple[str, float | None]:
    model = request.expiration_model or KEY_MATERIAL_EXPIRES
    if model == KEY_MATERIAL_DOES_NOT_EXPIRE:
        if request.valid_to is not None:
            raise ValidationException(
                "ValidTo must not be set when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE."
            )
        return model, None
    if request.valid_to is None:
        raise ValidationException(
            "ValidTo is required when ExpirationModel is KEY_MATERIAL_EXPIRES."
        )
    if request.valid_to <= now:
        raise ValidationException("ValidTo must be a future date and time.")
    if request.valid_to > now + MAX_VALID_TO_SECONDS:
        raise ValidationException("ValidTo must be at most 365 days from the request date.")
    return model, float(request.valid_to)


def _open_token(ctx: OperationContext, key: Key, blob: bytes) -> ImportToken:
    try:
        token = open_import_token(ctx.services.root_key, blob)
    except ImportTokenError:
        raise InvalidImportTokenException(_INVALID_TOKEN) from None
    if token.key_id != key.key_id:
        raise InvalidImportTokenException(_INVALID_TOKEN)
    if token.expires_at <= ctx.services.clock():
        raise ExpiredImportTokenException(
            "The import token is expired. Use GetParametersForImport to get a new import "
            "token and public key."
        )
    return token


def _unwrap_material(
    ctx: OperationContext, key: Key, token: ImportToken, ciphertext: bytes
) -> bytes:
    services = ctx.services
    params = services.store.get_import_parameters(key.key_id)
    token_id = token.token_id.hex()
    if params is None or params.token_id != token_id:
        # Authentic but superseded by a later GetParametersForImport: only the latest counts.
        raise InvalidImportTokenException(_INVALID_TOKEN)
    try:
        wrapping_private_der = unwrap_wrapping_key(
            services.root_key, key.key_id, token_id, params.wrapped_wrapping_key
        )
    except CryptoError as exc:
        # A stored wrapping key that does not unwrap is an operator problem (wrong root key).
        raise KMSInternalException("The import parameters could not be used.") from exc
    try:
        return unwrap_key_material(
            WrappingAlgorithm(params.wrapping_algorithm), wrapping_private_der, ciphertext
        )
    except ImportUnwrapError:
        raise InvalidCiphertextException(
            "The EncryptedKeyMaterial could not be decrypted with the wrapping key and "
            f"algorithm ({params.wrapping_algorithm}) of this import token."
        ) from None


def _is_importable(key: Key) -> bool:
    if key.xdh_curve is not None:
        return key.can_derive_shared_secret
    if key.curve is not None:
        return key.can_derive_shared_secret or key.can_sign
    spec = key.signing_spec
    is_rsa = spec is not None and spec.rsa_bits is not None
    return ((key.can_sign or key.can_encrypt_with_rsa) and is_rsa) or key.can_mac


def _checked_material(
    ctx: OperationContext, key: Key, material: bytes
) -> tuple[bytes, bytes | None]:
    """(material in QKMS's one encoding, its public key) if it is a key of the key's spec."""
    curve, spec, hmac_spec, xdh_curve = key.curve, key.signing_spec, key.hmac_spec, key.xdh_curve
    try:
        if xdh_curve is not None:
            imported = import_xdh_private_key(material, xdh_curve)
            return imported.private_pkcs8_der, imported.public_spki_der
        if curve is not None:
            imported = load_imported_private_key(material, curve)
            return imported.private_pkcs8_der, imported.public_spki_der
        if spec is not None:
            imported = import_signing_private_key(material, spec)
            return imported.private_pkcs8_der, imported.public_spki_der
    except PrivateKeyError:
        raise IncorrectKeyMaterialException(
            f"The key material is not a PKCS#8 DER private key of key spec {key.key_spec.value}."
        ) from None
    if hmac_spec is None:  # _is_importable refused every other kind
        raise UnsupportedOperationException(
            f"{key_arn(ctx, key)} cannot hold imported key material in QKMS."
        )
    try:
        hmac_key = HmacKey(hmac_spec, material)
    except KeyMaterialError:
        # AWS: at least the key spec's length, at most 1024 bits.
        raise IncorrectKeyMaterialException(
            f"The key material must be {hmac_spec.key_size} to 128 bytes for key spec "
            f"{key.key_spec.value}."
        ) from None
    _check_same_hmac_material(ctx, key, hmac_key)
    return hmac_key.to_bytes(), None


def _check_same_hmac_material(ctx: OperationContext, key: Key, new: HmacKey) -> None:
    """An HMAC key has no public key to bind its material: compare with the material it holds.

    After DeleteImportedKeyMaterial nothing is left to compare with (QKMS keeps no fingerprint
    yet), so a reimport then binds whatever is imported.
    """
    if key.wrapped_material is None:
        return
    try:
        current = unwrap_hmac_key(ctx.services.root_key, key)
    except (CryptoError, ValueError) as exc:
        raise KMSInternalException("The key material could not be used.") from exc
    if not hmac.compare_digest(current.to_bytes(), new.to_bytes()):
        raise IncorrectKeyMaterialException(
            "The key material in the request is not the key material that was previously "
            "imported into this KMS key."
        )


def import_key_material(
    ctx: OperationContext, request: ImportKeyMaterialRequest
) -> ImportKeyMaterialResponse:
    # parse
    services = ctx.services
    expiration_model, valid_to = _expiration(request, services.clock())

    # load: resolution, authorization and the state table, then import's own rules.
    operation = KeyOperation.IMPORT_KEY_MATERIAL
    key = load_cached_key(ctx, request.key_id, operation).key
    require_external(ctx, key, operation)
    if key.can_encrypt_symmetrically:
        token = _open_token(ctx, key, request.import_token or b"")
        material = _unwrap_material(ctx, key, token, request.encrypted_key_material or b"")
        updated = import_symmetric_material(ctx, key, material, request, expiration_model, valid_to)
        return ImportKeyMaterialResponse(
            key_id=key_arn(ctx, updated),
            key_material_id=imported_key_material_id(key.key_id, material),
        )
    _refuse_unserved(request)
    if not _is_importable(key):  # CreateKey refuses these already
        raise UnsupportedOperationException(
            f"{key_arn(ctx, key)} cannot hold imported key material in QKMS."
        )

    # check the token, unwrap, and check the material
    token = _open_token(ctx, key, request.import_token or b"")
    material = _unwrap_material(ctx, key, token, request.encrypted_key_material or b"")
    canonical, public_spki_der = _checked_material(ctx, key, material)
    if request.import_type == "EXISTING_KEY_MATERIAL" and (
        key.public_key_der is None and key.wrapped_material is None
    ):
        raise IncorrectKeyMaterialException(
            "ImportType EXISTING_KEY_MATERIAL: no key material was imported into this key before."
        )
    wrapped = wrap_imported_material(services.root_key, key, canonical)

    # act: state, origin and the material binding are checked again under the write lock.
    def transition(current: Key) -> Key:
        require_external(ctx, current, operation)
        return import_material(current, public_spki_der, wrapped, expiration_model, valid_to)

    updated = change_key(ctx, request.key_id, operation, transition)
    return ImportKeyMaterialResponse(key_id=key_arn(ctx, updated))
