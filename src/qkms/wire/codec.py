"""Decodes a request body once into its typed shape and checks AWS's member constraints (STYLE §2).

Type errors are SerializationException; constraint errors are ValidationException in AWS's
wording ("1 validation error detected: Value 'X' at 'keySpec' failed to satisfy constraint:
Member must satisfy enum value set: [...]").
"""

from __future__ import annotations

import re
from functools import cache
from typing import TypeVar, cast

import msgspec

from qkms.domain.errors import SerializationException, ValidationException
from qkms.operations.shapes import Member, Request, Response

__all__ = ["decode_request", "encode_response"]

R = TypeVar("R", bound=Request)

_PATH = re.compile(r" - at `\$\.([A-Za-z]+)")
# No KMS request shape nests deeper than a handful of levels (a list of structures holding a
# map); msgspec recurses once per level and a 64 KiB body of "[" would exhaust the C stack's
# recursion guard (RecursionError, a 500). Depth is therefore checked before parsing.
_MAX_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
# AWS echoes at most 128 characters of a rejected value, then "...".
_MAX_ECHO = 128
_encoder = msgspec.json.Encoder()


@cache
def _decoder(request_type: type[Request]) -> msgspec.json.Decoder[Request]:
    return msgspec.json.Decoder(request_type)


@cache
def _attribute_names(request_type: type[Request]) -> dict[str, str]:
    """Wire member name -> Python attribute name, from msgspec's own renaming."""
    return dict(
        zip(request_type.__struct_encode_fields__, request_type.__struct_fields__, strict=True)
    )


def decode_request(body: bytes, request_type: type[R]) -> R:
    if _nests_too_deep(body):
        raise SerializationException(
            f"The request body nests arrays or objects deeper than {_MAX_DEPTH} levels."
        )
    try:
        request = cast(R, _decoder(request_type).decode(body or b"{}"))
    except msgspec.ValidationError as exc:
        raise _type_error(str(exc), request_type) from None
    except msgspec.DecodeError:
        raise SerializationException("The request body is not valid JSON.") from None
    _check_constraints(request)
    return request


def _nests_too_deep(body: bytes) -> bool:
    """True if brackets outside JSON strings nest deeper than _MAX_DEPTH (C-speed scans only
    for ordinary bodies: fewer opening brackets than the limit cannot nest past it)."""
    if body.count(b"[") + body.count(b"{") <= _MAX_DEPTH:
        return False
    depth = 0
    for bracket in _BRACKET.findall(_JSON_STRING.sub(b'""', body)):
        depth += 1 if bracket in b"[{" else -1
        if depth > _MAX_DEPTH:
            return True
    return False


def _truncated(text: str) -> str:
    return text if len(text) <= _MAX_ECHO else text[:_MAX_ECHO] + "..."


def _type_error(message: str, request_type: type[Request]) -> Exception:
    match = _PATH.search(message)
    if match and "base64" in message:
        member = next((m for m in request_type.constraints if m.name == match.group(1)), None)
        if member is not None and member.bad_base64 is not None:
            return member.bad_base64(f"{member.name} is not valid base64.")
    return SerializationException(message)


def _describe(value: object) -> str:
    # Blobs and lists are not echoed: they may hold key material or be long.
    if isinstance(value, str | int) and not isinstance(value, bool):
        return f"Value '{_truncated(str(value))}'"
    return "Value"


def _violation(member: Member, value: object) -> str | None:
    # The message is built only for a value that fails: most members of most requests pass,
    # and this runs for every member of every request.
    if value is None:
        return f"Value null {_at(member)} not be null" if member.required else None
    if member.enum is not None and isinstance(value, str) and value not in member.enum:
        return (
            f"{_describe(value)} {_at(member)} satisfy enum value set: [{', '.join(member.enum)}]"
        )
    if member.each_enum is not None and isinstance(value, list):
        if any(item not in member.each_enum for item in value):
            items = _truncated("[" + ", ".join(map(str, value)) + "]")
            allowed = ", ".join(member.each_enum)
            return (
                f"Value '{items}' {_at(member)} satisfy constraint: "
                f"[Member must satisfy enum value set: [{allowed}]]"
            )
    if isinstance(value, str | bytes | list):
        if member.min_length is not None and len(value) < member.min_length:
            return (
                f"{_describe(value)} {_at(member)} have length greater than or equal to "
                f"{member.min_length}"
            )
        if member.max_length is not None and len(value) > member.max_length:
            return (
                f"{_describe(value)} {_at(member)} have length less than or equal to "
                f"{member.max_length}"
            )
    if isinstance(value, int) and not isinstance(value, bool):
        if member.min_value is not None and value < member.min_value:
            return (
                f"{_describe(value)} {_at(member)} have value greater than or equal to "
                f"{member.min_value}"
            )
        if member.max_value is not None and value > member.max_value:
            return (
                f"{_describe(value)} {_at(member)} have value less than or equal to "
                f"{member.max_value}"
            )
    return None


def _at(member: Member) -> str:
    return (
        f"at '{member.name[0].lower()}{member.name[1:]}' failed to satisfy constraint: Member must"
    )


@cache
def _checked_members(request_type: type[Request]) -> tuple[tuple[Member, str], ...]:
    """Each constrained member with the Python attribute holding it, worked out once per shape."""
    names = _attribute_names(request_type)
    return tuple((member, names[member.name]) for member in request_type.constraints)


def _check_constraints(request: Request) -> None:
    violations = [
        violation
        for member, attribute in _checked_members(type(request))
        if (violation := _violation(member, getattr(request, attribute))) is not None
    ]
    if violations:
        count = len(violations)
        noun = "error" if count == 1 else "errors"
        raise ValidationException(f"{count} validation {noun} detected: {'; '.join(violations)}")


def encode_response(response: Response) -> bytes:
    return _encoder.encode(response)
