"""The audit event's per-type shortcuts record exactly what a walk of every member recorded."""

from __future__ import annotations

import datetime
import random
from typing import Any

import msgspec
import msgspec.inspect
import pytest

from qkms.audit import events
from qkms.audit.events import format_event_time
from qkms.operations.shapes import DeriveSharedSecretRequest, RecipientInfo
from qkms.operations.shapes.base import Request, Response
from qkms.operations.shapes.keys import DescribeKeyResponse, KeyMetadata
from qkms.operations.shapes.multi_region import MultiRegionConfiguration, MultiRegionKey

ARN = "arn:aws:kms:us-east-1:111122223333:key/0b2c6a1e-8f0d-4d4e-9a55-2f4c1b6f7a11"
REPLICA = "arn:aws:kms:eu-west-1:111122223333:key/0b2c6a1e-8f0d-4d4e-9a55-2f4c1b6f7a11"


def _all_struct_types() -> list[type[msgspec.Struct]]:
    found: list[type[msgspec.Struct]] = []
    pending: list[type[msgspec.Struct]] = [Request, Response, RecipientInfo]
    while pending:
        struct_type = pending.pop()
        if struct_type in found:
            continue
        found.append(struct_type)
        pending.extend(struct_type.__subclasses__())
        try:
            info = msgspec.inspect.type_info(struct_type)
        except Exception:
            continue
        assert isinstance(info, msgspec.inspect.StructType)
        for field in info.fields:
            pending.extend(t.cls for t in _structs_in(field.type, into_lists=True))
    return found


def _structs_in(info: msgspec.inspect.Type, into_lists: bool) -> list[msgspec.inspect.StructType]:
    if isinstance(info, msgspec.inspect.StructType):
        return [info]
    if isinstance(info, msgspec.inspect.UnionType):
        return [s for t in info.types for s in _structs_in(t, into_lists)]
    if into_lists and isinstance(info, msgspec.inspect.ListType):
        return _structs_in(info.item_type, into_lists)
    return []


@pytest.mark.parametrize("struct_type", _all_struct_types(), ids=lambda t: t.__name__)
def test_every_member_that_can_hold_a_struct_is_walked_for_key_arns(
    struct_type: type[msgspec.Struct],
) -> None:
    walked = {attribute for attribute, _ in events._arn_plan(struct_type)}
    try:
        info = msgspec.inspect.type_info(struct_type)
    except Exception:  # a type msgspec cannot resolve: every member is walked
        assert walked == set(struct_type.__struct_fields__)
        return
    assert isinstance(info, msgspec.inspect.StructType)
    for field in info.fields:
        if _structs_in(field.type, into_lists=False) or isinstance(
            field.type, msgspec.inspect.AnyType
        ):
            assert field.name in walked
        if field.encode_name in events._ARN_MEMBERS:
            assert field.name in walked


def _every_member_walk(struct: msgspec.Struct | None, found: list[str], depth: int = 0) -> None:
    """What `_key_arns` did before it had a plan per type: look at every member's value."""
    if struct is None or depth > events._MAX_DEPTH:
        return
    for attribute, name in zip(
        type(struct).__struct_fields__, type(struct).__struct_encode_fields__, strict=True
    ):
        value = getattr(struct, attribute)
        if isinstance(value, msgspec.Struct):
            _every_member_walk(value, found, depth + 1)
        elif name in events._ARN_MEMBERS and isinstance(value, str):
            if value.startswith("arn:") and ":key/" in value and value not in found:
                found.append(value)


class _Loose(msgspec.Struct, frozen=True, kw_only=True, rename="pascal"):
    """A member typed Any can hold anything, a struct with an ARN in it too."""

    anything: Any = None
    key_id: str | None = None


def _metadata(**overrides: Any) -> KeyMetadata:
    fields: dict[str, Any] = {
        "aws_account_id": "111122223333",
        "key_id": "0b2c6a1e-8f0d-4d4e-9a55-2f4c1b6f7a11",
        "arn": ARN,
        "creation_date": 1.0,
        "enabled": True,
        "description": "",
        "key_usage": "ENCRYPT_DECRYPT",
        "key_state": "Enabled",
        "origin": "AWS_KMS",
        "key_manager": "CUSTOMER",
        "customer_master_key_spec": "SYMMETRIC_DEFAULT",
        "key_spec": "SYMMETRIC_DEFAULT",
        "multi_region": False,
    }
    return KeyMetadata(**(fields | overrides))


@pytest.mark.parametrize(
    "struct",
    [
        DescribeKeyResponse(key_metadata=_metadata()),
        DescribeKeyResponse(
            key_metadata=_metadata(
                multi_region_configuration=MultiRegionConfiguration(
                    multi_region_key_type="REPLICA",
                    primary_key=MultiRegionKey(arn=REPLICA, region="eu-west-1"),
                    replica_keys=[MultiRegionKey(arn=ARN, region="us-east-1")],
                )
            )
        ),
        DeriveSharedSecretRequest(key_id=ARN, public_key=b"\x04", key_agreement_algorithm="ECDH"),
        _Loose(anything=DescribeKeyResponse(key_metadata=_metadata(arn=REPLICA)), key_id=ARN),
        _Loose(anything=ARN),
    ],
    ids=["describe", "multi-region", "derive", "any-holding-a-struct", "any-holding-a-string"],
)
def test_key_arns_are_the_ones_a_walk_of_every_member_finds(struct: msgspec.Struct) -> None:
    expected: list[str] = []
    _every_member_walk(struct, expected)
    found: list[str] = []
    events._key_arns(struct, found)
    assert found == expected


@pytest.mark.parametrize(
    "epoch",
    [
        -0.5,
        -1.0000004,
        0.0004999,
        0.0005,
        59.9995,
        1_764_595_799.9995,
        1_764_595_799.9999995,
        1_764_595_799.9999996,
        *(random.Random(11).uniform(0, 4e9) for _ in range(300)),
        *(1_764_595_800 + n / 1000 + 0.0000005 for n in range(-3, 3)),
    ],
)
def test_event_time_is_what_datetime_gives(epoch: float) -> None:
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    expected = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    assert format_event_time(epoch) == expected
