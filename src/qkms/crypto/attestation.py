"""Attestation documents of attested recipients (DESIGN §3 "Recipients"): parse and verify.

An attestation document is a COSE_Sign1 (RFC 9052 §4.2; untagged or CBOR tag 18)
``[protected, unprotected, payload, signature]`` as AWS Nitro Enclaves produce it
("Verifying the root of trust", AWS Nitro Enclaves User Guide):

- the protected header is exactly ``{1: -35}`` (ES384); nothing else is accepted;
- the signature is raw ``r || s`` (2 x 48 bytes) over the ``Sig_structure``
  ``["Signature1", protected, h'', payload]``, made with the leaf certificate's P-384 key;
- the payload is a map with ``module_id``, ``digest`` ("SHA384"), ``timestamp`` (ms since the
  epoch), ``pcrs`` (index -> 32/48/64-byte value), ``certificate`` (leaf, DER), ``cabundle``
  (``[root, intermediate, ...]``, DER) and optional ``public_key``, ``user_data``, ``nonce``
  (real documents send absent ones as CBOR null, some encode the map with indefinite length);
- the leaf must chain through the cabundle to a configured trust root at the time of the call,
  and the document must not be older than a configured maximum age.

Every refusal is one `AttestationError` whose `reason` names the check that failed; its message
never quotes the document.
"""

from __future__ import annotations

import enum
import hashlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Final

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509 import verification

from qkms.crypto.errors import ReasonedError

__all__ = [
    "AWS_NITRO_ENCLAVES_ROOT_G1_PEM",
    "DEFAULT_MAX_DOCUMENT_AGE",
    "MAX_DOCUMENT_SIZE",
    "AttestationDocument",
    "AttestationError",
    "AttestationProblem",
    "AttestationTrust",
    "RecipientKey",
    "recipient_key",
    "verify_attestation_document",
]

# The AWS Nitro Enclaves root (G1) as AWS publishes it; SHA-256 of its DER is
# 641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b (checked in the tests).
AWS_NITRO_ENCLAVES_ROOT_G1_PEM: Final = b"""-----BEGIN CERTIFICATE-----
MIICETCCAZagAwIBAgIRAPkxdWgbkK/hHUbMtOTn+FYwCgYIKoZIzj0EAwMwSTEL
MAkGA1UEBhMCVVMxDzANBgNVBAoMBkFtYXpvbjEMMAoGA1UECwwDQVdTMRswGQYD
VQQDDBJhd3Mubml0cm8tZW5jbGF2ZXMwHhcNMTkxMDI4MTMyODA1WhcNNDkxMDI4
MTQyODA1WjBJMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGQW1hem9uMQwwCgYDVQQL
DANBV1MxGzAZBgNVBAMMEmF3cy5uaXRyby1lbmNsYXZlczB2MBAGByqGSM49AgEG
BSuBBAAiA2IABPwCVOumCMHzaHDimtqQvkY4MpJzbolL//Zy2YlES1BR5TSksfbb
48C8WBoyt7F2Bw7eEtaaP+ohG2bnUs990d0JX28TcPQXCEPZ3BABIeTPYwEoCWZE
h8l5YoQwTcU/9KNCMEAwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUkCW1DdkF
R+eWw5b6cp3PmanfS5YwDgYDVR0PAQH/BAQDAgGGMAoGCCqGSM49BAMDA2kAMGYC
MQCjfy+Rocm9Xue4YnwWmNJVA44fA0P5W2OpYow9OYCVRaEevL8uO1XYru5xtMPW
rfMCMQCi85sWBbJwKKXdS6BptQFuZbT73o/gBh1qUxl/nNr12UO8Yfwr6wPLb+6N
IwLz3/Y=
-----END CERTIFICATE-----
"""

# AWS does not document how old a document it accepts may be; Nitro leaf certificates live
# about three hours, and a document is made for one request, so five minutes is generous.
DEFAULT_MAX_DOCUMENT_AGE: Final = timedelta(minutes=5)
# A document stamped slightly after our clock comes from an enclave whose clock runs ahead.
DEFAULT_CLOCK_SKEW: Final = timedelta(minutes=1)

