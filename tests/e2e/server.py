"""Starts and stops real `qkms serve` processes for end-to-end tests."""

from __future__ import annotations

import datetime
import http.client
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ADMIN_ACCESS_KEY_ID = "QKMSTESTADMIN0000001"
ADMIN_SECRET = "test-secret-access-key-0123456789abcdefgh"
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class QkmsServer:
    """One `qkms serve` process on loopback; its stderr goes to `log_path`."""

    data_dir: Path
    workers: int = 1
    extra_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    # False: start without QKMS_ADMIN_* so the server bootstraps its own admin access key.
    preset_admin: bool = True

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}-server.log"

    def start(self, wait: bool = True) -> QkmsServer:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QKMS_")}
        # AWS's default quotas (CreateKey: 5/s) would throttle tests that create keys in a
        # burst. Quotas far above any test's rate keep every call going through the buckets
        # without ever refusing one; tests of throttling give their own (env or --throttle).
        env["QKMS_THROTTLE"] = "*=1000000"
        if self.preset_admin:
            env.update(
                {
                    "QKMS_ADMIN_ACCESS_KEY_ID": ADMIN_ACCESS_KEY_ID,
                    "QKMS_ADMIN_SECRET_ACCESS_KEY": ADMIN_SECRET,
                }
            )
        env.update(self.env)
        command = [
            sys.executable, "-m", "qkms", "serve",
            "--port", str(self.port),
            "--data-dir", str(self.data_dir),
            "--workers", str(self.workers),
            *self.extra_args,
        ]  # fmt: skip
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"qkms serve exited with {self.process.returncode}:\n{self.log()}"
                )
            try:
                with urllib.request.urlopen(f"{self.endpoint}/readyz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"qkms serve did not become ready:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        code = self.process.returncode
        self.process = None
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def client(self, **config: Any) -> Any:
        return kms_client(self.endpoint, **config)


def kms_client(
    endpoint: str,
    access_key_id: str = ADMIN_ACCESS_KEY_ID,
    secret: str = ADMIN_SECRET,
    *,
    region: str = REGION,
    verify: str | None = None,  # a CA bundle for a TLS endpoint; None: boto3's default
    **config: Any,
) -> Any:
    # No retries: a test must see the first answer, not a retried one.
    return boto3.client(
        "kms",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret,
        verify=verify,
        config=Config(retries={"total_max_attempts": 1}, **config),
    )


# --- Raw signed requests (for shapes boto3 will not send) -------------------------------------


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def signed_request(
    endpoint: str,
    target: str,
    body: bytes | dict[str, Any],
    *,
    access_key_id: str = ADMIN_ACCESS_KEY_ID,
    secret: str = ADMIN_SECRET,
    region: str = REGION,
    service: str = "kms",
    timestamp: datetime.datetime | None = None,
) -> AWSRequest:
    """A POST to `endpoint` signed by botocore's own SigV4 signer, ready to mutate and `send`.

    `target` is the operation name (`DeriveSharedSecret`) or a full X-Amz-Target value.
    `timestamp` (UTC) signs as if the clock showed that time.
    """
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = AWSRequest(
        method="POST",
        url=f"{endpoint}/",
        data=data,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": target if "." in target else f"TrentService.{target}",
        },
    )
    signer = botocore.auth.SigV4Auth(Credentials(access_key_id, secret), service, region)
    if timestamp is None:
        signer.add_auth(request)
    else:
        fixed = timestamp.astimezone(datetime.UTC).replace(tzinfo=None)
        with mock.patch.object(botocore.auth, "get_current_datetime", lambda *_a, **_k: fixed):
            signer.add_auth(request)
    return request


def send(request: AWSRequest, timeout: float = 15.0) -> RawResponse:
    """Send exactly the request's headers and body on a fresh connection."""
    url = urllib.parse.urlsplit(request.url)
    body = request.body if isinstance(request.body, bytes) else (request.body or b"")
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        connection.request(
            request.method, url.path or "/", body=body, headers=dict(request.headers.items())
        )
        response = connection.getresponse()
        return RawResponse(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        connection.close()


def raw_call(
    endpoint: str, target: str, body: bytes | dict[str, Any], **signing: Any
) -> RawResponse:
    return send(signed_request(endpoint, target, body, **signing))


def run_qkms(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m qkms <args>` as an operator runs it: no QKMS_* variable of the test run leaks
    in, `env` adds to the rest; its exit code, stdout and stderr."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("QKMS_")}
    return subprocess.run(
        [sys.executable, "-m", "qkms", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**clean, **(env or {})},
        check=False,
    )


def admin_cli(server: QkmsServer, *args: str) -> Any:
    """`qkms admin` on the server's data directory, as an operator would run it; its JSON output."""
    result = subprocess.run(
        [sys.executable, "-m", "qkms", "admin", "--data-dir", str(server.data_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"qkms admin {' '.join(args)} failed: {result.stderr}"
    return json.loads(result.stdout) if result.stdout.strip() else None


def self_signed(tmp: Path) -> tuple[Path, Path]:
    """A self-signed certificate and key for 127.0.0.1, as PEM files in `tmp`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
