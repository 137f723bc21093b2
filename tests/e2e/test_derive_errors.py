"""Every error row of DESIGN §3 (and the wire errors of §1) through boto3 and raw requests."""

from __future__ import annotations

import base64
import http.client
import json
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519

from tests.e2e.server import QkmsServer, RawResponse, raw_call, signed_request
from tests.e2e.support import make_person
from tests.peer_keys import public_key_der

ACCOUNT = "111122223333"
VALIDATION_PREFIX = "1 validation error detected: "
# NIST P-256 (SEC 2): y^2 = x^3 - 3x + b over GF(p).
P256_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B


def p256_peer() -> bytes:
    return public_key_der(ec.generate_private_key(ec.SECP256R1()).public_key())


def client_error(call: Callable[[], Any]) -> ClientError:
    with pytest.raises(ClientError) as info:
        call()
    return info.value


def assert_error(error: ClientError, code: str, status: int = 400) -> str:
    """Code, status and the x-amzn-ErrorType header agree; returns the message."""
    response = error.response
    assert response["Error"]["Code"] == code, response["Error"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-errortype"] == code
    assert headers["cache-control"] == "no-store"
    uuid.UUID(headers["x-amzn-requestid"])
    message = response["Error"]["Message"]
    assert message and "Traceback" not in message
    return str(message)


def assert_raw_error(response: RawResponse, code: str, status: int = 400) -> str:
    assert response.status == status, response.body
    assert response.headers["x-amzn-errortype"] == code
    assert response.headers["content-type"] == "application/x-amz-json-1.1"
    uuid.UUID(response.headers["x-amzn-requestid"])
    body = response.json()
    assert set(body) == {"__type", "message"}
    assert body["__type"] == code
    assert isinstance(body["message"], str) and body["message"]
    return str(body["message"])


@pytest.fixture(scope="module")
def p256_key(kms: Any) -> str:
    return str(
        kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["KeyId"]
    )


def derive(kms: Any, key_id: str, public_key: bytes, **extra: Any) -> Any:
    return kms.derive_shared_secret(
        KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=public_key, **extra
    )


# --- NotFoundException -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "reference",
    [
        pytest.param(lambda _: str(uuid.uuid4()), id="random-uuid"),
        pytest.param(lambda _: "not-a-key-id", id="malformed-id"),
        pytest.param(lambda _: f"arn:verenc:{ACCOUNT}:key/{uuid.uuid4()}", id="unknown-arn"),
        pytest.param(lambda key_id: f"arn:verenc:999999999999:key/{key_id}", id="other-account"),
        pytest.param(lambda _: "alias/nothing-here", id="unknown-alias"),
    ],
)
def test_unknown_key_is_not_found(kms: Any, p256_key: str, reference: Any) -> None:
    key_ref = reference(p256_key)
    message = assert_error(
        client_error(lambda: derive(kms, key_ref, p256_peer())), "NotFoundException"
    )
    assert "does not exist" in message or "Invalid keyId" in message or "is not found" in message
    assert key_ref.rsplit("/", 1)[-1] in message


# --- key state ------------------------------------------------------------------------------
def test_disabled_key(kms: Any) -> None:
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    derive(kms, key["KeyId"], p256_peer())  # the worker now holds the key in its cache
    kms.disable_key(KeyId=key["KeyId"])
    # Effective in the (only) worker before DisableKey returned (DESIGN §7): no waiting.
    message = assert_error(
        client_error(lambda: derive(kms, key["KeyId"], p256_peer())), "DisabledException"
    )
    assert message == f"{key['Arn']} is disabled."
    kms.enable_key(KeyId=key["KeyId"])
    assert len(derive(kms, key["KeyId"], p256_peer())["SharedSecret"]) == 32


def test_pending_deletion_key(kms: Any) -> None:
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    derive(kms, key["KeyId"], p256_peer())
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    message = assert_error(
        client_error(lambda: derive(kms, key["KeyId"], p256_peer())), "KMSInvalidStateException"
    )
    assert message == f"{key['Arn']} is pending deletion."


# --- InvalidKeyUsageException ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("create", "usage"),
    [
        ({"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}, "SIGN_VERIFY"),
        ({}, "ENCRYPT_DECRYPT"),  # SYMMETRIC_DEFAULT
    ],
    ids=["sign-verify-ecc", "symmetric-default"],
)
def test_wrong_key_usage(kms: Any, create: dict[str, str], usage: str) -> None:
    key = kms.create_key(**create)["KeyMetadata"]
    message = assert_error(
        client_error(lambda: derive(kms, key["KeyId"], p256_peer())), "InvalidKeyUsageException"
    )
    assert (
        message == f"{key['Arn']} key usage is {usage} which is not valid for DeriveSharedSecret."
    )


# --- InvalidPublicKeyException --------------------------------------------------------------
def off_curve_p256_spki() -> bytes:
    der = bytearray(p256_peer())
    der[-1] ^= 0x01  # alter the last byte of y
    x = int.from_bytes(der[-64:-32], "big")
    y = int.from_bytes(der[-32:], "big")
    assert (y * y - (x**3 - 3 * x + P256_B)) % P256_P != 0, "still on the curve"
    with pytest.raises(ValueError):
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + bytes(der[-64:]))
    return bytes(der)