# botocore's kms model: AttestationDocumentType is a blob of at most 262144 bytes.
MAX_DOCUMENT_SIZE: Final = 262144
_COSE_SIGN1_TAG: Final = 18
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ES384_PROTECTED: Final = {1: -35}
_ES384_COORDINATE_SIZE: Final = 48
_PCR_SIZES: Final = frozenset({32, 48, 64})
_MAX_PCR_INDEX: Final = 31
_MAX_CBOR_DEPTH: Final = 8
# The NSM API caps public_key at 1024 bytes; an RSA-4096 SPKI is about 550.
_MAX_RSA_BITS: Final = 4096
_MIN_RSA_BITS: Final = 2048


class AttestationProblem(enum.Enum):
    """Which check an attestation document failed; one member per check, in checking order."""

    MALFORMED = "MALFORMED"
    UNSUPPORTED_ALGORITHM = "UNSUPPORTED_ALGORITHM"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    EXPIRED = "EXPIRED"
    UNTRUSTED_CHAIN = "UNTRUSTED_CHAIN"
    TOO_OLD = "TOO_OLD"
    FROM_THE_FUTURE = "FROM_THE_FUTURE"
    NO_PUBLIC_KEY = "NO_PUBLIC_KEY"
    UNSUITABLE_PUBLIC_KEY = "UNSUITABLE_PUBLIC_KEY"


_MESSAGES: Final[Mapping[AttestationProblem, str]] = {
    AttestationProblem.MALFORMED: "attestation document does not parse as a COSE_Sign1 "
    "attestation document",
    AttestationProblem.UNSUPPORTED_ALGORITHM: "attestation document is not signed with ES384",
    AttestationProblem.BAD_SIGNATURE: "attestation document signature does not verify",
    AttestationProblem.EXPIRED: "attestation document certificate is expired or not yet valid",
    AttestationProblem.UNTRUSTED_CHAIN: "attestation document certificate chain does not lead "
    "to a trusted root",
    AttestationProblem.TOO_OLD: "attestation document is older than the maximum age",
    AttestationProblem.FROM_THE_FUTURE: "attestation document timestamp is in the future",
    AttestationProblem.NO_PUBLIC_KEY: "attestation document has no public key",
    AttestationProblem.UNSUITABLE_PUBLIC_KEY: "attestation document public key is not an RSA "
    "key of 2048 to 4096 bits",
}


class AttestationError(ReasonedError[AttestationProblem]):
    """An attestation document refused; `reason` names the failed check (never its bytes)."""

    _messages = _MESSAGES


@dataclass(frozen=True, slots=True)
class AttestationTrust:
    """What a verifier trusts: root certificates (PEM), maximum document age, clock skew."""

    roots: tuple[x509.Certificate, ...]
    max_age: timedelta = DEFAULT_MAX_DOCUMENT_AGE
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW

    def __post_init__(self) -> None:
        if not self.roots:
            raise ValueError("at least one trust root is required")
        if self.max_age <= timedelta(0) or self.clock_skew < timedelta(0):
            raise ValueError("max_age must be positive and clock_skew not negative")

    @classmethod
    def from_pem(
        cls,
        pems: Sequence[bytes] = (AWS_NITRO_ENCLAVES_ROOT_G1_PEM,),
        *,
        max_age: timedelta = DEFAULT_MAX_DOCUMENT_AGE,
        clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    ) -> AttestationTrust:
        """Trust the certificates in `pems` (each may hold several); default the AWS root."""
        roots: list[x509.Certificate] = []
        for pem in pems:
            roots.extend(x509.load_pem_x509_certificates(pem))
        return cls(tuple(roots), max_age=max_age, clock_skew=clock_skew)


@dataclass(frozen=True, slots=True)
class AttestationDocument:
    """A verified attestation document's claims; `public_key` is DER SPKI or None."""

    module_id: str
    digest: str
    timestamp_ms: int
    pcrs: Mapping[int, bytes] = field(repr=False)
    public_key: bytes | None = field(repr=False)
    user_data: bytes | None = field(repr=False)
    nonce: bytes | None = field(repr=False)


@dataclass(frozen=True, slots=True)
class RecipientKey:
    """The RSA key to encrypt to, and the subjectKeyIdentifier CMS names it by."""

    public_key: rsa.RSAPublicKey = field(repr=False)
    key_identifier: bytes


def _malformed(detail: str) -> AttestationError:
    return AttestationError(AttestationProblem.MALFORMED, detail)


