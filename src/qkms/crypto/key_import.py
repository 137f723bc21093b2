"""Import of key material: RSA wrapping key pairs, opening what a client wrapped, import tokens.

The formats are AWS KMS's ("Importing key material", step "Encrypt the key material"):

- ``RSAES_OAEP_SHA_1`` / ``RSAES_OAEP_SHA_256``: the key material encrypted directly with
  RSA-OAEP under the wrapping public key, MGF1 with the same hash, no label.
- ``RSA_AES_KEY_WRAP_SHA_1`` / ``RSA_AES_KEY_WRAP_SHA_256``: an ephemeral 256-bit AES key
  encrypted with RSA-OAEP (as above; exactly one modulus long), followed by the key material
  wrapped under that AES key with AES Key Wrap with Padding (RFC 5649).

Import token layout (v1)::

    0x01 | token id (16) | expires at (8, unsigned big-endian epoch seconds)
         | key id length (1) | key id (UTF-8) | HMAC-SHA256 over all of the above (32)

The MAC key is derived from the root key with HKDF-SHA256 (info ``qkms import token v1``), so a
token cannot be forged or moved to another key without the root key; which token is the
current one for a key is decided by the caller against its store.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Final

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap_with_padding

from qkms.crypto._keys import LIBRARY_ERRORS, DerKeyPair, pkcs8_der, spki_der
from qkms.crypto.curves import CURVE_PARAMETERS, Curve
from qkms.crypto.ecdh import load_private_key
from qkms.crypto.errors import ImportTokenError, ImportUnwrapError, PrivateKeyError
from qkms.crypto.wrapping import RootKey

__all__ = [
    "IMPORT_TOKEN_ID_SIZE",
    "ImportToken",
    "ImportTokenError",
    "ImportUnwrapError",
    "ImportedPrivateKey",
    "WrappingAlgorithm",
    "WrappingKeyPair",
    "WrappingKeySpec",
    "generate_wrapping_key_pair",
    "load_imported_private_key",
    "new_token_id",
    "open_import_token",
    "seal_import_token",
    "unwrap_key_material",
]

IMPORT_TOKEN_ID_SIZE: Final = 16
_TOKEN_VERSION: Final = 0x01
_TOKEN_MAC_SIZE: Final = 32
_TOKEN_MAC_INFO: Final = b"qkms import token v1"
_AES_KEY_SIZE: Final = 32  # AWS wraps with an ephemeral AES-256 key
_RSA_PUBLIC_EXPONENT: Final = 65537


class WrappingKeySpec(enum.Enum):
    """RSA wrapping key sizes; values are AWS's WrappingKeySpec strings."""

    RSA_2048 = "RSA_2048"
    RSA_3072 = "RSA_3072"
    RSA_4096 = "RSA_4096"

    @property
    def bits(self) -> int:
        return int(self.value.removeprefix("RSA_"))


class WrappingAlgorithm(enum.Enum):
    """How a client wraps key material; values are AWS's WrappingAlgorithm strings."""

    RSAES_OAEP_SHA_1 = "RSAES_OAEP_SHA_1"
    RSAES_OAEP_SHA_256 = "RSAES_OAEP_SHA_256"
    RSA_AES_KEY_WRAP_SHA_1 = "RSA_AES_KEY_WRAP_SHA_1"
    RSA_AES_KEY_WRAP_SHA_256 = "RSA_AES_KEY_WRAP_SHA_256"

    @property
    def uses_aes_key_wrap(self) -> bool:
        return self in (
            WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_1,
            WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_256,
        )

    def _oaep(self) -> padding.OAEP:
        digest: hashes.HashAlgorithm = (
            hashes.SHA1()  # noqa: S303 - AWS's RSAES_OAEP_SHA_1; OAEP does not rely on collisions
            if self.value.endswith("SHA_1")
            else hashes.SHA256()
        )
        return padding.OAEP(mgf=padding.MGF1(algorithm=digest), algorithm=digest, label=None)


class WrappingKeyPair(DerKeyPair):
    """A fresh RSA wrapping key pair: private as PKCS#8 DER, public as DER SPKI."""


class ImportedPrivateKey(DerKeyPair):
    """Imported EC key material in QKMS's one encoding, and its public key.

    The private key is re-encoded from the scalar: no caller-chosen extras survive.
    """


@dataclass(frozen=True, slots=True)
class ImportToken:
    """What an import token says: which GetParametersForImport call, for which key, until when."""

    token_id: bytes
    key_id: str
    expires_at: int  # epoch seconds


def generate_wrapping_key_pair(spec: WrappingKeySpec) -> WrappingKeyPair:
    """A new RSA key pair of `spec`'s size (4096 bits takes about a second)."""
    key = rsa.generate_private_key(public_exponent=_RSA_PUBLIC_EXPONENT, key_size=spec.bits)
    return WrappingKeyPair(
        private_pkcs8_der=pkcs8_der(key), public_spki_der=spki_der(key.public_key())
    )


