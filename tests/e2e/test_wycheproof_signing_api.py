"""Wycheproof HMAC, ECDSA, RSA-PSS, RSA PKCS#1 v1.5 and ML-DSA vectors through the KMS API.

What runs, and what is skipped by which rule (every skip is counted and the counts pinned):

- HMAC (`hmac_sha*`): each distinct key is imported once into an HMAC key of the file's spec;
  valid vectors must come back from GenerateMac byte for byte and pass VerifyMac, invalid ones
  must be KMSInvalidMacException. Skipped: truncated tags (KMS returns and checks full-length
  MACs only), keys shorter than the spec's length or longer than 1024 bits (KMS does not import
  them), empty messages (KMS's Message is 1 to 4096 bytes).
- ECDSA, RSA-PSS, RSA PKCS#1 v1.5, ML-DSA verify files hold public keys only. Verify runs with
  a KMS key, and KMS imports private keys only (ML-DSA keys not at all), so no KMS key can hold
  a vector's key: valid and acceptable vectors are skipped by that rule. Invalid vectors are
  sent to Verify under a KMS key of the file's spec and algorithm: a signature that does not
  verify under its own key cannot verify under an unrelated one, so each must be answered
  KMSInvalidSignatureException (never a 500, never SignatureValid). This proves the API's
  handling of malformed signature blobs (BER, wrong lengths, out-of-range integers, garbage),
  not the vectors' key-specific checks; those run on the recipe in tests/vectors.
  RSA-PSS files whose salt length is not the digest length are also skipped (KMS's PSS uses a
  salt as long as the digest; no such file is among the vectors today), as are messages and
  signatures KMS cannot take (empty, over 4096 bytes).

Counts today: HMAC ran 220 (skipped 346 truncated, 12 key length, 116 empty message);
signatures ran 2532 invalid vectors (skipped 1374 valid/acceptable, 11 empty signature,
33 empty message).
"""

from __future__ import annotations

import hmac
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import QkmsServer
from tests.e2e.signing_support import import_material
from tests.vectors.wycheproof import (
    MAC_FILES,
    Case,
    MacVector,
    load_cases,
    load_mac_vectors,
    require_wycheproof_dir,
)

SKIP_TRUNCATED = "truncated MAC: KMS offers full-length MACs only"
SKIP_KEY_LENGTH = "HMAC key length outside what KMS imports for the key spec"
SKIP_EMPTY = "empty message: KMS's Message is 1 to 4096 bytes"
SKIP_LONG = "message over 4096 bytes: KMS's Message is 1 to 4096 bytes"
SKIP_PUBLIC_ONLY = "valid/acceptable with a public key only: no KMS key can hold the vector's key"
SKIP_EMPTY_SIGNATURE = "empty signature: KMS's Signature is 1 to 6144 bytes"
SKIP_SALT = "RSA-PSS salt length other than the digest length: KMS's PSS salt is the digest length"

_ECDSA = "ecdsa_verify_schema_v1.json"
_PSS = "rsassa_pss_verify_schema_v1.json"
_PKCS1 = "rsassa_pkcs1_verify_schema_v1.json"
_ML_DSA = "mldsa_verify_schema.json"
# File -> (schema, KMS key spec, signing algorithm).
SIGNATURE_FILES: dict[str, tuple[str, str, str]] = {
    "ecdsa_secp256r1_sha256_test.json": (_ECDSA, "ECC_NIST_P256", "ECDSA_SHA_256"),
    "ecdsa_secp384r1_sha384_test.json": (_ECDSA, "ECC_NIST_P384", "ECDSA_SHA_384"),
    "ecdsa_secp521r1_sha512_test.json": (_ECDSA, "ECC_NIST_P521", "ECDSA_SHA_512"),
    "ecdsa_secp256k1_sha256_test.json": (_ECDSA, "ECC_SECG_P256K1", "ECDSA_SHA_256"),
    "rsa_pss_2048_sha256_mgf1_32_test.json": (_PSS, "RSA_2048", "RSASSA_PSS_SHA_256"),
    "rsa_pss_2048_sha384_mgf1_48_test.json": (_PSS, "RSA_2048", "RSASSA_PSS_SHA_384"),
    "rsa_pss_3072_sha256_mgf1_32_test.json": (_PSS, "RSA_3072", "RSASSA_PSS_SHA_256"),
    "rsa_pss_4096_sha512_mgf1_64_test.json": (_PSS, "RSA_4096", "RSASSA_PSS_SHA_512"),
    "rsa_signature_2048_sha256_test.json": (_PKCS1, "RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256"),
    "rsa_signature_3072_sha384_test.json": (_PKCS1, "RSA_3072", "RSASSA_PKCS1_V1_5_SHA_384"),
    "rsa_signature_4096_sha512_test.json": (_PKCS1, "RSA_4096", "RSASSA_PKCS1_V1_5_SHA_512"),
    "mldsa_44_verify_test.json": (_ML_DSA, "ML_DSA_44", "ML_DSA_SHAKE_256"),
    "mldsa_65_verify_test.json": (_ML_DSA, "ML_DSA_65", "ML_DSA_SHAKE_256"),
    "mldsa_87_verify_test.json": (_ML_DSA, "ML_DSA_87", "ML_DSA_SHAKE_256"),
}

