"""Wycheproof ECDH vectors through load_private_key, load_peer_public_key, derive_shared_secret."""

from __future__ import annotations

import os
from collections import Counter

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from qkms.crypto import (
    PeerKeyError,
    PeerKeyProblem,
    PrivateKey,
    derive_shared_secret,
    load_peer_public_key,
    load_private_key,
)
from qkms.crypto.curves import CURVE_PARAMETERS
from tests.vectors.wycheproof import ECDH_FILES, EcdhVector, load_ecdh_vectors, wycheproof_dir


def _load_all() -> list[EcdhVector]:
    directory = wycheproof_dir()
    if not directory.is_dir():
        reason = f"Wycheproof vectors not found in {directory} (set QKMS_SHARED_DIR)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason, allow_module_level=True)
    # A missing or malformed file below an existing folder fails collection: never a skip.
    return [vector for name in ECDH_FILES for vector in load_ecdh_vectors(name, directory)]


VECTORS = _load_all()

# Flags whose meaning pins down the reason we must give; other invalid cases may give any.
_REASONS_BY_FLAG: dict[str, set[PeerKeyProblem]] = {
    "InvalidCurveAttack": {PeerKeyProblem.POINT_NOT_ON_CURVE, PeerKeyProblem.INVALID_ENCODING},
    "InvalidCompressedPublic": {PeerKeyProblem.POINT_NOT_ON_CURVE},
    "ModifiedPublicPoint": {PeerKeyProblem.POINT_NOT_ON_CURVE},
    "UnnamedCurve": {PeerKeyProblem.UNSUPPORTED_CURVE},
}


def _private_key(vector: EcdhVector) -> PrivateKey:
    key = ec.derive_private_key(vector.private_scalar, CURVE_PARAMETERS[vector.curve].ec_curve)
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return load_private_key(pkcs8, vector.curve)


def _derive(vector: EcdhVector) -> bytes:
    private_key = _private_key(vector)
    peer = load_peer_public_key(vector.public_der, vector.curve)
    return derive_shared_secret(private_key, peer)


@pytest.mark.parametrize("vector", VECTORS, ids=[vector.id for vector in VECTORS])
def test_vector(vector: EcdhVector) -> None:
    if vector.result == "valid":
        assert _derive(vector) == vector.shared
    elif vector.result == "invalid":
        with pytest.raises(PeerKeyError) as raised:
            _derive(vector)
        for flag in vector.flags:
            if flag in _REASONS_BY_FLAG:
                assert raised.value.reason in _REASONS_BY_FLAG[flag], flag
    else:  # acceptable: refusing is fine, a wrong secret is not
        try:
            secret = _derive(vector)
        except PeerKeyError:
            return
        assert secret == vector.shared


def test_every_file_was_loaded() -> None:
    counts = Counter((vector.curve_name, vector.result) for vector in VECTORS)
    for name in ECDH_FILES:
        assert counts[(name, "valid")] > 0, name
        assert counts[(name, "invalid")] > 0, name
    assert len({vector.id for vector in VECTORS}) == len(VECTORS)
