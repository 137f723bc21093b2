"""Attestation documents: the real Nitro document from the test data, and test-enclave ones."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from qkms.crypto import (
    AWS_NITRO_ENCLAVES_ROOT_G1_PEM,
    AttestationDocument,
    AttestationError,
    AttestationProblem,
    AttestationTrust,
    recipient_key,
    verify_attestation_document,
)
from tests.enclave import (
    DEFAULT_PCRS,
    NOW,
    EnclaveKey,
    EnclavePKI,
    attestation_document,
    sign_cose,
)

# The shared test data sits beside the checkout (../shared), as for the other vector tests.
NITRO = Path(__file__).resolve().parents[4] / "shared" / "testdata" / "nitro"
REAL_DOCUMENT = bytes.fromhex((NITRO / "sui-attestation-document.hex").read_text().strip())
# The clock the document's origin (MystenLabs/sui) fixes to verify it (testdata README).
REAL_CLOCK = datetime.fromtimestamp(1731627987382 / 1000, UTC)
# A day covers the gap between that clock and the document's timestamp, 2 s later.
REAL_TRUST = AttestationTrust.from_pem(max_age=timedelta(days=1))

# Offsets of the payload and signature inside the real document's CBOR array; the array,
# its protected header and the empty unprotected map take 1 + 5 + 1 bytes, then the payload
# is a byte string with a 3-byte header (0x59 + 2-byte length).
_PAYLOAD_LENGTH = int.from_bytes(REAL_DOCUMENT[8:10], "big")
PAYLOAD = range(10, 10 + _PAYLOAD_LENGTH)
SIGNATURE = range(len(REAL_DOCUMENT) - 96, len(REAL_DOCUMENT))


def _reason(data: bytes, trust: AttestationTrust, now: datetime) -> AttestationProblem:
    with pytest.raises(AttestationError) as caught:
        verify_attestation_document(data, trust, now)
    return caught.value.reason


def test_embedded_root_is_the_published_aws_root() -> None:
    (root,) = x509.load_pem_x509_certificates(AWS_NITRO_ENCLAVES_ROOT_G1_PEM)
    fingerprint = hashlib.sha256(root.public_bytes(serialization.Encoding.DER)).hexdigest()
    assert fingerprint == "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b"
    assert (NITRO / "aws-nitro-enclaves-root-g1.pem").read_bytes() == (
        AWS_NITRO_ENCLAVES_ROOT_G1_PEM
    )


def test_real_document_verifies_under_the_aws_root() -> None:
    document = verify_attestation_document(REAL_DOCUMENT, REAL_TRUST, REAL_CLOCK)
    assert document.module_id == "i-0f73a4b4cb74cc9f2-enc0192e4188fef781d"
    assert document.digest == "SHA384"
    assert document.timestamp_ms == 1731627989450
    assert sorted(document.pcrs) == list(range(16))
    assert all(len(value) == 48 for value in document.pcrs.values())
    assert document.public_key is None
    assert document.nonce is None
    assert document.user_data is not None and len(document.user_data) == 32


def test_real_document_layout_assumed_by_the_flip_tests() -> None:
    protected, _, payload, signature = cbor2.loads(REAL_DOCUMENT)
    assert REAL_DOCUMENT[PAYLOAD.start : PAYLOAD.stop] == payload
    assert REAL_DOCUMENT[SIGNATURE.start :] == signature
    assert protected == b"\xa1\x01\x38\x22"


def test_real_document_is_refused_one_second_after_its_leaf_expires() -> None:
    leaf = x509.load_der_x509_certificate(cbor2.loads(cbor2.loads(REAL_DOCUMENT)[2])["certificate"])
    expiry = leaf.not_valid_after_utc
    generous = AttestationTrust.from_pem(max_age=timedelta(days=30))
    assert verify_attestation_document(REAL_DOCUMENT, generous, expiry).module_id
    late = expiry + timedelta(seconds=1)
    assert _reason(REAL_DOCUMENT, generous, late) is AttestationProblem.EXPIRED


def test_real_document_is_refused_when_older_than_the_maximum_age() -> None:
    strict = AttestationTrust.from_pem(max_age=timedelta(minutes=5))
    later = datetime.fromtimestamp(1731627989450 / 1000, UTC) + timedelta(minutes=5, seconds=1)
    assert _reason(REAL_DOCUMENT, strict, later) is AttestationProblem.TOO_OLD


def test_real_document_is_refused_under_another_root() -> None:
    other = AttestationTrust.from_pem([EnclavePKI.create().root.pem], max_age=timedelta(days=1))
    assert _reason(REAL_DOCUMENT, other, REAL_CLOCK) is AttestationProblem.UNTRUSTED_CHAIN


# Flips that once escaped as other exceptions than AttestationError: the leaf certificate's
# version (x509.InvalidVersion at load) and its public key (ValueError when loaded lazily).
PAYLOAD_TRAPS = (944, 1351, 1391, 1405)


def _flip_positions(span: range, count: int, seed: int, traps: tuple[int, ...] = ()) -> list[int]:
    chooser = random.Random(seed)  # fixed seed: a failure reproduces
    edges = [span.start, span.start + 1, span.stop - 2, span.stop - 1]
    return sorted({*edges, *traps, *chooser.sample(span, count)})


@pytest.mark.parametrize("position", _flip_positions(PAYLOAD, 120, 1, PAYLOAD_TRAPS))
def test_real_document_with_a_payload_byte_flipped_is_refused(position: int) -> None:
    altered = bytearray(REAL_DOCUMENT)
    altered[position] ^= 0x01
    reason = _reason(bytes(altered), REAL_TRUST, REAL_CLOCK)
    # Mostly the signature; a flip that breaks the CBOR, a certificate or a field type is
    # caught while parsing, before the signature is checked.
    assert reason in {AttestationProblem.BAD_SIGNATURE, AttestationProblem.MALFORMED}


@pytest.mark.parametrize("position", SIGNATURE)  # all 96
def test_real_document_with_a_signature_byte_flipped_is_refused(position: int) -> None:
    altered = bytearray(REAL_DOCUMENT)
    altered[position] ^= 0x80
    assert _reason(bytes(altered), REAL_TRUST, REAL_CLOCK) is AttestationProblem.BAD_SIGNATURE


def test_real_document_has_no_public_key_for_a_recipient() -> None:
    document = verify_attestation_document(REAL_DOCUMENT, REAL_TRUST, REAL_CLOCK)
    with pytest.raises(AttestationError, match="has no public key") as caught:
        recipient_key(document)
    assert caught.value.reason is AttestationProblem.NO_PUBLIC_KEY


def test_messages_never_quote_the_document() -> None:
    altered = bytearray(REAL_DOCUMENT)
    altered[PAYLOAD.start + 40] ^= 0x01
    with pytest.raises(AttestationError) as caught:
        verify_attestation_document(bytes(altered), REAL_TRUST, REAL_CLOCK)
    text = str(caught.value)
    assert "i-0f73a4b4cb74cc9f2" not in text
    assert REAL_DOCUMENT[PAYLOAD.start : PAYLOAD.start + 8].hex() not in text.lower()


# --- documents signed by the test enclave -------------------------------------------------


@pytest.fixture(scope="module")
def pki() -> EnclavePKI:
    return EnclavePKI.create()


@pytest.fixture(scope="module")
def enclave_key() -> EnclaveKey:
    return EnclaveKey.create()


@pytest.fixture(scope="module")
def trust(pki: EnclavePKI) -> AttestationTrust:
    return AttestationTrust.from_pem([pki.root.pem])


def test_enclave_document_verifies_with_its_claims(
    pki: EnclavePKI, enclave_key: EnclaveKey, trust: AttestationTrust
) -> None:
    pcrs = {0: b"\xaa" * 48, 1: b"\xbb" * 48, 8: b"\xcc" * 48}
    data = attestation_document(
        pki, public_key=enclave_key.spki, pcrs=pcrs, user_data=b"u", nonce=b"n"
    )
    document = verify_attestation_document(data, trust, NOW)
    assert dict(document.pcrs) == pcrs
    assert document.public_key == enclave_key.spki
    assert (document.user_data, document.nonce) == (b"u", b"n")
    key = recipient_key(document)
    assert key.key_identifier == hashlib.sha256(enclave_key.spki).digest()


@pytest.mark.parametrize(("tagged", "indefinite"), [(True, False), (False, True), (True, True)])
def test_tag_18_and_indefinite_length_payloads_are_accepted(
    pki: EnclavePKI, trust: AttestationTrust, tagged: bool, indefinite: bool
) -> None:
    data = attestation_document(pki, public_key=None, tagged=tagged, indefinite=indefinite)
    assert verify_attestation_document(data, trust, NOW).public_key is None


def test_record_is_frozen(pki: EnclavePKI, trust: AttestationTrust) -> None:
    document = verify_attestation_document(attestation_document(pki, public_key=None), trust, NOW)
    with pytest.raises(AttributeError):
        document.module_id = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        document.pcrs[0] = b"\x00" * 48  # type: ignore[index]


def test_document_from_another_pki_is_untrusted(trust: AttestationTrust) -> None:
    stranger = attestation_document(EnclavePKI.create(), public_key=None)
    assert _reason(stranger, trust, NOW) is AttestationProblem.UNTRUSTED_CHAIN


def test_cabundle_is_not_a_trust_root(pki: EnclavePKI, trust: AttestationTrust) -> None:
    # A forger ships its own root in the cabundle: only the configured roots count.
    forger = EnclavePKI.create()
    data = attestation_document(forger, public_key=None, overrides={"cabundle": [forger.root.der]})
    assert _reason(data, trust, NOW) is AttestationProblem.UNTRUSTED_CHAIN


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (timedelta(minutes=5, seconds=1), AttestationProblem.TOO_OLD),
        (timedelta(minutes=5), None),
        (timedelta(minutes=-1), None),
        (timedelta(minutes=-1, seconds=-1), AttestationProblem.FROM_THE_FUTURE),
    ],
)
def test_document_age_is_bounded(
    pki: EnclavePKI,
    trust: AttestationTrust,
    offset: timedelta,
    expected: AttestationProblem | None,
) -> None:
    data = attestation_document(pki, public_key=None, timestamp=NOW - offset)
    if expected is None:
        assert verify_attestation_document(data, trust, NOW).module_id
    else:
        assert _reason(data, trust, NOW) is expected


@pytest.mark.parametrize("timestamp", [2**63 - 1, 2**64 - 1])
def test_far_future_timestamp_is_refused(
    pki: EnclavePKI, trust: AttestationTrust, timestamp: int
) -> None:
    data = attestation_document(pki, public_key=None, overrides={"timestamp": timestamp})
    assert _reason(data, trust, NOW) is AttestationProblem.FROM_THE_FUTURE


def test_leaf_not_yet_valid_is_refused(pki: EnclavePKI, trust: AttestationTrust) -> None:
    early = NOW - timedelta(hours=2)
    data = attestation_document(pki, public_key=None, timestamp=early)
    assert _reason(data, trust, early) is AttestationProblem.EXPIRED


def test_only_es384_is_accepted(pki: EnclavePKI, trust: AttestationTrust) -> None:
    payload = cbor2.loads(attestation_document(pki, public_key=None))[2]
    es256 = sign_cose(pki, payload, protected=cbor2.dumps({1: -7}))
    assert _reason(es256, trust, NOW) is AttestationProblem.UNSUPPORTED_ALGORITHM
    extra_header = sign_cose(pki, payload, protected=cbor2.dumps({1: -35, 4: b"kid"}))
    assert _reason(extra_header, trust, NOW) is AttestationProblem.UNSUPPORTED_ALGORITHM


def test_signature_by_another_key_is_refused(pki: EnclavePKI, trust: AttestationTrust) -> None:
    other = EnclavePKI.create()
    payload = cbor2.loads(attestation_document(pki, public_key=None))[2]
    # Signed by another leaf but naming ours: the leaf's key does not verify it.
    data = sign_cose(other, payload)
    assert _reason(data, trust, NOW) is AttestationProblem.BAD_SIGNATURE


@pytest.mark.parametrize(
    ("mutation", "detail"),
    [
        ({"digest": "SHA256"}, "digest"),
        ({"module_id": ""}, "module_id"),
        ({"timestamp": "1"}, "timestamp"),
        ({"pcrs": {0: b"\x00" * 47}}, "pcrs"),
        ({"pcrs": {32: b"\x00" * 48}}, "pcrs"),
        ({"pcrs": {}}, "pcrs"),
        ({"certificate": b"not a certificate"}, "certificate"),
        ({"cabundle": []}, "cabundle"),
        ({"cabundle": ["text"]}, "cabundle"),
        ({"public_key": "text"}, "public_key"),
        ({"nonce": 7}, "nonce"),
    ],
)
def test_malformed_fields_are_named(
    pki: EnclavePKI, trust: AttestationTrust, mutation: dict[str, object], detail: str
) -> None:
    data = attestation_document(pki, public_key=None, overrides=mutation)
    with pytest.raises(AttestationError, match=f"\\({detail}\\)") as caught:
        verify_attestation_document(data, trust, NOW)
    assert caught.value.reason is AttestationProblem.MALFORMED


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00",
        cbor2.dumps([1, 2, 3]),
        cbor2.dumps(cbor2.CBORTag(17, [b"", {}, b"", b""])),
        b"\x84" + b"\x40" * 3 + b"\x9f" * 2000,  # nesting far past any real document
    ],
)
def test_garbage_does_not_parse(trust: AttestationTrust, data: bytes) -> None:
    assert _reason(data, trust, NOW) is AttestationProblem.MALFORMED


def test_oversized_document_is_refused(trust: AttestationTrust) -> None:
    # AWS's limit for AttestationDocument; checked before any decoding.
    with pytest.raises(AttestationError, match="larger than 262144 bytes"):
        verify_attestation_document(b"\x40" * 262145, trust, NOW)


def test_trailing_data_is_refused(pki: EnclavePKI, trust: AttestationTrust) -> None:
    data = attestation_document(pki, public_key=None) + b"\x00"
    assert _reason(data, trust, NOW) is AttestationProblem.MALFORMED


def test_naive_clock_is_a_programming_error(pki: EnclavePKI, trust: AttestationTrust) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_attestation_document(b"", trust, NOW.replace(tzinfo=None))


def _document(public_key: bytes | None) -> AttestationDocument:
    return AttestationDocument("m", "SHA384", 1, dict(DEFAULT_PCRS), public_key, None, None)


def _spki(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize(
    "public_key",
    [
        pytest.param(b"garbage", id="not-spki"),
        pytest.param(_spki(ec.generate_private_key(ec.SECP256R1())), id="ec-key"),
        pytest.param(_spki(rsa.generate_private_key(65537, 1024)), id="rsa-1024"),
    ],
)
def test_unsuitable_public_keys_are_refused(public_key: bytes) -> None:
    with pytest.raises(AttestationError, match="RSA key of 2048 to 4096 bits") as caught:
        recipient_key(_document(public_key))
    assert caught.value.reason is AttestationProblem.UNSUITABLE_PUBLIC_KEY


def test_trust_needs_a_root_and_a_positive_age() -> None:
    with pytest.raises(ValueError, match="trust root"):
        AttestationTrust(())
    with pytest.raises(ValueError, match="max_age"):
        AttestationTrust.from_pem(max_age=timedelta(0))
