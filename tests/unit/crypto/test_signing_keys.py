"""Tests of qkms.crypto.signing_keys: key generation and loading, each checked against its spec."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, rsa, x25519

from qkms.crypto import (
    GeneratedKeyPair,
    PrivateKeyError,
    PublicKeyError,
    SigningKeySpec,
    generate_signing_key_pair,
    import_signing_private_key,
    load_signing_private_key,
    load_signing_public_key,
)
from qkms.domain.keys import KeySpec
from tests.peer_keys import der_tlv

DER = serialization.Encoding.DER
PKCS8 = serialization.PrivateFormat.PKCS8
NO_ENCRYPTION = serialization.NoEncryption()
# Each spec's neighbour: same family, other size, curve or parameter set.
NEIGHBOUR = {
    SigningKeySpec.RSA_2048: SigningKeySpec.RSA_3072,
    SigningKeySpec.RSA_3072: SigningKeySpec.RSA_4096,
    SigningKeySpec.RSA_4096: SigningKeySpec.RSA_2048,
    SigningKeySpec.ECC_NIST_P256: SigningKeySpec.ECC_SECG_P256K1,
    SigningKeySpec.ECC_NIST_P384: SigningKeySpec.ECC_NIST_P521,
    SigningKeySpec.ECC_NIST_P521: SigningKeySpec.ECC_NIST_P256,
    SigningKeySpec.ECC_SECG_P256K1: SigningKeySpec.ECC_NIST_P256,
    SigningKeySpec.ML_DSA_44: SigningKeySpec.ML_DSA_65,
    SigningKeySpec.ML_DSA_65: SigningKeySpec.ML_DSA_87,
    SigningKeySpec.ML_DSA_87: SigningKeySpec.ML_DSA_44,
}
# Another family for each family.
STRANGER = {
    "RSA": SigningKeySpec.ECC_NIST_P256,
    "ECC": SigningKeySpec.ML_DSA_44,
    "ML_": SigningKeySpec.RSA_2048,
}


@pytest.fixture(scope="module")
def pairs() -> dict[SigningKeySpec, GeneratedKeyPair]:
    return {spec: generate_signing_key_pair(spec) for spec in SigningKeySpec}


@pytest.mark.parametrize("spec", list(SigningKeySpec), ids=lambda s: s.value)
def test_generated_keys_are_of_their_spec(
    pairs: dict[SigningKeySpec, GeneratedKeyPair], spec: SigningKeySpec
) -> None:
    public = serialization.load_der_public_key(pairs[spec].public_spki_der)
    private = serialization.load_der_private_key(pairs[spec].private_pkcs8_der, None)
    if spec.rsa_bits is not None:
        assert isinstance(public, rsa.RSAPublicKey) and public.key_size == spec.rsa_bits
        assert isinstance(private, rsa.RSAPrivateKey)
        assert public.public_numbers().e == 65537
    elif spec.curve is not None:
        assert isinstance(public, ec.EllipticCurvePublicKey)
        assert isinstance(private, ec.EllipticCurvePrivateKey)
    else:
        expected = {
            SigningKeySpec.ML_DSA_44: mldsa.MLDSA44PublicKey,
            SigningKeySpec.ML_DSA_65: mldsa.MLDSA65PublicKey,
            SigningKeySpec.ML_DSA_87: mldsa.MLDSA87PublicKey,
        }[spec]
        assert isinstance(public, expected)
        # Seed-only PKCS#8: OneAsymmetricKey{0, alg, OCTET STRING{[0] 32-byte seed}}.
        assert len(pairs[spec].private_pkcs8_der) == 54
    loaded = load_signing_private_key(pairs[spec].private_pkcs8_der, spec)
    assert loaded.spec is spec
    assert loaded.public_key_der() == pairs[spec].public_spki_der
    assert load_signing_public_key(pairs[spec].public_spki_der, spec).spec is spec
    assert repr(loaded) == f"SigningPrivateKey(spec={spec.value})"


@pytest.mark.parametrize("spec", list(SigningKeySpec), ids=lambda s: s.value)
def test_keys_of_another_spec_are_refused(
    pairs: dict[SigningKeySpec, GeneratedKeyPair], spec: SigningKeySpec
) -> None:
    for other in (NEIGHBOUR[spec], STRANGER[spec.value[:3]]):
        with pytest.raises(PrivateKeyError):
            load_signing_private_key(pairs[other].private_pkcs8_der, spec)
        with pytest.raises(PrivateKeyError):
            import_signing_private_key(pairs[other].private_pkcs8_der, spec)
        with pytest.raises(PublicKeyError):
            load_signing_public_key(pairs[other].public_spki_der, spec)


@pytest.mark.parametrize(
    "blob",
    [b"", b"\x30\x00", b"not a key", bytes(64)],
    ids=["empty", "empty-sequence", "text", "zeros"],
)
def test_garbage_is_a_typed_error(blob: bytes) -> None:
    with pytest.raises(PrivateKeyError):
        load_signing_private_key(blob, SigningKeySpec.RSA_2048)
    with pytest.raises(PublicKeyError):
        load_signing_public_key(blob, SigningKeySpec.ML_DSA_65)


def test_sec1_ec_keys_are_not_pkcs8(pairs: dict[SigningKeySpec, GeneratedKeyPair]) -> None:
    key = serialization.load_der_private_key(
        pairs[SigningKeySpec.ECC_NIST_P256].private_pkcs8_der, None
    )
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    sec1 = key.private_bytes(DER, serialization.PrivateFormat.TraditionalOpenSSL, NO_ENCRYPTION)
    with pytest.raises(PrivateKeyError):
        load_signing_private_key(sec1, SigningKeySpec.ECC_NIST_P256)


def test_x25519_keys_are_not_signing_keys() -> None:
    key = x25519.X25519PrivateKey.generate()
    with pytest.raises(PrivateKeyError):
        load_signing_private_key(
            key.private_bytes(DER, PKCS8, NO_ENCRYPTION), SigningKeySpec.ECC_NIST_P256
        )


@pytest.mark.parametrize("spec", list(SigningKeySpec), ids=lambda s: s.value)
def test_import_re_encodes_to_the_generated_form(
    pairs: dict[SigningKeySpec, GeneratedKeyPair], spec: SigningKeySpec
) -> None:
    imported = import_signing_private_key(pairs[spec].private_pkcs8_der, spec)
    assert imported.public_spki_der == pairs[spec].public_spki_der
    assert load_signing_private_key(imported.private_pkcs8_der, spec).spec is spec


def test_a_1024_bit_rsa_key_matches_no_spec() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    for spec in (SigningKeySpec.RSA_2048, SigningKeySpec.RSA_3072):
        with pytest.raises(PrivateKeyError, match="1024 bits"):
            import_signing_private_key(key.private_bytes(DER, PKCS8, NO_ENCRYPTION), spec)


def test_ml_dsa_private_keys_only_in_seed_form(
    pairs: dict[SigningKeySpec, GeneratedKeyPair],
) -> None:
    """cryptography reads only the seed form; the expanded and "both" forms are typed refusals."""
    seed_form = pairs[SigningKeySpec.ML_DSA_44].private_pkcs8_der
    seed = seed_form[-32:]
    algorithm = der_tlv(0x30, bytes.fromhex("0609608648016503040311"))  # id-ml-dsa-44
    for private_key in (
        der_tlv(0x04, bytes(2560)),  # expandedKey only
        der_tlv(0x30, der_tlv(0x04, seed) + der_tlv(0x04, bytes(2560))),  # both
    ):
        der = der_tlv(0x30, b"\x02\x01\x00" + algorithm + der_tlv(0x04, private_key))
        with pytest.raises(PrivateKeyError):
            import_signing_private_key(der, SigningKeySpec.ML_DSA_44)


def test_every_signing_spec_is_a_domain_key_spec_by_value() -> None:
    """Operations translate the domain's KeySpec to SigningKeySpec by value; none may be missing."""
    assert {spec.value for spec in SigningKeySpec} <= {spec.value for spec in KeySpec}
