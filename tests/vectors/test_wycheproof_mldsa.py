"""Wycheproof ML-DSA-44/65/87 verify vectors through load_signing_public_key and verify.

Each vector is verified as Verify can be asked: MessageType RAW (the message, empty context,
as AWS signs) and EXTERNAL_MU (μ of FIPS 204 §6.2, computed here with cryptography's
MLDSAMuHasher from the group's public key). Valid must verify; invalid must not (False, or a
public key that does not load). Vectors with a non-empty context are skipped by rule: KMS has
no context parameter. Skip counts are pinned.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import cache

import pytest
from cryptography.hazmat.primitives.asymmetric import mldsa

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

_SCHEMA = "mldsa_verify_schema.json"
FILES: dict[str, SigningKeySpec] = {
    "mldsa_44_verify_test.json": SigningKeySpec.ML_DSA_44,
    "mldsa_65_verify_test.json": SigningKeySpec.ML_DSA_65,
    "mldsa_87_verify_test.json": SigningKeySpec.ML_DSA_87,
}
_RawPublicKey = mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey
_RAW_PUBLIC_KEY: dict[SigningKeySpec, Callable[[bytes], _RawPublicKey]] = {
    SigningKeySpec.ML_DSA_44: mldsa.MLDSA44PublicKey.from_public_bytes,
    SigningKeySpec.ML_DSA_65: mldsa.MLDSA65PublicKey.from_public_bytes,
    SigningKeySpec.ML_DSA_87: mldsa.MLDSA87PublicKey.from_public_bytes,
}
VECTORS = load_files_or_skip(dict.fromkeys(FILES, _SCHEMA))

RULE_CONTEXT = "a non-empty ML-DSA context string (KMS signs and verifies with the empty context)"


def skip_rule(case: Case) -> str | None:
    if case.test.get("ctx", ""):
        return RULE_CONTEXT
    return None


def _spec(case: Case) -> SigningKeySpec:
    return FILES[case.file_stem + ".json"]


@cache
def _public_key(der: bytes, spec: SigningKeySpec) -> SigningPublicKey | None:
    try:
        return load_signing_public_key(der, spec)
    except PublicKeyError:
        return None


def _external_mu(case: Case) -> bytes:
    raw = _RAW_PUBLIC_KEY[_spec(case)](case.group_hex("publicKey"))
    hasher = mldsa.MLDSAMuHasher(raw)
    hasher.update(case.test_hex("msg"))
    return hasher.finalize()


def _verifies(case: Case, message_type: MessageType) -> bool:
    key = _public_key(case.group_hex("publicKeyDer"), _spec(case))
    if key is None:
        return False
    message = case.test_hex("msg") if message_type is MessageType.RAW else _external_mu(case)
    return verify(
        key, SigningAlgorithm.ML_DSA_SHAKE_256, message, case.test_hex("sig"), message_type
    )


@pytest.mark.parametrize("case", VECTORS, ids=[case.id for case in VECTORS])
@pytest.mark.parametrize(
    "message_type", [MessageType.RAW, MessageType.EXTERNAL_MU], ids=lambda t: t.value.lower()
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


def test_public_keys_of_the_wrong_length_are_refused() -> None:
    refused = {
        (case.group_hex("publicKeyDer"), _spec(case))
        for case in VECTORS
        if "IncorrectPublicKeyLength" in case.flags
    }
    assert len({spec for _, spec in refused}) == len(FILES)
    for der, spec in refused:
        with pytest.raises(PublicKeyError):
            load_signing_public_key(der, spec)


def test_every_file_was_loaded_and_skips_are_counted() -> None:
    counts = Counter((case.file_stem, case.result) for case in VECTORS)
    for name in FILES:
        stem = name.removesuffix(".json")
        assert counts[(stem, "valid")] > 0, name
        assert counts[(stem, "invalid")] > 0, name
    skips = Counter((case.file_stem, skip_rule(case)) for case in VECTORS if skip_rule(case))
    assert skips == {
        ("mldsa_44_verify_test", RULE_CONTEXT): 7,
        ("mldsa_65_verify_test", RULE_CONTEXT): 7,
        ("mldsa_87_verify_test", RULE_CONTEXT): 7,
    }