def p256_spki_with_point(point: bytes) -> bytes:
    """A DER SPKI for P-256 around arbitrary point bytes."""
    algorithm = bytes.fromhex("301306072a8648ce3d020106082a8648ce3d030107")
    bits = b"\x03" + bytes([len(point) + 1]) + b"\x00" + point
    body = algorithm + bits
    return b"\x30" + bytes([len(body)]) + body


def x_not_a_field_element() -> bytes:
    y = p256_peer()[-32:]
    return p256_spki_with_point(b"\x04" + P256_P.to_bytes(32, "big") + y)


PUBLIC_KEYS: dict[str, Callable[[], bytes]] = {
    "not-der": lambda: b"this is not DER at all",
    "empty-sequence": lambda: b"\x30\x00",
    "pem": lambda: (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    ),
    "rsa": lambda: public_key_der(rsa.generate_private_key(65537, 2048).public_key()),
    "ed25519": lambda: public_key_der(ed25519.Ed25519PrivateKey.generate().public_key()),
    "x25519": lambda: public_key_der(x25519.X25519PrivateKey.generate().public_key()),
    "p384-for-p256-key": lambda: public_key_der(
        ec.generate_private_key(ec.SECP384R1()).public_key()
    ),
    "secp256k1-for-p256-key": lambda: public_key_der(
        ec.generate_private_key(ec.SECP256K1()).public_key()
    ),
    "off-curve": off_curve_p256_spki,
    "point-at-infinity": lambda: p256_spki_with_point(b"\x00"),
    "x-not-a-field-element": x_not_a_field_element,
    "bad-point-tag": lambda: p256_spki_with_point(b"\x05" + p256_peer()[-64:]),
    "trailing-byte": lambda: p256_peer() + b"\x00",
    "bare-point": lambda: p256_peer()[-65:],
}


@pytest.mark.parametrize("make", list(PUBLIC_KEYS.values()), ids=list(PUBLIC_KEYS))
def test_invalid_public_key(kms: Any, p256_key: str, make: Callable[[], bytes]) -> None:
    message = assert_error(
        client_error(lambda: derive(kms, p256_key, make())), "InvalidPublicKeyException"
    )
    assert "PublicKey" in message


def test_public_key_not_base64(server: QkmsServer, p256_key: str) -> None:
    response = raw_call(
        server.endpoint,
        "DeriveSharedSecret",
        {"KeyId": p256_key, "KeyAgreementAlgorithm": "ECDH", "PublicKey": "!!!"},
    )
    message = assert_raw_error(response, "InvalidPublicKeyException")
    assert "base64" in message


def test_compressed_point_gives_the_right_secret_or_invalid_public_key(
    kms: Any, p256_key: str
) -> None:
    peer = ec.generate_private_key(ec.SECP256R1())
    compressed = spki_compressed(peer.public_key())
    try:
        response = derive(kms, p256_key, compressed)
    except ClientError as error:
        assert_error(error, "InvalidPublicKeyException")
        return
    kms_public = serialization.load_der_public_key(kms.get_public_key(KeyId=p256_key)["PublicKey"])
    assert isinstance(kms_public, ec.EllipticCurvePublicKey)
    assert response["SharedSecret"] == peer.exchange(ec.ECDH(), kms_public)


def spki_compressed(public_key: ec.EllipticCurvePublicKey) -> bytes:
    point = public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    der = p256_spki_with_point(point)
    assert serialization.load_der_public_key(der) == public_key
    return der


# --- attested recipients: a document that does not verify is refused, never ignored ----------
def test_recipient_info_that_is_no_document_is_refused(server: QkmsServer, p256_key: str) -> None:
    response = raw_call(
        server.endpoint,
        "DeriveSharedSecret",
        {
            "KeyId": p256_key,
            "PublicKey": base64.b64encode(p256_peer()).decode(),
            "RecipientInfo": base64.b64encode(b"recipient attestation").decode(),
        },
    )
    assert "does not parse" in assert_raw_error(response, "ValidationException")


def test_recipient_that_is_no_document_is_refused(kms: Any, p256_key: str) -> None:
    recipient = {
        "KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256",
        "AttestationDocument": b"attestation",
    }
    error = client_error(lambda: derive(kms, p256_key, p256_peer(), Recipient=recipient))
    assert "does not parse" in assert_error(error, "ValidationException")


# --- ValidationException and SerializationException -----------------------------------------
def test_unknown_key_agreement_algorithm(kms: Any, p256_key: str) -> None:
    error = client_error(
        lambda: kms.derive_shared_secret(
            KeyId=p256_key, KeyAgreementAlgorithm="FOO", PublicKey=p256_peer()
        )
    )
    message = assert_error(error, "ValidationException")
    assert message == (
        "1 validation error detected: Value 'FOO' at 'keyAgreementAlgorithm' failed to satisfy "
        "constraint: Member must satisfy enum value set: [ECDH]"
    )


