"""`CiphertextForRecipient`: opened by the test enclave and by `openssl cms`, shaped like KMS's."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from qkms.crypto import (
    AttestationTrust,
    RecipientKey,
    envelope_for_recipient,
    recipient_key,
    verify_attestation_document,
)
from tests.enclave import NOW, EnclaveKey, EnclavePKI, attestation_document, parse_ber, shape

KMS_SAMPLE = (
    Path(__file__).resolve().parents[4]
    / "shared"
    / "testdata"
    / "nitro"
    / "kms-ciphertext-for-recipient.ber"
).read_bytes()
SECRET = bytes(range(32))


@pytest.fixture(scope="module")
def enclave_key() -> EnclaveKey:
    return EnclaveKey.create()


@pytest.fixture(scope="module")
def recipient(enclave_key: EnclaveKey) -> RecipientKey:
    # The whole path: the enclave attests its key, QKMS verifies and takes the key from it.
    pki = EnclavePKI.create()
    document = verify_attestation_document(
        attestation_document(pki, public_key=enclave_key.spki),
        AttestationTrust.from_pem([pki.root.pem]),
        NOW,
    )
    return recipient_key(document)


@pytest.mark.parametrize("size", [0, 1, 15, 16, 32, 48, 1000])
def test_enclave_opens_the_envelope(
    enclave_key: EnclaveKey, recipient: RecipientKey, size: int
) -> None:
    plaintext = bytes(range(256)) * 4
    assert (
        enclave_key.open(envelope_for_recipient(plaintext[:size], recipient)) == (plaintext[:size])
    )


def test_another_key_cannot_open_it(recipient: RecipientKey) -> None:
    envelope = envelope_for_recipient(SECRET, recipient)
    with pytest.raises(AssertionError, match="not for this key"):
        EnclaveKey.create().open(envelope)


def test_every_envelope_has_a_fresh_key_and_iv(recipient: RecipientKey) -> None:
    first, second = (parse_ber(envelope_for_recipient(SECRET, recipient)) for _ in range(2))
    enveloped = (first[1][0], second[1][0])
    assert enveloped[0][1][0][3].value != enveloped[1][1][0][3].value  # encrypted key
    assert enveloped[0][2][1][1].value != enveloped[1][2][1][1].value  # IV
    assert enveloped[0][2][2][0].value != enveloped[1][2][2][0].value  # content


def test_layout_matches_the_real_kms_response_field_for_field(recipient: RecipientKey) -> None:
    # Same secret size as the sample (32 bytes -> 48 after padding), same modulus size.
    ours = shape(parse_ber(envelope_for_recipient(SECRET, recipient)))
    theirs = shape(parse_ber(KMS_SAMPLE))
    assert ours == theirs
    assert len(theirs) == 30  # values, end-of-contents markers not counted
    assert sum(line.endswith(" inf") for line in theirs) == 5


def test_key_identifier_is_the_sha256_of_the_spki(
    enclave_key: EnclaveKey, recipient: RecipientKey
) -> None:
    envelope = parse_ber(envelope_for_recipient(SECRET, recipient))
    assert envelope[1][0][1][0][1].value == hashlib.sha256(enclave_key.spki).digest()


def _openssl_asn1parse(data: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "blob.ber"
    path.write_bytes(data)
    result = subprocess.run(
        ["openssl", "asn1parse", "-inform", "DER", "-in", str(path), "-i"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    # Keep offset, depth, header and content lengths and the type; drop dumped values.
    return [line.split("[HEX DUMP]")[0].rstrip() for line in result.stdout.splitlines()]


openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


@openssl
def test_openssl_asn1parse_sees_the_same_structure(recipient: RecipientKey, tmp_path: Path) -> None:
    ours = _openssl_asn1parse(envelope_for_recipient(SECRET, recipient), tmp_path)
    assert ours == _openssl_asn1parse(KMS_SAMPLE, tmp_path)


def _certificate_for(enclave_key: EnclaveKey) -> bytes:
    # openssl picks the recipient by matching this certificate's subjectKeyIdentifier.
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test enclave")])
    ski = hashlib.sha256(enclave_key.spki).digest()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(enclave_key.private_key.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime.now(UTC) + timedelta(days=1))
        .add_extension(x509.SubjectKeyIdentifier(ski), critical=False)
        .sign(enclave_key.private_key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


@openssl
@pytest.mark.parametrize("by_certificate", [False, True])
def test_openssl_cms_decrypts_it(
    enclave_key: EnclaveKey, recipient: RecipientKey, tmp_path: Path, by_certificate: bool
) -> None:
    (tmp_path / "envelope.ber").write_bytes(envelope_for_recipient(SECRET, recipient))
    (tmp_path / "key.pem").write_bytes(enclave_key.pem)
    command = ["openssl", "cms", "-decrypt", "-inform", "DER", "-in", "envelope.ber"]
    command += ["-inkey", "key.pem", "-binary"]
    if by_certificate:
        (tmp_path / "recipient.pem").write_bytes(_certificate_for(enclave_key))
        command += ["-recip", "recipient.pem"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, check=False, timeout=30)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert result.stdout == SECRET


@openssl
def test_openssl_cms_refuses_another_recipient(recipient: RecipientKey, tmp_path: Path) -> None:
    (tmp_path / "envelope.ber").write_bytes(envelope_for_recipient(SECRET, recipient))
    (tmp_path / "key.pem").write_bytes(EnclaveKey.create().pem)
    command = ["openssl", "cms", "-decrypt", "-inform", "DER", "-in", "envelope.ber"]
    command += ["-inkey", "key.pem", "-binary"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, check=False, timeout=30)
    assert result.returncode != 0
    assert result.stdout != SECRET