def _decode_cbor(data: bytes, what: str) -> Any:
    stream = io.BytesIO(data)
    try:
        decoded = cbor2.CBORDecoder(
            stream, max_depth=_MAX_CBOR_DEPTH, allow_duplicate_keys=False
        ).decode()
    except (cbor2.CBORError, ValueError, TypeError, RecursionError, EOFError) as exc:
        raise _malformed(what) from exc
    if stream.tell() != len(data):
        raise _malformed(f"{what} has trailing data")
    return decoded


def _optional_bytes(payload: Mapping[Any, Any], name: str) -> bytes | None:
    # Absent and CBOR null mean the same: real documents send null for fields not set.
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, bytes):
        raise _malformed(name)
    return value


def _parse_pcrs(value: object) -> Mapping[int, bytes]:
    if not isinstance(value, Mapping) or not value:
        raise _malformed("pcrs")
    pcrs: dict[int, bytes] = {}
    for index, measurement in value.items():
        if (
            type(index) is not int
            or not 0 <= index <= _MAX_PCR_INDEX
            or not isinstance(measurement, bytes)
            or len(measurement) not in _PCR_SIZES
        ):
            raise _malformed("pcrs")
        pcrs[index] = measurement
    return MappingProxyType(dict(sorted(pcrs.items())))


def _load_certificate(der: bytes, what: str) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except (ValueError, x509.InvalidVersion) as exc:
        raise _malformed(what) from exc


@dataclass(frozen=True, slots=True)
class _Parsed:
    protected: bytes
    payload: bytes
    signature: bytes
    document: AttestationDocument
    leaf: x509.Certificate
    cabundle: tuple[x509.Certificate, ...]


def _parse(data: bytes) -> _Parsed:
    if len(data) > MAX_DOCUMENT_SIZE:
        raise _malformed("larger than 262144 bytes")
    envelope = _decode_cbor(data, "COSE_Sign1")
    if isinstance(envelope, cbor2.CBORTag):
        if envelope.tag != _COSE_SIGN1_TAG:
            raise _malformed("COSE_Sign1 tag")
        envelope = envelope.value
    # cbor2 decodes the content of a tag as an immutable value: a tuple, not a list.
    if not isinstance(envelope, list | tuple) or len(envelope) != 4:
        raise _malformed("COSE_Sign1")
    protected, unprotected, payload, signature = envelope
    if not all(isinstance(part, bytes) for part in (protected, payload, signature)):
        raise _malformed("COSE_Sign1")
    if not isinstance(unprotected, Mapping):
        raise _malformed("unprotected header")
    if _decode_cbor(protected, "protected header") != _ES384_PROTECTED:
        raise AttestationError(AttestationProblem.UNSUPPORTED_ALGORITHM)
    claims = _decode_cbor(payload, "payload")
    if not isinstance(claims, Mapping):
        raise _malformed("payload")
    module_id = claims.get("module_id")
    if not isinstance(module_id, str) or not module_id:
        raise _malformed("module_id")
    if claims.get("digest") != "SHA384":
        raise _malformed("digest")
    timestamp = claims.get("timestamp")
    if type(timestamp) is not int or timestamp <= 0:
        raise _malformed("timestamp")
    cabundle = claims.get("cabundle")
    if not isinstance(cabundle, list | tuple) or not cabundle:
        raise _malformed("cabundle")
    if not all(isinstance(der, bytes) for der in cabundle):
        raise _malformed("cabundle")
    bundle = tuple(_load_certificate(der, "cabundle") for der in cabundle)
    leaf_der = claims.get("certificate")
    if not isinstance(leaf_der, bytes):
        raise _malformed("certificate")
    document = AttestationDocument(
        module_id=module_id,
        digest="SHA384",
        timestamp_ms=timestamp,
        pcrs=_parse_pcrs(claims.get("pcrs")),
        public_key=_optional_bytes(claims, "public_key"),
        user_data=_optional_bytes(claims, "user_data"),
        nonce=_optional_bytes(claims, "nonce"),
    )
    return _Parsed(
        protected=protected,
        payload=payload,
        signature=signature,
        document=document,
        leaf=_load_certificate(leaf_der, "certificate"),
        cabundle=bundle,
    )


