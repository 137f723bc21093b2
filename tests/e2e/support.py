"""Helpers the end-to-end tests share: people made with `qkms admin`, policies, calls and errors.

The server harness itself is `server.py`; this module builds on it. Test modules import from
here and never from one another (checked by tests/test_layout.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.e2e.server import (
    ADMIN_ACCESS_KEY_ID,
    ADMIN_SECRET,
    REGION,
    QkmsServer,
    admin_cli,
    kms_client,
)
from tests.peer_keys import peer_public_key_der

ACCOUNT_A = "111122223333"  # the admin's account
ACCOUNT_B = "444455556666"
EFFECT_DEADLINE = 1.5  # DESIGN §7 says 1 s; the rest is slack for the polling itself
CURVES: dict[str, ec.EllipticCurve] = {
    "ECC_NIST_P256": ec.SECP256R1(),
    "ECC_NIST_P384": ec.SECP384R1(),
}

AWS_CLI = Path(sys.executable).parent / "aws"


def aws(server: QkmsServer, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `aws --endpoint-url ... <args>` with only the test's credentials in sight."""
    config = tmp_path / "aws-config"
    credentials = tmp_path / "aws-credentials"
    config.touch()
    credentials.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "QKMS_"))}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": ADMIN_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": ADMIN_SECRET,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
            "AWS_MAX_ATTEMPTS": "1",
        }
    )
    return subprocess.run(
        [str(AWS_CLI), "--endpoint-url", server.endpoint, "--output", "json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


# --- access control: people, policies, outcomes ------------------------------------------------


@dataclass(frozen=True)
class Person:
    account: str
    name: str
    access_key_id: str
    secret: str
    client: Any

    @property
    def arn(self) -> str:
        return f"arn:verenc:{self.account}:user/{self.name}"

    @property
    def iam_arn(self) -> str:
        return f"arn:verenc:iam::{self.account}:user/{self.name}"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(*actions: str, resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": list(actions), "Resource": resource, **extra}


def put_user_policy(server: QkmsServer, person: Person, name: str, document: str) -> None:
    admin_cli(
        server, "put-user-policy", "--account", person.account, "--user", person.name,
        "--policy-name", name, "--policy-document", document,
    )  # fmt: skip


def make_person(
    server: QkmsServer, account: str, name: str, identity_policy: str | None = None
) -> Person:
    admin_cli(server, "create-user", "--account", account, "--user", name)
    key = admin_cli(server, "create-access-key", "--account", account, "--user", name)
    person = Person(
        account,
        name,
        key["AccessKeyId"],
        key["SecretAccessKey"],
        kms_client(
            server.endpoint, access_key_id=key["AccessKeyId"], secret=key["SecretAccessKey"]
        ),
    )
    if identity_policy is not None:
        put_user_policy(server, person, "main", identity_policy)
    return person


def make_people(server: QkmsServer, specs: dict[str, tuple[str, str | None]]) -> dict[str, Person]:
    """Several users at once: {name: (account, identity policy or None)}."""
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = {
            name: pool.submit(make_person, server, account, name, document)
            for name, (account, document) in specs.items()
        }
        return {name: future.result() for name, future in futures.items()}


def derive(client: Any, key_id: str, spec: str = "ECC_NIST_P256", **extra: Any) -> Any:
    return client.derive_shared_secret(
        KeyId=key_id,
        KeyAgreementAlgorithm="ECDH",
        PublicKey=peer_public_key_der(CURVES[spec]),
        **extra,
    )


def error_of(call: Callable[[], Any]) -> tuple[str, str]:
    """(code, message) of the ClientError `call` raises; fails if it succeeds."""
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error.get("Message", ""))


def outcome(call: Callable[[], Any]) -> str:
    """ "ok" or the error code."""
    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return "ok"


def until(check: Callable[[], bool], deadline: float = EFFECT_DEADLINE) -> float:
    """Poll `check` until it holds; the seconds that took. Fails once `deadline` has passed."""
    start = time.monotonic()
    while True:
        if check():
            return time.monotonic() - start
        elapsed = time.monotonic() - start
        assert elapsed < deadline, f"not effective after {elapsed:.2f} s"
        time.sleep(0.02)


def create_key(client: Any, spec: str = "ECC_NIST_P256", **extra: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = client.create_key(KeySpec=spec, KeyUsage="KEY_AGREEMENT", **extra)[
        "KeyMetadata"
    ]
    return metadata


def root_statement(account: str = ACCOUNT_A) -> dict[str, Any]:
    return {
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:verenc:{account}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def client_error_message(call: Callable[[], Any], code: str) -> str:
    """The message of the ClientError `call` raises; fails unless it is a 400 whose code, in the
    body and in x-amzn-ErrorType, is exactly `code`."""
    with pytest.raises(ClientError) as info:
        call()
    response = info.value.response
    assert response["Error"]["Code"] == code, response["Error"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == code
    return str(response["Error"]["Message"])


def kms_public_key(kms: Any, key_id: str) -> ec.EllipticCurvePublicKey:
    """The KMS key's public half, as GetPublicKey returns it, checked to be an EC key."""
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    assert isinstance(public, ec.EllipticCurvePublicKey)
    return public


# --- import: keys that wait for material ---------------------------------------------------------


def create_external(kms: Any, spec: str = "ECC_NIST_P256") -> str:
    created = kms.create_key(KeySpec=spec, KeyUsage="KEY_AGREEMENT", Origin="EXTERNAL")
    return str(created["KeyMetadata"]["KeyId"])


def get_parameters(
    kms: Any,
    key_id: str,
    algorithm: str = "RSA_AES_KEY_WRAP_SHA_256",
    wrapping_spec: str = "RSA_2048",
) -> dict[str, Any]:
    params: dict[str, Any] = kms.get_parameters_for_import(
        KeyId=key_id, WrappingAlgorithm=algorithm, WrappingKeySpec=wrapping_spec
    )
    return params
