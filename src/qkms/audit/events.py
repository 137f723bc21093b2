"""Builds one CloudTrail-shaped audit event from an API call's facts, redacting secrets.

Redaction is by rule, not by operation, so a new operation is covered on the day it is added:
- requestParameters keep strings, numbers, booleans, lists and nested structures under their
  AWS names in CloudTrail's lowerCamel spelling, each value capped; blobs are never recorded
  (the peer `PublicKey` only as `publicKeySha256`); token-, secret- and plaintext-named members
  and ciphertext-named members are dropped (a list of grant tokens is recorded as its count)
  (DESIGN §3); an encryption context is recorded, as CloudTrail does (AWS: never put secrets
  in one).
- responseElements keep only an allow-list of identifying members (key ARN, state, grant id,
  alias): never SharedSecret, PublicKey, GrantToken, Policy or anything not listed.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Protocol

import msgspec

from qkms.audit.ids import random_uuid

__all__ = [
    "EVENT_VERSION",
    "MAX_EVENT_BYTES",
    "ApiCall",
    "Identity",
    "Principal",
    "api_call",
    "build_event",
    "claimed_access_key_id",
    "encode_event",
    "event_name_from_target",
    "format_event_time",
]

EVENT_VERSION = "1.08"
# One event is one os.write of one line: keep it small enough to stay a single atomic append.
MAX_EVENT_BYTES = 16 * 1024
_MAX_TEXT = 1024
_MAX_POLICY = 4096  # policies are not secret and CloudTrail records them; cap their size
_MAX_LIST = 50
_MAX_DEPTH = 4
_TARGET_PREFIX = "TrentService."
_NAME = re.compile(r"[^A-Za-z0-9_.:-]")
_CREDENTIAL = re.compile(r"Credential=([A-Za-z0-9]{1,128})/")
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Request members never recorded, whatever their type: bearer tokens and secret material.
# Ciphertexts are not secrets, but a ciphertext and its context are what an attacker of the
# audit log would want to pair; CloudTrail does not record them either.
_SECRET_WORDS = ("Token", "Secret", "Plaintext", "Password", "Private", "Ciphertext")
# Response members that identify what was acted on; everything else is left out.
# Operations whose response CloudTrail does not record at all ("responseElements": null in
# AWS's example entry for DescribeKey, docs.aws.amazon.com/kms/latest/developerguide/
# ct-describekey.html): the key's whole metadata, which the caller already has, on every
# describe. The key's ARN still goes to `resources`.
_RESPONSE_NOT_RECORDED = frozenset({"DescribeKey"})
_RESPONSE_MEMBERS = frozenset(
    {
        "AWSAccountId",
        "AliasArn",
        "AliasName",
        "Arn",
        "CreationDate",
        "CurrentKeyMaterialId",
        "DeletionDate",
        "DestinationEncryptionAlgorithm",
        "DestinationKeyMaterialId",
        "Enabled",
        "EncryptionAlgorithm",
        "EncapsulationAlgorithm",
        "ExpirationModel",
        "GrantId",
        "KeyAgreementAlgorithm",
        "KeyArn",
        "KeyId",
        "KeyManager",
        "KeyMaterialId",
        "KeyMetadata",
        "KeyOrigin",
        "KeyPairSpec",
        "KeySpec",
        "KeyState",
        "KeyUsage",
        "Origin",
        "PendingWindowInDays",
        "PolicyName",
        "SourceEncryptionAlgorithm",
        "SourceKeyId",
        "SourceKeyMaterialId",
        "TargetKeyId",
        "ValidTo",
    }
)
_ARN_MEMBERS = ("Arn", "KeyArn", "KeyId", "TargetKeyId", "SourceKeyId", "DestinationKeyId")
_encoder = msgspec.json.Encoder()


class Principal(Protocol):
    """The authenticated caller, as far as the audit trail needs it (the operations' caller
    record has these members, so the wire hands it over as it is)."""

    @property
    def account_id(self) -> str: ...
    @property
    def principal_arn(self) -> str: ...
    @property
    def access_key_id(self) -> str: ...
    @property
    def user_name(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Identity:
    """A `Principal` of the audit trail's own, for callers that hold no caller record."""

    account_id: str
    principal_arn: str
    access_key_id: str
    user_name: str


