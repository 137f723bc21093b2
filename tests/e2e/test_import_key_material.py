"""Import of key material through boto3 against a real `qkms serve` (DESIGN §4).

The client side is what a user writes: wrap the PKCS#8 private key under the PublicKey from
GetParametersForImport with `cryptography`, in AWS's documented formats.
"""

from __future__ import annotations

import base64
import datetime
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.e2e.server import QkmsServer, raw_call
from tests.e2e.support import create_external, get_parameters
from tests.import_client import client_wrap, pkcs8, spki

CURVES: dict[str, ec.EllipticCurve] = {
    "ECC_NIST_P256": ec.SECP256R1(),
    "ECC_NIST_P384": ec.SECP384R1(),
    "ECC_NIST_P521": ec.SECP521R1(),
    "ECC_SECG_P256K1": ec.SECP256K1(),
}
NO_EXPIRY = {"ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}


def import_key(
    kms: Any,
    key_id: str,
    private_key: ec.EllipticCurvePrivateKey,
    algorithm: str = "RSA_AES_KEY_WRAP_SHA_256",
    params: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    params = params or get_parameters(kms, key_id, algorithm)
    arguments = {**NO_EXPIRY, **extra}
    result: dict[str, Any] = kms.import_key_material(
        KeyId=key_id,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=client_wrap(algorithm, params["PublicKey"], pkcs8(private_key)),
        **{k: v for k, v in arguments.items() if v is not None},
    )
    return result


def derive(kms: Any, key_id: str, peer: ec.EllipticCurvePrivateKey) -> bytes:
    answer = kms.derive_shared_secret(
        KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=spki(peer)
    )
    return bytes(answer["SharedSecret"])


def error_code(raised: pytest.ExceptionInfo[ClientError]) -> str:
    return str(raised.value.response["Error"]["Code"])


def key_state(kms: Any, key_id: str) -> str:
    return str(kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"])


# --- CreateKey --------------------------------------------------------------------------------


def test_external_key_waits_for_its_material(kms: Any) -> None:
    key_id = create_external(kms)
    metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert metadata["Origin"] == "EXTERNAL"
    assert metadata["KeyState"] == "PendingImport" and metadata["Enabled"] is False
    assert "ExpirationModel" not in metadata
    with pytest.raises(ClientError) as raised:
        derive(kms, key_id, ec.generate_private_key(ec.SECP256R1()))
    assert error_code(raised) == "KMSInvalidStateException"
    with pytest.raises(ClientError) as raised:
        kms.get_public_key(KeyId=key_id)
    assert error_code(raised) == "KMSInvalidStateException"


@pytest.mark.parametrize(
    ("spec", "usage", "origin"),
    [
        # ECC signing keys import now (test_signing); ML-DSA keys never do, as in AWS.
        ("ML_DSA_44", "SIGN_VERIFY", "EXTERNAL"),
        ("ECC_NIST_P256", "KEY_AGREEMENT", "AWS_CLOUDHSM"),
        ("ECC_NIST_P256", "KEY_AGREEMENT", "EXTERNAL_KEY_STORE"),
    ],
)
def test_unserved_origins(kms: Any, spec: str, usage: str, origin: str) -> None:
    with pytest.raises(ClientError) as raised:
        kms.create_key(KeySpec=spec, KeyUsage=usage, Origin=origin)
    assert error_code(raised) == "UnsupportedOperationException"


# --- Importing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "algorithm", "wrapping_spec"),
    [
        # RSA-OAEP wraps a P-256 key directly (138-byte PKCS#8 < 190 bytes of OAEP-SHA-256).
        ("ECC_NIST_P256", "RSAES_OAEP_SHA_256", "RSA_2048"),
        ("ECC_NIST_P256", "RSAES_OAEP_SHA_1", "RSA_2048"),
        ("ECC_SECG_P256K1", "RSAES_OAEP_SHA_256", "RSA_2048"),
        ("ECC_NIST_P384", "RSA_AES_KEY_WRAP_SHA_1", "RSA_3072"),
        # P-521 (241 bytes) needs RSA-AES, or OAEP under a larger modulus.
        ("ECC_NIST_P521", "RSA_AES_KEY_WRAP_SHA_256", "RSA_2048"),
        ("ECC_NIST_P521", "RSAES_OAEP_SHA_256", "RSA_4096"),
    ],
)
def test_import_and_derive(kms: Any, spec: str, algorithm: str, wrapping_spec: str) -> None:
    key_id = create_external(kms, spec)
    before = time.time()
    params = get_parameters(kms, key_id, algorithm, wrapping_spec)
    assert params["KeyId"].endswith(key_id)
    valid_to = params["ParametersValidTo"].timestamp()
    assert before + 86400 - 5 <= valid_to <= time.time() + 86400 + 5
    wrapping_key = serialization.load_der_public_key(params["PublicKey"])
    assert isinstance(wrapping_key, rsa.RSAPublicKey)
    assert wrapping_key.key_size == int(wrapping_spec.removeprefix("RSA_"))

    private_key = ec.generate_private_key(CURVES[spec])
    result = import_key(kms, key_id, private_key, algorithm, params)
    assert result["KeyId"].endswith(key_id)
    metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert metadata["KeyState"] == "Enabled"
    assert metadata["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE"
    assert "ValidTo" not in metadata
    peer = ec.generate_private_key(CURVES[spec])
    assert derive(kms, key_id, peer) == peer.exchange(ec.ECDH(), private_key.public_key())
    assert kms.get_public_key(KeyId=key_id)["PublicKey"] == spki(private_key)
    answer = kms.derive_shared_secret(
        KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=spki(peer)
    )
    assert answer["KeyOrigin"] == "EXTERNAL"


def test_p521_does_not_fit_rsa_oaep_under_rsa_2048(kms: Any) -> None:
    key_id = create_external(kms, "ECC_NIST_P521")
    params = get_parameters(kms, key_id, "RSAES_OAEP_SHA_256", "RSA_2048")
    material = pkcs8(ec.generate_private_key(ec.SECP521R1()))
    with pytest.raises(ValueError, match="Encryption failed"):
        client_wrap("RSAES_OAEP_SHA_256", params["PublicKey"], material)


def test_delete_then_reimport_the_same_material(kms: Any) -> None:
    key_id = create_external(kms)
    private_key = ec.generate_private_key(ec.SECP256R1())
    import_key(kms, key_id, private_key)
    peer = ec.generate_private_key(ec.SECP256R1())
    secret = derive(kms, key_id, peer)
    kms.delete_imported_key_material(KeyId=key_id)
    assert key_state(kms, key_id) == "PendingImport"
    with pytest.raises(ClientError) as raised:
        derive(kms, key_id, peer)
    assert error_code(raised) == "KMSInvalidStateException"
    with pytest.raises(ClientError) as raised:
        import_key(kms, key_id, ec.generate_private_key(ec.SECP256R1()))
    assert error_code(raised) == "IncorrectKeyMaterialException"
    import_key(kms, key_id, private_key, "RSAES_OAEP_SHA_1")
    assert derive(kms, key_id, peer) == secret


def test_material_expires_at_valid_to(kms: Any) -> None:
    key_id = create_external(kms)
    private_key = ec.generate_private_key(ec.SECP256R1())
    valid_to = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=3)
    import_key(kms, key_id, private_key, ExpirationModel="KEY_MATERIAL_EXPIRES", ValidTo=valid_to)
    metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert metadata["ExpirationModel"] == "KEY_MATERIAL_EXPIRES"
    assert abs(metadata["ValidTo"].timestamp() - valid_to.timestamp()) < 1
    peer = ec.generate_private_key(ec.SECP256R1())
    derive(kms, key_id, peer)
    time.sleep(max(0.0, valid_to.timestamp() - time.time()) + 0.2)
    with pytest.raises(ClientError) as raised:
        derive(kms, key_id, peer)
    assert error_code(raised) == "KMSInvalidStateException"
    assert key_state(kms, key_id) == "PendingImport"
    import_key(kms, key_id, private_key)  # reimport the same material: usable again
    assert key_state(kms, key_id) == "Enabled"


# --- Errors -----------------------------------------------------------------------------------


def test_tampered_token(kms: Any) -> None:
    key_id = create_external(kms)
    params = get_parameters(kms, key_id)
    token = bytearray(params["ImportToken"])
    token[-1] ^= 1
    with pytest.raises(ClientError) as raised:
        import_key(
            kms,
            key_id,
            ec.generate_private_key(ec.SECP256R1()),
            params={**params, "ImportToken": bytes(token)},
        )
    assert error_code(raised) == "InvalidImportTokenException"


def test_token_of_another_key(kms: Any) -> None:
    key_a, key_b = create_external(kms), create_external(kms)
    params_a = get_parameters(kms, key_a)
    with pytest.raises(ClientError) as raised:
        import_key(kms, key_b, ec.generate_private_key(ec.SECP256R1()), params=params_a)
    assert error_code(raised) == "InvalidImportTokenException"


def test_superseded_token(kms: Any) -> None:
    key_id = create_external(kms)
    first = get_parameters(kms, key_id)
    get_parameters(kms, key_id)
    with pytest.raises(ClientError) as raised:
        import_key(kms, key_id, ec.generate_private_key(ec.SECP256R1()), params=first)
    assert error_code(raised) == "InvalidImportTokenException"


def test_material_that_does_not_decrypt(kms: Any) -> None:
    key_id = create_external(kms)
    params = get_parameters(kms, key_id, "RSAES_OAEP_SHA_256")
    material = pkcs8(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(ClientError) as raised:
        kms.import_key_material(
            KeyId=key_id,
            ImportToken=params["ImportToken"],
            EncryptedKeyMaterial=client_wrap("RSAES_OAEP_SHA_1", params["PublicKey"], material),
            **NO_EXPIRY,
        )
    assert error_code(raised) == "InvalidCiphertextException"


def test_material_on_another_curve(kms: Any) -> None:
    key_id = create_external(kms, "ECC_NIST_P384")
    with pytest.raises(ClientError) as raised:
        import_key(kms, key_id, ec.generate_private_key(ec.SECP256R1()))
    assert error_code(raised) == "IncorrectKeyMaterialException"
    assert key_state(kms, key_id) == "PendingImport"


def test_import_operations_on_an_aws_kms_key(kms: Any) -> None:
    created = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")
    key_id = created["KeyMetadata"]["KeyId"]
    calls: list[Callable[[], object]] = [
        lambda: get_parameters(kms, key_id),
        lambda: import_key(
            kms,
            key_id,
            ec.generate_private_key(ec.SECP256R1()),
            params=get_parameters(kms, create_external(kms)),
        ),
        lambda: kms.delete_imported_key_material(KeyId=key_id),
    ]
    for call in calls:
        with pytest.raises(ClientError) as raised:
            call()
        assert error_code(raised) == "UnsupportedOperationException"
    assert key_state(kms, key_id) == "Enabled"


@pytest.mark.parametrize(
    ("algorithm", "wrapping_spec", "code"),
    [
        ("RSAES_PKCS1_V1_5", "RSA_2048", "UnsupportedOperationException"),
        ("SM2PKE", "SM2", "UnsupportedOperationException"),
        ("RSAES_OAEP_SHA_512", "RSA_2048", "ValidationException"),
    ],
)
def test_wrapping_choices_refused(kms: Any, algorithm: str, wrapping_spec: str, code: str) -> None:
    key_id = create_external(kms)
    response = raw_call(
        kms.meta.endpoint_url,
        "GetParametersForImport",
        {"KeyId": key_id, "WrappingAlgorithm": algorithm, "WrappingKeySpec": wrapping_spec},
    )
    assert response.status == 400
    assert response.json()["__type"] == code


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"ExpirationModel": "KEY_MATERIAL_EXPIRES"}, "ValidTo is required"),
        ({"ExpirationModel": None}, "ValidTo is required"),
        ({"ValidTo": datetime.datetime(2001, 1, 1, tzinfo=datetime.UTC)}, "must not be set"),
        (
            {"ExpirationModel": "KEY_MATERIAL_EXPIRES", "ValidTo": datetime.datetime(2001, 1, 1)},
            "future",
        ),
        (
            {
                "ExpirationModel": "KEY_MATERIAL_EXPIRES",
                "ValidTo": datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=400),
            },
            "365 days",
        ),
    ],
)
def test_expiration_parameters(kms: Any, extra: dict[str, Any], fragment: str) -> None:
    key_id = create_external(kms)
    with pytest.raises(ClientError) as raised:
        import_key(kms, key_id, ec.generate_private_key(ec.SECP256R1()), **extra)
    assert error_code(raised) == "ValidationException"
    assert fragment in raised.value.response["Error"]["Message"]


