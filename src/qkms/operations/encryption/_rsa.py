"""What Encrypt, Decrypt and ReEncrypt do with RSA ENCRYPT_DECRYPT keys (DESIGN §4a).

The ciphertext is plain RSA-OAEP, as AWS returns it, so one made with GetPublicKey's key
decrypts here; it names no key, so Decrypt needs KeyId (AWS Decrypt: "required ... with an
asymmetric KMS key"). Every decryption failure is one InvalidCiphertextException without
detail (Manger's attack).
"""

from __future__ import annotations

from collections.abc import Mapping

from qkms.crypto import (
    CiphertextBlob,
    CiphertextError,
    CryptoError,
    RsaEncryptionAlgorithm,
    RsaPrivateKey,
    decode_ciphertext_blob,
    max_rsa_plaintext_length,
    rsa_oaep_decrypt,
    rsa_oaep_encrypt,
)
from qkms.domain.errors import (
    IncorrectKeyException,
    InvalidKeyUsageException,
    KMSInternalException,
    ValidationException,
)
from qkms.domain.key_material import unwrap_rsa_encryption_key
from qkms.domain.keys import Key
from qkms.operations.encryption._symmetric import SYMMETRIC_DEFAULT, invalid_ciphertext
from qkms.operations.runtime.context import CachedKey, Services

__all__ = [
    "blob_for_key",
    "check_rsa_request",
    "rsa_decrypt",
    "rsa_encrypt",
]


def check_rsa_request(
    key: Key, algorithm: str | None, encryption_context: Mapping[str, str] | None
) -> RsaEncryptionAlgorithm:
    """The OAEP algorithm of a request to an RSA key.

    AWS Encrypt: EncryptionAlgorithm defaults to SYMMETRIC_DEFAULT, so a missing one is refused
    as that algorithm is (the "Algorithm ... is incompatible with key spec ..." wording of the
    symmetric check). AWS: "An encryption context is supported only on operations with
    symmetric encryption KMS keys."
    """
    name = algorithm or SYMMETRIC_DEFAULT
    try:
        chosen = RsaEncryptionAlgorithm(name)
    except ValueError:
        raise InvalidKeyUsageException(
            f"Algorithm {name} is incompatible with key spec {key.key_spec.value}."
        ) from None
    if encryption_context:
        raise ValidationException(
            "EncryptionContext is not supported with asymmetric KMS keys: an encryption "
            "context is supported only on operations with symmetric encryption KMS keys."
        )
    return chosen


def _private_key(services: Services, cached: CachedKey) -> RsaPrivateKey:
    private_key = cached.rsa_encryption_key
    if private_key is None:
        try:
            private_key = unwrap_rsa_encryption_key(services.root_key, cached.key)
        except (CryptoError, ValueError) as exc:
            # A wrong root key or a damaged row: an operator problem, never detailed here.
            raise KMSInternalException("The key material could not be used.") from exc
        cached.rsa_encryption_key = private_key
        services.parsed_keys.holding(cached)
    return private_key


def rsa_encrypt(
    services: Services, cached: CachedKey, algorithm: RsaEncryptionAlgorithm, plaintext: bytes
) -> bytes:
    """RSA-OAEP ciphertext; AWS's size limit as a ValidationException (wording recorded by
    LocalStack's AWS-validated KMS tests)."""
    private_key = _private_key(services, cached)
    limit = max_rsa_plaintext_length(private_key.key_size, algorithm)
    if len(plaintext) > limit:
        raise ValidationException(
            f"Algorithm {algorithm.value} and key spec {cached.key.key_spec.value} cannot "
            f"encrypt data larger than {limit} bytes."
        )
    try:
        return rsa_oaep_encrypt(private_key.public_key(), algorithm, plaintext)
    except CryptoError as exc:  # the length was checked above: a programming error
        raise KMSInternalException("The plaintext could not be encrypted.") from exc


def rsa_decrypt(
    services: Services, cached: CachedKey, algorithm: RsaEncryptionAlgorithm, ciphertext: bytes
) -> bytes:
    private_key = _private_key(services, cached)
    try:
        return rsa_oaep_decrypt(private_key, algorithm, ciphertext)
    except CiphertextError:
        raise invalid_ciphertext() from None


def blob_for_key(key: Key, ciphertext: bytes | None) -> CiphertextBlob:
    """A QKMS blob that must name `key` (the KeyId the caller gave): IncorrectKeyException
    otherwise, in the wording LocalStack's AWS-validated provider uses."""
    try:
        blob = decode_ciphertext_blob(ciphertext or b"")
    except CiphertextError:
        raise invalid_ciphertext() from None
    if blob.key_id != key.key_id:
        raise IncorrectKeyException(
            "The key ID in the request does not identify a CMK that can perform this operation."
        )
    return blob
