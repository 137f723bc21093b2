"""Helpers the unit tests share: operation services on a real SQLite store, callers, imports, SigV4.

Test modules import from here and never from one another (checked by tests/test_layout.py).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives.asymmetric import ec

from qkms.admin import accounts as admin
from qkms.admin.accounts import ADMIN_POLICY
from qkms.crypto import RootKey
from qkms.domain.arns import Arns
from qkms.domain.errors import KmsError
from qkms.domain.policy import PolicyDocument
from qkms.domain.principals import Caller
from qkms.operations.key_agreement.derive_shared_secret import derive_shared_secret
from qkms.operations.key_import.get_parameters_for_import import get_parameters_for_import
from qkms.operations.key_import.import_key_material import import_key_material
from qkms.operations.keys.create_key import create_key
from qkms.operations.keys.describe_key import describe_key
from qkms.operations.runtime.cache import FreshCache
from qkms.operations.runtime.context import CachedKey, KeyGrants, OperationContext, Services
from qkms.operations.shapes import CreateKeyRequest, DeriveSharedSecretRequest, DescribeKeyRequest
from qkms.operations.shapes.key_import import (
    GetParametersForImportRequest,
    GetParametersForImportResponse,
    ImportKeyMaterialRequest,
)
from qkms.storage import SqliteKeyStore, UserPolicyRow
from qkms.wire.sigv4 import SignedRequest, SigV4Verifier
from tests.import_client import client_wrap, pkcs8, spki
from tests.peer_keys import peer_public_key_der

ACCOUNT = "111122223333"
HOUR = 3600.0


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


def slow_to_expire(services: Services) -> Services:
    """Worker caches that stay trusted for an hour: only the change feed can evict them."""
    fresh = dataclasses.replace(
        services,
        key_cache=FreshCache(100, max_staleness=HOUR),
        identity_policies=FreshCache(100, max_staleness=HOUR),
        grants=FreshCache(100, max_staleness=HOUR),
        aliases=FreshCache(100, max_staleness=HOUR),
    )
    for cache in (fresh.key_cache, fresh.identity_policies, fresh.grants, fresh.aliases):
        cache.confirm_fresh()
    return fresh


# --- access control: users, policies, derive outcomes ------------------------------------------

OTHER_ACCOUNT = "444455556666"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(*actions: str, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": list(actions), "Resource": "*", **extra}


def user_ctx(
    services: Services, user: str, account: str = ACCOUNT, secure: bool = False
) -> OperationContext:
    caller = Caller(
        account_id=account,
        user_name=user,
        access_key_id=f"AK{user.upper()}",
        principal_arn=f"arn:verenc:{account}:user/{user}",
        source_ip="192.0.2.7",
        user_agent="pytest",
        secure_transport=secure,
    )
    return OperationContext(services=services, caller=caller, request_id="req-access")


def add_user(services: Services, user: str, *documents: str, account: str = ACCOUNT) -> None:
    admin.create_user(services, account, user)
    for index, document in enumerate(documents):
        admin.put_user_policy(services, account, user, f"p{index}", document)


def new_key(services: Services, spec: str = "ECC_NIST_P256", usage: str = "KEY_AGREEMENT") -> str:
    request = CreateKeyRequest(key_spec=spec, key_usage=usage)
    return create_key(context(services), request).key_metadata.key_id


def derive_request(key_id: str, algorithm: str | None = "ECDH", **extra: Any) -> Any:
    return DeriveSharedSecretRequest(
        key_id=key_id,
        public_key=peer_public_key_der(),
        key_agreement_algorithm=algorithm,
        **extra,
    )


def derive_outcome(ctx: OperationContext, key_id: str, **extra: Any) -> str:
    try:
        derive_shared_secret(ctx, derive_request(key_id, **extra))
    except KmsError as exc:
        return exc.code
    return "ok"


# --- import: keys that wait for material ---------------------------------------------------------

DAY = 86400.0


def external_key(ctx: OperationContext, spec: str = "ECC_NIST_P256") -> str:
    request = CreateKeyRequest(key_spec=spec, key_usage="KEY_AGREEMENT", origin="EXTERNAL")
    return create_key(ctx, request).key_metadata.key_id


def parameters(
    ctx: OperationContext, key_id: str, algorithm: str = "RSA_AES_KEY_WRAP_SHA_256"
) -> GetParametersForImportResponse:
    return get_parameters_for_import(
        ctx,
        GetParametersForImportRequest(
            key_id=key_id, wrapping_algorithm=algorithm, wrapping_key_spec="RSA_2048"
        ),
    )


@dataclass
class Imported:
    key_id: str
    private_key: ec.EllipticCurvePrivateKey


def do_import(
    ctx: OperationContext,
    key_id: str,
    private_key: ec.EllipticCurvePrivateKey,
    algorithm: str = "RSA_AES_KEY_WRAP_SHA_256",
    params: GetParametersForImportResponse | None = None,
    **extra: object,
) -> Imported:
    params = params or parameters(ctx, key_id, algorithm)
    extra.setdefault("expiration_model", "KEY_MATERIAL_DOES_NOT_EXPIRE")
    request = ImportKeyMaterialRequest(
        key_id=key_id,
        import_token=params.import_token,
        encrypted_key_material=client_wrap(algorithm, params.public_key, pkcs8(private_key)),
        **extra,  # type: ignore[arg-type]
    )
    import_key_material(ctx, request)
    return Imported(key_id, private_key)


def derive(ctx: OperationContext, key_id: str, peer: ec.EllipticCurvePrivateKey) -> bytes:
    response = derive_shared_secret(
        ctx, DeriveSharedSecretRequest(key_id=key_id, public_key=spki(peer))
    )
    assert response.shared_secret is not None
    return response.shared_secret


def state(ctx: OperationContext, key_id: str) -> str:
    return describe_key(ctx, DescribeKeyRequest(key_id=key_id)).key_metadata.key_state


# --- SigV4: requests signed by botocore, a verifier on a fixed clock -----------------------------

AKID = "AKIAQKMSTESTKEY00001"
SECRET = "qkmsTestSecret/K7MDENG+bPxRfiCYEXAMPLEKEY"
OTHER_SECRET = "anotherSecret/0000000000000000000000000000"
ENDPOINT = "https://kms.us-east-1.amazonaws.com"
NOW = datetime(2024, 5, 24, 0, 10, tzinfo=UTC).timestamp()
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
INVALID_TOKEN = "The security token included in the request is invalid."
KMS_HEADERS = {
    "X-Amz-Target": "TrentService.DeriveSharedSecret",
    "Content-Type": "application/x-amz-json-1.1",
}
KMS_BODY = b'{"KeyId": "alias/ecdh", "KeyAgreementAlgorithm": "ECDH", "PublicKey": "AAAA"}'


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_verifier(
    secrets: Mapping[str, str] | None = None, now: float = NOW, cache_size: int = 1024
) -> SigV4Verifier:
    table = {AKID: SECRET} if secrets is None else secrets
    return SigV4Verifier(table.get, Clock(now), signing_key_cache_size=cache_size)


def sign(
    url: str = ENDPOINT + "/",
    *,
    method: str = "POST",
    headers: Sequence[tuple[str, str]] = tuple(KMS_HEADERS.items()),
    body: bytes = KMS_BODY,
    at: float = NOW,
    region: str = "us-east-1",
    service: str = "kms",
    access_key_id: str = AKID,
    secret: str = SECRET,
    token: str | None = None,
) -> SignedRequest:
    """Sign with botocore's own SigV4Auth, then hand back the request as the server sees it."""
    request = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        request.headers[name] = value  # HTTPHeaders appends, so names may repeat
    signed_at = datetime.fromtimestamp(at, UTC).replace(tzinfo=None)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=signed_at):
        SigV4Auth(Credentials(access_key_id, secret, token), service, region).add_auth(request)
    parts = urlsplit(url)
    wire_headers = [(str(n).lower(), str(v)) for n, v in request.headers.items()]
    wire_headers.append(("host", parts.netloc))  # added by the HTTP client, signed by botocore
    return SignedRequest(method, parts.path, parts.query, wire_headers, body)


def with_header(request: SignedRequest, name: str, value: str | None) -> SignedRequest:
    """Replace (or with None, drop) every occurrence of a header."""
    headers = [(n, v) for n, v in request.headers if n != name]
    if value is not None:
        headers.append((name, value))
    return dataclasses.replace(request, headers=headers)


def header(request: SignedRequest, name: str) -> str:
    return next(v for n, v in request.headers if n == name)
