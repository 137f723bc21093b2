"""Wycheproof RSA-OAEP vectors through load_rsa_private_key and rsa_oaep_decrypt.

KMS's RSAES_OAEP_SHA_1/SHA_256 always use an empty label, so vectors encrypted with a label
are skipped by rule and counted below; a separate test shows they do not decrypt under KMS's
empty label. Valid vectors must give exactly the message, invalid ones the one CiphertextError
(whatever went wrong: Manger's attack needs the failures told apart).
"""

from __future__ import annotations

import functools
from collections import Counter

import pytest

from qkms.crypto import CiphertextError, RsaPrivateKey, load_rsa_private_key, rsa_oaep_decrypt
from tests.vectors.wycheproof import (
    RSA_OAEP_FILES,
    RsaOaepVector,
    load_rsa_oaep_vectors,
    require_wycheproof_dir,
)

SKIP_LABEL = "OAEP label: KMS always uses an empty label"


def _load_all() -> list[RsaOaepVector]:
    directory = require_wycheproof_dir()
    return [vector for name in RSA_OAEP_FILES for vector in load_rsa_oaep_vectors(name, directory)]


VECTORS = _load_all()


@functools.cache
def _private_key(private_pkcs8_der: bytes) -> RsaPrivateKey:
    # One key per file; loading an RSA key checks it, which is worth doing once, not per case.
    return load_rsa_private_key(private_pkcs8_der)


def _decrypt(vector: RsaOaepVector) -> bytes:
    key = _private_key(vector.private_pkcs8_der)
    assert key.key_size == vector.key_size
    return rsa_oaep_decrypt(key, vector.algorithm, vector.ciphertext)


@pytest.mark.parametrize("vector", VECTORS, ids=[vector.id for vector in VECTORS])
def test_vector(vector: RsaOaepVector) -> None:
    if vector.label:
        pytest.skip(SKIP_LABEL)
    if vector.result == "valid":
        assert _decrypt(vector) == vector.message
    elif vector.result == "invalid":
        with pytest.raises(CiphertextError):
            _decrypt(vector)
    else:  # acceptable (none in the pinned files): refusing is fine, a wrong message is not
        try:
            message = _decrypt(vector)
        except CiphertextError:
            return
        assert message == vector.message


def test_labelled_ciphertexts_do_not_decrypt_under_the_empty_label() -> None:
    labelled = [vector for vector in VECTORS if vector.label]
    assert labelled
    for vector in labelled:
        with pytest.raises(CiphertextError):
            _decrypt(vector)


def test_skips_are_only_the_label_rule_and_exactly_this_many() -> None:
    # Counts for the pinned files (shared/testdata/wycheproof/README.md names the commit).
    skipped = Counter(vector.file_name for vector in VECTORS if vector.label)
    assert skipped == {
        "rsa_oaep_2048_sha1_mgf1sha1_test.json": 7,
        "rsa_oaep_2048_sha256_mgf1sha256_test.json": 8,
        "rsa_oaep_3072_sha256_mgf1sha256_test.json": 8,
        "rsa_oaep_4096_sha256_mgf1sha256_test.json": 8,
    }


def test_every_file_runs_valid_and_invalid_vectors() -> None:
    run = Counter((vector.file_name, vector.result) for vector in VECTORS if not vector.label)
    for name in RSA_OAEP_FILES:
        assert run[(name, "valid")] >= 10, name
        assert run[(name, "invalid")] >= 19, name
    assert len({vector.id for vector in VECTORS}) == len(VECTORS)
