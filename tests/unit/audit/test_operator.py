"""Operator command events: the server's CloudTrail shape, the OS user as actor, no secrets."""

from __future__ import annotations

import hashlib
import json
import os
import pwd

from qkms.audit.events import encode_event
from qkms.audit.operator import (
    OperatorAction,
    build_operator_event,
    operator_identity,
    policy_digest,
)

ACCOUNT = "444455556666"
USER_ARN = f"arn:verenc:{ACCOUNT}:user/alice"


def test_the_actor_is_the_uid_and_its_name_with_sudo_as_a_claim() -> None:
    identity = operator_identity({"SUDO_USER": "bob"})
    assert identity == {
        "type": "LocalOperator",
        "principalId": f"uid:{os.getuid()}",
        "userName": pwd.getpwuid(os.getuid()).pw_name,
        "invokedBy": "qkms",
        "sudoUser": "bob",
    }
    assert "sudoUser" not in operator_identity({})


def test_a_policy_document_is_recorded_as_its_digest_only() -> None:
    document = '{"Statement": [{"Sid": "private-words"}]}'
    assert policy_digest(document) == {
        "policyDocumentSha256": hashlib.sha256(document.encode()).hexdigest(),
        "policyDocumentBytes": len(document),
    }


def test_an_event_has_the_servers_shape_and_names_the_account_and_user() -> None:
    action = OperatorAction(
        event_name="CreateUser",
        event_time=1_700_000_000.25,
        account_id=ACCOUNT,
        request={"accountId": ACCOUNT, "userName": "alice"},
        response={"created": True},
        user_arn=USER_ARN,
    )
    event = build_operator_event(action, region="eu-west-1", identity=operator_identity({}))
    assert event["eventTime"] == "2023-11-14T22:13:20.250Z"
    assert event["eventSource"] == "iam.qkms" and event["eventName"] == "CreateUser"
    assert event["awsRegion"] == "eu-west-1"
    assert event["recipientAccountId"] == ACCOUNT
    assert event["resources"] == [{"accountId": ACCOUNT, "type": "AWS::IAM::User", "ARN": USER_ARN}]
    assert event["eventID"] == action.event_id and event["readOnly"] is False
    assert "errorCode" not in event
    assert json.loads(encode_event(event)) == event


def test_a_refusal_keeps_its_code_and_a_capped_message() -> None:
    action = OperatorAction(
        event_name="DeleteAccessKey",
        event_time=0.0,
        account_id=None,
        request={"accessKeyId": "AKIDNOTTHERE"},
        error_code="NoSuchEntity",
        error_message="x" * 5000,
    )
    event = build_operator_event(action, region="us-east-1", identity=operator_identity({}))
    assert event["errorCode"] == "NoSuchEntity"
    assert len(event["errorMessage"]) == 1027 and event["errorMessage"].endswith("...")
    assert event["resources"] == [] and "recipientAccountId" not in event
