"""Regions (DESIGN §4a): a key belongs to the region of the request that created it; another
region's keys are not found, by id, by ARN or in ListKeys; ciphertexts do not cross regions."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from qkms.domain.arns import ArnFormat
from qkms.domain.errors import InvalidCiphertextException, NotFoundException
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.encryption.decrypt import decrypt
from qkms.operations.encryption.encrypt import encrypt
from qkms.operations.keys.create_key import create_key
from qkms.operations.keys.describe_key import describe_key
from qkms.operations.keys.list_keys import list_keys
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.shapes import (
    CreateKeyRequest,
    DescribeKeyRequest,
    ListKeysRequest,
)
from qkms.operations.shapes.encryption import DecryptRequest, EncryptRequest
from qkms.operations.support.keys import load_key
from tests.unit.support import ACCOUNT, context


@pytest.fixture
def aws_services(services: Services) -> Services:
    arns = dataclasses.replace(services.arns, arn_format=ArnFormat.AWS, region="us-east-1")
    return dataclasses.replace(services, arns=arns)


def in_region(services: Services, region: str | None) -> OperationContext:
    return dataclasses.replace(context(services), signed_region=region)


def listed(ctx: OperationContext) -> list[str]:
    return [entry.key_id for entry in list_keys(ctx, ListKeysRequest()).keys]


def test_a_key_belongs_to_the_region_of_the_request_that_created_it(
    aws_services: Services,
) -> None:
    west = in_region(aws_services, "us-west-2")
    metadata = create_key(west, CreateKeyRequest()).key_metadata
    assert metadata.arn == f"arn:verenc:kms:us-west-2:{ACCOUNT}:key/{metadata.key_id}"
    assert load_key(west, metadata.key_id, KeyOperation.DESCRIBE_KEY).region == "us-west-2"


def test_another_regions_key_is_not_found_by_id_or_arn(aws_services: Services) -> None:
    west, east = in_region(aws_services, "us-west-2"), in_region(aws_services, "us-east-1")
    metadata = create_key(west, CreateKeyRequest()).key_metadata
    with pytest.raises(NotFoundException) as by_id:
        describe_key(east, DescribeKeyRequest(key_id=metadata.key_id))
    assert str(by_id.value) == f"Key '{metadata.key_id}' does not exist"
    with pytest.raises(NotFoundException) as by_arn:
        describe_key(east, DescribeKeyRequest(key_id=metadata.arn))
    # AWS names the ARN the caller sent.
    assert str(by_arn.value) == f"Key '{metadata.arn}' does not exist"
    # An ARN naming another region than the key's own is no way in, even from the key's region.
    wrong = metadata.arn.replace("us-west-2", "eu-west-1")
    with pytest.raises(NotFoundException):
        describe_key(west, DescribeKeyRequest(key_id=wrong))
    assert describe_key(west, DescribeKeyRequest(key_id=metadata.arn)).key_metadata.arn == (
        metadata.arn
    )


def test_list_keys_is_per_region(aws_services: Services) -> None:
    west, east = in_region(aws_services, "us-west-2"), in_region(aws_services, "us-east-1")
    west_key = create_key(west, CreateKeyRequest()).key_metadata.key_id
    east_key = create_key(east, CreateKeyRequest()).key_metadata.key_id
    assert listed(west) == [west_key]
    assert listed(east) == [east_key]
    assert listed(in_region(aws_services, "eu-central-1")) == []


def test_keys_stored_before_regions_belong_to_the_default_region(aws_services: Services) -> None:
    east, west = in_region(aws_services, "us-east-1"), in_region(aws_services, "us-west-2")
    created = create_key(east, CreateKeyRequest(key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY"))
    row = aws_services.store.get_key(created.key_metadata.key_id)
    assert row is not None and row.region == "us-east-1"
    # A row as written before the region column existed.
    old_id = str(uuid.uuid4())
    aws_services.store.insert_key(dataclasses.replace(row, key_id=old_id, region=None))
    assert old_id in listed(east)
    assert old_id not in listed(west)
    metadata = describe_key(east, DescribeKeyRequest(key_id=old_id)).key_metadata
    assert metadata.arn == f"arn:verenc:kms:us-east-1:{ACCOUNT}:key/{old_id}"
    with pytest.raises(NotFoundException):
        describe_key(west, DescribeKeyRequest(key_id=old_id))


def test_an_in_process_caller_without_a_signed_region_acts_in_the_default_region(
    aws_services: Services,
) -> None:
    default = in_region(aws_services, None)
    assert default.region == "us-east-1"
    key_id = create_key(default, CreateKeyRequest()).key_metadata.key_id
    assert listed(in_region(aws_services, "us-east-1")) == [key_id]


def test_a_ciphertext_of_another_regions_key_is_an_invalid_ciphertext(
    aws_services: Services,
) -> None:
    west, east = in_region(aws_services, "us-west-2"), in_region(aws_services, "us-east-1")
    key_id = create_key(west, CreateKeyRequest()).key_metadata.key_id
    blob = encrypt(west, EncryptRequest(key_id=key_id, plaintext=b"secret")).ciphertext_blob
    assert blob is not None
    assert decrypt(west, DecryptRequest(ciphertext_blob=blob)).plaintext == b"secret"
    with pytest.raises(InvalidCiphertextException):
        decrypt(east, DecryptRequest(ciphertext_blob=blob))


@pytest.mark.parametrize(
    ("key_ref", "message"),
    [
        pytest.param(
            "mrk-1234abcd12ab34cd56ef1234567890ab",
            "Key 'mrk-1234abcd12ab34cd56ef1234567890ab' does not exist",
            id="mrk-id",
        ),
        pytest.param(
            "00000000-0000-4000-8000-000000000000",
            "Key '00000000-0000-4000-8000-000000000000' does not exist",
            id="uuid",
        ),
        pytest.param("mrk-12", "Invalid keyId 'mrk-12'", id="does-not-parse"),
    ],
)
def test_an_id_that_parses_but_does_not_exist_is_not_found(
    ctx: OperationContext, key_ref: str, message: str
) -> None:
    with pytest.raises(NotFoundException) as raised:
        describe_key(ctx, DescribeKeyRequest(key_id=key_ref))
    assert str(raised.value) == message
