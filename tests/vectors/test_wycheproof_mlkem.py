"""Wycheproof ML-KEM-768/1024 vectors through qkms.crypto.mlkem.

Decapsulation files (`mlkem_*_test.json`): the private key comes from the 64-byte seed, goes
through its seed-form PKCS#8 encoding (as QKMS stores it) and back, must have the vector's
encapsulation key, and must decapsulate `c` to `K` (the "Bit flipped" and "Random
ciphertext" vectors exercise implicit rejection). A seed of the wrong length must be refused
(PrivateKeyError) and a ciphertext of the wrong length too (KemCiphertextError).

Encapsulation files (`mlkem_*_encaps_test.json`): the encapsulation key, in the SPKI form
GetPublicKey returns, must load when valid and be refused when not (wrong length, coefficients
not reduced mod q: FIPS 203 §7.2's modulus check). `cryptography` offers no encapsulation with
caller-chosen randomness `m`, so for valid vectors the expected `c`/`K` cannot be reproduced;
instead a fresh encapsulation to the key must give a 32-byte secret and a ciphertext of the
parameter set's length. That limit is a rule, counted below.
"""

from __future__ import annotations

from collections import Counter

import pytest

from qkms.crypto import (
    KemCiphertextError,
    MlKemKeySpec,
    PrivateKeyError,
    PublicKeyError,
    decapsulate,
    encapsulate,
    load_encapsulation_key,
    load_mlkem_private_key,
    mlkem_private_key_from_seed,
)
from tests.peer_keys import der_tlv
from tests.vectors.wycheproof import Case, load_files_or_skip

DECAPS: dict[str, MlKemKeySpec] = {
    "mlkem_768_test.json": MlKemKeySpec.ML_KEM_768,
    "mlkem_1024_test.json": MlKemKeySpec.ML_KEM_1024,
}
ENCAPS: dict[str, MlKemKeySpec] = {
    "mlkem_768_encaps_test.json": MlKemKeySpec.ML_KEM_768,
    "mlkem_1024_encaps_test.json": MlKemKeySpec.ML_KEM_1024,
}
VECTORS = load_files_or_skip(
    dict.fromkeys(DECAPS, "mlkem_test_schema.json")
    | dict.fromkeys(ENCAPS, "mlkem_encaps_test_schema.json")
)
# id-alg-ml-kem-768 / -1024 (2.16.840.1.101.3.4.4.2 / .3), DER with tag and length.
_OIDS = {
    MlKemKeySpec.ML_KEM_768: bytes.fromhex("0609608648016503040402"),
    MlKemKeySpec.ML_KEM_1024: bytes.fromhex("0609608648016503040403"),
}


def _spki(raw_encapsulation_key: bytes, spec: MlKemKeySpec) -> bytes:
    """RFC 5280 SPKI around a raw key, for lengths cryptography would never write."""
    algorithm = der_tlv(0x30, _OIDS[spec])
    return der_tlv(0x30, algorithm + der_tlv(0x03, b"\x00" + raw_encapsulation_key))


def _spec(case: Case) -> MlKemKeySpec:
    name = case.file_stem + ".json"
    return DECAPS.get(name) or ENCAPS[name]


def _check_decapsulation(case: Case) -> None:
    spec = _spec(case)
    seed = case.test_hex("seed")
    if case.result == "invalid" and len(seed) != 64:
        with pytest.raises(PrivateKeyError):
            mlkem_private_key_from_seed(seed, spec)
        return
    key = mlkem_private_key_from_seed(seed, spec)
    # Round trip through the stored form: what QKMS wraps is what it decapsulates with.
    key = load_mlkem_private_key(key.private_pkcs8_der(), spec)
    if "ek" in case.test:
        assert key.public_key_der() == _spki(case.test_hex("ek"), spec)
    ciphertext = case.test_hex("c")
    if case.result == "invalid":
        assert len(ciphertext) != spec.ciphertext_length, "no other invalid kind is expected"
        with pytest.raises(KemCiphertextError):
            decapsulate(key, ciphertext)
        return
    assert decapsulate(key, ciphertext) == case.test_hex("K")


def _check_encapsulation_key(case: Case) -> None:
    spec = _spec(case)
    spki = _spki(case.test_hex("ek"), spec)
    if case.result == "invalid":
        with pytest.raises(PublicKeyError):
            load_encapsulation_key(spki, spec)
        return
    public_key = load_encapsulation_key(spki, spec)
    assert public_key.public_key_der() == spki
    encapsulation = encapsulate(public_key)
    assert len(encapsulation.shared_secret) == 32
    assert len(encapsulation.ciphertext) == spec.ciphertext_length == len(case.test_hex("c"))


@pytest.mark.parametrize("case", VECTORS, ids=[case.id for case in VECTORS])
def test_vector(case: Case) -> None:
    if case.file_stem + ".json" in DECAPS:
        _check_decapsulation(case)
    else:
        _check_encapsulation_key(case)


def test_every_file_was_loaded_and_limits_are_counted() -> None:
    counts = Counter((case.file_stem, case.result) for case in VECTORS)
    for name in DECAPS | ENCAPS:
        stem = name.removesuffix(".json")
        assert counts[(stem, "valid")] > 0, name
        assert counts[(stem, "invalid")] > 0, name
    assert "acceptable" not in {case.result for case in VECTORS}
    # Valid encapsulation vectors: key checked, c/K not comparable (the module docstring's rule).
    limited = Counter(
        case.file_stem
        for case in VECTORS
        if case.file_stem + ".json" in ENCAPS and case.result == "valid"
    )
    assert limited == {"mlkem_768_encaps_test": 133, "mlkem_1024_encaps_test": 133}
