"""AWS's quota table, which quota each call counts against, and the override syntax."""

from __future__ import annotations

from dataclasses import dataclass

import botocore.session
import pytest

from qkms.throttling import QuotaSpecError, classify, default_rates, parse_throttle

KMS_OPERATIONS = botocore.session.get_session().get_service_model("kms").operation_names


@dataclass(frozen=True)
class Req:
    signing_algorithm: str | None = None
    encryption_algorithm: str | None = None
    source_encryption_algorithm: str | None = None
    destination_encryption_algorithm: str | None = None
    key_pair_spec: str | None = None


@pytest.mark.parametrize("operation", KMS_OPERATIONS)
def test_every_kms_operation_counts_against_a_quota_with_a_default(operation: str) -> None:
    request = Req(signing_algorithm="ECDSA_SHA_256", key_pair_spec="ECC_NIST_P256")
    quota_class = classify(operation, request)
    assert quota_class is not None
    assert default_rates("us-east-1")[quota_class] > 0


def test_defaults_are_aws_published_values() -> None:
    rates = default_rates("eu-north-1")
    assert rates["symmetric"] == 10_000
    assert rates["ecc"] == rates["rsa"] == rates["ml-dsa"] == 1000
    assert (rates["CreateKey"], rates["DescribeKey"], rates["CreateGrant"]) == (5, 2000, 50)
    assert (rates["ListKeys"], rates["GetPublicKey"], rates["GetParametersForImport"]) == (
        500,
        2000,
        1,
    )
    assert rates["GenerateDataKeyPair:RSA_4096"] == 1
    assert default_rates("us-east-1")["symmetric"] == 100_000
    assert default_rates("eu-central-1")["symmetric"] == 20_000


def test_derive_shared_secret_shares_the_ecc_quota() -> None:
    assert classify("DeriveSharedSecret", Req()) == "ecc"
    assert classify("Sign", Req(signing_algorithm="ECDSA_SHA_384")) == "ecc"


@pytest.mark.parametrize(
    ("operation", "request_", "expected"),
    [
        ("Sign", Req(signing_algorithm="RSASSA_PSS_SHA_256"), "rsa"),
        ("Verify", Req(signing_algorithm="ML_DSA_SHAKE_256"), "ml-dsa"),
        ("Verify", Req(signing_algorithm="SM2DSA"), "ecc"),
        ("Encrypt", Req(), "symmetric"),
        ("Decrypt", Req(encryption_algorithm="SYMMETRIC_DEFAULT"), "symmetric"),
        ("Decrypt", Req(encryption_algorithm="RSAES_OAEP_SHA_256"), "rsa"),
        ("Encrypt", Req(encryption_algorithm="SM2PKE"), "ecc"),
        ("ReEncrypt", Req(), "symmetric"),
        ("ReEncrypt", Req(destination_encryption_algorithm="RSAES_OAEP_SHA_1"), "rsa"),
        ("ReEncrypt", Req(source_encryption_algorithm="RSAES_OAEP_SHA_1"), "rsa"),
        ("GenerateMac", Req(), "symmetric"),
        ("Encapsulate", Req(), "ml-kem"),
        (
            "GenerateDataKeyPairWithoutPlaintext",
            Req(key_pair_spec="RSA_2048"),
            "GenerateDataKeyPair:RSA_2048",
        ),
        ("CreateKey", Req(), "CreateKey"),
    ],
)
def test_the_request_decides_the_key_type_of_a_shared_quota(
    operation: str, request_: Req, expected: str
) -> None:
    assert classify(operation, request_) == expected


def test_an_unknown_operation_is_not_throttled() -> None:
    assert classify("NoSuchOperation", Req()) is None


def test_no_spec_means_aws_defaults() -> None:
    config = parse_throttle("", "us-east-1")
    assert config.enabled and dict(config.rates) == default_rates("us-east-1")


def test_overrides_replace_named_classes_case_insensitively() -> None:
    config = parse_throttle(" ecc=5 , createkey=0,GenerateDataKeyPair:RSA_2048=2.5", "us-east-1")
    assert config.rates["ecc"] == 5
    assert config.rates["CreateKey"] == 0
    assert config.rates["GenerateDataKeyPair:RSA_2048"] == 2.5
    assert config.rates["DescribeKey"] == 2000


def test_star_sets_every_class_and_named_classes_win_whatever_the_order() -> None:
    config = parse_throttle("ecc=7,*=100", "us-east-1")
    assert config.rates["ecc"] == 7
    assert set(config.rates.values()) == {7, 100}


def test_off_disables_throttling() -> None:
    assert parse_throttle("off", "us-east-1").enabled is False
    assert parse_throttle("ecc=5,OFF", "us-east-1").enabled is False


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("DeriveSharedSecret=5", "shared quota 'ecc'"),
        ("Sign=5", "rsa, ecc or ml-dsa"),
        ("NoSuchThing=5", "no such quota"),
        ("GenerateDataKeyPair=5", "GenerateDataKeyPair:<KeyPairSpec>"),
        ("ecc=-1", "0 or more"),
        ("ecc=fast", "0 or more"),
        ("ecc=nan", "0 or more"),
        ("ecc=inf", "0 or more"),
        ("ecc", "expected CLASS=RATE"),
    ],
)
def test_a_bad_spec_says_what_is_wrong(spec: str, says: str) -> None:
    with pytest.raises(QuotaSpecError, match=None) as raised:
        parse_throttle(spec, "us-east-1")
    assert says in str(raised.value)
