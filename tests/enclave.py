"""A test "enclave": its own P-384 PKI, attestation documents it signs, and a CMS decoder.

It plays the two sides QKMS never sees in production: the Nitro hypervisor that signs
attestation documents (root -> intermediate -> leaf, the leaf shaped like a real Nitro leaf:
no Authority Key Identifier, no Subject Alternative Name), and the enclave application that
opens `CiphertextForRecipient` with its RSA-2048 private key. The BER decoder here is written
independently of `qkms.crypto.ber` (it parses, the other encodes) so that a round trip checks
both; `openssl cms` is the second, fully independent, decoder (tests/unit/crypto).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as symmetric_padding
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import NameOID

# Clock of every test-enclave document unless a test says otherwise.
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
DEFAULT_PCRS: Mapping[int, bytes] = {i: bytes([i]) * 48 for i in range(16)}


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "QKMS test enclave"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_extensions(
    builder: x509.CertificateBuilder, key: ec.EllipticCurvePrivateKey
) -> x509.CertificateBuilder:
    return (
        builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


@dataclass(frozen=True)
class Certified:
    key: ec.EllipticCurvePrivateKey = field(repr=False)
    certificate: x509.Certificate

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def _issue(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: Certified | None,
    not_before: datetime,
    not_after: datetime,
    *,
    ca: bool,
) -> Certified:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.certificate.subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if ca:
        builder = _ca_extensions(builder, key)
        if issuer is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
                critical=False,
            )
    else:
        # Like a Nitro leaf: basic constraints and key usage only.
        builder = builder.add_extension(
            x509.BasicConstraints(ca=False, path_length=None), critical=True
        ).add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    signer = issuer.key if issuer else key
    return Certified(key, builder.sign(signer, hashes.SHA384()))


@dataclass(frozen=True)
class EnclavePKI:
    """root -> intermediate -> leaf, all P-384; the leaf lives three hours around `NOW`."""

    root: Certified
    intermediate: Certified
    leaf: Certified

    @classmethod
    def create(cls, now: datetime = NOW) -> EnclavePKI:
        root = _issue(
            "test-enclave-root", ec.generate_private_key(ec.SECP384R1()), None,
            now - timedelta(days=365), now + timedelta(days=3650), ca=True,
        )  # fmt: skip
        intermediate = _issue(
            "test-enclave-intermediate", ec.generate_private_key(ec.SECP384R1()), root,
            now - timedelta(days=30), now + timedelta(days=30), ca=True,
        )  # fmt: skip
        leaf = _issue(
            "test-enclave-leaf", ec.generate_private_key(ec.SECP384R1()), intermediate,
            now - timedelta(hours=1), now + timedelta(hours=2), ca=False,
        )  # fmt: skip
        return cls(root, intermediate, leaf)


def _cbor_map(items: Mapping[Any, Any], *, indefinite: bool) -> bytes:
    if not indefinite:
        return cbor2.dumps(dict(items))
    body = b"".join(cbor2.dumps(k) + cbor2.dumps(v) for k, v in items.items())
    return b"\xbf" + body + b"\xff"


def sign_cose(
    pki: EnclavePKI,
    payload: bytes,
    *,
    protected: bytes = b"\xa1\x01\x38\x22",  # {1: -35}: ES384
    tagged: bool = False,
) -> bytes:
    """COSE_Sign1 over `payload` by the leaf key, signature as raw r || s (RFC 9053 §2.1)."""
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    r, s = decode_dss_signature(pki.leaf.key.sign(to_be_signed, ec.ECDSA(hashes.SHA384())))
    signature = r.to_bytes(48, "big") + s.to_bytes(48, "big")
    message = [protected, {}, payload, signature]
    return cbor2.dumps(cbor2.CBORTag(18, message) if tagged else message)


def attestation_document(
    pki: EnclavePKI,
    *,
    public_key: bytes | None,
    pcrs: Mapping[int, bytes] = DEFAULT_PCRS,
    timestamp: datetime = NOW,
    user_data: bytes | None = None,
    nonce: bytes | None = None,
    indefinite: bool = False,
    tagged: bool = False,
    overrides: Mapping[str, Any] | None = None,
) -> bytes:
    """A document as a Nitro enclave's NSM would return it, absent fields as CBOR null."""
    payload: dict[str, Any] = {
        "module_id": "i-0123456789abcdef0-enc0123456789abcdef",
        "digest": "SHA384",
        "timestamp": int(timestamp.timestamp() * 1000),
        "pcrs": dict(pcrs),
        "certificate": pki.leaf.der,
        "cabundle": [pki.root.der, pki.intermediate.der],
        "public_key": public_key,
        "user_data": user_data,
        "nonce": nonce,
    }
    payload.update(overrides or {})
    return sign_cose(pki, _cbor_map(payload, indefinite=indefinite), tagged=tagged)


