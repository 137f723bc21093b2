"""CreateKey: parameters QKMS cannot honour are refused by name, never silently ignored."""

from __future__ import annotations

import pytest

from qkms.crypto import unwrap
from qkms.domain.arns import canonical_key_arn
from qkms.domain.errors import UnsupportedOperationException, ValidationException
from qkms.operations.keys.create_key import create_key
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.shapes import CreateKeyRequest

AGREEMENT: dict[str, object] = {"key_spec": "ECC_NIST_P256", "key_usage": "KEY_AGREEMENT"}


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        # Origin EXTERNAL is served for key agreement keys (DESIGN §4; test_import_key_material).
        ({"origin": "EXTERNAL_KEY_STORE"}, "EXTERNAL_KEY_STORE"),
        ({"origin": "AWS_CLOUDHSM"}, "AWS_CLOUDHSM"),
        # Multi-region keys are served (test_multi_region.py), but not with imported material.
        ({"multi_region": True, "origin": "EXTERNAL"}, "Multi-Region keys with Origin EXTERNAL"),
        ({"custom_key_store_id": "cks-1"}, "Custom key stores"),
    ],
)
def test_unserved_parameters_are_refused(
    ctx: OperationContext, extra: dict[str, object], named: str
) -> None:
    with pytest.raises(UnsupportedOperationException, match=named):
        create_key(ctx, CreateKeyRequest(**AGREEMENT, **extra))  # type: ignore[arg-type]


def test_spec_and_legacy_spec_together(ctx: OperationContext) -> None:
    with pytest.raises(ValidationException, match="CustomerMasterKeySpec"):
        request = CreateKeyRequest(
            key_spec="ECC_NIST_P256",
            key_usage="KEY_AGREEMENT",
            customer_master_key_spec="ECC_NIST_P256",
        )
        create_key(ctx, request)


def test_legacy_spec_alone_works(ctx: OperationContext) -> None:
    created = create_key(
        ctx, CreateKeyRequest(customer_master_key_spec="ECC_NIST_P384", key_usage="KEY_AGREEMENT")
    )
    assert created.key_metadata.key_spec == "ECC_NIST_P384"


def test_aws_valid_but_unsupported_pair(ctx: OperationContext) -> None:
    with pytest.raises(UnsupportedOperationException, match="ECC_NIST_EDWARDS25519"):
        create_key(ctx, CreateKeyRequest(key_spec="ECC_NIST_EDWARDS25519", key_usage="SIGN_VERIFY"))


def test_private_key_is_stored_only_wrapped_under_the_root_key(
    ctx: OperationContext, services: Services
) -> None:
    key_id = create_key(
        ctx, CreateKeyRequest(key_spec="ECC_NIST_P256", key_usage="KEY_AGREEMENT")
    ).key_metadata.key_id
    row = services.store.get_key(key_id)
    assert row is not None and row.wrapped_material is not None
    aad = canonical_key_arn(row.account_id, key_id).encode()
    pkcs8 = unwrap(services.root_key, row.wrapped_material, aad)
    assert pkcs8 not in row.wrapped_material
    assert pkcs8.startswith(b"\x30")  # a DER PKCS#8 structure once unwrapped
