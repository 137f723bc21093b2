"""Grant tokens for operations: issue one for a grant, read what one vouches for (AWS "Grant token").

The token is `qkms.crypto.grant_tokens`' authenticated blob as base64url text.
Tokens in the format earlier versions issued (``base64url("qkms-grant-token-v1:" + GrantId)``)
are refused as InvalidGrantTokenException: anyone who had seen a grant id (ListGrants, audit
events, the database) could write one, so none of them can be told from a forgery. Nothing a
user relies on is lost: a stored grant works for its grantee without any token, and a grant is
retired by KeyId and GrantId as before; only the use of a token itself needs a new one.
"""

from __future__ import annotations

import base64
import binascii

from qkms.crypto import GrantTokenClaims, GrantTokenError, open_grant_token, seal_grant_token
from qkms.domain.errors import InvalidGrantTokenException
from qkms.operations.runtime.context import OperationContext
from qkms.storage.base import GrantRow

__all__ = ["invalid_grant_token", "issue_grant_token", "read_grant_token", "token_grant"]


def invalid_grant_token() -> InvalidGrantTokenException:
    """One answer for every token that does not lead to a grant the caller may name, so a
    refusal tells nothing about which check failed (nor about another account's key)."""
    return InvalidGrantTokenException("The grant token is not valid.")


def issue_grant_token(ctx: OperationContext, grant: GrantRow) -> str:
    claims = GrantTokenClaims(grant.grant_id, grant.key_account_id, grant.key_id)
    return base64.urlsafe_b64encode(seal_grant_token(ctx.services.root_key, claims)).decode()


def read_grant_token(ctx: OperationContext, token: str) -> GrantTokenClaims:
    """What `token` vouches for, once its MAC holds; InvalidGrantTokenException otherwise."""
    try:
        blob = base64.urlsafe_b64decode(token.encode())
        # One spelling per token: padding games or stray characters make it no token.
        if base64.urlsafe_b64encode(blob).decode() != token:
            raise invalid_grant_token()
        return open_grant_token(ctx.services.root_key, blob)
    except (binascii.Error, ValueError, GrantTokenError):
        raise invalid_grant_token() from None


def token_grant(ctx: OperationContext, claims: GrantTokenClaims) -> GrantRow | None:
    """The grant a token vouches for, read from the store (a token makes its grant usable before
    the change feed carries it); None once retired or revoked, or if it is not the one vouched
    for (a grant id is never reused, so that is belt and braces)."""
    grant = ctx.services.store.get_grant(claims.grant_id)
    if (
        grant is None
        or grant.key_id != claims.key_id
        or grant.key_account_id != claims.key_account_id
    ):
        return None
    return grant