@dataclass(frozen=True, slots=True)
class ApiCall:
    """Everything known about one API call once its outcome is decided."""

    request_id: str
    event_time: float  # epoch seconds
    event_name: str
    source_ip: str
    user_agent: str
    identity: Principal | None  # None: the call did not authenticate
    claimed_access_key_id: str | None  # what an unauthenticated caller said it was
    request: msgspec.Struct | None  # None: the body did not decode (or was never read)
    response: msgspec.Struct | None
    error_code: str | None
    error_message: str | None
    # CloudTrail's additionalEventData, as the operation gave it (e.g. an attested
    # recipient's module id and PCRs); the operation puts no secret in it.
    additional_event_data: Mapping[str, object] | None = None
    # The eventID the request was given up front (GetKeyLastUsage names it); None: a fresh one.
    event_id: str | None = None


def api_call(
    *,
    request_id: str,
    event_time: float,
    operation: str | None,
    target: str,
    source_ip: str,
    user_agent: str,
    authorization: str,
    access_key_id: str | None,
    caller: Principal | None,
    request: msgspec.Struct | None,
    response: msgspec.Struct | None,
    error_code: str | None,
    error_message: str | None,
    additional_event_data: Mapping[str, object] | None = None,
    event_id: str | None = None,
) -> ApiCall:
    """The facts of one call as the wire saw them, as the audit trail records them.

    `operation` is the operation the call was routed to (None: it was not, and the event is
    named after the X-Amz-Target the caller sent); `access_key_id` is the key whose signature
    checked out (None: the event names the key the Authorization header claims); `caller` is
    set once the request decoded. A response is recorded only for a call that succeeded.
    """
    return ApiCall(
        request_id=request_id,
        event_time=event_time,
        event_name=operation if operation is not None else event_name_from_target(target),
        source_ip=source_ip,
        user_agent=user_agent,
        identity=caller,
        claimed_access_key_id=access_key_id or claimed_access_key_id(authorization),
        request=request,
        response=response if error_code is None else None,
        error_code=error_code,
        error_message=error_message,
        additional_event_data=additional_event_data or None,
        event_id=event_id,
    )


def event_name_from_target(target: str) -> str:
    """The operation name from X-Amz-Target, sanitised: it may be anything a caller sent."""
    name = target[len(_TARGET_PREFIX) :] if target.startswith(_TARGET_PREFIX) else target
    return _NAME.sub("?", name[:128]) or "-"


def claimed_access_key_id(authorization: str) -> str | None:
    """The access key id an Authorization header names, before (or without) verification."""
    match = _CREDENTIAL.search(authorization)
    return match.group(1) if match else None


def format_event_time(epoch: float) -> str:
    """`epoch` as CloudTrail writes it, `2026-12-01T13:30:00.123Z`: what
    `datetime.fromtimestamp(epoch, UTC)` gives, microseconds rounded half to even as it rounds
    them, with the date and time of day formatted once per second of events."""
    fraction, whole = math.modf(epoch)
    micros = round(fraction * 1e6)
    if micros >= 1_000_000:
        micros, whole = micros - 1_000_000, whole + 1.0
    elif micros < 0:  # before 1970
        micros, whole = micros + 1_000_000, whole - 1.0
    global _last_second
    second, prefix = _last_second
    if whole != second:
        moment = datetime.datetime.fromtimestamp(whole, datetime.UTC)
        prefix = moment.strftime("%Y-%m-%dT%H:%M:%S.")
        _last_second = (whole, prefix)  # one assignment: threads see the old pair or the new
    return f"{prefix}{micros // 1000:03d}Z"


_last_second: tuple[float, str] = (math.nan, "")


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:] if not name[:2].isupper() else name


def _text(value: str, limit: int = _MAX_TEXT) -> str:
    return value if len(value) <= limit else value[:limit] + "...(truncated)"


def _is_secret_name(name: str) -> bool:
    return any(word in name for word in _SECRET_WORDS)


@cache
def _members(struct_type: type[msgspec.Struct]) -> tuple[tuple[str, str, str, bool], ...]:
    """(attribute, wire name, CloudTrail name, is secret) of each member, worked out once."""
    return tuple(
        (attribute, name, _lower_camel(name), _is_secret_name(name))
        for attribute, name in zip(
            struct_type.__struct_fields__, struct_type.__struct_encode_fields__, strict=True
        )
    )


