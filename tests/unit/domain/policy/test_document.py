"""parse_policy: every malformed form is refused with a message saying what and where."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from qkms.domain.errors import KmsError
from qkms.domain.policy import (
    MAX_POLICY_BYTES,
    Effect,
    MalformedPolicyDocumentException,
    PolicyKind,
    PrincipalId,
    default_key_policy,
    parse_policy,
)
from tests.unit.domain.policy.support import ACCOUNT, allow, deny, policy_text

ROOT = f"arn:verenc:{ACCOUNT}:root"
KEY_STMT = allow(principal={"AWS": ROOT})


def _raw(document: object) -> str:
    return json.dumps(document)


MALFORMED: list[tuple[str, str, PolicyKind]] = [
    ("not json", "not valid JSON", PolicyKind.KEY),
    ("", "not valid JSON", PolicyKind.KEY),
    ("[]", "must be a JSON object", PolicyKind.KEY),
    ('"text"', "must be a JSON object", PolicyKind.KEY),
    (
        '{"Version": "2012-10-17", "Version": "2012-10-17", "Statement": []}',
        "duplicate",
        PolicyKind.KEY,
    ),
    (_raw({"Version": "2012-10-17"}), "must have a Statement", PolicyKind.KEY),
    (_raw({"Version": "2012-10-17", "Statement": []}), "non-empty list", PolicyKind.KEY),
    (_raw({"Version": "2012-10-17", "Statement": "x"}), "non-empty list", PolicyKind.KEY),
    (_raw({"Version": "2012-10-18", "Statement": [KEY_STMT]}), "Version must be", PolicyKind.KEY),
    (_raw({"Version": 2012, "Statement": [KEY_STMT]}), "Version must be", PolicyKind.KEY),
    (
        _raw({"Version": "2012-10-17", "Statement": [KEY_STMT], "Foo": 1}),
        "unknown element 'Foo'",
        PolicyKind.KEY,
    ),
    (_raw({"Statement": [KEY_STMT], "Id": 5}), "Id must be a string", PolicyKind.KEY),
    (policy_text("x"), "Statement[0] must be an object", PolicyKind.KEY),
    (
        policy_text(KEY_STMT, {**KEY_STMT, "Effect": "allow"}),
        "Statement[1].Effect must be Allow or Deny",
        PolicyKind.KEY,
    ),
    (
        policy_text({**KEY_STMT, "Effect": None}),
        "Statement[0].Effect must be Allow or Deny",
        PolicyKind.KEY,
    ),
    (
        policy_text({k: v for k, v in KEY_STMT.items() if k != "Effect"}),
        "Effect must be",
        PolicyKind.KEY,
    ),
    (
        policy_text({**KEY_STMT, "Bogus": 1}),
        "Statement[0] has unknown element 'Bogus'",
        PolicyKind.KEY,
    ),
    (policy_text({**KEY_STMT, "Sid": 3}), "Statement[0].Sid must be a string", PolicyKind.KEY),
    (
        policy_text({**KEY_STMT, "Sid": "A"}, {**KEY_STMT, "Sid": "A"}),
        "Sid 'A' is used by more",
        PolicyKind.KEY,
    ),
    (policy_text(allow()), "Statement[0] must have a Principal or NotPrincipal", PolicyKind.KEY),
    (
        policy_text(KEY_STMT),
        "Statement[0].Principal is not allowed in an identity policy",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text({**allow(), "NotPrincipal": {"AWS": ROOT}}),
        "NotPrincipal is not allowed in an identity",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text({**KEY_STMT, "NotPrincipal": {"AWS": ROOT}}),
        "has both Principal and NotPrincipal",
        PolicyKind.KEY,
    ),
    (
        policy_text({**allow(), "NotPrincipal": {"AWS": ROOT}}),
        "NotPrincipal may only be used with Deny",
        PolicyKind.KEY,
    ),
    (policy_text({**deny(), "NotPrincipal": "*"}), 'NotPrincipal cannot be "*"', PolicyKind.KEY),
    (policy_text(allow(principal="root")), 'Principal must be "*" or an object', PolicyKind.KEY),
    (policy_text(allow(principal={})), 'Principal must be "*" or an object', PolicyKind.KEY),
    (
        policy_text(allow(principal={"Federated": "x"})),
        "unsupported principal type 'Federated'",
        PolicyKind.KEY,
    ),
    (
        policy_text(allow(principal={"AWS": []})),
        "Principal.AWS must be a non-empty",
        PolicyKind.KEY,
    ),
    (
        policy_text(allow(principal={"AWS": 111122223333})),
        "Principal.AWS must be a non-empty",
        PolicyKind.KEY,
    ),
    (
        policy_text(allow(principal={"AWS": "11112222333"})),
        "is not '*', an account id",
        PolicyKind.KEY,
    ),
    (
        policy_text(allow(principal={"AWS": "arn:verenc:111122223333:user/*"})),
        "is not '*', an account id",
        PolicyKind.KEY,
    ),
    (
        policy_text(allow(principal={"AWS": "arn:verenc:iam::111122223333:role/r"})),
        "is not '*', an account id",
        PolicyKind.KEY,
    ),
    (
        policy_text(allow(principal={"AWS": "arn:aws:iam::111122223333:root"})),
        "not in partition 'verenc'",
        PolicyKind.KEY,
    ),
    (
        policy_text({**KEY_STMT, "NotAction": "kms:Decrypt"}),
        "has both Action and NotAction",
        PolicyKind.KEY,
    ),
    (
        policy_text({k: v for k, v in KEY_STMT.items() if k != "Action"}),
        "must have an Action or NotAction",
        PolicyKind.KEY,
    ),
    (
        policy_text(allow(action="DeriveSharedSecret", principal="*")),
        "Statement[0].Action: 'DeriveSharedSecret' is not",
        PolicyKind.KEY,
    ),
    (
        policy_text(allow(action=[], principal="*")),
        "Statement[0].Action must be a non-empty",
        PolicyKind.KEY,
    ),
    (
        policy_text(allow(action=["kms:Decrypt", 3], principal="*")),
        "Action must be a non-empty",
        PolicyKind.KEY,
    ),
    (
        policy_text(allow(action="kms:Derive Shared", principal="*")),
        "is not '*' or '<service>:<action>'",
        PolicyKind.KEY,
    ),
    (
        policy_text({**KEY_STMT, "NotResource": "*"}),
        "has both Resource and NotResource",
        PolicyKind.KEY,
    ),
    (
        policy_text({k: v for k, v in KEY_STMT.items() if k != "Resource"}),
        "must have a Resource or NotResource",
        PolicyKind.KEY,
    ),
    (
        policy_text(allow(resource="key/abc", principal="*")),
        "Statement[0].Resource: 'key/abc' is not '*' or an ARN",
        PolicyKind.KEY,
    ),
    (policy_text(allow(resource="")), "Resource must be a non-empty", PolicyKind.IDENTITY),
    (
        policy_text(allow(resource="arn:verenc:${aws:username}:key/*")),
        "policy variables are not supported",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition=[])),
        "Statement[0].Condition must be an object",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"StringEqualz": {"k": "v"}})),
        "unknown condition operator 'StringEqualz'",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"stringequals": {"k": "v"}})),
        "unknown condition operator",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"ForSomeValues:StringEquals": {"k": "v"}})),
        "unknown condition operator",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"NullIfExists": {"k": "true"}})),
        "Null takes neither",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"ForAnyValue:Null": {"k": "true"}})),
        "Null takes neither",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"StringEquals": "v"})),
        "Condition.StringEquals must be an object naming",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"StringEquals": {}})),
        "must be an object naming at least one",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"StringEquals": {"": "v"}})),
        "invalid condition key",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"StringEquals": {"k": []}})),
        "Condition.StringEquals.k must list at least one value",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"StringEquals": {"k": {"a": 1}}})),
        "is not a valid String condition value",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"StringEquals": {"k": [["a"]]}})),
        "is not a valid String",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"StringEquals": {"k": None}})),
        "is not a valid String",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"StringLike": {"k": "${aws:username}"}})),
        "policy variables are not supported",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"NumericLessThan": {"k": "ten"}})),
        "'ten' is not a valid Numeric",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"NumericLessThan": {"k": "NaN"}})),
        "is not a valid Numeric",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"NumericLessThan": {"k": True}})),
        "is not a valid Numeric",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"DateLessThan": {"k": "yesterday"}})),
        "'yesterday' is not a valid Date",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"DateLessThan": {"k": "2020-13-01T00:00:00Z"}})),
        "is not a valid Date",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"DateLessThan": {"k": "99999999999999999999"}})),
        "is not a valid Date",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"Bool": {"k": "yes"}})),
        "'yes' is not a valid Bool",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"Null": {"k": "maybe"}})),
        "is not a valid Null",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"BinaryEquals": {"k": "not base64!"}})),
        "is not a valid Binary",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}})),
        "is not a valid IpAddress",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"NotIpAddress": {"aws:SourceIp": "2001:db8::/129"}})),
        "is not a valid IpAddress",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"IpAddress": {"aws:SourceIp": "localhost"}})),
        "is not a valid IpAddress",
        PolicyKind.IDENTITY,
    ),
    (
        policy_text(allow(condition={"ArnLike": {"aws:PrincipalArn": "user/alice"}})),
        "is not a valid Arn",
        PolicyKind.IDENTITY,
    ),
    (
        _raw({"Statement": [allow(condition={"NumericEquals": {"k": "1"}})]}).replace('"1"', "NaN"),
        "NaN is not a JSON value",
        PolicyKind.IDENTITY,
    ),
]


@pytest.mark.parametrize(("text", "message", "kind"), MALFORMED)
def test_malformed_policy_is_refused_with_a_useful_message(
    text: str, message: str, kind: PolicyKind
) -> None:
    with pytest.raises(MalformedPolicyDocumentException) as caught:
        parse_policy(text, kind=kind)
    assert message in caught.value.message
    assert caught.value.code == "MalformedPolicyDocumentException"


def test_the_error_is_a_kms_error_the_wire_can_render() -> None:
    assert issubclass(MalformedPolicyDocumentException, KmsError)


def test_key_policy_over_32_kib_is_refused() -> None:
    padding = " " * (MAX_POLICY_BYTES - len(policy_text(KEY_STMT)) + 1)
    with pytest.raises(MalformedPolicyDocumentException, match="larger than 32768 bytes"):
        parse_policy(policy_text(KEY_STMT) + padding)


def test_key_policy_of_exactly_32_kib_is_accepted() -> None:
    text = policy_text(KEY_STMT)
    parse_policy(text + " " * (MAX_POLICY_BYTES - len(text)))


def test_size_counts_utf8_bytes_not_characters() -> None:
    statement = {**KEY_STMT, "Sid": "é" * (MAX_POLICY_BYTES // 2)}
    text = json.dumps({"Statement": [statement]}, ensure_ascii=False)
    assert len(text) < MAX_POLICY_BYTES
    with pytest.raises(MalformedPolicyDocumentException, match="larger than"):
        parse_policy(text)


def test_deeply_nested_json_is_malformed_not_a_crash() -> None:
    with pytest.raises(MalformedPolicyDocumentException):
        parse_policy("[" * 5000 + "]" * 5000)


def test_invalid_partition_is_refused() -> None:
    with pytest.raises(MalformedPolicyDocumentException, match="not a valid partition"):
        parse_policy(policy_text(KEY_STMT), partition="Bad Partition")


def test_default_key_policy_is_the_documented_text_and_parses() -> None:
    text = default_key_policy(ACCOUNT, "verenc")
    assert text == (
        '{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions",'
        '"Effect":"Allow","Principal":{"AWS":"arn:verenc:111122223333:root"},'
        '"Action":"kms:*","Resource":"*"}]}'
    )
    document = parse_policy(text)
    assert document.text == text
    assert document.statements[0].principal is not None
    assert document.statements[0].principal.identities == {PrincipalId("verenc", ACCOUNT)}


def test_default_key_policy_follows_the_partition() -> None:
    text = default_key_policy("444455556666", "other")
    assert '"arn:other:444455556666:root"' in text
    parse_policy(text, partition="other")


@pytest.mark.parametrize("account", ["12345", "abcdefghijkl", "1111222233334"])
def test_default_key_policy_refuses_a_bad_account(account: str) -> None:
    with pytest.raises(MalformedPolicyDocumentException):
        default_key_policy(account, "verenc")


def test_valid_key_policy_is_normalised() -> None:
    text = policy_text(
        {
            "Sid": "Users",
            "Effect": "Allow",
            "Principal": {
                "AWS": [
                    "111122223333",
                    "arn:verenc:iam::444455556666:root",
                    "arn:verenc:111122223333:user/alice",
                    "arn:verenc:iam::111122223333:user/ops/bob",
                ],
                "Service": "ec2.amazonaws.com",
            },
            "Action": ["kms:DeriveSharedSecret", "KMS:Describe*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:KeySpec": "ECC_NIST_P256"}},
        },
        {"Effect": "Deny", "NotPrincipal": {"AWS": ACCOUNT}, "NotAction": "kms:Get?ublicKey"},
    ).replace('"NotAction"', '"NotResource": "arn:verenc:*", "NotAction"')
    document = parse_policy(text)
    assert document.kind is PolicyKind.KEY
    assert document.version == "2012-10-17"
    first, second = document.statements
    assert first.sid == "Users" and first.effect is Effect.ALLOW
    assert first.principal is not None
    assert first.principal.identities == {
        PrincipalId("verenc", ACCOUNT),
        PrincipalId("verenc", "444455556666"),
        PrincipalId("verenc", ACCOUNT, "alice"),
        PrincipalId("verenc", ACCOUNT, "ops/bob"),
    }
    assert first.principal.services == {"ec2.amazonaws.com"}
    assert first.actions == ("kms:derivesharedsecret", "kms:describe*")
    assert first.conditions[0].key == "kms:keyspec"
    assert second.effect is Effect.DENY and second.principal is None
    assert second.not_principal is not None and second.not_action and second.not_resource


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["*", ACCOUNT]}])
def test_wildcard_principal_forms(principal: object) -> None:
    document = parse_policy(policy_text(allow(principal=principal)))
    assert document.statements[0].principal is not None
    assert document.statements[0].principal.wildcard


def test_single_statement_object_and_missing_version() -> None:
    document = parse_policy(json.dumps({"Statement": KEY_STMT, "Id": "key-default-1"}))
    assert document.version == "2008-10-17"
    assert document.policy_id == "key-default-1"
    assert len(document.statements) == 1


def test_old_version_treats_variables_literally() -> None:
    text = policy_text(allow(resource="arn:verenc:${x}:key/*"), version="2008-10-17")
    document = parse_policy(text, kind=PolicyKind.IDENTITY)
    assert document.statements[0].resources == ("arn:verenc:${x}:key/*",)


def test_identity_policy_without_principal_parses() -> None:
    document = parse_policy(policy_text(allow("kms:Derive*")), kind=PolicyKind.IDENTITY)
    assert document.kind is PolicyKind.IDENTITY
    assert document.statements[0].principal is None


def test_sids_may_repeat_when_empty_and_contain_spaces() -> None:
    parse_policy(policy_text({**KEY_STMT, "Sid": ""}, {**KEY_STMT, "Sid": ""}))
    parse_policy(policy_text({**KEY_STMT, "Sid": "Enable IAM User Permissions"}))


def test_condition_values_are_typed_at_parse_time() -> None:
    document = parse_policy(
        policy_text(
            allow(
                condition={
                    "NumericLessThan": {"n": [10, "2.5", 1.5]},
                    "Bool": {"b": [True, "FALSE"]},
                    "StringEquals": {"s": [7, True]},
                    "DateGreaterThan": {"d": 0},
                }
            )
        ),
        kind=PolicyKind.IDENTITY,
    )
    numeric, boolean, string, date = document.statements[0].conditions
    assert numeric.values == (Decimal(10), Decimal("2.5"), Decimal("1.5"))
    assert boolean.values == (True, False)
    assert string.values == ("7", "true")
    assert str(date.values[0]) == "1970-01-01 00:00:00+00:00"


@pytest.mark.parametrize(
    "operator",
    [
        f"{prefix}{base}{suffix}"
        for prefix in ("", "ForAnyValue:", "ForAllValues:")
        for suffix in ("", "IfExists")
        for base in (
            "StringEquals StringNotEquals StringEqualsIgnoreCase StringNotEqualsIgnoreCase "
            "StringLike StringNotLike ArnEquals ArnLike ArnNotEquals ArnNotLike"
        ).split()
    ],
)
def test_every_string_and_arn_operator_parses_with_every_modifier(operator: str) -> None:
    value = "arn:verenc:111122223333:user/*"
    parse_policy(policy_text(allow(condition={operator: {"k": value}})), kind=PolicyKind.IDENTITY)