def unwrap_key_material(
    algorithm: WrappingAlgorithm, wrapping_private_der: bytes, ciphertext: bytes
) -> bytes:
    """Open key material a client wrapped under the wrapping public key with `algorithm`.

    Every failure (wrong length, another key, another algorithm, tampering) is one
    ImportUnwrapError without detail: OAEP failures must not be told apart (Manger's attack).
    """
    try:
        key = serialization.load_der_private_key(wrapping_private_der, password=None)
    except LIBRARY_ERRORS:
        raise ImportUnwrapError("the wrapping key does not load") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ImportUnwrapError("the wrapping key is not an RSA key")
    modulus_bytes = (key.key_size + 7) // 8
    if algorithm.uses_aes_key_wrap:
        encrypted_aes_key, wrapped = ciphertext[:modulus_bytes], ciphertext[modulus_bytes:]
        if len(encrypted_aes_key) != modulus_bytes or not wrapped:
            raise ImportUnwrapError("the wrapped key material could not be decrypted")
        aes_key = _rsa_oaep_decrypt(key, algorithm, encrypted_aes_key)
        if len(aes_key) != _AES_KEY_SIZE:
            raise ImportUnwrapError("the wrapped key material could not be decrypted")
        try:
            return aes_key_unwrap_with_padding(aes_key, wrapped)
        except (InvalidUnwrap, *LIBRARY_ERRORS):
            raise ImportUnwrapError("the wrapped key material could not be decrypted") from None
    if len(ciphertext) != modulus_bytes:
        raise ImportUnwrapError("the wrapped key material could not be decrypted")
    return _rsa_oaep_decrypt(key, algorithm, ciphertext)


def _rsa_oaep_decrypt(
    key: rsa.RSAPrivateKey, algorithm: WrappingAlgorithm, ciphertext: bytes
) -> bytes:
    try:
        return key.decrypt(ciphertext, algorithm._oaep())
    except LIBRARY_ERRORS:
        raise ImportUnwrapError("the wrapped key material could not be decrypted") from None


def load_imported_private_key(private_pkcs8_der: bytes, curve: Curve) -> ImportedPrivateKey:
    """Check imported material is a PKCS#8 EC private key on `curve`; re-encode it canonically.

    PrivateKeyError if it is not PKCS#8 DER, not EC, on another curve, out of range, or carries
    a public key that does not belong to its private scalar.
    """
    loaded = load_private_key(private_pkcs8_der, curve)
    scalar = loaded._key.private_numbers().private_value
    try:
        derived = ec.derive_private_key(scalar, CURVE_PARAMETERS[curve].ec_curve)
    except LIBRARY_ERRORS:
        raise PrivateKeyError("private key scalar is out of range for its curve") from None
    public_spki_der = spki_der(derived.public_key())
    if not hmac.compare_digest(loaded.public_key_der(), public_spki_der):
        raise PrivateKeyError("the public key inside the PKCS#8 key does not match its private key")
    return ImportedPrivateKey(private_pkcs8_der=pkcs8_der(derived), public_spki_der=public_spki_der)


# --- Import tokens ----------------------------------------------------------------------------


def new_token_id() -> bytes:
    return secrets.token_bytes(IMPORT_TOKEN_ID_SIZE)


def seal_import_token(root: RootKey, token: ImportToken) -> bytes:
    """Serialize and authenticate `token` under a key derived from `root`."""
    key_id = token.key_id.encode()
    if len(token.token_id) != IMPORT_TOKEN_ID_SIZE or not 0 < len(key_id) < 256:
        raise ValueError("token id must be 16 bytes and key id 1-255 bytes")
    body = (
        bytes([_TOKEN_VERSION])
        + token.token_id
        + token.expires_at.to_bytes(8, "big")
        + bytes([len(key_id)])
        + key_id
    )
    return body + _token_mac(root, body)


def open_import_token(root: RootKey, blob: bytes) -> ImportToken:
    """The token `blob` carries, if `root` made it and it is intact; else ImportTokenError."""
    fixed = 1 + IMPORT_TOKEN_ID_SIZE + 8 + 1
    if len(blob) < fixed + 1 + _TOKEN_MAC_SIZE or blob[0] != _TOKEN_VERSION:
        raise ImportTokenError("not an import token of this service")
    body, mac = blob[:-_TOKEN_MAC_SIZE], blob[-_TOKEN_MAC_SIZE:]
    if not hmac.compare_digest(mac, _token_mac(root, body)):
        raise ImportTokenError("import token failed authentication")
    key_id_length = body[fixed - 1]
    if len(body) != fixed + key_id_length:
        raise ImportTokenError("not an import token of this service")
    try:
        key_id = body[fixed:].decode()
    except UnicodeDecodeError:
        raise ImportTokenError("not an import token of this service") from None
    return ImportToken(
        token_id=bytes(body[1 : 1 + IMPORT_TOKEN_ID_SIZE]),
        key_id=key_id,
        expires_at=int.from_bytes(body[1 + IMPORT_TOKEN_ID_SIZE : fixed - 1], "big"),
    )


def _token_mac(root: RootKey, body: bytes) -> bytes:
    mac_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_TOKEN_MAC_INFO).derive(
        root._key
    )
    return hmac.digest(mac_key, body, hashlib.sha256)
