"""Multi-region keys through boto3 against `qkms serve --workers 2` (DESIGN §4a): a replica in
us-west-2 decrypts what its us-east-1 primary encrypted and the other way round, roles swap
with UpdatePrimaryRegion, metadata has exactly the model's members, and AWS's refusals."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e

ACCOUNT = "111122223333"
_MODEL = botocore.session.get_session().get_service_model("kms")
METADATA_MEMBERS = set(_MODEL.shape_for("KeyMetadata").members)
CONFIGURATION_MEMBERS = set(_MODEL.shape_for("MultiRegionConfiguration").members)
MULTI_REGION_KEY_MEMBERS = set(_MODEL.shape_for("MultiRegionKey").members)


def error_of(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call()
    error = info.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def arn(region: str, key_id: str) -> str:
    return f"arn:verenc:kms:{region}:{ACCOUNT}:key/{key_id}"


def test_a_replica_decrypts_the_primarys_ciphertext_and_back(east: Any, west: Any) -> None:
    key = east.create_key(MultiRegion=True, Description="primary")["KeyMetadata"]
    key_id = key["KeyId"]
    assert re.fullmatch(r"mrk-[0-9a-f]{32}", key_id)
    east_blob = east.encrypt(KeyId=key_id, Plaintext=b"from east", EncryptionContext={"a": "1"})
    # Before replication the key does not exist in us-west-2.
    assert error_of(lambda: west.describe_key(KeyId=key_id))[0] == "NotFoundException"

    replicated = east.replicate_key(
        KeyId=key_id,
        ReplicaRegion="us-west-2",
        Description="replica",
        Tags=[{"TagKey": "team", "TagValue": "west"}],
    )
    replica = replicated["ReplicaKeyMetadata"]
    assert (replica["KeyId"], replica["Arn"]) == (key_id, arn("us-west-2", key_id))
    assert replica["Description"] == "replica" and replica["KeyState"] == "Enabled"
    assert replicated["ReplicaTags"] == [{"TagKey": "team", "TagValue": "west"}]
    assert '"Statement"' in replicated["ReplicaPolicy"]

    decrypted = west.decrypt(
        CiphertextBlob=east_blob["CiphertextBlob"], EncryptionContext={"a": "1"}
    )
    assert decrypted["Plaintext"] == b"from east"
    assert decrypted["KeyId"] == arn("us-west-2", key_id)
    west_blob = west.encrypt(KeyId=key_id, Plaintext=b"from west")["CiphertextBlob"]
    assert east.decrypt(CiphertextBlob=west_blob)["Plaintext"] == b"from west"
    # A data key made in one region opens in the other.
    data_key = west.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    assert (
        east.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"]
        == data_key["Plaintext"]
    )

    # Each region's key has its own state: disabling the replica leaves the primary usable.
    west.disable_key(KeyId=key_id)
    assert error_of(lambda: west.decrypt(CiphertextBlob=west_blob))[0] == "DisabledException"
    assert east.decrypt(CiphertextBlob=west_blob)["Plaintext"] == b"from west"
    west.enable_key(KeyId=key_id)
    assert east.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "primary"


def test_a_rotation_of_the_primary_reaches_the_replica(east: Any, west: Any) -> None:
    key_id = east.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    east.replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    east.rotate_key_on_demand(KeyId=key_id)
    rotated = east.describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"]
    assert west.describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"] == rotated
    blob = east.encrypt(KeyId=key_id, Plaintext=b"after rotation")["CiphertextBlob"]
    assert west.decrypt(CiphertextBlob=blob)["Plaintext"] == b"after rotation"


def test_an_asymmetric_replica_signs_with_the_same_private_key(east: Any, west: Any) -> None:
    key_id = east.create_key(MultiRegion=True, KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")[
        "KeyMetadata"
    ]["KeyId"]
    east.replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    assert (
        east.get_public_key(KeyId=key_id)["PublicKey"]
        == west.get_public_key(KeyId=key_id)["PublicKey"]
    )
    signature = west.sign(
        KeyId=key_id, Message=b"m", MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256"
    )["Signature"]
    verified = east.verify(
        KeyId=key_id,
        Message=b"m",
        MessageType="RAW",
        Signature=signature,
        SigningAlgorithm="ECDSA_SHA_256",
    )
    assert verified["SignatureValid"] is True


def test_metadata_has_the_models_members_for_single_and_multi_region_keys(
    east: Any, west: Any
) -> None:
    single = east.create_key()["KeyMetadata"]
    assert single["MultiRegion"] is False
    assert "MultiRegionConfiguration" not in single
    assert set(single) <= METADATA_MEMBERS

    key_id = east.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    east.replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    east.replicate_key(KeyId=key_id, ReplicaRegion="eu-west-1")
    primary = east.describe_key(KeyId=key_id)["KeyMetadata"]
    assert set(primary) <= METADATA_MEMBERS and primary["MultiRegion"] is True
    configuration = primary["MultiRegionConfiguration"]
    assert set(configuration) == CONFIGURATION_MEMBERS
    assert configuration["MultiRegionKeyType"] == "PRIMARY"
    assert configuration["PrimaryKey"] == {"Arn": arn("us-east-1", key_id), "Region": "us-east-1"}
    assert configuration["ReplicaKeys"] == [
        {"Arn": arn("eu-west-1", key_id), "Region": "eu-west-1"},
        {"Arn": arn("us-west-2", key_id), "Region": "us-west-2"},
    ]
    for entry in [configuration["PrimaryKey"], *configuration["ReplicaKeys"]]:
        assert set(entry) == MULTI_REGION_KEY_MEMBERS
    replica = west.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"]
    assert replica["MultiRegionKeyType"] == "REPLICA"
    assert replica["PrimaryKey"] == configuration["PrimaryKey"]
    assert replica["ReplicaKeys"] == configuration["ReplicaKeys"]


def test_update_primary_region_swaps_the_roles(east: Any, west: Any) -> None:
    key_id = east.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    east.replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    east.update_primary_region(KeyId=key_id, PrimaryRegion="us-west-2")
    west_view = west.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"]
    east_view = east.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"]
    assert west_view["MultiRegionKeyType"] == "PRIMARY"
    assert east_view["MultiRegionKeyType"] == "REPLICA"
    assert east_view["PrimaryKey"] == {"Arn": arn("us-west-2", key_id), "Region": "us-west-2"}
    assert east_view["ReplicaKeys"] == [{"Arn": arn("us-east-1", key_id), "Region": "us-east-1"}]
    # Now the west key is the one that replicates; the east one is refused as a replica.
    assert error_of(lambda: east.replicate_key(KeyId=key_id, ReplicaRegion="eu-west-1"))[0] == (
        "UnsupportedOperationException"
    )
    west.replicate_key(KeyId=key_id, ReplicaRegion="eu-west-1")
    blob = east.encrypt(KeyId=key_id, Plaintext=b"still one key")["CiphertextBlob"]
    assert west.decrypt(CiphertextBlob=blob)["Plaintext"] == b"still one key"


def test_refusals(east: Any, west: Any) -> None:
    single = east.create_key()["KeyMetadata"]
    assert error_of(
        lambda: east.replicate_key(KeyId=single["KeyId"], ReplicaRegion="us-west-2")
    ) == ("UnsupportedOperationException", f"{single['Arn']} is not a multi-region key.")
    assert (
        error_of(
            lambda: east.update_primary_region(KeyId=single["KeyId"], PrimaryRegion="us-west-2")
        )[0]
        == "UnsupportedOperationException"
    )

    key_id = east.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    assert error_of(lambda: east.replicate_key(KeyId=key_id, ReplicaRegion="us-east-1"))[0] == (
        "ValidationException"
    )
    east.replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    assert error_of(lambda: east.replicate_key(KeyId=key_id, ReplicaRegion="us-west-2"))[0] == (
        "AlreadyExistsException"
    )
    assert error_of(
        lambda: east.update_primary_region(KeyId=key_id, PrimaryRegion="ap-south-1")
    ) == ("NotFoundException", f"Key '{arn('ap-south-1', key_id)}' does not exist")
    code, message = error_of(lambda: east.replicate_key(KeyId=key_id, ReplicaRegion="Not_A_Region"))
    assert code == "ValidationException" and "replicaRegion" in message
    assert (
        error_of(lambda: east.create_key(MultiRegion=True, Origin="EXTERNAL"))[0]
        == "UnsupportedOperationException"
    )
    # A multi-region id that was never created is NotFound, as any id that parses.
    missing = "mrk-" + "0" * 32
    assert error_of(lambda: west.describe_key(KeyId=missing)) == (
        "NotFoundException",
        f"Key '{missing}' does not exist",
    )


def test_aliases_of_a_multi_region_key_are_per_region(east: Any, west: Any) -> None:
    key_id = east.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    east.replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    name = f"alias/mrk-{key_id[4:12]}"
    east.create_alias(AliasName=name, TargetKeyId=key_id)
    assert error_of(lambda: west.describe_key(KeyId=name))[0] == "NotFoundException"
    west.create_alias(AliasName=name, TargetKeyId=key_id)
    blob = east.encrypt(KeyId=name, Plaintext=b"by alias")["CiphertextBlob"]
    assert west.decrypt(CiphertextBlob=blob, KeyId=name)["Plaintext"] == b"by alias"
