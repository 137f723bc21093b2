"""Bad KMS requests generated from botocore's KMS service model, for fuzzing the wire layer.

Every operation of the model (implemented by QKMS or not) and every member of its input, nested
members included, gets: a valid-looking baseline, wrong JSON types, null, boundary lengths and
values (min-1, min, max, max+1), bad base64 for blobs, values outside enums, huge numbers and
odd strings. Every operation also gets body-level damage: unknown and duplicate members, invalid
UTF-8, non-object bodies, truncated JSON and deep nesting. The generator is deterministic for a
given seed, so a failure names a case that can be replayed.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.model import ServiceModel, Shape

__all__ = ["DEEP_NESTING_LEVELS", "FuzzCase", "Pairs", "Raw", "encode", "generate_cases"]

# The nesting depths of the deep-JSON cases: each at least 1,000 levels, and small enough
# that every such body stays under the server's 64 KiB cap and so reaches the parser.
DEEP_NESTING_LEVELS = (1_000, 4_000, 10_000)
# Longer values than this are cut to this length: the server refuses bodies over 64 KiB
# anyway, and one over-long case per member shows that refusal.
_LONGEST = 70_000


@dataclass(frozen=True, slots=True)
class Raw:
    """JSON text inserted verbatim (huge numbers, invalid UTF-8, NaN)."""

    text: bytes


@dataclass(frozen=True, slots=True)
class Pairs:
    """A JSON object written as these pairs in this order, repeats included."""

    items: tuple[tuple[str, Any], ...]


@dataclass(frozen=True, slots=True)
class FuzzCase:
    name: str  # "<operation>/<member path>/<mutation>", unique, for replaying one case
    operation: str
    body: bytes
    target: str | None = None  # the X-Amz-Target value; None means TrentService.<operation>
    content_type: str | None = "application/x-amz-json-1.1"  # None: header not sent
    deep: bool = False  # a deep-nesting case (>= 1,000 levels)

    @property
    def x_amz_target(self) -> str | None:
        return f"TrentService.{self.operation}" if self.target is None else self.target


def encode(value: Any) -> bytes:
    """JSON bytes of `value`, where Raw and Pairs may occur at any depth."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Pairs):
        inner = b",".join(json.dumps(k).encode() + b":" + encode(v) for k, v in value.items)
        return b"{" + inner + b"}"
    if isinstance(value, dict):
        return encode(Pairs(tuple(value.items())))
    if isinstance(value, list):
        return b"[" + b",".join(encode(item) for item in value) + b"]"
    return json.dumps(value).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


_WRONG_TYPES: dict[str, list[Any]] = {
    # JSON values of every other type than the shape's; each shape gets those that differ.
    "string": [True, 0, -1, 1.5, [], ["x"], {}, {"a": "b"}],
    "blob": [True, 7, 2.5, [], [1, 2], {}, {"a": 1}],
    "integer": [True, "1", "", 1.5, [], [1], {}, {"a": 1}],
    "long": [True, "1", 1.5, [], {}],
    "boolean": ["true", "", 0, 1, [], {}, {"a": True}],
    "timestamp": [True, "yesterday", [], {}, {"a": 1}],
    "list": [True, 0, "x", {}, {"a": 1}],
    "map": [True, 0, "x", [], [["k", "v"]]],
    "structure": [True, 0, "x", [], ["x"]],
}

_BAD_BASE64 = [
    "!!!!",
    "AAA",
    "A",
    "AAAA=",
    "====",
    "AA=A",
    "AAAA AAAA",
    "-_-_",
    "é",
    "AAAA\n",
    "\u0000AAA",
]

_ODD_STRINGS = [
    "",
    " ",
    "\u0000",
    "\ud800",  # lone surrogate: valid JSON escape, invalid Unicode
    "\U0001f600" * 3,
    "é" * 5,
    "a\nb\tc\r",
    "../../etc/passwd",
    "alias/",
    "arn:aws:kms:us-east-1:111122223333:key/",
    "%00%ff",
    "\u202e",
]

