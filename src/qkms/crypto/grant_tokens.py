"""Grant tokens: what CreateGrant hands out, authenticated so that only QKMS can make one.

Layout (v2; the unauthenticated ``qkms-grant-token-v1:`` text of earlier versions is no token)::

    0x02 | grant id length (1) | grant id (UTF-8) | key account (12, ASCII digits)
         | key id length (1) | key id (UTF-8) | HMAC-SHA256 over all of the above (32)

The MAC key is derived from the root key with HKDF-SHA256 under its own label (``qkms grant
token v2``), as import tokens are (`qkms.crypto.key_import`), so a token can be neither written
from a grant id nor moved to another grant or key without the root key. The token is bound to
the key's account and id, what its ARN names, not to the ARN text: `--arn-format` and
`--partition` change the text of every ARN but must not void every token.

A token is opaque to clients (its layout is ours to change) but not secret: it names a grant
and a key the grantee already knows, and its MAC is what makes it worth anything.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from qkms.crypto.errors import CryptoError
from qkms.crypto.wrapping import RootKey

__all__ = ["GrantTokenClaims", "GrantTokenError", "open_grant_token", "seal_grant_token"]

_VERSION: Final = 0x02
_MAC_SIZE: Final = 32
_MAC_INFO: Final = b"qkms grant token v2"
_ACCOUNT_SIZE: Final = 12
_ACCOUNT: Final = re.compile(rb"[0-9]{12}")


class GrantTokenError(CryptoError):
    """A grant token that is malformed, altered, or not made with this root key."""


@dataclass(frozen=True, slots=True)
class GrantTokenClaims:
    """What a grant token vouches for: this grant, on this key of this account."""

    grant_id: str
    key_account_id: str
    key_id: str


def seal_grant_token(root: RootKey, claims: GrantTokenClaims) -> bytes:
    """Serialize and authenticate `claims` under a key derived from `root`."""
    grant_id, key_id = claims.grant_id.encode(), claims.key_id.encode()
    account = claims.key_account_id.encode()
    if not (0 < len(grant_id) < 256 and 0 < len(key_id) < 256 and _ACCOUNT.fullmatch(account)):
        raise ValueError("grant id and key id must be 1-255 bytes, the account 12 digits")
    body = bytes([_VERSION, len(grant_id)]) + grant_id + account + bytes([len(key_id)]) + key_id
    return body + _mac(root, body)


def open_grant_token(root: RootKey, blob: bytes) -> GrantTokenClaims:
    """The claims `blob` carries if `root` (or a root key it replaces) made it; else
    GrantTokenError. The MAC is checked, in constant time, before any field is believed."""
    if len(blob) < 2 + 1 + _ACCOUNT_SIZE + 1 + 1 + _MAC_SIZE or blob[0] != _VERSION:
        raise GrantTokenError("not a grant token of this service")
    body, mac = blob[:-_MAC_SIZE], blob[-_MAC_SIZE:]
    # During a root-key rotation tokens issued under the old key keep working (the ring of
    # `RootKey.with_previous`); once the old key is dropped they no longer authenticate.
    if not any(hmac.compare_digest(mac, _mac(key, body)) for key in _ring(root)):
        raise GrantTokenError("grant token failed authentication")
    grant_end = 2 + body[1]
    key_start = grant_end + _ACCOUNT_SIZE + 1
    if len(body) < key_start or len(body) != key_start + body[key_start - 1]:
        raise GrantTokenError("not a grant token of this service")
    account = body[grant_end : grant_end + _ACCOUNT_SIZE]
    if not _ACCOUNT.fullmatch(account):
        raise GrantTokenError("not a grant token of this service")
    try:
        return GrantTokenClaims(
            grant_id=body[2:grant_end].decode(),
            key_account_id=account.decode(),
            key_id=body[key_start:].decode(),
        )
    except UnicodeDecodeError:
        raise GrantTokenError("not a grant token of this service") from None


def _ring(root: RootKey) -> list[RootKey]:
    return [root, *root._previous.values()]


def _mac(root: RootKey, body: bytes) -> bytes:
    mac_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_MAC_INFO).derive(
        root._key
    )
    return hmac.digest(mac_key, body, hashlib.sha256)
