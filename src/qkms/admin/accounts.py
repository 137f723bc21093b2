"""Account administration used by `qkms admin` and first start: users, access keys, identity policies.

These are not KMS API operations (AWS does them in IAM); they run with the store directly,
through the same Services as the server, and running servers see their effect through the
change feed within 1 s (DESIGN §7).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from qkms.domain.errors import MalformedPolicyDocumentException
from qkms.domain.policy import PolicyKind, parse_policy
from qkms.operations.runtime.context import Services
from qkms.operations.runtime.credentials import NewAccessKey, create_access_key
from qkms.storage.base import UserPolicyRow

__all__ = [
    "ADMIN_POLICY",
    "ADMIN_POLICY_NAME",
    "AdminError",
    "Services",
    "UserSummary",
    "access_key_owner",
    "create_user",
    "delete_access_key",
    "delete_user_policy",
    "list_users",
    "new_access_key",
    "put_user_policy",
    "set_access_key_status",
]

ADMIN_POLICY_NAME = "qkms-admin"
ADMIN_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "QkmsAdmin", "Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
    }
)
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_USER = re.compile(r"^[\w+=,.@-]{1,64}$")
_POLICY_NAME = re.compile(r"^[\w+=,.@-]{1,128}$")


class AdminError(Exception):
    """A refused admin request; the message says what to change.

    `code` is IAM's error code for the same refusal, recorded in the audit event.
    """

    def __init__(self, message: str, code: str = "ValidationError") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class UserSummary:
    account_id: str
    user_name: str
    access_keys: list[tuple[str, str]]  # (access key id, status)
    policy_names: list[str]


def _check_names(account_id: str, user_name: str) -> None:
    if not _ACCOUNT.match(account_id):
        raise AdminError(f"account must be 12 digits, not {account_id!r}")
    if not _USER.match(user_name):
        raise AdminError(f"user name {user_name!r} must be 1-64 of letters, digits and +=,.@_-")


def _require_user(services: Services, account_id: str, user_name: str) -> None:
    _check_names(account_id, user_name)
    if services.store.get_user(account_id, user_name) is None:
        raise AdminError(f"no user {user_name!r} in account {account_id}", "NoSuchEntity")


def create_user(services: Services, account_id: str, user_name: str) -> bool:
    """Create the user (and its account if new); False if it already existed."""
    _check_names(account_id, user_name)
    existed = services.store.get_user(account_id, user_name) is not None
    now = services.clock()
    services.store.ensure_account(account_id, now)
    services.store.ensure_user(account_id, user_name, now)
    return not existed


def new_access_key(services: Services, account_id: str, user_name: str) -> NewAccessKey:
    _require_user(services, account_id, user_name)
    return create_access_key(services, account_id, user_name)


def put_user_policy(
    services: Services, account_id: str, user_name: str, policy_name: str, document: str
) -> None:
    _require_user(services, account_id, user_name)
    if not _POLICY_NAME.match(policy_name):
        raise AdminError(
            f"policy name {policy_name!r} must be 1-128 of letters, digits and +=,.@_-"
        )
    try:
        parse_policy(document, services.arns.partition, kind=PolicyKind.IDENTITY)
    except MalformedPolicyDocumentException as exc:
        raise AdminError(
            f"policy document refused: {exc.message}", "MalformedPolicyDocument"
        ) from None
    services.store.put_user_policy(
        UserPolicyRow(account_id, user_name, policy_name, document), services.clock()
    )


def delete_user_policy(
    services: Services, account_id: str, user_name: str, policy_name: str
) -> None:
    _require_user(services, account_id, user_name)
    if not services.store.delete_user_policy(account_id, user_name, policy_name):
        raise AdminError(f"user {user_name!r} has no policy {policy_name!r}", "NoSuchEntity")


def set_access_key_status(services: Services, access_key_id: str, active: bool) -> None:
    if not services.store.set_access_key_status(access_key_id, "Active" if active else "Inactive"):
        raise AdminError(f"no access key {access_key_id!r}", "NoSuchEntity")


def delete_access_key(services: Services, access_key_id: str) -> None:
    if not services.store.delete_access_key(access_key_id):
        raise AdminError(f"no access key {access_key_id!r}", "NoSuchEntity")


def access_key_owner(services: Services, access_key_id: str) -> tuple[str, str] | None:
    """(account id, user name) of an access key, or None if there is no such key."""
    row = services.store.get_access_key(access_key_id)
    return (row.account_id, row.user_name) if row is not None else None


def list_users(services: Services, account_id: str) -> list[UserSummary]:
    store = services.store
    return [
        UserSummary(
            account_id=user.account_id,
            user_name=user.user_name,
            access_keys=[
                (k.access_key_id, k.status)
                for k in store.list_access_keys(account_id, user.user_name)
            ],
            policy_names=[
                p.policy_name for p in store.list_user_policies(account_id, user.user_name)
            ],
        )
        for user in store.list_users(account_id)
    ]
