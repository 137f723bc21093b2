"""GenerateMac and VerifyMac through boto3 against a real `qkms serve --workers 2` (DESIGN §4a)."""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import QkmsServer
from tests.e2e.signing_support import import_material

SPECS = {
    "HMAC_224": ("HMAC_SHA_224", "sha224"),
    "HMAC_256": ("HMAC_SHA_256", "sha256"),
    "HMAC_384": ("HMAC_SHA_384", "sha384"),
    "HMAC_512": ("HMAC_SHA_512", "sha512"),
}
MESSAGE = b"QKMS authenticates this message"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    qkms = QkmsServer(tmp_path_factory.mktemp("qkms") / "data", workers=2).start()
    yield qkms
    qkms.stop()


def error_of(call: Any, **arguments: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**arguments)
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_imported_hmac_keys_match_pythons_hmac_and_refuse_other_algorithms(
    kms: Any, spec: str
) -> None:
    algorithm, digest = SPECS[spec]
    material = os.urandom(int(spec[5:]) // 8)
    arn = import_material(kms, spec, "GENERATE_VERIFY_MAC", material, "RSAES_OAEP_SHA_256")
    made = kms.generate_mac(KeyId=arn, Message=MESSAGE, MacAlgorithm=algorithm)
    assert made["Mac"] == hmac.digest(material, MESSAGE, digest)
    assert made["KeyId"] == arn and made["MacAlgorithm"] == algorithm
    checked = kms.verify_mac(KeyId=arn, Message=MESSAGE, MacAlgorithm=algorithm, Mac=made["Mac"])
    assert checked["MacValid"] is True and checked["MacAlgorithm"] == algorithm
    for other, _ in SPECS.values():
        if other == algorithm:
            continue
        expected = (
            "InvalidKeyUsageException",
            f"Algorithm {other} is incompatible with key spec {spec}.",
        )
        assert error_of(kms.generate_mac, KeyId=arn, Message=b"m", MacAlgorithm=other) == expected
        assert (
            error_of(kms.verify_mac, KeyId=arn, Message=b"m", MacAlgorithm=other, Mac=b"x")
            == expected
        )
    metadata = kms.describe_key(KeyId=arn)["KeyMetadata"]
    assert metadata["MacAlgorithms"] == [algorithm]
    for absent in ("EncryptionAlgorithms", "SigningAlgorithms", "KeyAgreementAlgorithms"):
        assert absent not in metadata


def test_generated_keys_verify_their_own_macs_and_refuse_wrong_ones(kms: Any) -> None:
    arn = kms.create_key(KeySpec="HMAC_384", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"]
    mac = kms.generate_mac(KeyId=arn, Message=MESSAGE, MacAlgorithm="HMAC_SHA_384")["Mac"]
    assert len(mac) == 48
    for wrong in (mac[:24], mac[:-1] + bytes([mac[-1] ^ 1])):
        code, message = error_of(
            kms.verify_mac, KeyId=arn, Message=MESSAGE, MacAlgorithm="HMAC_SHA_384", Mac=wrong
        )
        assert code == "KMSInvalidMacException" and "HMAC verification failed" in message
    with pytest.raises(kms.exceptions.KMSInvalidMacException):
        kms.verify_mac(KeyId=arn, Message=b"other", MacAlgorithm="HMAC_SHA_384", Mac=mac)


def test_other_usages_states_and_dry_run(kms: Any) -> None:
    signing = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    assert error_of(kms.generate_mac, KeyId=signing, Message=b"m", MacAlgorithm="HMAC_SHA_256") == (
        "InvalidKeyUsageException",
        f"{signing} key usage is SIGN_VERIFY which is not valid for GenerateMac.",
    )
    arn = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"]
    code, _ = error_of(
        kms.generate_mac, KeyId=arn, Message=b"m", MacAlgorithm="HMAC_SHA_256", DryRun=True
    )
    assert code == "DryRunOperationException"
    kms.disable_key(KeyId=arn)
    assert error_of(kms.generate_mac, KeyId=arn, Message=b"m", MacAlgorithm="HMAC_SHA_256") == (
        "DisabledException",
        f"{arn} is disabled.",
    )
    kms.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)
    code, message = error_of(
        kms.verify_mac, KeyId=arn, Message=b"m", MacAlgorithm="HMAC_SHA_256", Mac=b"x"
    )
    assert (code, message) == ("KMSInvalidStateException", f"{arn} is pending deletion.")


def test_hmac_material_shorter_than_the_spec_is_refused(kms: Any) -> None:
    with pytest.raises(ClientError) as caught:
        import_material(kms, "HMAC_512", "GENERATE_VERIFY_MAC", os.urandom(32))
    assert caught.value.response["Error"]["Code"] == "IncorrectKeyMaterialException"
