"""`qkms admin ...`: manage users, access keys and identity policies on the server's store, audited."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from qkms.admin import accounts as admin
from qkms.admin.audit import AdminAudit, PlannedChange
from qkms.app import StartupError, open_services
from qkms.audit import AuditFileWriter, AuditWriteError, policy_digest
from qkms.config import ConfigError, Settings
from qkms.storage.base import StoreError

__all__ = ["add_admin_commands", "operator_audit", "run_admin"]


def operator_audit(settings: Settings, services: admin.Services) -> AdminAudit:
    """The server's audit log, for recording an operator's change as the server would."""
    writer = AuditFileWriter(
        settings.audit_log_path, settings.audit_max_bytes, settings.audit_backups
    )
    mirror = settings.database_url is not None
    return AdminAudit(writer, services, region=settings.region, mirror=mirror)


def add_admin_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "admin",
        help="manage users, access keys and identity policies",
        description="Works on the same store as `qkms serve` (give the same --data-dir or "
        "--database-url and root key); running servers see changes within 1 s.",
    )
    actions = parser.add_subparsers(dest="action", required=True)

    def user_command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text)
        sub.add_argument("--account", required=True, help="12-digit account id")
        sub.add_argument("--user", required=True, help="user name")
        return sub

    user_command("create-user", "create a user (and its account if new)")
    user_command(
        "create-access-key", "create an access key; prints its id and secret as JSON, once"
    )
    put = user_command("put-user-policy", "attach or replace an identity policy")
    put.add_argument("--policy-name", required=True, help="the policy's name within the user")
    put.add_argument(
        "--policy-document",
        required=True,
        help="the IAM policy as JSON text, or file://path to read it from",
    )
    delete = user_command("delete-user-policy", "remove an identity policy")
    delete.add_argument("--policy-name", required=True, help="the policy's name within the user")
    for name, help_text in (
        ("disable-access-key", "make an access key inactive (it stops authenticating)"),
        ("enable-access-key", "make an inactive access key active again"),
        ("delete-access-key", "delete an access key for good"),
    ):
        actions.add_parser(name, help=help_text).add_argument(
            "--access-key-id", required=True, help="the access key's id (AKIA...)"
        )
    actions.add_parser(
        "list-users", help="users of an account with their keys and policies"
    ).add_argument("--account", required=True, help="12-digit account id")


# Each mutating action and the IAM API name of the same change.
_EVENT_NAMES = {
    "create-user": "CreateUser",
    "create-access-key": "CreateAccessKey",
    "put-user-policy": "PutUserPolicy",
    "delete-user-policy": "DeleteUserPolicy",
    "disable-access-key": "UpdateAccessKey",
    "enable-access-key": "UpdateAccessKey",
    "delete-access-key": "DeleteAccessKey",
}


def _plan_change(
    args: argparse.Namespace, services: admin.Services, document: str | None
) -> PlannedChange | None:
    """The change `args` asks for; None for a read (list-users), which is not recorded."""
    event_name = _EVENT_NAMES.get(args.action)
    if event_name is None:
        return None
    if hasattr(args, "access_key_id"):
        owner = admin.access_key_owner(services, args.access_key_id)
        account_id, user_name = owner if owner is not None else (None, None)
        request: dict[str, Any] = {"accessKeyId": args.access_key_id}
        if args.action != "delete-access-key":
            request["status"] = "Active" if args.action == "enable-access-key" else "Inactive"
    else:
        account_id, user_name = args.account, args.user
        request = {"accountId": args.account}
    if user_name is not None:
        request["userName"] = user_name
    if hasattr(args, "policy_name"):
        request["policyName"] = args.policy_name
    if document is not None:
        request.update(policy_digest(document))
    return PlannedChange(
        event_name, account_id, user_name, request, command=f"qkms admin {args.action}"
    )


def _document(text: str) -> str:
    if text.startswith("file://"):
        return Path(text[len("file://") :]).read_text()
    return text


def _dispatch(
    args: argparse.Namespace, services: admin.Services, document: str | None
) -> tuple[object, dict[str, Any] | None]:
    """Run the action: (what to print, the audit event's responseElements)."""
    action = args.action
    if action == "create-user":
        created = admin.create_user(services, args.account, args.user)
        return {"Account": args.account, "UserName": args.user, "Created": created}, {
            "created": created
        }
    if action == "create-access-key":
        key = admin.new_access_key(services, args.account, args.user)
        # The audit event gets the id and status only, as CloudTrail records CreateAccessKey.
        recorded = {"accessKeyId": key.access_key_id, "status": "Active", "userName": args.user}
        return {"AccessKeyId": key.access_key_id, "SecretAccessKey": key.secret_access_key}, {
            "accessKey": recorded
        }
    if action == "put-user-policy":
        if document is None:  # argparse requires --policy-document; never reached
            raise admin.AdminError("--policy-document is required")
        admin.put_user_policy(services, args.account, args.user, args.policy_name, document)
        return None, None
    if action == "delete-user-policy":
        admin.delete_user_policy(services, args.account, args.user, args.policy_name)
        return None, None
    if action in ("disable-access-key", "enable-access-key"):
        admin.set_access_key_status(services, args.access_key_id, action == "enable-access-key")
        return None, None
    if action == "delete-access-key":
        admin.delete_access_key(services, args.access_key_id)
        return None, None
    users = admin.list_users(services, args.account)
    return {
        "Users": [
            {
                "UserName": u.user_name,
                "AccessKeys": [{"AccessKeyId": k, "Status": s} for k, s in u.access_keys],
                "PolicyNames": u.policy_names,
            }
            for u in users
        ]
    }, None


def _run(args: argparse.Namespace, settings: Settings, services: admin.Services) -> int:
    """Plan, check the audit log, act, record: a change that cannot be audited is not made."""
    try:
        document = _document(args.policy_document) if hasattr(args, "policy_document") else None
        change = _plan_change(args, services, document)
        audit = operator_audit(settings, services)
        if change is not None:
            audit.check()
    except OSError as exc:  # the file:// policy document
        print(f"qkms admin: {exc}", file=sys.stderr)
        return 1
    except StoreError as exc:
        print(f"qkms admin: the store failed: {exc}; nothing was changed.", file=sys.stderr)
        return 1
    except AuditWriteError as exc:
        print(f"qkms admin: {exc}; nothing was changed.", file=sys.stderr)
        return 2
    error: tuple[str, str] | None = None
    result: object = None
    response: dict[str, Any] | None = None
    try:
        result, response = _dispatch(args, services, document)
    except admin.AdminError as exc:
        error = (exc.code, str(exc))
    except StoreError as exc:
        error = ("ServiceFailure", f"the store failed: {exc}")
    if change is not None:
        try:
            audit.record(change, response, error)
        except (AuditWriteError, StoreError) as exc:
            done = "was refused" if error else "was made"
            message = f"the change {done} but its audit event was not recorded: {exc}"
            print(f"qkms admin: {message}", file=sys.stderr)
            return 1
    if error is not None:
        print(f"qkms admin: {error[1]}", file=sys.stderr)
        return 1
    if result is not None:
        print(json.dumps(result, indent=2))
    return 0


def run_admin(args: argparse.Namespace, settings: Settings) -> int:
    try:
        services = open_services(settings)
    except (ConfigError, StartupError) as exc:
        print(f"qkms admin: {exc}", file=sys.stderr)
        return 2
    try:
        return _run(args, settings, services)
    finally:
        services.store.close()