# What ran and what was skipped, by rule: (ran, {rule: count}), pinned so that a change in
# the vectors or the rules is seen.
EXPECTED_MAC = (220, {SKIP_TRUNCATED: 346, SKIP_KEY_LENGTH: 12, SKIP_EMPTY: 116})
EXPECTED_SIGNATURES = (
    2532,
    {SKIP_PUBLIC_ONLY: 1374, SKIP_EMPTY_SIGNATURE: 11, SKIP_EMPTY: 33},
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    qkms = QkmsServer(tmp_path_factory.mktemp("qkms") / "data", workers=2).start()
    yield qkms
    qkms.stop()


def mac_skip(vector: MacVector) -> str | None:
    if vector.tag_size_bits != 8 * vector.spec.mac_algorithm.mac_length:
        return SKIP_TRUNCATED
    if not vector.spec.key_size <= len(vector.key) <= 128:
        return SKIP_KEY_LENGTH
    if not vector.message:
        return SKIP_EMPTY
    if len(vector.message) > 4096:
        return SKIP_LONG
    return None


def test_hmac_vectors_through_generate_mac_and_verify_mac(kms: Any) -> None:
    directory = require_wycheproof_dir()
    skipped: Counter[str] = Counter()
    ran = 0
    imported: dict[tuple[str, bytes], str] = {}
    for file_name, spec in MAC_FILES.items():
        algorithm = spec.mac_algorithm.value
        for vector in load_mac_vectors(file_name, directory):
            reason = mac_skip(vector)
            if reason is not None:
                skipped[reason] += 1
                continue
            slot = (spec.value, vector.key)
            if slot not in imported:
                imported[slot] = import_material(
                    kms, spec.value, "GENERATE_VERIFY_MAC", vector.key, "RSAES_OAEP_SHA_256"
                )
            key_id = imported[slot]
            if vector.result == "valid":
                made = kms.generate_mac(
                    KeyId=key_id, Message=vector.message, MacAlgorithm=algorithm
                )
                assert made["Mac"] == vector.tag, vector.id
                assert hmac.compare_digest(made["Mac"], vector.tag)
                assert kms.verify_mac(
                    KeyId=key_id, Message=vector.message, MacAlgorithm=algorithm, Mac=vector.tag
                )["MacValid"], vector.id
            else:
                with pytest.raises(ClientError) as caught:
                    kms.verify_mac(
                        KeyId=key_id,
                        Message=vector.message,
                        MacAlgorithm=algorithm,
                        Mac=vector.tag,
                    )
                assert caught.value.response["Error"]["Code"] == "KMSInvalidMacException", vector.id
            ran += 1
    print(f"HMAC vectors through the API: ran {ran}, skipped {dict(skipped)}")
    assert (ran, dict(skipped)) == EXPECTED_MAC


def signature_skip(case: Case, algorithm: str) -> str | None:
    if case.result != "invalid":
        return SKIP_PUBLIC_ONLY
    salt = case.group.get("sLen")
    if salt is not None and int(str(salt)) != int(algorithm[-3:]) // 8:
        return SKIP_SALT
    message = case.test_hex("msg")
    if not message:
        return SKIP_EMPTY
    if len(message) > 4096:
        return SKIP_LONG
    return None


def test_invalid_signature_vectors_are_refused_by_verify(kms: Any) -> None:
    directory = require_wycheproof_dir()
    skipped: Counter[str] = Counter()
    ran = 0
    keys: dict[str, str] = {}
    for file_name, (schema, spec, algorithm) in SIGNATURE_FILES.items():
        if spec not in keys:
            keys[spec] = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
        for case in load_cases(file_name, schema, directory):
            reason = signature_skip(case, algorithm)
            if reason is not None:
                skipped[reason] += 1
                continue
            signature = case.test_hex("sig")
            if not signature:
                skipped[SKIP_EMPTY_SIGNATURE] += 1
                continue
            with pytest.raises(ClientError) as caught:
                kms.verify(
                    KeyId=keys[spec],
                    Message=case.test_hex("msg"),
                    Signature=signature,
                    SigningAlgorithm=algorithm,
                )
            assert caught.value.response["Error"]["Code"] == "KMSInvalidSignatureException", case.id
            ran += 1
    print(f"signature vectors through Verify: ran {ran}, skipped {dict(skipped)}")
    assert (ran, dict(skipped)) == EXPECTED_SIGNATURES
