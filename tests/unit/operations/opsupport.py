"""Builders for operation tests: a real SQLite store, an injectable clock, a caller context."""

from __future__ import annotations

from pathlib import Path

from qkms.admin.accounts import ADMIN_POLICY
from qkms.crypto import RootKey
from qkms.domain.arns import Arns
from qkms.domain.cache import FreshCache
from qkms.domain.policy import PolicyDocument
from qkms.domain.principals import Caller
from qkms.operations.context import CachedKey, KeyGrants, OperationContext, Services
from qkms.storage import SqliteKeyStore, UserPolicyRow

ACCOUNT = "111122223333"


class FakeClock:
    """Wall-clock time that a test moves by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_services(path: Path, root_key: RootKey, clock: FakeClock) -> Services:
    store = SqliteKeyStore(path, deadline_seconds=1.0)
    store.migrate()
    store.ensure_account(ACCOUNT, clock())
    cache = FreshCache[str, CachedKey](100)
    identity = FreshCache[str, tuple[PolicyDocument, ...]](100)
    grants = FreshCache[str, KeyGrants](100)
    aliases = FreshCache[str, str](100)
    for fresh in (cache, identity, grants, aliases):
        fresh.confirm_fresh()
    store.ensure_user(ACCOUNT, "admin", clock())
    store.put_user_policy(UserPolicyRow(ACCOUNT, "admin", "admin", ADMIN_POLICY), clock())
    return Services(
        store=store,
        root_key=root_key,
        arns=Arns(),
        clock=clock,
        key_cache=cache,
        identity_policies=identity,
        grants=grants,
        aliases=aliases,
    )


def context(services: Services, account: str = ACCOUNT) -> OperationContext:
    caller = Caller(
        account_id=account,
        user_name="admin",
        access_key_id="QKMSTEST",
        principal_arn=f"arn:verenc:{account}:user/admin",
        source_ip="127.0.0.1",
        user_agent="pytest",
        secure_transport=False,
    )
    return OperationContext(services=services, caller=caller, request_id="req-1")
