"""KeyMetadata and the algorithm lists exactly as AWS KMS reports them for each key type."""

from __future__ import annotations

from qkms.crypto import SIGNING_ALGORITHMS
from qkms.domain.keys import Key, KeySpec, KeyUsage
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import KeyMetadata
from qkms.operations.shapes.multi_region import MultiRegionConfiguration, MultiRegionKey
from qkms.operations.support.key_rows import key_from_row
from qkms.operations.support.keys import key_arn

__all__ = [
    "algorithm_lists",
    "encapsulation_algorithms",
    "key_metadata",
    "mac_algorithms",
    "multi_region_configuration",
]

# AWS "Key spec reference": RSA ENCRYPT_DECRYPT keys list both OAEP algorithms.
_RSA_ENCRYPTION = ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
_RSA_SPECS = frozenset({KeySpec.RSA_2048, KeySpec.RSA_3072, KeySpec.RSA_4096})


def mac_algorithms(key: Key) -> list[str] | None:
    """MacAlgorithms: the one algorithm of an HMAC key (absent for every other key, as AWS)."""
    spec = key.hmac_spec
    if key.key_usage is not KeyUsage.GENERATE_VERIFY_MAC or spec is None:
        return None
    return [spec.mac_algorithm.value]


def encapsulation_algorithms(key: Key) -> list[str] | None:
    """EncapsulationAlgorithms: only for ENCAPSULATE_DECAPSULATE keys (AWS's KeyMetadata)."""
    return ["ML_KEM"] if key.key_usage is KeyUsage.ENCAPSULATE_DECAPSULATE else None


def algorithm_lists(key: Key) -> tuple[list[str] | None, list[str] | None, list[str] | None]:
    """(EncryptionAlgorithms, SigningAlgorithms, KeyAgreementAlgorithms) for this key."""
    if key.key_usage.is_key_agreement:
        return None, None, ["ECDH"]
    signing_spec = key.signing_spec
    if key.key_usage is KeyUsage.SIGN_VERIFY and signing_spec is not None:
        return None, [a.value for a in SIGNING_ALGORITHMS[signing_spec]], None
    if key.key_usage is KeyUsage.ENCRYPT_DECRYPT and key.key_spec is KeySpec.SYMMETRIC_DEFAULT:
        return ["SYMMETRIC_DEFAULT"], None, None
    if key.key_usage is KeyUsage.ENCRYPT_DECRYPT and key.key_spec in _RSA_SPECS:
        return list(_RSA_ENCRYPTION), None, None
    return None, None, None


def multi_region_configuration(ctx: OperationContext, key: Key) -> MultiRegionConfiguration | None:
    """AWS's MultiRegionConfiguration: the primary and every replica, each by ARN and region;
    the regions are read from the store (a replica added elsewhere shows at once)."""
    if not key.is_multi_region:
        return None
    arns = ctx.services.arns
    primary_region = key.primary_region or key.region or arns.region
    others = [key_from_row(row) for row in ctx.services.store.region_rows(key.key_id)]
    replica_regions = sorted(
        region
        for region in {k.region or arns.region for k in others} | {key.region or arns.region}
        if region != primary_region
    )

    def entry(region: str) -> MultiRegionKey:
        return MultiRegionKey(arn=arns.key_arn(key.account_id, key.key_id, region), region=region)

    return MultiRegionConfiguration(
        multi_region_key_type="REPLICA" if key.is_replica else "PRIMARY",
        primary_key=entry(primary_region),
        replica_keys=[entry(region) for region in replica_regions],
    )


def key_metadata(ctx: OperationContext, key: Key) -> KeyMetadata:
    encryption, signing, agreement = algorithm_lists(key)
    return KeyMetadata(
        aws_account_id=key.account_id,
        key_id=key.key_id,
        arn=key_arn(ctx, key),
        creation_date=key.creation_date,
        enabled=key.is_enabled,
        description=key.description,
        key_usage=key.key_usage.value,
        key_state=key.state.value,
        deletion_date=key.deletion_date,
        valid_to=key.valid_to,
        origin=key.origin.value,
        expiration_model=key.expiration_model,
        key_manager="CUSTOMER",
        customer_master_key_spec=key.key_spec.value,
        key_spec=key.key_spec.value,
        encryption_algorithms=encryption,
        signing_algorithms=signing,
        key_agreement_algorithms=agreement,
        mac_algorithms=mac_algorithms(key),
        encapsulation_algorithms=encapsulation_algorithms(key),
        multi_region=key.is_multi_region,
        multi_region_configuration=multi_region_configuration(ctx, key),
        # AWS: present for symmetric encryption keys only (KeyMetadata, botocore's kms model).
        current_key_material_id=key.current_key_material_id,
    )
