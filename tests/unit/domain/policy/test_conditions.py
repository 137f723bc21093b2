"""Condition operators, modifiers and the missing-key rules of the IAM policy reference."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone

import pytest

from qkms.domain.policy import ContextValue
from qkms.domain.policy.condition_values import ConditionTypeError, parse_date, parse_number
from qkms.domain.policy.conditions import block_holds, normalise_context, parse_condition_block

SEED_ALICE = "arn:verenc:111122223333:user/alice"
AWS_ALICE = "arn:verenc:iam::111122223333:user/alice"


def holds(condition: Mapping[str, object], context: Mapping[str, ContextValue]) -> bool:
    clauses = parse_condition_block(dict(condition), "Statement[0].Condition")
    return block_holds(clauses, normalise_context(context))


Case = tuple[dict[str, object], dict[str, ContextValue], bool]

STRING: list[Case] = [
    ({"StringEquals": {"k": "abc"}}, {"k": "abc"}, True),
    ({"StringEquals": {"k": "abc"}}, {"k": "ABC"}, False),
    ({"StringEquals": {"k": "abc"}}, {"k": "abcd"}, False),
    ({"StringEquals": {"k": "a*"}}, {"k": "abc"}, False),  # no wildcards in Equals
    ({"StringEquals": {"k": ["x", "abc"]}}, {"k": "abc"}, True),  # values OR'd
    ({"StringNotEquals": {"k": "abc"}}, {"k": "abc"}, False),
    ({"StringNotEquals": {"k": "abc"}}, {"k": "xyz"}, True),
    ({"StringNotEquals": {"k": ["a", "b"]}}, {"k": "a"}, False),  # NOR
    ({"StringNotEquals": {"k": ["a", "b"]}}, {"k": "b"}, False),
    ({"StringNotEquals": {"k": ["a", "b"]}}, {"k": "c"}, True),
    ({"StringEqualsIgnoreCase": {"k": "AbC"}}, {"k": "aBc"}, True),
    ({"StringEqualsIgnoreCase": {"k": "AbC"}}, {"k": "aBd"}, False),
    ({"StringNotEqualsIgnoreCase": {"k": "AbC"}}, {"k": "abc"}, False),
    ({"StringNotEqualsIgnoreCase": {"k": "AbC"}}, {"k": "abd"}, True),
    ({"StringLike": {"k": "ECC_NIST_*"}}, {"k": "ECC_NIST_P256"}, True),
    ({"StringLike": {"k": "ECC_NIST_*"}}, {"k": "ECC_SECG_P256K1"}, False),
    ({"StringLike": {"k": "P?56"}}, {"k": "P256"}, True),
    ({"StringLike": {"k": "P?56"}}, {"k": "P2566"}, False),
    ({"StringLike": {"k": "ecc_*"}}, {"k": "ECC_NIST_P256"}, False),  # case-sensitive
    ({"StringLike": {"k": "[ab]"}}, {"k": "a"}, False),  # brackets are literal
    ({"StringLike": {"k": "[ab]"}}, {"k": "[ab]"}, True),
    ({"StringNotLike": {"k": ["a*", "b*"]}}, {"k": "bob"}, False),
    ({"StringNotLike": {"k": ["a*", "b*"]}}, {"k": "carol"}, True),
    ({"StringEquals": {"k": "true"}}, {"k": True}, True),  # context scalars read as text
    ({"StringEquals": {"k": "7"}}, {"k": 7}, True),
]

MISSING: list[Case] = [
    ({"StringEquals": {"k": "a"}}, {}, False),
    ({"StringLike": {"k": "*"}}, {}, False),
    ({"StringEqualsIgnoreCase": {"k": "a"}}, {}, False),
    ({"NumericLessThan": {"k": "1"}}, {}, False),
    ({"DateLessThan": {"k": "2030-01-01"}}, {}, False),
    ({"Bool": {"k": "false"}}, {}, False),
    ({"BinaryEquals": {"k": "AAEC"}}, {}, False),
    ({"IpAddress": {"k": "0.0.0.0/0"}}, {}, False),
    ({"ArnLike": {"k": "arn:*:*:*"}}, {}, False),
    # Negated operators are true when the key is missing (IAM "Condition operators").
    ({"StringNotEquals": {"k": "a"}}, {}, True),
    ({"StringNotLike": {"k": "a"}}, {}, True),
    ({"StringNotEqualsIgnoreCase": {"k": "a"}}, {}, True),
    ({"NumericNotEquals": {"k": "1"}}, {}, True),
    ({"DateNotEquals": {"k": "2030-01-01"}}, {}, True),
    ({"NotIpAddress": {"k": "10.0.0.0/8"}}, {}, True),
    ({"ArnNotEquals": {"k": "arn:a:b:c"}}, {}, True),
    ({"ArnNotLike": {"k": "arn:a:b:c"}}, {}, True),
    # ...IfExists: missing key -> true; present key -> the plain operator.
    ({"StringEqualsIfExists": {"k": "a"}}, {}, True),
    ({"StringEqualsIfExists": {"k": "a"}}, {"k": "a"}, True),
    ({"StringEqualsIfExists": {"k": "a"}}, {"k": "b"}, False),
    ({"StringNotEqualsIfExists": {"k": "a"}}, {"k": "a"}, False),
    ({"NumericLessThanIfExists": {"k": "5"}}, {}, True),
    ({"NumericLessThanIfExists": {"k": "5"}}, {"k": 6}, False),
    ({"DateGreaterThanIfExists": {"k": "2020-01-01"}}, {}, True),
    ({"BoolIfExists": {"k": "false"}}, {}, True),
    ({"BoolIfExists": {"k": "false"}}, {"k": True}, False),
    ({"BinaryEqualsIfExists": {"k": "AAEC"}}, {}, True),
    ({"IpAddressIfExists": {"k": "10.0.0.0/8"}}, {}, True),
    ({"IpAddressIfExists": {"k": "10.0.0.0/8"}}, {"k": "11.0.0.1"}, False),
    ({"ArnLikeIfExists": {"k": "arn:*:*:*"}}, {}, True),
    ({"StringLike": {"k": "a"}}, {"k": []}, False),  # an empty value set is no value
    ({"StringEqualsIfExists": {"k": "a"}}, {"k": []}, True),
]

NUMERIC: list[Case] = [
    ({"NumericEquals": {"k": "10"}}, {"k": 10}, True),
    ({"NumericEquals": {"k": "10"}}, {"k": 10.0}, True),
    ({"NumericEquals": {"k": "10.0"}}, {"k": "10"}, True),
    ({"NumericEquals": {"k": 10}}, {"k": 11}, False),
    ({"NumericNotEquals": {"k": ["1", "2"]}}, {"k": 2}, False),
    ({"NumericNotEquals": {"k": ["1", "2"]}}, {"k": 3}, True),
    ({"NumericLessThan": {"k": "10"}}, {"k": 9}, True),
    ({"NumericLessThan": {"k": "10"}}, {"k": 10}, False),
    ({"NumericLessThanEquals": {"k": "10"}}, {"k": 10}, True),
    ({"NumericLessThanEquals": {"k": "10"}}, {"k": 10.5}, False),
    ({"NumericGreaterThan": {"k": "10"}}, {"k": 11}, True),
    ({"NumericGreaterThan": {"k": "10"}}, {"k": 10}, False),
    ({"NumericGreaterThanEquals": {"k": "10"}}, {"k": 10}, True),
    ({"NumericGreaterThanEquals": {"k": "-1e1"}}, {"k": -11}, False),
    ({"NumericLessThan": {"k": ["1", "100"]}}, {"k": 50}, True),  # OR
]

T0 = "2020-04-01T00:00:00Z"
DATE: list[Case] = [
    ({"DateEquals": {"k": T0}}, {"k": datetime(2020, 4, 1, tzinfo=UTC)}, True),
    ({"DateEquals": {"k": T0}}, {"k": datetime(2020, 4, 1)}, True),  # naive is UTC
    ({"DateEquals": {"k": "2020-04-01T02:00:00+02:00"}}, {"k": T0}, True),
    ({"DateEquals": {"k": "2020-04-01"}}, {"k": T0}, True),
    ({"DateEquals": {"k": "1585699200"}}, {"k": T0}, True),  # epoch seconds in the policy
    ({"DateEquals": {"k": 1585699200}}, {"k": 1585699200}, True),  # and in the context
    ({"DateEquals": {"k": T0}}, {"k": "2020-04-01T00:00:00.000Z"}, True),
    ({"DateNotEquals": {"k": T0}}, {"k": "2020-04-02T00:00:00Z"}, True),
    ({"DateNotEquals": {"k": T0}}, {"k": T0}, False),
    ({"DateLessThan": {"k": T0}}, {"k": "2020-03-31T23:59:59Z"}, True),
    ({"DateLessThan": {"k": T0}}, {"k": T0}, False),
    ({"DateLessThanEquals": {"k": T0}}, {"k": T0}, True),
    ({"DateLessThanEquals": {"k": T0}}, {"k": "2020-04-01T00:00:01Z"}, False),
    ({"DateGreaterThan": {"k": T0}}, {"k": "2020-04-01T00:00:01Z"}, True),
    ({"DateGreaterThan": {"k": T0}}, {"k": T0}, False),
    ({"DateGreaterThanEquals": {"k": T0}}, {"k": T0}, True),
    ({"DateGreaterThanEquals": {"k": T0}}, {"k": "2020-01-01T00:00:00Z"}, False),
    (
        {"DateLessThan": {"k": T0}},
        {"k": datetime(2020, 4, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))},
        True,
    ),
]

OTHERS: list[Case] = [
    ({"Bool": {"k": "true"}}, {"k": True}, True),
    ({"Bool": {"k": "true"}}, {"k": False}, False),
    ({"Bool": {"k": False}}, {"k": "false"}, True),
    ({"Bool": {"k": "TRUE"}}, {"k": "True"}, True),
    ({"BinaryEquals": {"k": "AAEC"}}, {"k": "AAEC"}, True),
    ({"BinaryEquals": {"k": "AAEC"}}, {"k": "AAED"}, False),
    ({"IpAddress": {"k": "203.0.113.0/24"}}, {"k": "203.0.113.9"}, True),
    ({"IpAddress": {"k": "203.0.113.0/24"}}, {"k": "203.0.114.9"}, False),
    ({"IpAddress": {"k": "203.0.113.7"}}, {"k": "203.0.113.7"}, True),  # a bare IP is a /32
    ({"IpAddress": {"k": "203.0.113.7"}}, {"k": "203.0.113.8"}, False),
    ({"IpAddress": {"k": "2001:db8::/32"}}, {"k": "2001:db8:1::5"}, True),
    ({"IpAddress": {"k": "2001:db8::/32"}}, {"k": "2001:db9::5"}, False),
    ({"IpAddress": {"k": "2001:db8::/32"}}, {"k": "203.0.113.7"}, False),  # other family
    ({"IpAddress": {"k": ["10.0.0.0/8", "2001:db8::/32"]}}, {"k": "2001:db8::1"}, True),
    ({"NotIpAddress": {"k": ["10.0.0.0/8", "192.168.0.0/16"]}}, {"k": "192.168.1.1"}, False),
    ({"NotIpAddress": {"k": ["10.0.0.0/8", "192.168.0.0/16"]}}, {"k": "172.16.0.1"}, True),
    ({"ArnEquals": {"k": SEED_ALICE}}, {"k": SEED_ALICE}, True),
    ({"ArnEquals": {"k": "arn:verenc:*:user/al?ce"}}, {"k": SEED_ALICE}, True),
    ({"ArnLike": {"k": "arn:verenc:*:user/*"}}, {"k": SEED_ALICE}, True),
    ({"ArnLike": {"k": "arn:verenc:*:user/*"}}, {"k": AWS_ALICE}, False),  # 4 vs 6 parts
    ({"ArnLike": {"k": "arn:verenc:iam::*:user/*"}}, {"k": AWS_ALICE}, True),
    ({"ArnLike": {"k": "arn:verenc:*:*"}}, {"k": AWS_ALICE}, False),  # * stays in a component
    ({"ArnLike": {"k": "arn:verenc:111122223333:user/*"}}, {"k": "not-an-arn"}, False),
    ({"ArnNotEquals": {"k": SEED_ALICE}}, {"k": SEED_ALICE}, False),
    ({"ArnNotLike": {"k": "arn:verenc:*:user/b*"}}, {"k": SEED_ALICE}, True),
    # A key carrying every spelling of one ARN matches a policy in either shape.
    ({"ArnEquals": {"k": AWS_ALICE}}, {"k": [SEED_ALICE, AWS_ALICE]}, True),
    ({"ArnEquals": {"k": SEED_ALICE}}, {"k": [SEED_ALICE, AWS_ALICE]}, True),
    ({"ArnNotEquals": {"k": AWS_ALICE}}, {"k": [SEED_ALICE, AWS_ALICE]}, False),
    ({"StringEquals": {"k": "x"}}, {"k": ["a", "x"]}, True),
    ({"StringNotEquals": {"k": "x"}}, {"k": ["a", "x"]}, False),
]

NULL: list[Case] = [
    ({"Null": {"k": "true"}}, {}, True),
    ({"Null": {"k": "true"}}, {"k": "v"}, False),
    ({"Null": {"k": "false"}}, {"k": "v"}, True),
    ({"Null": {"k": "false"}}, {}, False),
    ({"Null": {"k": True}}, {"k": []}, True),  # an empty set is no value
    ({"Null": {"k": ["true", "false"]}}, {}, True),  # OR of the two
    ({"Null": {"k": "false"}}, {"k": False}, True),  # a false value is still present
]

SETS: list[Case] = [
    ({"ForAnyValue:StringEquals": {"k": ["a", "b"]}}, {"k": ["x", "b"]}, True),
    ({"ForAnyValue:StringEquals": {"k": ["a", "b"]}}, {"k": ["x", "y"]}, False),
    ({"ForAnyValue:StringEquals": {"k": "a"}}, {}, False),
    ({"ForAnyValue:StringEquals": {"k": "a"}}, {"k": []}, False),
    ({"ForAnyValue:StringNotEquals": {"k": "a"}}, {}, False),
    ({"ForAnyValue:StringNotEquals": {"k": "a"}}, {"k": ["a", "b"]}, True),
    ({"ForAnyValue:StringNotEquals": {"k": "a"}}, {"k": ["a"]}, False),
    ({"ForAnyValue:StringEqualsIfExists": {"k": "a"}}, {}, True),
    ({"ForAllValues:StringEquals": {"k": ["a", "b"]}}, {"k": ["a", "b"]}, True),
    ({"ForAllValues:StringEquals": {"k": ["a", "b"]}}, {"k": ["a"]}, True),
    ({"ForAllValues:StringEquals": {"k": ["a", "b"]}}, {"k": ["a", "c"]}, False),
    ({"ForAllValues:StringEquals": {"k": "a"}}, {}, True),
    ({"ForAllValues:StringEquals": {"k": "a"}}, {"k": []}, True),
    # IAM's multivalued-key example: ForAllValues:StringNotLike with aws:TagKeys "key1*".
    (
        {"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}},
        {"aws:tagkeys": ["key1:legal"]},
        False,
    ),
    (
        {"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}},
        {"aws:tagkeys": ["key1:hr", "key1:p"]},
        False,
    ),
    (
        {"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}},
        {"aws:tagkeys": ["key2:audit"]},
        True,
    ),
    ({"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}}, {}, True),
    ({"ForAnyValue:NumericGreaterThan": {"k": "5"}}, {"k": ["1", "9"]}, True),
    ({"ForAllValues:IpAddress": {"k": "10.0.0.0/8"}}, {"k": ["10.1.1.1", "11.1.1.1"]}, False),
]

COMBINED: list[Case] = [
    # Keys under one operator AND; operators AND; keys are case-insensitive in policy and context.
    ({"StringEquals": {"a": "1", "b": "2"}}, {"a": "1", "b": "2"}, True),
    ({"StringEquals": {"a": "1", "b": "2"}}, {"a": "1", "b": "3"}, False),
    ({"StringEquals": {"a": "1"}, "NumericLessThan": {"n": "3"}}, {"a": "1", "n": 2}, True),
    ({"StringEquals": {"a": "1"}, "NumericLessThan": {"n": "3"}}, {"a": "1", "n": 4}, False),
    ({"StringEquals": {"KMS:KeySpec": "ECC_NIST_P256"}}, {"kms:keyspec": "ECC_NIST_P256"}, True),
    ({"StringEquals": {"kms:keyspec": "ECC_NIST_P256"}}, {"Kms:KeySpec": "ECC_NIST_P256"}, True),
    ({"StringEquals": {"kms:KeySpec": "ecc_nist_p256"}}, {"kms:keyspec": "ECC_NIST_P256"}, False),
]


@pytest.mark.parametrize(
    ("condition", "context", "expected"),
    STRING + MISSING + NUMERIC + DATE + OTHERS + NULL + SETS + COMBINED,
)
def test_condition(
    condition: dict[str, object], context: dict[str, ContextValue], expected: bool
) -> None:
    assert holds(condition, context) is expected


def test_empty_condition_block_holds() -> None:
    assert holds({}, {})


@pytest.mark.parametrize(
    ("condition", "context"),
    [
        ({"NumericEquals": {"k": "1"}}, {"k": "one"}),
        ({"NumericEquals": {"k": "1"}}, {"k": True}),
        ({"DateEquals": {"k": T0}}, {"k": "soon"}),
        ({"Bool": {"k": "true"}}, {"k": 1}),
        ({"IpAddress": {"k": "10.0.0.0/8"}}, {"k": "ten"}),
        ({"BinaryEquals": {"k": "AAEC"}}, {"k": "%%%"}),
        ({"StringEquals": {"k": "a"}}, {"k": datetime(2020, 1, 1)}),
    ],
)
def test_a_context_value_of_the_wrong_type_raises_so_the_evaluator_fails_closed(
    condition: dict[str, object], context: dict[str, ContextValue]
) -> None:
    with pytest.raises(ConditionTypeError):
        holds(condition, context)


def test_a_context_key_spelled_twice_is_refused() -> None:
    with pytest.raises(ConditionTypeError):
        normalise_context({"kms:KeySpec": "A", "kms:keyspec": "B"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-04-01T00:00:00Z", datetime(2020, 4, 1, tzinfo=UTC)),
        ("2020-04-01", datetime(2020, 4, 1, tzinfo=UTC)),
        ("2020-04-01T05:30:00+05:30", datetime(2020, 4, 1, tzinfo=UTC)),
        ("0", datetime(1970, 1, 1, tzinfo=UTC)),
        ("1585699200.5", datetime(2020, 4, 1, 0, 0, 0, 500000, tzinfo=UTC)),
        ("April 1", None),
        ("", None),
    ],
)
def test_parse_date(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "ok"), [("1", True), ("-2.5", True), ("1e3", True), ("inf", False), ("0x10", False)]
)
def test_parse_number(text: str, ok: bool) -> None:
    assert (parse_number(text) is not None) is ok