# --- The 24-hour token lifetime, on a server whose clock runs a day ahead ---------------------

_CLOCK_SHIFT = textwrap.dedent(
    """
    import os, time
    _offset = float(os.environ.get("QKMS_TEST_CLOCK_OFFSET", "0"))
    if _offset:
        _time = time.time
        time.time = lambda: _time() + _offset
    """
)


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[QkmsServer]:
    qkms = QkmsServer(tmp_path / "data").start()
    yield qkms
    qkms.stop()


def test_token_expires_after_24_hours(restartable: QkmsServer, tmp_path: Path) -> None:
    kms = restartable.client()
    key_id = create_external(kms)
    params = get_parameters(kms, key_id)
    material = client_wrap(
        "RSA_AES_KEY_WRAP_SHA_256",
        params["PublicKey"],
        pkcs8(ec.generate_private_key(ec.SECP256R1())),
    )
    restartable.stop()
    # Same data directory, clock 24 h + 1 min ahead; requests are signed at that time too.
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(_CLOCK_SHIFT)
    offset = 86400 + 60
    restartable.env.update({"PYTHONPATH": str(shim), "QKMS_TEST_CLOCK_OFFSET": str(offset)})
    restartable.start()
    body = {
        "KeyId": key_id,
        "ImportToken": base64.b64encode(params["ImportToken"]).decode(),
        "EncryptedKeyMaterial": base64.b64encode(material).decode(),
        "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE",
    }
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=offset)
    response = raw_call(restartable.endpoint, "ImportKeyMaterial", body, timestamp=later)
    assert response.json()["__type"] == "ExpiredImportTokenException", response.body
    # Fresh parameters on the shifted clock work.
    params = raw_call(
        restartable.endpoint,
        "GetParametersForImport",
        {"KeyId": key_id, "WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"},
        timestamp=later,
    ).json()
    material = client_wrap(
        "RSAES_OAEP_SHA_256",
        base64.b64decode(params["PublicKey"]),
        pkcs8(ec.generate_private_key(ec.SECP256R1())),
    )
    body.update(
        ImportToken=params["ImportToken"], EncryptedKeyMaterial=base64.b64encode(material).decode()
    )
    response = raw_call(restartable.endpoint, "ImportKeyMaterial", body, timestamp=later)
    assert response.status == 200, response.body
