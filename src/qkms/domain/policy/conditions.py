"""The Condition element: parse operators and values strictly, decide a block against a context.

Semantics follow the IAM JSON policy reference, "Condition operators" and "Conditions with
multiple context keys or values": operators and keys are AND'd, values of one key are OR'd, and
a negated operator's values are NOR'd. A key missing from the context makes a condition false,
except for negated operators (true), `...IfExists` (true), `Null` (tests presence), and the set
qualifiers: `ForAllValues` is true and `ForAnyValue` false for a missing or empty key.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from ipaddress import IPv4Network, IPv6Network

from qkms.domain.errors import MalformedPolicyDocumentException
from qkms.domain.policy.condition_values import (
    ConditionTypeError,
    Family,
    PolicyValue,
    context_value_as,
    policy_value_as,
)
from qkms.domain.policy.wildcards import wildcard_match

__all__ = [
    "ConditionClause",
    "ContextValue",
    "SetQualifier",
    "block_holds",
    "normalise_context",
    "parse_condition_block",
]

ContextValue = str | bool | int | float | datetime | Sequence[str]
_NETWORKS = (IPv4Network, IPv6Network)


class SetQualifier(enum.Enum):
    FOR_ANY_VALUE = "ForAnyValue"
    FOR_ALL_VALUES = "ForAllValues"


class _Cmp(enum.Enum):
    EQ = "eq"
    EQ_IGNORE_CASE = "eq-ic"
    LIKE = "like"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    IN = "in"


_ORDERED = {"Equals": _Cmp.EQ, "LessThan": _Cmp.LT, "LessThanEquals": _Cmp.LE}
_ORDERED |= {"GreaterThan": _Cmp.GT, "GreaterThanEquals": _Cmp.GE}

# Operator name -> (value family, positive comparison, negated).
_OPERATORS: dict[str, tuple[Family, _Cmp, bool]] = {
    "StringEquals": (Family.STRING, _Cmp.EQ, False),
    "StringNotEquals": (Family.STRING, _Cmp.EQ, True),
    "StringEqualsIgnoreCase": (Family.STRING, _Cmp.EQ_IGNORE_CASE, False),
    "StringNotEqualsIgnoreCase": (Family.STRING, _Cmp.EQ_IGNORE_CASE, True),
    "StringLike": (Family.STRING, _Cmp.LIKE, False),
    "StringNotLike": (Family.STRING, _Cmp.LIKE, True),
    "Bool": (Family.BOOL, _Cmp.EQ, False),
    "BinaryEquals": (Family.BINARY, _Cmp.EQ, False),
    "IpAddress": (Family.IP, _Cmp.IN, False),
    "NotIpAddress": (Family.IP, _Cmp.IN, True),
    # ArnEquals and ArnLike are the same test in AWS: each ARN component matched with wildcards.
    "ArnEquals": (Family.ARN, _Cmp.LIKE, False),
    "ArnLike": (Family.ARN, _Cmp.LIKE, False),
    "ArnNotEquals": (Family.ARN, _Cmp.LIKE, True),
    "ArnNotLike": (Family.ARN, _Cmp.LIKE, True),
    "Null": (Family.NULL, _Cmp.EQ, False),
}
for _family in (Family.NUMERIC, Family.DATE):
    for _suffix, _cmp in _ORDERED.items():
        _OPERATORS[f"{_family.value}{_suffix}"] = (_family, _cmp, False)
    _OPERATORS[f"{_family.value}NotEquals"] = (_family, _Cmp.EQ, True)


@dataclass(frozen=True, slots=True)
class ConditionClause:
    """One operator applied to one condition key, with its already-typed policy values."""

    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    family: Family
    comparison: _Cmp
    negated: bool
    if_exists: bool
    qualifier: SetQualifier | None
    key: str  # lower-cased: condition keys are case-insensitive
    values: tuple[PolicyValue, ...]


def _split_operator(name: str, where: str) -> tuple[SetQualifier | None, str, bool]:
    qualifier: SetQualifier | None = None
    base = name
    for candidate in SetQualifier:
        if name.startswith(candidate.value + ":"):
            qualifier, base = candidate, name[len(candidate.value) + 1 :]
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base[: -len("IfExists")]
    if base not in _OPERATORS:
        raise MalformedPolicyDocumentException(f"{where}: unknown condition operator '{name}'")
    if base == "Null" and (if_exists or qualifier is not None):
        raise MalformedPolicyDocumentException(
            f"{where}: Null takes neither IfExists nor a set qualifier ('{name}')"
        )
    return qualifier, base, if_exists


def _values(family: Family, raw: object, where: str, variables: bool) -> tuple[PolicyValue, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise MalformedPolicyDocumentException(f"{where} must list at least one value")
    parsed: list[PolicyValue] = []
    for item in items:
        if variables and isinstance(item, str) and "${" in item:
            # Version 2012-10-17 would substitute policy variables, which QKMS does not support;
            # refusing beats silently comparing the literal text.
            raise MalformedPolicyDocumentException(f"{where}: policy variables are not supported")
        value = policy_value_as(family, item)
        if value is None:
            raise MalformedPolicyDocumentException(
                f"{where}: {item!r} is not a valid {family.value} condition value"
            )
        parsed.append(value)
    return tuple(parsed)


def parse_condition_block(
    raw: object, where: str, *, variables: bool = False
) -> tuple[ConditionClause, ...]:
    """Parse `{operator: {key: value-or-list}}`; MalformedPolicyDocumentException on any flaw."""
    if not isinstance(raw, dict):
        raise MalformedPolicyDocumentException(f"{where} must be an object")
    clauses: list[ConditionClause] = []
    for name, keys in raw.items():
        qualifier, base, if_exists = _split_operator(name, where)
        family, comparison, negated = _OPERATORS[base]
        if not isinstance(keys, dict) or not keys:
            raise MalformedPolicyDocumentException(
                f"{where}.{name} must be an object naming at least one condition key"
            )
        for key, raw_values in keys.items():
            if not key or key != key.strip():
                raise MalformedPolicyDocumentException(f"{where}.{name}: invalid condition key")
            values = _values(family, raw_values, f"{where}.{name}.{key}", variables)
            clauses.append(
                ConditionClause(
                    name, family, comparison, negated, if_exists, qualifier, key.lower(), values
                )
            )
    return tuple(clauses)


def normalise_context(context: Mapping[str, ContextValue]) -> dict[str, tuple[object, ...]]:
    """Lower-case the keys and make every value a tuple; a key spelled twice is an error."""
    normalised: dict[str, tuple[object, ...]] = {}
    for key, value in context.items():
        lowered = key.lower()
        if lowered in normalised:
            raise ConditionTypeError(f"condition key {lowered!r} given twice")
        if value is None:
            continue
        if isinstance(value, str | bool | int | float | datetime | bytes):
            normalised[lowered] = (value,)
        elif type(value) is tuple:  # the common many-valued shape, without the ABC check below
            normalised[lowered] = value
        elif isinstance(value, Sequence | frozenset | set):
            normalised[lowered] = tuple(value)
        else:
            raise ConditionTypeError(f"condition key {lowered!r} has an unusable value")
    return normalised


def _arn_like(pattern: str, value: str) -> bool:
    parts, value_parts = pattern.split(":", 5), value.split(":", 5)
    return len(parts) == len(value_parts) and all(
        wildcard_match(p, v) for p, v in zip(parts, value_parts, strict=True)
    )


def _order(comparison: _Cmp, sign: int) -> bool:
    return {
        _Cmp.EQ: sign == 0,
        _Cmp.LT: sign < 0,
        _Cmp.LE: sign <= 0,
        _Cmp.GT: sign > 0,
        _Cmp.GE: sign >= 0,
    }[comparison]


def _positive(clause: ConditionClause, actual: PolicyValue, expected: PolicyValue) -> bool:
    cmp = clause.comparison
    if isinstance(actual, str) and isinstance(expected, str):
        if clause.family is Family.ARN:
            return _arn_like(expected, actual)
        if cmp is _Cmp.LIKE:
            return wildcard_match(expected, actual)
        if cmp is _Cmp.EQ_IGNORE_CASE:
            return actual.casefold() == expected.casefold()
        return actual == expected
    if isinstance(actual, bool) and isinstance(expected, bool):
        return actual == expected
    if isinstance(actual, bytes) and isinstance(expected, bytes):
        return actual == expected
    if isinstance(actual, datetime) and isinstance(expected, datetime):
        return _order(cmp, (actual > expected) - (actual < expected))
    if isinstance(actual, Decimal) and isinstance(expected, Decimal):
        return _order(cmp, int(actual.compare(expected)))
    if isinstance(actual, _NETWORKS) and isinstance(expected, _NETWORKS):
        return actual.version == expected.version and actual.subnet_of(expected)  # type: ignore[arg-type]
    raise ConditionTypeError(f"{clause.operator}: mismatched value types")


def _clause_holds(clause: ConditionClause, context: Mapping[str, tuple[object, ...]]) -> bool:
    present = context.get(clause.key, ())
    if clause.family is Family.NULL:
        # "Null": true means the key must be absent, false that it must be present.
        return any(expected is (not present) for expected in clause.values)
    if not present:
        if clause.qualifier is SetQualifier.FOR_ALL_VALUES or clause.if_exists:
            return True
        if clause.qualifier is SetQualifier.FOR_ANY_VALUE:
            return False
        return clause.negated
    actual = [context_value_as(clause.family, raw) for raw in present]

    def value_holds(value: PolicyValue) -> bool:
        hit = any(_positive(clause, value, expected) for expected in clause.values)
        return hit != clause.negated  # negated operators NOR their values

    if clause.qualifier is SetQualifier.FOR_ALL_VALUES:
        return all(value_holds(value) for value in actual)
    if clause.qualifier is SetQualifier.FOR_ANY_VALUE:
        return any(value_holds(value) for value in actual)
    # No qualifier on a multivalued key (AWS advises against it): the positive test holds when
    # any value matches, the negated one when none does; this also makes a key carrying every
    # spelling of one ARN match a policy written in either shape.
    hit = any(_positive(clause, v, e) for v in actual for e in clause.values)
    return hit != clause.negated


def block_holds(
    clauses: Sequence[ConditionClause], context: Mapping[str, tuple[object, ...]]
) -> bool:
    """AND over every clause; ConditionTypeError propagates so the caller can fail closed."""
    return all(_clause_holds(clause, context) for clause in clauses)
