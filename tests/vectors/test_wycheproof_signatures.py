"""Wycheproof ECDSA, RSA-PSS and RSA PKCS#1 v1.5 vectors through load_signing_public_key/verify.

Each vector is verified twice, as Verify can be asked: MessageType RAW (the message) and
DIGEST (its hash, computed here). Valid must verify, invalid must not (False or a refused
public key), acceptable may do either. Skips are by rule only and their counts are pinned.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from functools import cache

import pytest

from qkms.crypto import (
    MessageType,
    PublicKeyError,
    SigningAlgorithm,
    SigningKeySpec,
    SigningPublicKey,
    load_signing_public_key,
    verify,
)
from tests.vectors.wycheproof import Case, load_files_or_skip

_ECDSA = "ecdsa_verify_schema_v1.json"
_PSS = "rsassa_pss_verify_schema_v1.json"
_PKCS1 = "rsassa_pkcs1_verify_schema_v1.json"

# File -> (schema, the KMS key spec and signing algorithm that file's vectors exercise).
FILES: dict[str, tuple[str, SigningKeySpec, SigningAlgorithm]] = {
    "ecdsa_secp256r1_sha256_test.json": (
        _ECDSA,
        SigningKeySpec.ECC_NIST_P256,
        SigningAlgorithm.ECDSA_SHA_256,
    ),
    "ecdsa_secp384r1_sha384_test.json": (
        _ECDSA,
        SigningKeySpec.ECC_NIST_P384,
        SigningAlgorithm.ECDSA_SHA_384,
    ),
    "ecdsa_secp521r1_sha512_test.json": (
        _ECDSA,
        SigningKeySpec.ECC_NIST_P521,
        SigningAlgorithm.ECDSA_SHA_512,
    ),
    "ecdsa_secp256k1_sha256_test.json": (
        _ECDSA,
        SigningKeySpec.ECC_SECG_P256K1,
        SigningAlgorithm.ECDSA_SHA_256,
    ),
    "rsa_pss_2048_sha256_mgf1_32_test.json": (
        _PSS,
        SigningKeySpec.RSA_2048,
        SigningAlgorithm.RSASSA_PSS_SHA_256,
    ),
    "rsa_pss_2048_sha384_mgf1_48_test.json": (
        _PSS,
        SigningKeySpec.RSA_2048,
        SigningAlgorithm.RSASSA_PSS_SHA_384,
    ),
    "rsa_pss_3072_sha256_mgf1_32_test.json": (
        _PSS,
        SigningKeySpec.RSA_3072,
        SigningAlgorithm.RSASSA_PSS_SHA_256,
    ),
    "rsa_pss_4096_sha512_mgf1_64_test.json": (
        _PSS,
        SigningKeySpec.RSA_4096,
        SigningAlgorithm.RSASSA_PSS_SHA_512,
    ),
    "rsa_signature_2048_sha256_test.json": (
        _PKCS1,
        SigningKeySpec.RSA_2048,
        SigningAlgorithm.RSASSA_PKCS1_V1_5_SHA_256,
    ),
    "rsa_signature_3072_sha384_test.json": (
        _PKCS1,
        SigningKeySpec.RSA_3072,
        SigningAlgorithm.RSASSA_PKCS1_V1_5_SHA_384,
    ),
    "rsa_signature_4096_sha512_test.json": (
        _PKCS1,
        SigningKeySpec.RSA_4096,
        SigningAlgorithm.RSASSA_PKCS1_V1_5_SHA_512,
    ),
}
VECTORS = load_files_or_skip({name: schema for name, (schema, _, _) in FILES.items()})
_HASHLIB = {"SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
_DIGEST_SIZE = {"SHA-256": 32, "SHA-384": 48, "SHA-512": 64}

# Rules for vectors KMS cannot express; every skip names one of these.
RULE_PSS_PARAMETERS = "PSS with an MGF hash or salt length other than KMS's (hash, digest length)"
RULE_OTHER_HASH = "a hash the KMS algorithm for this key spec does not use"


def _setup(case: Case) -> tuple[SigningKeySpec, SigningAlgorithm]:
    _, spec, algorithm = FILES[case.file_stem + ".json"]
    return spec, algorithm


def skip_rule(case: Case) -> str | None:
    _, algorithm = _setup(case)
    sha = str(case.group["sha"])
    if _DIGEST_SIZE[sha] * 8 != int(algorithm.value.rsplit("_", 1)[1]):
        return RULE_OTHER_HASH
    if algorithm.is_rsa_pss and (
        case.group.get("mgf") != "MGF1"
        or case.group.get("mgfSha") != sha
        or case.group.get("sLen") != _DIGEST_SIZE[sha]
    ):
        return RULE_PSS_PARAMETERS
    return None


@cache
def _public_key(der: bytes, spec: SigningKeySpec) -> SigningPublicKey | None:
    try:
        return load_signing_public_key(der, spec)
    except PublicKeyError:
        return None


def _verifies(case: Case, message_type: MessageType) -> bool:
    spec, algorithm = _setup(case)
    key = _public_key(case.group_hex("publicKeyDer"), spec)
    if key is None:
        return False  # a public key the spec cannot hold verifies nothing
    message = case.test_hex("msg")
    if message_type is MessageType.DIGEST:
        message = hashlib.new(_HASHLIB[str(case.group["sha"])], message).digest()
    return verify(key, algorithm, message, case.test_hex("sig"), message_type)


@pytest.mark.parametrize("case", VECTORS, ids=[case.id for case in VECTORS])
@pytest.mark.parametrize(
    "message_type", [MessageType.RAW, MessageType.DIGEST], ids=lambda t: t.value.lower()
)
def test_vector(case: Case, message_type: MessageType) -> None:
    rule = skip_rule(case)
    if rule is not None:
        pytest.skip(rule)
    outcome = _verifies(case, message_type)
    if case.result == "valid":
        assert outcome is True
    elif case.result == "invalid":
        assert outcome is False
    # acceptable: either answer, but it must be an answer (no exception reached here)


def test_every_file_was_loaded_and_no_skips_are_needed() -> None:
    counts = Counter((case.file_stem, case.result) for case in VECTORS)
    for name in FILES:
        stem = name.removesuffix(".json")
        assert counts[(stem, "valid")] > 0, name
        assert counts[(stem, "invalid")] > 0, name
    # Every group of these files uses exactly KMS's parameters: no vector is skipped.
    assert Counter(skip_rule(case) for case in VECTORS) == {None: len(VECTORS)}
