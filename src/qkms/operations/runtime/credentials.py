"""Access keys: creating them, and resolving an access key id to its secret and principal."""

from __future__ import annotations

import string
from dataclasses import dataclass, field

from qkms.crypto import CryptoError, random_token, unwrap, wrap
from qkms.domain.principals import Caller
from qkms.operations.runtime.cache import FreshCache
from qkms.operations.runtime.context import Services
from qkms.operations.runtime.dispatch import store_errors_as_kms
from qkms.storage.base import AccessKeyRow

__all__ = ["Credential", "CredentialResolver", "NewAccessKey", "create_access_key"]

_ID_PREFIX = "QKMS"  # 20 characters like AWS's AKIA… ids, but never mistaken for one
_ID_ALPHABET = string.ascii_uppercase + "234567"
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


def _secret_aad(access_key_id: str) -> bytes:
    return f"qkms-access-key:{access_key_id}".encode()


# How many clients (source IP, user agent, TLS or not) one credential remembers a Caller for,
# and the longest user agent remembered (SDKs and the CLI send 100-300 characters): together
# they bound what up to 10,000 cached credentials can hold however callers vary their headers.
_CALLERS_PER_CREDENTIAL = 16
_REMEMBERED_USER_AGENT = 512


@dataclass(frozen=True, slots=True)
class Credential:
    """What an active access key id resolves to (the id itself is the cache key)."""

    account_id: str
    user_name: str
    secret: str = field(repr=False)
    # The Caller built for each client of this credential: a client's next call reuses the
    # frozen Caller instead of building it and its ARN again. Kept on the credential, so an
    # access key reloaded after a change starts with none.
    callers: dict[tuple[str, str, bool], Caller] = field(
        default_factory=dict, repr=False, compare=False
    )


@dataclass(frozen=True, slots=True)
class NewAccessKey:
    access_key_id: str
    secret_access_key: str = field(repr=False)


def create_access_key(
    services: Services,
    account_id: str,
    user_name: str,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
) -> NewAccessKey:
    """Store a new access key, its secret only wrapped under the root key (shown once)."""
    key_id = access_key_id or _ID_PREFIX + random_token(_ID_ALPHABET, 16)
    secret = secret_access_key or random_token(_SECRET_ALPHABET, 40)
    services.store.insert_access_key(
        AccessKeyRow(
            access_key_id=key_id,
            account_id=account_id,
            user_name=user_name,
            wrapped_secret=wrap(services.root_key, secret.encode(), _secret_aad(key_id)),
            status="Active",
            created_at=services.clock(),
        )
    )
    return NewAccessKey(key_id, secret)


class CredentialResolver:
    """Looks access keys up for SigV4, through a cache bounded by the change feed (DESIGN §7)."""

    def __init__(self, services: Services, cache: FreshCache[str, Credential]) -> None:
        self._services = services
        self._cache = cache

    def credential(self, access_key_id: str) -> Credential | None:
        return self._cache.get_or_load(access_key_id, lambda: self._load(access_key_id))

    def _load(self, access_key_id: str) -> Credential | None:
        with store_errors_as_kms():
            row = self._services.store.get_access_key(access_key_id)
        if row is None or row.status != "Active":
            return None
        try:
            secret = unwrap(self._services.root_key, row.wrapped_secret, _secret_aad(access_key_id))
        except CryptoError:
            # Wrapped under another root key or damaged: the key cannot authenticate anyone.
            return None
        return Credential(row.account_id, row.user_name, secret.decode())

    def secret_for(self, access_key_id: str) -> str | None:
        credential = self.credential(access_key_id)
        return credential.secret if credential is not None else None

    def caller(
        self, access_key_id: str, source_ip: str, user_agent: str, secure_transport: bool
    ) -> Caller | None:
        credential = self.credential(access_key_id)
        if credential is None:
            return None
        client = (source_ip, user_agent, secure_transport)
        caller = credential.callers.get(client)
        if caller is None:
            caller = Caller(
                account_id=credential.account_id,
                user_name=credential.user_name,
                access_key_id=access_key_id,
                principal_arn=self._services.arns.user_arn(
                    credential.account_id, credential.user_name
                ),
                source_ip=source_ip,
                user_agent=user_agent,
                secure_transport=secure_transport,
            )
            if len(user_agent) <= _REMEMBERED_USER_AGENT:
                if len(credential.callers) >= _CALLERS_PER_CREDENTIAL:
                    credential.callers.clear()  # a client seen again is built again
                credential.callers[client] = caller
        return caller
