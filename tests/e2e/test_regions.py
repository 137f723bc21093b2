"""Regions through boto3 against `qkms serve --workers 2` (DESIGN §4a): a key belongs to the
region its creating client signed for; clients of another region do not see it by id, by ARN,
in ListKeys or through a ciphertext."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import QkmsServer

pytestmark = pytest.mark.e2e

ACCOUNT = "111122223333"


@pytest.fixture(scope="module")
def regional(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    data_dir: Path = tmp_path_factory.mktemp("regions") / "data"
    qkms = QkmsServer(
        data_dir,
        workers=2,
        extra_args=["--arn-format", "aws", "--partition", "aws", "--region", "us-east-1"],
    )
    qkms.start()
    yield qkms
    qkms.stop()


def error_of(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call()
    error = info.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def all_key_ids(kms: Any) -> set[str]:
    return {k["KeyId"] for page in kms.get_paginator("list_keys").paginate() for k in page["Keys"]}


def test_a_key_lives_in_the_region_its_client_signed_for(east: Any, west: Any) -> None:
    key = west.create_key(Description="west")["KeyMetadata"]
    assert key["Arn"] == f"arn:aws:kms:us-west-2:{ACCOUNT}:key/{key['KeyId']}"
    assert west.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["Arn"] == key["Arn"]
    assert west.describe_key(KeyId=key["Arn"])["KeyMetadata"]["KeyId"] == key["KeyId"]
    assert error_of(lambda: east.describe_key(KeyId=key["KeyId"])) == (
        "NotFoundException",
        f"Key '{key['KeyId']}' does not exist",
    )
    # AWS's answer for another region's ARN names that ARN.
    assert error_of(lambda: east.describe_key(KeyId=key["Arn"])) == (
        "NotFoundException",
        f"Key '{key['Arn']}' does not exist",
    )


def test_list_keys_is_per_region(east: Any, west: Any) -> None:
    west_key = west.create_key()["KeyMetadata"]["KeyId"]
    east_key = east.create_key()["KeyMetadata"]["KeyId"]
    assert west_key in all_key_ids(west) and west_key not in all_key_ids(east)
    assert east_key in all_key_ids(east) and east_key not in all_key_ids(west)
    for entry in west.list_keys()["Keys"]:
        assert entry["KeyArn"].startswith("arn:aws:kms:us-west-2:")


def test_a_ciphertext_does_not_cross_regions(east: Any, west: Any) -> None:
    key_id = west.create_key()["KeyMetadata"]["KeyId"]
    blob = west.encrypt(KeyId=key_id, Plaintext=b"hello")["CiphertextBlob"]
    assert west.decrypt(CiphertextBlob=blob)["Plaintext"] == b"hello"
    assert error_of(lambda: east.decrypt(CiphertextBlob=blob))[0] == "InvalidCiphertextException"
