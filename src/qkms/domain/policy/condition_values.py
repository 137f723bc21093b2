"""Typed values for condition operators: read from a policy (strict) or from the request context."""

from __future__ import annotations

import base64
import binascii
import enum
import ipaddress
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

__all__ = [
    "ConditionTypeError",
    "Family",
    "IpNetwork",
    "PolicyValue",
    "context_value_as",
    "parse_date",
    "parse_number",
    "policy_value_as",
]

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
PolicyValue = str | Decimal | datetime | bool | bytes | IpNetwork

_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_EPOCH = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


class Family(enum.Enum):
    """The value type an operator compares (IAM's condition operator categories)."""

    STRING = "String"
    NUMERIC = "Numeric"
    DATE = "Date"
    BOOL = "Bool"
    BINARY = "Binary"
    IP = "IpAddress"
    ARN = "Arn"
    NULL = "Null"


class ConditionTypeError(Exception):
    """A request-context value cannot be read as the operator's type; the evaluator fails closed."""


def parse_number(text: str) -> Decimal | None:
    """A finite decimal number (integers, decimals, exponents), or None."""
    if not _NUMBER.match(text.strip()):
        return None
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_date(text: str) -> datetime | None:
    """ISO 8601 (W3C profile, e.g. 2020-04-01T00:00:00Z or 2020-04-01) or epoch seconds; UTC."""
    stripped = text.strip()
    if _EPOCH.match(stripped):
        return _from_epoch(Decimal(stripped))
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _from_epoch(seconds: Decimal) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(seconds), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _parse_bool(text: str) -> bool | None:
    lowered = text.strip().lower()
    return {"true": True, "false": False}.get(lowered)


def _parse_binary(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _parse_network(text: str) -> IpNetwork | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def policy_value_as(family: Family, raw: object) -> PolicyValue | None:
    """Read one policy condition value (a JSON scalar) as `family`; None if it is not one."""
    if isinstance(raw, bool):
        if family in (Family.BOOL, Family.NULL):
            return raw
        text = "true" if raw else "false"
    elif isinstance(raw, int | Decimal):
        text = str(raw)
        if family is Family.NUMERIC:
            return parse_number(text)
        if family is Family.DATE:
            return _from_epoch(Decimal(raw))
    elif isinstance(raw, str):
        text = raw
    else:
        return None
    if family is Family.STRING:
        return text
    if family is Family.ARN:
        return text if text.startswith("arn:") and text.count(":") >= 3 else None
    if family is Family.NUMERIC:
        return parse_number(text)
    if family is Family.DATE:
        return parse_date(text)
    if family in (Family.BOOL, Family.NULL):
        return _parse_bool(text)
    if family is Family.BINARY:
        return _parse_binary(text)
    return _parse_network(text)


def context_value_as(family: Family, raw: object) -> PolicyValue:
    """Read one request-context value as `family`; ConditionTypeError if it cannot be one."""
    converted = _context_value_as(family, raw)
    if converted is None:
        raise ConditionTypeError(
            f"context value of type {type(raw).__name__} is not {family.value}"
        )
    return converted


def _context_value_as(family: Family, raw: object) -> PolicyValue | None:
    if family in (Family.STRING, Family.ARN):
        if isinstance(raw, bool):
            return "true" if raw else "false"
        if isinstance(raw, str | int):
            return str(raw)
        return None
    if family is Family.NUMERIC:
        if isinstance(raw, bool):
            return None
        if isinstance(raw, int | float | Decimal | str):
            return parse_number(str(raw))
        return None
    if family is Family.DATE:
        if isinstance(raw, datetime):
            return raw.replace(tzinfo=UTC) if raw.tzinfo is None else raw.astimezone(UTC)
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return _from_epoch(Decimal(str(raw)))
        return parse_date(raw) if isinstance(raw, str) else None
    if family is Family.BOOL:
        if isinstance(raw, bool):
            return raw
        return _parse_bool(raw) if isinstance(raw, str) else None
    if family is Family.BINARY:
        if isinstance(raw, bytes):
            return raw
        return _parse_binary(raw) if isinstance(raw, str) else None
    if family is Family.IP and isinstance(raw, str):
        try:
            address = ipaddress.ip_address(raw.strip())
        except ValueError:
            return None
        return ipaddress.ip_network(address)
    return None
