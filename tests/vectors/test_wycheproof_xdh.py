"""Wycheproof X25519/X448 vectors (ASN.1 keys) through load_xdh_private_key,
load_xdh_peer_public_key and derive_xdh_shared_secret.

Valid: the secret must equal the vector's. Invalid: a refusal (PeerKeyError for the public
key, PrivateKeyError for the private one). Acceptable: a refusal or the right secret; and
wherever the shared secret would be all zeros (flag ZeroSharedSecret, RFC 7748 §6.1) QKMS must
refuse with SMALL_ORDER_POINT (DESIGN §4a), never return zeros.
"""

from __future__ import annotations

from collections import Counter

import pytest

from qkms.crypto import (
    PeerKeyError,
    PeerKeyProblem,
    PrivateKeyError,
    XdhCurve,
    derive_xdh_shared_secret,
    load_xdh_peer_public_key,
    load_xdh_private_key,
)
from tests.vectors.wycheproof import Case, load_files_or_skip

FILES: dict[str, XdhCurve] = {
    "x25519_asn_test.json": XdhCurve.X25519,
    "x448_asn_test.json": XdhCurve.X448,
}
VECTORS = load_files_or_skip(dict.fromkeys(FILES, "xdh_asn_comp_schema_v1.json"))

# Flags whose meaning pins down the reason we must give for an invalid vector.
_REASONS_BY_FLAG: dict[str, PeerKeyProblem] = {
    "InvalidPublic": PeerKeyProblem.WRONG_CURVE,  # an EC or other-curve key (tc comments)
    "PublicKeyTooLong": PeerKeyProblem.INVALID_ENCODING,
}


def _derive(case: Case) -> bytes:
    curve = FILES[case.file_stem + ".json"]
    private_key = load_xdh_private_key(case.test_hex("private"), curve)
    peer = load_xdh_peer_public_key(case.test_hex("public"), curve)
    return derive_xdh_shared_secret(private_key, peer)


@pytest.mark.parametrize("case", VECTORS, ids=[case.id for case in VECTORS])
def test_vector(case: Case) -> None:
    shared = case.test_hex("shared")
    if "ZeroSharedSecret" in case.flags or (shared and not any(shared)):
        with pytest.raises(PeerKeyError) as refused:
            _derive(case)
        assert refused.value.reason is PeerKeyProblem.SMALL_ORDER_POINT
    elif case.result == "valid":
        assert _derive(case) == shared
    elif case.result == "invalid":
        with pytest.raises((PeerKeyError, PrivateKeyError)) as raised:
            _derive(case)
        for flag in case.flags:
            if flag in _REASONS_BY_FLAG:
                assert isinstance(raised.value, PeerKeyError)
                assert raised.value.reason is _REASONS_BY_FLAG[flag], flag
            if flag == "MissingOctetString":
                assert isinstance(raised.value, PrivateKeyError)
    else:
        try:
            secret = _derive(case)
        except PeerKeyError:
            return
        assert secret == shared


def test_every_file_was_loaded() -> None:
    counts = Counter((case.file_stem, case.result) for case in VECTORS)
    for name in FILES:
        stem = name.removesuffix(".json")
        assert counts[(stem, "valid")] > 0, name
        assert counts[(stem, "invalid")] > 0, name
        assert sum("ZeroSharedSecret" in c.flags for c in VECTORS if c.file_stem == stem) > 0
