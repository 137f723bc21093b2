"""The single authorization hook every key operation goes through (DESIGN §5).

Today the rule is the core issue's: every authenticated principal of an account may use that
account's keys, and another account's key is invisible (NotFoundException, never a hint that it
exists). The policy engine replaces `AccountScopedAuthorizer` behind the same `Authorizer`
protocol, so no operation changes when it lands.
"""

from __future__ import annotations

from typing import Protocol

from qkms.domain.errors import AccessDeniedException, NotFoundException
from qkms.domain.keys import Key
from qkms.domain.principals import Caller

__all__ = ["AccountScopedAuthorizer", "Authorizer"]


class Authorizer(Protocol):
    def authorize_key_action(self, caller: Caller, action: str, key: Key, key_arn: str) -> None:
        """Return if `caller` may do `action` on `key`; raise NotFound/AccessDenied otherwise."""

    def authorize_account_action(self, caller: Caller, action: str) -> None:
        """Return if `caller` may do an account-level `action` (CreateKey, ListKeys)."""


class AccountScopedAuthorizer:
    def authorize_key_action(self, caller: Caller, action: str, key: Key, key_arn: str) -> None:
        if key.account_id != caller.account_id:
            # Not AccessDenied: a key the caller may not see must not be revealed to exist.
            raise NotFoundException(f"Key '{key_arn}' does not exist")

    def authorize_account_action(self, caller: Caller, action: str) -> None:
        if not caller.account_id:
            raise AccessDeniedException(
                f"User: {caller.principal_arn} is not authorized to perform: {action}"
            )