# What `_request_members` does with a member, decided once per struct type.
_COUNT = 0  # a secret: a list of them is recorded as its length, anything else not at all
_DIGEST = 1  # the peer public key: its SHA-256 when it is bytes
_VALUE = 2  # recorded by `_request_value`


@cache
def _request_plan(struct_type: type[msgspec.Struct]) -> tuple[tuple[str, str, str, int], ...]:
    """(attribute, wire name, CloudTrail name, what to do) of each member, worked out once."""
    return tuple(
        (
            attribute,
            name,
            camel,
            _COUNT if secret else _DIGEST if name == "PublicKey" else _VALUE,
        )
        for attribute, name, camel, secret in _members(struct_type)
    )


@cache
def _response_plan(struct_type: type[msgspec.Struct]) -> tuple[tuple[str, str], ...]:
    """(attribute, CloudTrail name) of each allow-listed response member, worked out once."""
    return tuple(
        (attribute, camel)
        for attribute, name, camel, _ in _members(struct_type)
        if name in _RESPONSE_MEMBERS
    )


def _may_hold_struct(annotation: Any) -> bool:
    """False only for a member type that can hold no struct (`_key_arns` walks no lists)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return any(_may_hold_struct(arg) for arg in typing.get_args(annotation))
    if origin is not None:
        return origin is typing.Annotated  # list[...], dict[...], Literal[...]: no struct
    if annotation is Any:  # a class since Python 3.11: not to be taken for a plain type
        return True
    if annotation is None or annotation is types.NoneType:
        return False
    if isinstance(annotation, type):
        return annotation is object or issubclass(annotation, msgspec.Struct)
    return True  # Any, a type variable, anything unforeseen: look at the value


@cache
def _arn_plan(struct_type: type[msgspec.Struct]) -> tuple[tuple[str, bool], ...]:
    """(attribute, may be a key ARN) of each member that may be a key ARN or hold a struct,
    in declaration order, worked out once: the members `_key_arns` needs to look at."""
    try:
        annotations = {f.name: f.type for f in msgspec.structs.fields(struct_type)}
    except Exception:  # a type msgspec cannot resolve: look at every member's value
        annotations = {}
    return tuple(
        (attribute, name in _ARN_MEMBERS)
        for attribute, name, _, _ in _members(struct_type)
        if name in _ARN_MEMBERS or _may_hold_struct(annotations.get(attribute, Any))
    )


def _request_value(name: str, value: Any, depth: int) -> Any:
    if isinstance(value, str):  # the common case first; no str is also an int or a float
        return _text(value, _MAX_POLICY if name == "Policy" else _MAX_TEXT)
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, msgspec.Struct):
        return _request_members(value, depth + 1) if depth < _MAX_DEPTH else None
    if isinstance(value, list):
        items = [_request_value(name, item, depth + 1) for item in value[:_MAX_LIST]]
        return [item for item in items if item is not None]
    if isinstance(value, dict):
        return {
            _text(str(k), 128): _text(v) if isinstance(v, str) else None
            for k, v in list(value.items())[:_MAX_LIST]
        }
    return None  # bytes and anything unforeseen: never recorded


def _request_members(struct: msgspec.Struct, depth: int = 0) -> dict[str, Any]:
    recorded: dict[str, Any] = {}
    for attribute, name, camel, action in _request_plan(type(struct)):
        value = getattr(struct, attribute)
        if value is None:
            continue
        if action == _VALUE:
            kept = _request_value(name, value, depth)
            if kept is not None:
                recorded[camel] = kept
        elif action == _COUNT:
            if isinstance(value, list):  # GrantTokens: how many, never which
                recorded[camel + "Count"] = len(value)
        elif isinstance(value, bytes):
            recorded["publicKeySha256"] = hashlib.sha256(value).hexdigest()
        else:
            kept = _request_value(name, value, depth)
            if kept is not None:
                recorded[camel] = kept
    return recorded


def _response_members(struct: msgspec.Struct, depth: int = 0) -> dict[str, Any]:
    recorded: dict[str, Any] = {}
    for attribute, camel in _response_plan(type(struct)):
        value = getattr(struct, attribute)
        if isinstance(value, str):
            recorded[camel] = _text(value)
        elif isinstance(value, msgspec.Struct):
            if depth < _MAX_DEPTH:
                recorded[camel] = _response_members(value, depth + 1)
        elif isinstance(value, bool | int | float):
            recorded[camel] = value
    return recorded


def _key_arns(struct: msgspec.Struct | None, found: list[str], depth: int = 0) -> None:
    if struct is None or depth > _MAX_DEPTH:
        return
    for attribute, may_be_arn in _arn_plan(type(struct)):
        value = getattr(struct, attribute)
        if isinstance(value, msgspec.Struct):
            _key_arns(value, found, depth + 1)
        elif (
            may_be_arn
            and isinstance(value, str)
            and value.startswith("arn:")
            and ":key/" in value
            and len(value) <= 2048
            and value not in found
        ):
            found.append(value)


@lru_cache(maxsize=1024)  # the same few keys' ARNs, event after event
def _arn_account(arn: str) -> str | None:
    return next((part for part in arn.split(":")[2:5] if _ACCOUNT.match(part)), None)


def _resources(call: ApiCall, key_arn: Callable[[str, str], str]) -> list[str]:
    arns: list[str] = []
    _key_arns(call.response, arns)
    _key_arns(call.request, arns)
    key_ref = getattr(call.request, "key_id", None)
    # A bare key id names a key of the caller's own account (DESIGN §2): its ARN is known.
    if not arns and call.identity is not None and isinstance(key_ref, str) and _UUID.match(key_ref):
        arns.append(key_arn(call.identity.account_id, key_ref))
    return arns


def _user_identity(call: ApiCall) -> dict[str, Any]:
    if call.identity is None:
        unknown: dict[str, Any] = {"type": "Unknown"}
        if call.claimed_access_key_id:
            unknown["accessKeyId"] = call.claimed_access_key_id
        return unknown
    who = call.identity
    return {
        "type": "IAMUser",
        "principalId": f"{who.account_id}:{who.user_name}",
        "arn": who.principal_arn,
        "accountId": who.account_id,
        "accessKeyId": who.access_key_id,
        "userName": who.user_name,
    }


def build_event(
    call: ApiCall, *, region: str, read_only: bool, key_arn: Callable[[str, str], str]
) -> dict[str, Any]:
    """The CloudTrail-shaped record of `call` (field names as CloudTrail writes them)."""
    resources = _resources(call, key_arn)
    event: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "eventTime": format_event_time(call.event_time),
        "eventSource": "kms.qkms",
        "eventName": call.event_name,
        "awsRegion": region,
        "sourceIPAddress": _text(call.source_ip, 64),
        "userAgent": _text(call.user_agent, 256),
        "userIdentity": _user_identity(call),
        "requestParameters": _request_members(call.request) if call.request else None,
        "responseElements": (
            _response_members(call.response)
            if call.response and call.event_name not in _RESPONSE_NOT_RECORDED
            else None
        ),
        "requestID": call.request_id,
        "eventID": call.event_id or random_uuid(),
        "readOnly": read_only,
        "resources": [
            {"accountId": _arn_account(arn), "type": "AWS::KMS::Key", "ARN": arn}
            for arn in resources
        ],
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "eventCategory": "Management",
    }
    if call.additional_event_data:
        event["additionalEventData"] = dict(call.additional_event_data)
    if call.error_code is not None:
        event["errorCode"] = call.error_code
        event["errorMessage"] = _text(call.error_message or "")
    if call.identity is not None:
        event["recipientAccountId"] = call.identity.account_id
    return event


def encode_event(event: dict[str, Any]) -> bytes:
    """One JSON line; an event over MAX_EVENT_BYTES keeps its identity and loses its details."""
    line = _encoder.encode(event) + b"\n"
    if len(line) <= MAX_EVENT_BYTES:
        return line
    smaller = dict(event)
    parameters = event.get("requestParameters") or {}
    smaller["requestParameters"] = {
        "keyId": _text(str(parameters.get("keyId", "")), 256),
        "omitted": "request parameters too large for one audit event",
    }
    smaller["responseElements"] = None
    if "errorMessage" in event:
        smaller["errorMessage"] = _text(str(event["errorMessage"]), 256)
    smaller["resources"] = event["resources"][:8]
    return _encoder.encode(smaller) + b"\n"
