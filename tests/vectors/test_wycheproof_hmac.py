"""Wycheproof HMAC-SHA-2 vectors through HmacKey, generate_mac and verify_mac.

KMS cannot express two kinds of vector, and each is skipped by rule and counted below:
truncated tags (KMS's GenerateMac/VerifyMac use the full-length MAC only) and keys outside
the lengths KMS imports for the key spec (key spec length to 1024 bits).
"""

from __future__ import annotations

from collections import Counter

import pytest

from qkms.crypto import (
    MAX_HMAC_KEY_SIZE,
    HmacKey,
    MacVerificationError,
    generate_mac,
    verify_mac,
)
from tests.vectors.wycheproof import (
    MAC_FILES,
    MacVector,
    load_mac_vectors,
    require_wycheproof_dir,
)

SKIP_TRUNCATED = "truncated MAC: KMS offers full-length MACs only"
SKIP_KEY_LENGTH = "key length outside what KMS imports for the key spec"


def _load_all() -> list[MacVector]:
    directory = require_wycheproof_dir()
    return [vector for name in MAC_FILES for vector in load_mac_vectors(name, directory)]


VECTORS = _load_all()


def _skip_reason(vector: MacVector) -> str | None:
    if vector.tag_size_bits != 8 * vector.spec.mac_algorithm.mac_length:
        return SKIP_TRUNCATED
    if not vector.spec.key_size <= len(vector.key) <= MAX_HMAC_KEY_SIZE:
        return SKIP_KEY_LENGTH
    return None


@pytest.mark.parametrize("vector", VECTORS, ids=[vector.id for vector in VECTORS])
def test_vector(vector: MacVector) -> None:
    reason = _skip_reason(vector)
    if reason is not None:
        pytest.skip(reason)
    key = HmacKey(vector.spec, vector.key)
    if vector.result == "valid":
        assert generate_mac(key, vector.message) == vector.tag
        verify_mac(key, vector.message, vector.tag)
    elif vector.result == "invalid":
        with pytest.raises(MacVerificationError):
            verify_mac(key, vector.message, vector.tag)
    else:  # acceptable (none in the pinned files): accepting or refusing are both fine
        try:
            verify_mac(key, vector.message, vector.tag)
        except MacVerificationError:
            return


def test_skips_are_only_the_rules_and_exactly_this_many() -> None:
    # Counts for the pinned files (shared/testdata/wycheproof/README.md names the commit): a
    # rule that starts swallowing more vectors, or a file that changes, fails here.
    skipped = Counter(
        (vector.file_name, reason) for vector in VECTORS if (reason := _skip_reason(vector))
    )
    assert skipped == {
        ("hmac_sha224_test.json", SKIP_TRUNCATED): 85,
        ("hmac_sha224_test.json", SKIP_KEY_LENGTH): 3,
        ("hmac_sha256_test.json", SKIP_TRUNCATED): 87,
        ("hmac_sha256_test.json", SKIP_KEY_LENGTH): 3,
        ("hmac_sha384_test.json", SKIP_TRUNCATED): 87,
        ("hmac_sha384_test.json", SKIP_KEY_LENGTH): 3,
        ("hmac_sha512_test.json", SKIP_TRUNCATED): 87,
        ("hmac_sha512_test.json", SKIP_KEY_LENGTH): 3,
    }


def test_every_file_runs_valid_and_invalid_vectors() -> None:
    run = Counter(
        (vector.file_name, vector.result) for vector in VECTORS if not _skip_reason(vector)
    )
    for name in MAC_FILES:
        assert run[(name, "valid")] >= 27, name
        assert run[(name, "invalid")] >= 50, name
    assert len({vector.id for vector in VECTORS}) == len(VECTORS)