_HUGE_NUMBERS = [
    Raw(b"1" + b"0" * 400),
    Raw(b"-1" + b"0" * 400),
    Raw(b"1e999"),
    Raw(b"-1e999"),
    Raw(b"1.7976931348623157e309"),
    Raw(b"0.0000000000000000000000000000001"),
    2**63,
    -(2**63) - 1,
    2**64,
    2**31,
    -(2**31) - 1,
    Raw(b"NaN"),
    Raw(b"Infinity"),
    Raw(b"-0"),
    Raw(b"1E2"),
]


class _Generator:
    def __init__(self, model: ServiceModel, seed: int, key_arn: str) -> None:
        self._model = model
        self._rng = random.Random(seed)
        self._key_arn = key_arn

    # --- valid-looking values ----------------------------------------------------------------
    def baseline(self, name: str, shape: Shape, depth: int = 0) -> Any:
        kind = shape.type_name
        meta = shape.metadata
        if kind == "string":
            if "enum" in meta:
                return self._rng.choice(meta["enum"])
            if name.endswith("KeyId") or name == "KeyId":
                return self._key_arn
            if name == "AliasName":
                return f"alias/fuzz-{self._rng.randrange(10**6)}"
            size = max(meta.get("min", 1), 1)
            return "a" * min(size, 64)
        if kind == "blob":
            size = max(meta.get("min", 1), 1)
            return _b64(self._rng.randbytes(min(size, 64)))
        if kind in ("integer", "long"):
            return int(meta.get("min", 1))
        if kind == "boolean":
            return False
        if kind == "timestamp":
            return 1_900_000_000
        if kind == "list":
            if depth > 4:
                return []
            return [self.baseline(name, shape.member, depth + 1)]
        if kind == "map":
            return {"k": self.baseline(name, shape.value, depth + 1)}
        if kind == "structure":
            return self.structure(shape, depth + 1, every_member=False)
        return None

    def structure(self, shape: Shape, depth: int, every_member: bool) -> dict[str, Any]:
        required = set(shape.required_members)
        return {
            member_name: self.baseline(member_name, member, depth)
            for member_name, member in shape.members.items()
            if every_member or member_name in required
        }

    # --- bad values for one member -----------------------------------------------------------
    def bad_values(self, name: str, shape: Shape) -> Iterator[tuple[str, Any]]:
        kind = shape.type_name
        meta = shape.metadata
        yield "null", None
        for wrong in _WRONG_TYPES.get(kind, []):
            yield f"type-{type(wrong).__name__}-{json.dumps(wrong)[:12]}", wrong
        if kind in ("string", "blob", "list"):
            lengths = set()
            low, high = meta.get("min"), meta.get("max")
            if low is not None:
                lengths |= {low - 1, low}
            if high is not None:
                lengths |= {high, high + 1}
            lengths |= {0, 1}
            for length in sorted(n for n in lengths if n >= 0):
                yield f"length-{length}", self._of_length(name, shape, min(length, _LONGEST))
        if kind == "string":
            if "enum" in meta:
                valid = str(meta["enum"][0])
                for bad in ("NOT_AN_ENUM_VALUE", valid.lower(), valid + " ", ""):
                    yield f"enum-{bad!r}", bad
            for odd in _ODD_STRINGS:
                yield f"odd-{odd!r}", odd
            yield "invalid-utf8", Raw(b'"\xff\xfe\xc3\x28"')
            yield "utf8-overlong", Raw(b'"\xc0\xaf"')
        if kind == "blob":
            for bad in _BAD_BASE64:
                yield f"bad-base64-{bad!r}", bad
            yield "invalid-utf8", Raw(b'"\xff\xfe"')
        if kind in ("integer", "long"):
            low, high = meta.get("min"), meta.get("max")
            bounds = {n for n in (low, high) if n is not None}
            for bound in sorted(bounds | {b + d for b in bounds for d in (-1, 1)} | {0, -1}):
                yield f"value-{bound}", bound
            for huge in _HUGE_NUMBERS:
                label = huge.text[:10].decode() if isinstance(huge, Raw) else str(huge)
                yield f"huge-{label}", huge
        if kind == "timestamp":
            for stamp in (-1, 0, 1e20, "2024-01-01T00:00:00Z", Raw(b"1" + b"0" * 400)):
                yield f"timestamp-{str(stamp)[:12]}", stamp
        if kind == "list":
            yield "list-of-nulls", [None, None]
            yield "list-of-lists", [[1], [2]]
        if kind == "map":
            yield "map-null-value", {"k": None}
            yield "map-empty-key", {"": "v"}

    def _of_length(self, name: str, shape: Shape, length: int) -> Any:
        kind = shape.type_name
        if kind == "blob":
            return _b64(self._rng.randbytes(length))
        if kind == "list":
            member = shape.member
            return [self.baseline(name, member, 5) for _ in range(length)]
        return "".join(self._rng.choice("abcXYZ019-_/:") for _ in range(length))

    # --- cases ---------------------------------------------------------------------------------
    def member_cases(
        self, operation: str, shape: Shape, path: Sequence[str], base: dict[str, Any], depth: int
    ) -> Iterator[FuzzCase]:
        """Cases that damage one member of `shape` (reached from the request at `path`)."""
        for member_name, member in shape.members.items():
            where = "/".join([*path, member_name])
            for label, value in self.bad_values(member_name, member):
                body = _replace(base, [*path, member_name], value)
                yield FuzzCase(f"{operation}/{where}/{label}", operation, encode(body))
            if depth >= 3:
                continue
            if member.type_name == "structure":
                inner = self.structure(member, depth + 1, every_member=True)
                yield from self.member_cases(
                    operation,
                    member,
                    [*path, member_name],
                    _replace(base, [*path, member_name], inner),
                    depth + 1,
                )
            elif member.type_name == "list" and member.member.type_name == "structure":
                yield from self._list_element_cases(
                    operation, member.member, [*path, member_name], base, depth
                )

    def _list_element_cases(
        self,
        operation: str,
        element: Shape,
        path: Sequence[str],
        base: dict[str, Any],
        depth: int,
    ) -> Iterator[FuzzCase]:
        good = self.structure(element, depth + 1, every_member=True)
        for member_name, member in element.members.items():
            for label, value in self.bad_values(member_name, member):
                item = {**good, member_name: value}
                body = _replace(base, list(path), [item])
                where = "/".join([*path, "[0]", member_name])
                yield FuzzCase(f"{operation}/{where}/{label}", operation, encode(body))

    def body_cases(self, operation: str, base: dict[str, Any]) -> Iterator[FuzzCase]:
        """Damage to the body as a whole, and to the headers that route it."""
        valid = encode(base)

        def case(label: str, body: bytes, **extra: Any) -> FuzzCase:
            return FuzzCase(f"{operation}/-/{label}", operation, body, **extra)

        yield case("baseline", valid)
        yield case("every-member", encode(self.structure(self._input(operation), 0, True)))
        yield case("unknown-member", encode({**base, "Bogus": 1, "keyId": "x"}))
        yield case("unknown-member-deep", encode({**base, "Unknown": {"a": [{"b": None}]}}))
        first = next(iter(base), "KeyId")
        yield case(
            "duplicate-member",
            encode(Pairs(((first, "first"), *base.items(), (first, base.get(first, 1))))),
        )
        yield case("duplicate-member-types", encode(Pairs(((first, 1), (first, [None])))))
        yield case("invalid-utf8-in-string", b'{"' + first.encode() + b'":"\xff\xfe\xfd"}')
        yield case("invalid-utf8-in-name", b'{"\xc3\x28":1}')
        yield case("invalid-utf8-bare", b"\xff\xfe\x00{")
        yield case("utf16-body", valid.decode().encode("utf-16"))
        yield case("bom", b"\xef\xbb\xbf" + valid)
        for label, body in (
            ("empty", b""),
            ("whitespace", b" \n\t "),
            ("null", b"null"),
            ("true", b"true"),
            ("number", b"12"),
            ("string", b'"{}"'),
            ("array", b"[]"),
            ("array-of-body", b"[" + valid + b"]"),
            ("truncated", valid[: max(1, len(valid) // 2)]),
            ("trailing-garbage", valid + b"xyz"),
            ("two-documents", valid + valid),
            ("single-quotes", b"{'KeyId': 'a'}"),
            ("comment", b"{/* c */}"),
            ("trailing-comma", b'{"Limit": 1,}'),
            ("nan-member", b'{"' + first.encode() + b'": NaN}'),
            ("nul-bytes", b"\x00" * 16),
            ("long-member-name", encode({"A" * 10_000: 1})),
            ("many-members", encode({f"M{i}": i for i in range(2_000)})),
            ("nested-200", b"[" * 200 + b"]" * 200),
            ("nested-object-200", b'{"a":' * 200 + b"1" + b"}" * 200),
        ):
            yield case(label, body)
        for levels in DEEP_NESTING_LEVELS:
            yield case(f"deep-arrays-{levels}", b"[" * levels + b"]" * levels, deep=True)
            yield case(
                f"deep-member-{levels}",
                b'{"' + first.encode() + b'":' + b"[" * levels + b"]" * levels + b"}",
                deep=True,
            )
            yield case(
                f"deep-objects-{levels}", b'{"a":' * levels + b"1" + b"}" * levels, deep=True
            )
            yield case(f"deep-unclosed-{levels}", b"[" * levels, deep=True)
        for label, target in (
            ("target-missing", ""),
            ("target-no-prefix", operation),
            ("target-lowercase", f"TrentService.{operation.lower()}"),
            ("target-other-service", f"DynamoDB_20120810.{operation}"),
            ("target-trailing-dot", f"TrentService.{operation}."),
            ("target-latin1", f"TrentService.{operation}\xe9"),
            ("target-prefix-only", "TrentService."),
        ):
            yield case(label, valid, target=target)
        for label, content_type in (
            ("content-type-missing", None),
            ("content-type-json", "application/json"),
            ("content-type-json-1.0", "application/x-amz-json-1.0"),
            ("content-type-text", "text/plain"),
            ("content-type-form", "application/x-www-form-urlencoded"),
        ):
            yield case(label, valid, content_type=content_type)

    def _input(self, operation: str) -> Shape:
        shape = self._model.operation_model(operation).input_shape
        assert shape is not None
        return shape

    def cases(self) -> Iterator[FuzzCase]:
        for operation in self._model.operation_names:
            shape = self._input(operation)
            base = self.structure(shape, 0, every_member=False)
            yield from self.body_cases(operation, base)
            yield from self.member_cases(operation, shape, [], base, 0)


def _replace(body: dict[str, Any], path: Sequence[str], value: Any) -> dict[str, Any]:
    """A copy of `body` with the member at `path` set to `value` (lists: their first item)."""
    if len(path) == 1:
        return {**body, path[0]: value}
    head, rest = path[0], path[1:]
    child = body.get(head)
    if isinstance(child, list):
        first = child[0] if child and isinstance(child[0], dict) else {}
        return {**body, head: [_replace(first, rest, value)]}
    return {**body, head: _replace(child if isinstance(child, dict) else {}, rest, value)}


def generate_cases(seed: int, key_arn: str) -> list[FuzzCase]:
    """Every case for every operation of botocore's KMS model, in a fixed order for `seed`."""
    model = botocore.session.get_session().get_service_model("kms")
    return list(_Generator(model, seed, key_arn).cases())
