"""How the audit trail turns the facts the wire hands it into one call's record (`api_call`)."""

from __future__ import annotations

from typing import Any

from qkms.audit.events import ApiCall, api_call, build_event
from qkms.domain.principals import Caller
from qkms.operations.shapes import DescribeKeyRequest, GetKeyPolicyResponse

ACCOUNT = "111122223333"
KEY_ID = "0b2c6a1e-8f0d-4d4e-9a55-2f4c1b6f7a11"
CALLER = Caller(
    account_id=ACCOUNT,
    user_name="bob",
    access_key_id="QKMSBOB0000000000001",
    principal_arn=f"arn:verenc:iam::{ACCOUNT}:user/bob",
    source_ip="192.0.2.7",
    user_agent="ua",
    secure_transport=False,
)
AUTHORIZATION = "AWS4-HMAC-SHA256 Credential=QKMSCLAIMED000000001/20260101/r/kms/aws4_request"


def facts(**changes: Any) -> ApiCall:
    given: dict[str, Any] = {
        "request_id": "req-1",
        "event_time": 1_700_000_000.0,
        "operation": None,
        "target": "TrentService.DescribeKey",
        "source_ip": "192.0.2.7",
        "user_agent": "ua",
        "authorization": AUTHORIZATION,
        "access_key_id": None,
        "caller": None,
        "request": None,
        "response": None,
        "error_code": "InvalidSignatureException",
        "error_message": "no",
    }
    return api_call(**(given | changes))


def test_a_routed_call_is_named_after_its_operation() -> None:
    assert facts(operation="DescribeKey", target="TrentService.Other").event_name == "DescribeKey"


def test_an_unrouted_call_is_named_after_the_sanitised_target() -> None:
    assert facts(target="TrentService.Bad Name\n").event_name == "Bad?Name?"


def test_an_unverified_call_names_the_key_its_authorization_claims() -> None:
    call = facts()
    assert (call.identity, call.claimed_access_key_id) == (None, "QKMSCLAIMED000000001")


def test_a_verified_key_is_named_even_before_the_request_decodes() -> None:
    call = facts(access_key_id=CALLER.access_key_id, error_code="SerializationException")
    assert call.claimed_access_key_id == CALLER.access_key_id
    assert call.identity is None


def test_the_operations_caller_record_is_the_events_identity() -> None:
    call = facts(
        operation="DescribeKey",
        access_key_id=CALLER.access_key_id,
        caller=CALLER,
        request=DescribeKeyRequest(key_id=KEY_ID),
        error_code=None,
        error_message=None,
    )
    event = build_event(
        call, region="r", read_only=True, key_arn=lambda a, k: f"arn:verenc:{a}:key/{k}"
    )
    assert event["userIdentity"] == {
        "type": "IAMUser",
        "principalId": f"{ACCOUNT}:bob",
        "arn": CALLER.principal_arn,
        "accountId": ACCOUNT,
        "accessKeyId": CALLER.access_key_id,
        "userName": "bob",
    }


def test_a_response_is_recorded_only_for_a_call_that_succeeded() -> None:
    response = GetKeyPolicyResponse(policy="{}", policy_name="default")
    assert facts(response=response).response is None
    assert facts(response=response, error_code=None).response is response
