"""ARN shapes of DESIGN §2: written in the configured shape, both shapes read."""

from __future__ import annotations

import pytest

from qkms.domain.arns import ArnFormat, Arns, KeyRef, canonical_key_arn

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
ACCOUNT = "111122223333"


def test_seed_shape_is_the_default() -> None:
    assert Arns().key_arn(ACCOUNT, KEY_ID) == f"arn:verenc:{ACCOUNT}:key/{KEY_ID}"
    assert Arns().user_arn(ACCOUNT, "admin") == f"arn:verenc:{ACCOUNT}:user/admin"
    assert Arns().account_root_arn(ACCOUNT) == f"arn:verenc:{ACCOUNT}:root"


def test_aws_shape() -> None:
    arns = Arns(arn_format=ArnFormat.AWS, region="eu-west-1")
    assert arns.key_arn(ACCOUNT, KEY_ID) == f"arn:verenc:kms:eu-west-1:{ACCOUNT}:key/{KEY_ID}"
    assert arns.alias_arn(ACCOUNT, "alias/x") == f"arn:verenc:kms:eu-west-1:{ACCOUNT}:alias/x"
    assert arns.user_arn(ACCOUNT, "bob") == f"arn:verenc:iam::{ACCOUNT}:user/bob"
    assert arns.account_root_arn(ACCOUNT) == f"arn:verenc:iam::{ACCOUNT}:root"


@pytest.mark.parametrize("arn_format", list(ArnFormat))
def test_both_shapes_are_read_whatever_is_written(arn_format: ArnFormat) -> None:
    arns = Arns(arn_format=arn_format)
    expected = KeyRef(account_id=ACCOUNT, key_id=KEY_ID)
    assert arns.parse_key_ref(f"arn:verenc:{ACCOUNT}:key/{KEY_ID}") == expected
    assert arns.parse_key_ref(f"arn:verenc:kms:us-east-1:{ACCOUNT}:key/{KEY_ID}") == KeyRef(
        account_id=ACCOUNT, key_id=KEY_ID, region="us-east-1"
    )
    assert arns.parse_key_ref(KEY_ID) == KeyRef(account_id=None, key_id=KEY_ID)
    assert arns.parse_key_ref("alias/app") == KeyRef(account_id=None, alias_name="alias/app")
    assert arns.parse_key_ref(f"arn:verenc:{ACCOUNT}:alias/app") == KeyRef(
        account_id=ACCOUNT, alias_name="alias/app"
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "nope",
        KEY_ID.upper(),
        KEY_ID + "0",
        f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{KEY_ID}",  # another partition
        f"arn:verenc:kms::{ACCOUNT}:key/{KEY_ID}",  # no region
        f"arn:verenc:s3:us-east-1:{ACCOUNT}:key/{KEY_ID}",  # another service
        f"arn:verenc:1111:key/{KEY_ID}",  # not a 12-digit account
        f"arn:verenc:{ACCOUNT}:key/not-a-uuid",
        f"arn:verenc:{ACCOUNT}:alias/",
        f"arn:verenc:{ACCOUNT}",
    ],
)
def test_what_is_no_key_reference(text: str) -> None:
    assert Arns().parse_key_ref(text) is None


def test_another_regions_arn_is_a_reference_to_a_key_of_that_region() -> None:
    # Whether the key is visible is the request's region's question (DESIGN §4a); the parse
    # keeps the region so the answer can be AWS's NotFound naming the ARN.
    arns = Arns(region="us-east-1")
    assert arns.parse_key_ref(f"arn:verenc:kms:eu-west-1:{ACCOUNT}:key/{KEY_ID}") == KeyRef(
        account_id=ACCOUNT, key_id=KEY_ID, region="eu-west-1"
    )
    assert arns.parse_key_ref(f"arn:verenc:kms:eu-west-1:{ACCOUNT}:alias/a") == KeyRef(
        account_id=ACCOUNT, alias_name="alias/a", region="eu-west-1"
    )


def test_a_keys_own_region_is_written_in_the_aws_shape() -> None:
    arns = Arns(arn_format=ArnFormat.AWS, region="us-east-1")
    assert arns.key_arn(ACCOUNT, KEY_ID, "eu-west-1") == (
        f"arn:verenc:kms:eu-west-1:{ACCOUNT}:key/{KEY_ID}"
    )
    assert arns.key_arn(ACCOUNT, KEY_ID, None) == f"arn:verenc:kms:us-east-1:{ACCOUNT}:key/{KEY_ID}"
    # The seed shape has no region field.
    assert Arns().key_arn(ACCOUNT, KEY_ID, "eu-west-1") == f"arn:verenc:{ACCOUNT}:key/{KEY_ID}"


def test_canonical_arn_ignores_display_settings() -> None:
    # Wrapped material binds this ARN: changing --arn-format must not orphan stored keys.
    assert canonical_key_arn(ACCOUNT, KEY_ID) == f"arn:verenc:{ACCOUNT}:key/{KEY_ID}"


def test_a_multi_region_key_id_is_a_key_reference() -> None:
    # AWS's multi-Region key ids are "mrk-" and 32 hex digits; one that does not exist is
    # NotFound "Key '...' does not exist", not the "Invalid keyId" of what does not parse.
    mrk = "mrk-1234abcd12ab34cd56ef1234567890ab"
    assert Arns().parse_key_ref(mrk) == KeyRef(account_id=None, key_id=mrk)
    assert Arns().parse_key_ref(f"arn:verenc:{ACCOUNT}:key/{mrk}") == KeyRef(
        account_id=ACCOUNT, key_id=mrk
    )
    for malformed in ("mrk-1234", "mrk-" + "G" * 32, "MRK-1234abcd12ab34cd56ef1234567890ab"):
        assert Arns().parse_key_ref(malformed) is None