def _check_signature(parsed: _Parsed) -> None:
    try:
        # A certificate parses lazily: a damaged key only shows when it is loaded.
        key = parsed.leaf.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise _malformed("certificate") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP384R1):
        raise AttestationError(AttestationProblem.UNSUPPORTED_ALGORITHM, "leaf key is not P-384")
    if len(parsed.signature) != 2 * _ES384_COORDINATE_SIZE:
        raise AttestationError(AttestationProblem.BAD_SIGNATURE)
    r = int.from_bytes(parsed.signature[:_ES384_COORDINATE_SIZE], "big")
    s = int.from_bytes(parsed.signature[_ES384_COORDINATE_SIZE:], "big")
    # RFC 9052 §4.4: the bytes signed are the CBOR Sig_structure, with empty external_aad.
    to_be_signed = cbor2.dumps(["Signature1", parsed.protected, b"", parsed.payload])
    try:
        key.verify(encode_dss_signature(r, s), to_be_signed, ec.ECDSA(hashes.SHA384()))
    except InvalidSignature as exc:
        raise AttestationError(AttestationProblem.BAD_SIGNATURE) from exc


def _extension_policies() -> tuple[verification.ExtensionPolicy, verification.ExtensionPolicy]:
    # Nitro leaf certificates carry neither an Authority Key Identifier nor a Subject
    # Alternative Name, both of which the Web PKI end-entity profile requires; everything
    # else (CA basic constraints, key usage, signature algorithms) keeps the Web PKI checks.
    agnostic = verification.Criticality.AGNOSTIC
    ee = (
        verification.ExtensionPolicy.webpki_defaults_ee()
        .may_be_present(x509.AuthorityKeyIdentifier, agnostic, None)
        .may_be_present(x509.SubjectAlternativeName, agnostic, None)
    )
    return verification.ExtensionPolicy.webpki_defaults_ca(), ee


def _check_chain(parsed: _Parsed, trust: AttestationTrust, now: datetime) -> None:
    for certificate in (parsed.leaf, *parsed.cabundle):
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise AttestationError(AttestationProblem.EXPIRED)
    ca_policy, ee_policy = _extension_policies()
    verifier = (
        verification.PolicyBuilder()
        .store(verification.Store(list(trust.roots)))
        .time(now)
        .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy)
        .build_client_verifier()
    )
    try:
        verifier.verify(parsed.leaf, list(parsed.cabundle))
    except (verification.VerificationError, ValueError, UnsupportedAlgorithm) as exc:
        # ValueError: a cabundle certificate whose key or signature is damaged.
        raise AttestationError(AttestationProblem.UNTRUSTED_CHAIN) from exc


def verify_attestation_document(
    data: bytes, trust: AttestationTrust, now: datetime
) -> AttestationDocument:
    """The claims of `data` if it is a valid document under `trust` at `now` (timezone-aware).

    Checks, in order: CBOR/COSE structure and payload fields, ES384 signature by the leaf,
    validity period of every certificate, the chain to a trust root, the document's age.
    The document need not carry a public key: `recipient_key` checks that.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    parsed = _parse(data)
    _check_signature(parsed)
    _check_chain(parsed, trust, now)
    # Whole milliseconds, in integers: any 64-bit timestamp compares without overflow.
    millisecond = timedelta(milliseconds=1)
    age_ms = (now - _EPOCH) // millisecond - parsed.document.timestamp_ms
    if age_ms > trust.max_age // millisecond:
        raise AttestationError(AttestationProblem.TOO_OLD)
    if -age_ms > trust.clock_skew // millisecond:
        raise AttestationError(AttestationProblem.FROM_THE_FUTURE)
    return parsed.document


def recipient_key(document: AttestationDocument) -> RecipientKey:
    """The document's `public_key` as an RSA key to encrypt to, with its CMS key identifier.

    The identifier is the SHA-256 of the key's DER SubjectPublicKeyInfo: 32 bytes, as in AWS
    KMS's `CiphertextForRecipient` (RFC 5652 §6.2.1 leaves its derivation to the sender).
    """
    if document.public_key is None:
        raise AttestationError(AttestationProblem.NO_PUBLIC_KEY)
    try:
        key = serialization.load_der_public_key(document.public_key)
    except (ValueError, TypeError) as exc:
        raise AttestationError(AttestationProblem.UNSUITABLE_PUBLIC_KEY) from exc
    if not isinstance(key, rsa.RSAPublicKey) or not (
        _MIN_RSA_BITS <= key.key_size <= _MAX_RSA_BITS
    ):
        raise AttestationError(AttestationProblem.UNSUITABLE_PUBLIC_KEY)
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return RecipientKey(public_key=key, key_identifier=hashlib.sha256(spki).digest())
