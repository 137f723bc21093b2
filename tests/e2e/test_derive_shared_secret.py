"""DeriveSharedSecret against a real server: the secret is right on every curve (DESIGN §3)."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.e2e.server import QkmsServer, raw_call
from tests.e2e.support import kms_public_key
from tests.peer_keys import public_key_der

ACCOUNT = "111122223333"
CURVES: dict[str, ec.EllipticCurve] = {
    "ECC_NIST_P256": ec.SECP256R1(),
    "ECC_NIST_P384": ec.SECP384R1(),
    "ECC_NIST_P521": ec.SECP521R1(),
    "ECC_SECG_P256K1": ec.SECP256K1(),
}


def derive(kms: Any, key_id: str, peer_spki: bytes) -> dict[str, Any]:
    response: dict[str, Any] = kms.derive_shared_secret(
        KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=peer_spki
    )
    return response


@pytest.fixture(scope="module")
def agreement_keys(kms: Any) -> dict[str, str]:
    """One KEY_AGREEMENT key per curve, shared by the tests of this module."""
    return {
        spec: kms.create_key(KeySpec=spec, KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["KeyId"]
        for spec in CURVES
    }


@pytest.mark.parametrize("spec", list(CURVES))
def test_secret_equals_local_ecdh_with_the_public_key(
    kms: Any, agreement_keys: dict[str, str], spec: str
) -> None:
    key_id = agreement_keys[spec]
    curve = CURVES[spec]
    kms_public = kms_public_key(kms, key_id)
    assert kms_public.curve.name == curve.name

    peer = ec.generate_private_key(curve)
    response = derive(kms, key_id, public_key_der(peer.public_key()))

    expected = peer.exchange(ec.ECDH(), kms_public)
    assert response["SharedSecret"] == expected
    assert len(response["SharedSecret"]) == (curve.key_size + 7) // 8

    # A different peer key gives a different secret: the peer key really is used.
    other = ec.generate_private_key(curve)
    assert derive(kms, key_id, public_key_der(other.public_key()))["SharedSecret"] != expected


@pytest.mark.parametrize("spec", list(CURVES))
def test_two_qkms_keys_derive_the_same_secret_in_both_directions(kms: Any, spec: str) -> None:
    first, second = (
        kms.create_key(KeySpec=spec, KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["KeyId"]
        for _ in range(2)
    )
    first_public = public_key_der(kms_public_key(kms, first))
    second_public = public_key_der(kms_public_key(kms, second))
    assert first_public != second_public

    one_way = derive(kms, first, second_public)["SharedSecret"]
    other_way = derive(kms, second, first_public)["SharedSecret"]
    assert one_way == other_way
    assert len(one_way) == (CURVES[spec].key_size + 7) // 8
    # Deterministic: the same pair always gives the same secret.
    assert derive(kms, first, second_public)["SharedSecret"] == one_way


def test_response_members_and_headers(
    server: QkmsServer, kms: Any, agreement_keys: dict[str, str]
) -> None:
    key_id = agreement_keys["ECC_NIST_P256"]
    peer = ec.generate_private_key(ec.SECP256R1())
    response = derive(kms, key_id, public_key_der(peer.public_key()))

    assert response["KeyId"] == f"arn:verenc:{ACCOUNT}:key/{key_id}"
    assert response["KeyId"] == kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    assert response["KeyAgreementAlgorithm"] == "ECDH"
    assert response["KeyOrigin"] == "AWS_KMS"

    metadata = response["ResponseMetadata"]
    assert metadata["HTTPStatusCode"] == 200
    headers = metadata["HTTPHeaders"]
    assert headers["cache-control"] == "no-store"
    assert headers["content-type"] == "application/x-amz-json-1.1"
    request_id = headers["x-amzn-requestid"]
    assert str(uuid.UUID(request_id)) == request_id.lower()
    assert metadata["RequestId"] == request_id

    # The same id is in the server log (written just after the response is sent).
    deadline = time.monotonic() + 3
    while request_id not in server.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert request_id in server.log()

    # Every response gets its own request id.
    again = derive(kms, key_id, public_key_der(peer.public_key()))
    assert again["ResponseMetadata"]["RequestId"] != request_id


def test_seed_request_shape_without_key_agreement_algorithm(
    server: QkmsServer, kms: Any, agreement_keys: dict[str, str]
) -> None:
    """The seed page's request: only KeyId and PublicKey, nothing boto3 would add."""
    key_id = agreement_keys["ECC_NIST_P256"]
    peer = ec.generate_private_key(ec.SECP256R1())
    body = {
        "KeyId": key_id,
        "PublicKey": base64.b64encode(public_key_der(peer.public_key())).decode(),
    }

    response = raw_call(server.endpoint, "DeriveSharedSecret", body)

    assert response.status == 200, response.body
    assert response.headers["content-type"] == "application/x-amz-json-1.1"
    assert response.headers["cache-control"] == "no-store"
    uuid.UUID(response.headers["x-amzn-requestid"])
    payload = response.json()
    assert payload["KeyId"] == f"arn:verenc:{ACCOUNT}:key/{key_id}"
    secret = base64.b64decode(payload["SharedSecret"], validate=True)
    assert secret == peer.exchange(ec.ECDH(), kms_public_key(kms, key_id))


