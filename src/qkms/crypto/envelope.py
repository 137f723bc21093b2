"""`CiphertextForRecipient`: a secret in CMS EnvelopedData for an attested recipient (RFC 5652).

The layout is AWS KMS's, byte for byte in structure (a real response is in
`testdata/nitro/kms-ciphertext-for-recipient.ber`; the Nitro Enclaves SDK's `source/cms.c`
parses it and reads the four outer layers only in their indefinite-length form)::

    ContentInfo SEQUENCE (indefinite)
      contentType envelopedData
      [0] (indefinite)
        EnvelopedData SEQUENCE (indefinite)
          version 2
          recipientInfos SET { KeyTransRecipientInfo {
            version 2, [0] subjectKeyIdentifier (32 bytes),
            RSAES-OAEP { [0] sha256, [1] mgf1(sha256) }   -- pSourceFunc absent: empty label
            encryptedKey (the AES key under RSA-OAEP) } }
          EncryptedContentInfo SEQUENCE (indefinite)
            contentType data
            aes256-CBC, IV (16 bytes)
            [0] (indefinite) { OCTET STRING ciphertext }  -- PKCS#7 padded

`cryptography`'s PKCS#7 builder cannot express this (it does PKCS#1 v1.5 and issuer/serial
recipients only), so the structure comes from `qkms.crypto.ber` and only the primitives from
`cryptography`.
"""

from __future__ import annotations

from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import padding as symmetric_padding
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from qkms.crypto import ber
from qkms.crypto.attestation import RecipientKey
from qkms.crypto.random import random_bytes

__all__ = ["OID_AES256_CBC", "OID_RSAES_OAEP", "envelope_for_recipient"]

OID_ENVELOPED_DATA: Final = "1.2.840.113549.1.7.3"
OID_DATA: Final = "1.2.840.113549.1.7.1"
OID_RSAES_OAEP: Final = "1.2.840.113549.1.1.7"
OID_MGF1: Final = "1.2.840.113549.1.1.8"
OID_SHA256: Final = "2.16.840.1.101.3.4.2.1"
OID_AES256_CBC: Final = "2.16.840.1.101.3.4.1.42"

_CMS_VERSION: Final = 2  # RFC 5652 §6.1/§6.2.1: subjectKeyIdentifier recipients make it 2
_AES_KEY_SIZE: Final = 32
_IV_SIZE: Final = 16


def _sha256_algorithm() -> bytes:
    # AWS writes the NULL parameters explicitly (RFC 4055 §2.1 allows both forms).
    return ber.sequence(ber.oid(OID_SHA256), ber.null())


def _oaep_algorithm() -> bytes:
    # RSAES-OAEP-params (RFC 4055 §4.1); pSourceFunc is left at its default, the empty label.
    parameters = ber.sequence(
        ber.tlv(ber.context(0), _sha256_algorithm()),
        ber.tlv(ber.context(1), ber.sequence(ber.oid(OID_MGF1), _sha256_algorithm())),
    )
    return ber.sequence(ber.oid(OID_RSAES_OAEP), parameters)


def _recipient_info(recipient: RecipientKey, content_key: bytes) -> bytes:
    encrypted_key = recipient.public_key.encrypt(
        content_key,
        padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    )
    return ber.sequence(
        ber.integer(_CMS_VERSION),
        ber.tlv(ber.context(0, constructed=False), recipient.key_identifier),
        _oaep_algorithm(),
        ber.octet_string(encrypted_key),
    )


def _encrypt_content(plaintext: bytes, content_key: bytes, iv: bytes) -> bytes:
    padder = symmetric_padding.PKCS7(algorithms.AES.block_size).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(content_key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def envelope_for_recipient(plaintext: bytes, recipient: RecipientKey) -> bytes:
    """`plaintext` in CMS EnvelopedData (BER) that only `recipient`'s private key opens.

    Each call draws a fresh AES-256 key and IV; the content key lives only in this call.
    """
    content_key = random_bytes(_AES_KEY_SIZE)
    iv = random_bytes(_IV_SIZE)
    encrypted_content_info = ber.indefinite(
        ber.Tag.SEQUENCE,
        ber.oid(OID_DATA),
        ber.sequence(ber.oid(OID_AES256_CBC), ber.octet_string(iv)),
        ber.indefinite(
            ber.context(0), ber.octet_string(_encrypt_content(plaintext, content_key, iv))
        ),
    )
    enveloped_data = ber.indefinite(
        ber.Tag.SEQUENCE,
        ber.integer(_CMS_VERSION),
        ber.set_of(_recipient_info(recipient, content_key)),
        encrypted_content_info,
    )
    return ber.indefinite(
        ber.Tag.SEQUENCE,
        ber.oid(OID_ENVELOPED_DATA),
        ber.indefinite(ber.context(0), enveloped_data),
    )
