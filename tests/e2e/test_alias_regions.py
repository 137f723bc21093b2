"""Aliases per region through boto3 against `qkms serve --workers 2` (DESIGN §4a): as in AWS,
an alias name is unique in an account and region, so one name can name a key in each region,
and each region's clients list, resolve and change only their region's alias."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e

ACCOUNT = "111122223333"


def listed(kms: Any) -> dict[str, dict[str, Any]]:
    pages = kms.get_paginator("list_aliases").paginate()
    return {a["AliasName"]: a for page in pages for a in page["Aliases"]}


def test_one_alias_name_names_a_key_in_each_region(east: Any, west: Any) -> None:
    name = f"alias/app-{uuid.uuid4().hex[:8]}"
    east_key = east.create_key()["KeyMetadata"]["KeyId"]
    west_key = west.create_key()["KeyMetadata"]["KeyId"]
    east.create_alias(AliasName=name, TargetKeyId=east_key)
    west.create_alias(AliasName=name, TargetKeyId=west_key)  # no AlreadyExistsException
    assert east.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == east_key
    assert west.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == west_key
    assert listed(east)[name]["TargetKeyId"] == east_key
    assert listed(east)[name]["AliasArn"] == f"arn:verenc:kms:us-east-1:{ACCOUNT}:{name}"
    assert listed(west)[name]["TargetKeyId"] == west_key
    assert listed(west)[name]["AliasArn"] == f"arn:verenc:kms:us-west-2:{ACCOUNT}:{name}"

    west.delete_alias(AliasName=name)
    assert name not in listed(west)
    assert east.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == east_key
    with pytest.raises(ClientError) as info:
        west.describe_key(KeyId=name)
    assert info.value.response["Error"] == {
        "Code": "NotFoundException",
        "Message": f"Alias arn:verenc:kms:us-west-2:{ACCOUNT}:{name} is not found.",
    }


def test_an_alias_is_unique_within_its_region(east: Any) -> None:
    name = f"alias/once-{uuid.uuid4().hex[:8]}"
    first, second = (east.create_key()["KeyMetadata"]["KeyId"] for _ in range(2))
    east.create_alias(AliasName=name, TargetKeyId=first)
    with pytest.raises(ClientError) as info:
        east.create_alias(AliasName=name, TargetKeyId=second)
    assert info.value.response["Error"] == {
        "Code": "AlreadyExistsException",
        "Message": f"An alias with the name arn:verenc:kms:us-east-1:{ACCOUNT}:{name} "
        "already exists",
    }


def test_an_alias_cannot_name_another_regions_key(east: Any, west: Any) -> None:
    west_key = west.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as info:
        east.create_alias(AliasName=f"alias/x-{uuid.uuid4().hex[:8]}", TargetKeyId=west_key)
    assert info.value.response["Error"]["Code"] == "NotFoundException"