@pytest.mark.parametrize("usage", ["KEY_AGREEMENT", "DERIVE_SHARED_SECRET"])
def test_both_usage_spellings_are_reported_as_created_and_both_derive(kms: Any, usage: str) -> None:
    created = kms.create_key(KeySpec="ECC_NIST_P384", KeyUsage=usage)["KeyMetadata"]
    key_id = created["KeyId"]
    assert created["KeyUsage"] == usage
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyUsage"] == usage
    public = kms.get_public_key(KeyId=key_id)
    assert public["KeyUsage"] == usage
    assert public["KeyAgreementAlgorithms"] == ["ECDH"]

    peer = ec.generate_private_key(ec.SECP384R1())
    secret = derive(kms, key_id, public_key_der(peer.public_key()))["SharedSecret"]
    assert secret == peer.exchange(ec.ECDH(), kms_public_key(kms, key_id))


@pytest.mark.parametrize(
    "reference",
    [
        pytest.param(lambda key_id: key_id, id="key-id"),
        pytest.param(lambda key_id: f"arn:verenc:{ACCOUNT}:key/{key_id}", id="seed-arn"),
        pytest.param(
            lambda key_id: f"arn:verenc:kms:us-east-1:{ACCOUNT}:key/{key_id}", id="aws-arn"
        ),
    ],
)
def test_key_is_reached_by_id_and_by_arn(
    kms: Any, agreement_keys: dict[str, str], reference: Any
) -> None:
    key_id = agreement_keys["ECC_SECG_P256K1"]
    peer = ec.generate_private_key(ec.SECP256K1())
    response = derive(kms, reference(key_id), public_key_der(peer.public_key()))
    assert response["KeyId"] == f"arn:verenc:{ACCOUNT}:key/{key_id}"
    assert response["SharedSecret"] == peer.exchange(ec.ECDH(), kms_public_key(kms, key_id))


def test_seed_arn_reference_in_a_raw_request(
    server: QkmsServer, kms: Any, agreement_keys: dict[str, str]
) -> None:
    key_id = agreement_keys["ECC_NIST_P521"]
    peer = ec.generate_private_key(ec.SECP521R1())
    response = raw_call(
        server.endpoint,
        "DeriveSharedSecret",
        {
            "KeyId": f"arn:verenc:{ACCOUNT}:key/{key_id}",
            "PublicKey": base64.b64encode(public_key_der(peer.public_key())).decode(),
        },
    )
    assert response.status == 200, response.body
    secret = base64.b64decode(response.json()["SharedSecret"])
    assert secret == peer.exchange(ec.ECDH(), kms_public_key(kms, key_id))
