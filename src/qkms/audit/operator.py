"""Audit events of the local operator's commands (`qkms admin ...`), in the server's log.

These changes are made on the store directly, not through the API, so no request signs them:
the actor is the operating-system account that ran the command. The event has the server's
CloudTrail shape, with these choices:
- `eventSource` is `iam.qkms` and `eventName` is the IAM API name of the same change
  (CreateUser, CreateAccessKey, PutUserPolicy, DeleteUserPolicy, UpdateAccessKey with
  `status` Active/Inactive for enable/disable, DeleteAccessKey), since AWS makes these changes
  in IAM; `eventType` is `QkmsOperatorCommand`.
- `qkms root-key rotate` is recorded as `RotateRootKey` from `kms.qkms`, with the check values
  (never the keys) and what was re-wrapped.
- `userIdentity` is `{"type": "LocalOperator", "principalId": "uid:<uid>", "userName": <the
  name of that uid>, "invokedBy": "qkms"}`, plus `sudoUser` when run through sudo (as sudo
  reports it: a claim, while uid is what the kernel says).
- `sourceIPAddress` is the host name of the machine the command ran on; `userAgent` the
  command (`qkms admin create-user`).
- `recipientAccountId` is the account changed; `resources` the user's ARN.
- Never a secret: a new access key appears as its id and status only (as CloudTrail records
  CreateAccessKey), and a policy document only as its SHA-256 and size, since a document may
  carry values its author considers private.
Failed commands are recorded too, with IAM's error code (NoSuchEntity, MalformedPolicyDocument,
ValidationError, ServiceFailure) and the message printed to the operator.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from qkms.audit.events import EVENT_VERSION, format_event_time

__all__ = ["OperatorAction", "build_operator_event", "operator_identity", "policy_digest"]

_MAX_TEXT = 1024


@dataclass(frozen=True, slots=True)
class OperatorAction:
    """One operator command once its outcome is known."""

    event_name: str
    event_time: float
    account_id: str | None
    request: Mapping[str, Any]
    command: str = "qkms admin"  # recorded as userAgent
    event_source: str = "iam.qkms"
    response: Mapping[str, Any] | None = None
    user_arn: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def operator_identity(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Who ran the command: the uid the kernel reports, and its name."""
    uid = os.getuid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:  # a uid without a passwd entry (containers)
        name = str(uid)
    identity: dict[str, Any] = {
        "type": "LocalOperator",
        "principalId": f"uid:{uid}",
        "userName": name,
        "invokedBy": "qkms",
    }
    if sudo_user := environ.get("SUDO_USER"):
        identity["sudoUser"] = sudo_user[:64]
    return identity


def policy_digest(document: str) -> dict[str, Any]:
    """What the log says of a policy document: its SHA-256 and size, never its text."""
    data = document.encode()
    return {
        "policyDocumentSha256": hashlib.sha256(data).hexdigest(),
        "policyDocumentBytes": len(data),
    }


def build_operator_event(
    action: OperatorAction, *, region: str, identity: Mapping[str, Any]
) -> dict[str, Any]:
    """The CloudTrail-shaped record of one operator command."""
    event: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "eventTime": format_event_time(action.event_time),
        "eventSource": action.event_source,
        "eventName": action.event_name,
        "awsRegion": region,
        "sourceIPAddress": socket.gethostname()[:64],
        "userAgent": action.command[:256],
        "userIdentity": dict(identity),
        "requestParameters": dict(action.request),
        "responseElements": dict(action.response) if action.response is not None else None,
        "requestID": action.event_id,
        "eventID": action.event_id,
        "readOnly": False,
        "resources": (
            [{"accountId": action.account_id, "type": "AWS::IAM::User", "ARN": action.user_arn}]
            if action.user_arn
            else []
        ),
        "eventType": "QkmsOperatorCommand",
        "managementEvent": True,
        "eventCategory": "Management",
    }
    if action.error_code is not None:
        event["errorCode"] = action.error_code
        message = action.error_message or ""
        event["errorMessage"] = (
            message if len(message) <= _MAX_TEXT else message[:_MAX_TEXT] + "..."
        )
    if action.account_id is not None:
        event["recipientAccountId"] = action.account_id
    return event
