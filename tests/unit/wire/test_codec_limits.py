"""The codec's limits: nesting depth is refused before parsing, and echoed values are truncated."""

from __future__ import annotations

import pytest

from qkms.domain.errors import SerializationException, ValidationException
from qkms.operations.shapes import CreateGrantRequest, CreateKeyRequest, DescribeKeyRequest
from qkms.wire.codec import decode_request


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_arrays_are_a_serialization_error_not_a_recursion_error(depth: int) -> None:
    body = b'{"KeyId": "k", "GrantTokens": ' + b"[" * depth + b"]" * depth + b"}"
    with pytest.raises(SerializationException, match="nest"):
        decode_request(body, DescribeKeyRequest)


def test_deeply_nested_objects_in_an_unknown_member_are_refused_too() -> None:
    body = b'{"KeyId": "k", "Future": ' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}"
    with pytest.raises(SerializationException, match="nest"):
        decode_request(body, DescribeKeyRequest)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    key_id = "[" * 1000 + '\\"{' * 300
    request = decode_request(b'{"KeyId": "' + key_id.encode() + b'"}', DescribeKeyRequest)
    assert request.key_id == "[" * 1000 + '"{' * 300


def test_ordinary_nesting_is_accepted() -> None:
    body = b'{"Tags": [{"TagKey": "a", "TagValue": "b"}], "KeySpec": "ECC_NIST_P256"}'
    assert decode_request(body, CreateKeyRequest).tags is not None


def test_a_long_value_is_echoed_truncated_at_128_characters() -> None:
    # AWS truncates echoed values at 128 characters and appends "...".
    value = "A" * 5000
    with pytest.raises(ValidationException) as raised:
        decode_request(b'{"KeySpec": "' + value.encode() + b'"}', CreateKeyRequest)
    message = str(raised.value)
    assert f"Value '{'A' * 128}...' at 'keySpec'" in message
    assert "A" * 129 not in message


def test_a_short_value_is_echoed_whole() -> None:
    with pytest.raises(ValidationException, match="Value 'NOPE' at 'keySpec'"):
        decode_request(b'{"KeySpec": "NOPE"}', CreateKeyRequest)


def test_a_long_list_of_operations_is_echoed_truncated() -> None:
    operations = ", ".join(['"' + "X" * 60 + '"'] * 10)
    body = f'{{"KeyId": "k", "GranteePrincipal": "p", "Operations": [{operations}]}}'
    with pytest.raises(ValidationException) as raised:
        decode_request(body.encode(), CreateGrantRequest)
    assert f"Value '[{'X' * 60}, {'X' * 60}, XXX...' at 'operations'" in str(raised.value)
