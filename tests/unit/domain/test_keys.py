"""Spec/usage compatibility and capabilities: one answer to "can this key derive?"."""

from __future__ import annotations

import pytest

from qkms.crypto import Curve
from qkms.domain.keys import (
    KeySpec,
    KeyUsage,
    curve_of,
    is_supported_pair,
    is_valid_aws_pair,
)

ECC = [KeySpec.ECC_NIST_P256, KeySpec.ECC_NIST_P384, KeySpec.ECC_NIST_P521, KeySpec.ECC_SECG_P256K1]


@pytest.mark.parametrize("spec", ECC, ids=lambda s: s.value)
def test_both_agreement_spellings_are_one_usage(spec: KeySpec) -> None:
    for usage in (KeyUsage.KEY_AGREEMENT, KeyUsage.DERIVE_SHARED_SECRET):
        assert usage.is_key_agreement
        assert is_valid_aws_pair(spec, usage)
        assert is_supported_pair(spec, usage)
    assert is_supported_pair(spec, KeyUsage.SIGN_VERIFY)
    assert not is_valid_aws_pair(spec, KeyUsage.ENCRYPT_DECRYPT)


def test_curves() -> None:
    assert curve_of(KeySpec.ECC_NIST_P256) is Curve.P256
    assert curve_of(KeySpec.ECC_NIST_P384) is Curve.P384
    assert curve_of(KeySpec.ECC_NIST_P521) is Curve.P521
    assert curve_of(KeySpec.ECC_SECG_P256K1) is Curve.SECP256K1
    assert curve_of(KeySpec.RSA_2048) is None


def test_aws_valid_but_unsupported_pairs_are_told_apart() -> None:
    # Ed25519 signing is AWS's and not (yet) QKMS's; RSA encryption is both.
    assert is_valid_aws_pair(KeySpec.ECC_NIST_EDWARDS25519, KeyUsage.SIGN_VERIFY)
    assert not is_supported_pair(KeySpec.ECC_NIST_EDWARDS25519, KeyUsage.SIGN_VERIFY)
    assert is_supported_pair(KeySpec.RSA_2048, KeyUsage.ENCRYPT_DECRYPT)
    assert not is_valid_aws_pair(KeySpec.RSA_2048, KeyUsage.DERIVE_SHARED_SECRET)
    assert not is_valid_aws_pair(KeySpec.SYMMETRIC_DEFAULT, KeyUsage.KEY_AGREEMENT)
    assert is_supported_pair(KeySpec.SYMMETRIC_DEFAULT, KeyUsage.ENCRYPT_DECRYPT)


def test_enum_values_are_the_wire_strings() -> None:
    for enum_type in (KeySpec, KeyUsage):
        for member in enum_type:
            assert member.value == member.name