# --- BER decoding (X.690), enough for CMS -------------------------------------------------


@dataclass(frozen=True)
class Node:
    tag: int  # the identifier octet, class and constructed bit included
    length: int | None  # of the contents octets; None for an indefinite length
    value: bytes  # contents octets of a primitive; empty for constructed
    children: tuple[Node, ...]

    @property
    def indefinite(self) -> bool:
        return self.length is None

    @property
    def constructed(self) -> bool:
        return bool(self.tag & 0x20)

    def __getitem__(self, index: int) -> Node:
        return self.children[index]


def _read(data: bytes, pos: int) -> tuple[Node, int]:
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise ValueError("high tag numbers are not used in CMS")
    first = data[pos + 1]
    pos += 2
    if first == 0x80:
        if not tag & 0x20:
            raise ValueError("indefinite length on a primitive")
        children: list[Node] = []
        while data[pos : pos + 2] != b"\x00\x00":
            child, pos = _read(data, pos)
            children.append(child)
        return Node(tag, None, b"", tuple(children)), pos + 2
    if first & 0x80:
        count = first & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    else:
        length = first
    end = pos + length
    if end > len(data):
        raise ValueError("truncated")
    if not tag & 0x20:
        return Node(tag, length, data[pos:end], ()), end
    children = []
    while pos < end:
        child, pos = _read(data, pos)
        children.append(child)
    if pos != end:
        raise ValueError("child overruns its parent")
    return Node(tag, length, b"", tuple(children)), end


def parse_ber(data: bytes) -> Node:
    node, end = _read(data, 0)
    if end != len(data):
        raise ValueError("trailing data")
    return node


def decode_oid(node: Node) -> str:
    assert node.tag == 0x06
    arcs: list[int] = []
    value = 0
    for byte in node.value:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


def shape(node: Node, depth: int = 0) -> list[str]:
    """The tree as lines `depth tag length`, with values of OIDs and INTEGERs only: the layout
    of an envelope without its random or secret parts."""
    length = "inf" if node.length is None else str(node.length)
    line = f"{depth} {node.tag:02x} {length}"
    if node.tag == 0x06:
        line += " " + decode_oid(node)
    elif node.tag == 0x02:
        line += " " + node.value.hex()
    return [line, *(row for child in node.children for row in shape(child, depth + 1))]


# --- the enclave application -------------------------------------------------------------


@dataclass(frozen=True)
class EnclaveKey:
    """The enclave's RSA key pair: `public_key` goes into documents, `open` reads envelopes."""

    private_key: rsa.RSAPrivateKey = field(repr=False)

    @classmethod
    def create(cls, bits: int = 2048) -> EnclaveKey:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=bits))

    @property
    def spki(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def open(self, envelope: bytes) -> bytes:
        """The plaintext of a `CiphertextForRecipient`, checking every field on the way."""
        content_info = parse_ber(envelope)
        assert decode_oid(content_info[0]) == "1.2.840.113549.1.7.3"
        enveloped = content_info[1][0]
        assert enveloped[0].value == b"\x02"
        (recipient,) = enveloped[1].children
        assert recipient[0].value == b"\x02"
        assert recipient[1].tag == 0x80
        assert recipient[1].value == hashlib.sha256(self.spki).digest(), "not for this key"
        algorithm = recipient[2]
        assert decode_oid(algorithm[0]) == "1.2.840.113549.1.1.7"
        params = algorithm[1]
        assert [c.tag for c in params.children] == [0xA0, 0xA1], "a label or other hashes"
        assert decode_oid(params[0][0][0]) == "2.16.840.1.101.3.4.2.1"
        assert decode_oid(params[1][0][0]) == "1.2.840.113549.1.1.8"
        assert decode_oid(params[1][0][1][0]) == "2.16.840.1.101.3.4.2.1"
        content_key = self.private_key.decrypt(
            recipient[3].value,
            padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
        )
        content = enveloped[2]
        assert decode_oid(content[0]) == "1.2.840.113549.1.7.1"
        assert decode_oid(content[1][0]) == "2.16.840.1.101.3.4.1.42"
        iv = content[1][1].value
        ciphertext = b"".join(chunk.value for chunk in content[2].children)
        decryptor = Cipher(algorithms.AES(content_key), modes.CBC(iv)).decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        unpadder = symmetric_padding.PKCS7(128).unpadder()
        return unpadder.update(padded) + unpadder.finalize()