@pytest.mark.parametrize("missing", ["KeyId", "PublicKey"])
def test_missing_required_member(server: QkmsServer, p256_key: str, missing: str) -> None:
    body = {"KeyId": p256_key, "PublicKey": base64.b64encode(p256_peer()).decode()}
    del body[missing]
    message = assert_raw_error(
        raw_call(server.endpoint, "DeriveSharedSecret", body), "ValidationException"
    )
    member = missing[0].lower() + missing[1:]
    assert message == (
        f"{VALIDATION_PREFIX}Value null at '{member}' failed to satisfy constraint: "
        "Member must not be null"
    )


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2", b'{"KeyId": 5, "PublicKey": "AAAA"}', b'{"DryRun": "yes"}'],
    ids=["not-json", "truncated", "key-id-number", "dry-run-string"],
)
def test_serialization_errors(server: QkmsServer, body: bytes) -> None:
    assert_raw_error(
        raw_call(server.endpoint, "DeriveSharedSecret", body), "SerializationException"
    )


# --- DryRun, GrantTokens ---------------------------------------------------------------------
def test_dry_run_on_a_valid_request(kms: Any, p256_key: str) -> None:
    error = client_error(lambda: derive(kms, p256_key, p256_peer(), DryRun=True))
    assert "DryRun" in assert_error(error, "DryRunOperationException")


def test_dry_run_on_a_disabled_key_reports_the_real_error(kms: Any) -> None:
    key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"][
        "KeyId"
    ]
    kms.disable_key(KeyId=key_id)
    error = client_error(lambda: derive(kms, key_id, p256_peer(), DryRun=True))
    assert_error(error, "DisabledException")


def test_empty_grant_tokens_are_accepted(kms: Any, p256_key: str) -> None:
    response = derive(kms, p256_key, p256_peer(), GrantTokens=[], DryRun=False)
    assert len(response["SharedSecret"]) == 32


# --- wire errors ----------------------------------------------------------------------------
def test_unknown_operation(server: QkmsServer) -> None:
    response = raw_call(server.endpoint, "TrentService.Nope", {})
    assert "Nope" in assert_raw_error(response, "UnknownOperationException")


def test_body_over_64_kib_is_refused_without_a_500(server: QkmsServer, p256_key: str) -> None:
    body = {"KeyId": p256_key, "PublicKey": base64.b64encode(b"\x00" * 70_000).decode()}
    response = raw_call(server.endpoint, "DeriveSharedSecret", body)
    assert response.status in (400, 413), response.body
    if response.status == 400:
        assert_raw_error(response, "ValidationException")
    else:
        body = response.json()
        assert set(body) == {"__type", "message"}
        assert response.headers["x-amzn-errortype"] == body["__type"]
    # The server is still fine afterwards.
    assert raw_call(server.endpoint, "ListKeys", {}).status == 200


def test_chunked_body_over_64_kib_is_refused_without_a_500(
    server: QkmsServer, p256_key: str
) -> None:
    body = json.dumps({"KeyId": p256_key, "PublicKey": "A" * 70_000}).encode()
    request = signed_request(server.endpoint, "DeriveSharedSecret", body)
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        chunks = (body[i : i + 8192] for i in range(0, len(body), 8192))
        connection.request("POST", "/", body=chunks, headers=headers, encode_chunked=True)
        response = connection.getresponse()
        status, code, payload = (
            response.status,
            response.getheader("x-amzn-ErrorType"),
            response.read(),
        )
    finally:
        connection.close()
    assert status in (400, 413), payload
    assert json.loads(payload)["__type"] == code
    if status == 400:
        assert code == "ValidationException"


def test_access_denied_for_a_user_no_policy_allows(server: QkmsServer, kms: Any) -> None:
    # The DESIGN §3 row "caller lacks kms:DeriveSharedSecret on the key": a user of the same
    # account with no identity policy, under the default key policy.
    key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"][
        "KeyId"
    ]
    nobody = make_person(server, "111122223333", "nobody-derive-errors")
    message = assert_error(
        client_error(lambda: derive(nobody.client, key_id, p256_peer())),
        "AccessDeniedException",
    )
    assert "kms:DeriveSharedSecret" in message and nobody.name in message


# --- DependencyTimeoutException -------------------------------------------------------------
@pytest.fixture
def slow_store_server(tmp_path: Path) -> Iterator[QkmsServer]:
    qkms = QkmsServer(tmp_path / "data", extra_args=["--store-timeout", "1"]).start()
    yield qkms
    qkms.stop()


def test_locked_store_gives_dependency_timeout_then_recovers(
    slow_store_server: QkmsServer,
) -> None:
    kms = slow_store_server.client(read_timeout=20)
    kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")  # warm the credential cache
    lock = sqlite3.connect(slow_store_server.data_dir / "qkms.db", isolation_level=None)
    try:
        lock.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        error = client_error(
            lambda: kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")
        )
        elapsed = time.monotonic() - started
        assert_error(error, "DependencyTimeoutException", status=503)
        assert elapsed < 5.0, f"took {elapsed:.1f}s"
        assert elapsed >= 0.5, "answered before the store deadline could have run out"
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    created = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    assert kms.describe_key(KeyId=created["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"
