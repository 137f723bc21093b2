"""Tests of qkms.crypto.data_keys: random data keys and data key pairs in AWS's encodings."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from qkms.crypto import (
    MAX_DATA_KEY_SIZE,
    Curve,
    DataKeyPairSpec,
    DataKeySpec,
    generate_data_key,
    generate_data_key_pair,
)
from qkms.crypto.curves import CURVE_PARAMETERS
from tests.peer_keys import public_key_der


@pytest.mark.parametrize(("spec", "size"), [(DataKeySpec.AES_128, 16), (DataKeySpec.AES_256, 32)])
def test_data_key_specs(spec: DataKeySpec, size: int) -> None:
    assert spec.size == size
    assert len(generate_data_key(spec.size)) == size


def test_data_keys_are_1_to_1024_random_bytes() -> None:
    assert len(generate_data_key(1)) == 1
    assert len(generate_data_key(MAX_DATA_KEY_SIZE)) == 1024
    assert generate_data_key(32) != generate_data_key(32)
    for size in (0, -1, 1025):
        with pytest.raises(ValueError):
            generate_data_key(size)


@pytest.mark.parametrize("spec", list(DataKeyPairSpec), ids=lambda spec: spec.value)
def test_pair_is_pkcs8_and_spki_of_the_spec_and_the_halves_match(spec: DataKeyPairSpec) -> None:
    pair = generate_data_key_pair(spec)
    private = serialization.load_der_private_key(pair.private_pkcs8_der, password=None)
    public = serialization.load_der_public_key(pair.public_spki_der)
    # PKCS#8 exactly: re-encoding the loaded key as PKCS#8 DER gives the same bytes.
    assert pair.private_pkcs8_der == private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert pair.public_spki_der == public_key_der(private.public_key())
    if spec.rsa_key_size is not None:
        assert isinstance(private, rsa.RSAPrivateKey) and isinstance(public, rsa.RSAPublicKey)
        assert private.key_size == spec.rsa_key_size
        assert public.public_numbers().e == 65537
    else:
        curve = spec.curve
        assert curve is not None
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        assert isinstance(public, ec.EllipticCurvePublicKey)
        assert private.curve.name == CURVE_PARAMETERS[curve].ec_curve.name
    assert "redacted" in repr(pair)


def test_every_pair_spec_is_rsa_or_a_curve() -> None:
    curves = {spec.curve for spec in DataKeyPairSpec if spec.curve is not None}
    assert curves == set(Curve)
    sizes = {spec.rsa_key_size for spec in DataKeyPairSpec if spec.rsa_key_size is not None}
    assert sizes == {2048, 3072, 4096}
    for spec in DataKeyPairSpec:
        assert (spec.curve is None) != (spec.rsa_key_size is None)


def test_pairs_are_fresh() -> None:
    first = generate_data_key_pair(DataKeyPairSpec.ECC_NIST_P256)
    second = generate_data_key_pair(DataKeyPairSpec.ECC_NIST_P256)
    assert first.public_spki_der != second.public_spki_der
