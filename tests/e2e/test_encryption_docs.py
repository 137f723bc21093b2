"""The examples of docs/encryption.md run exactly as written against a real server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import ADMIN_ACCESS_KEY_ID, ADMIN_SECRET, QkmsServer

pytestmark = pytest.mark.e2e

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="module")
def aws_arns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    server = QkmsServer(
        tmp_path_factory.mktemp("docs") / "data", extra_args=["--arn-format", "aws"]
    ).start()
    yield server
    server.stop()


def run_example(server: QkmsServer, name: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "QKMS_"))}
    env.update(
        {
            "QKMS_ENDPOINT": server.endpoint,
            "AWS_ACCESS_KEY_ID": ADMIN_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": ADMIN_SECRET,
        }
    )
    done = subprocess.run(
        [sys.executable, str(DOCS / name)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_envelope_encryption_example_runs(aws_arns: QkmsServer) -> None:
    assert run_example(aws_arns, "envelope-encryption-example.py").splitlines() == [
        "the invoice body",
        "b'db-password'",
    ]


def test_the_encryption_sdk_keyring_example_runs(aws_arns: QkmsServer) -> None:
    assert run_example(aws_arns, "encryption-sdk-keyring-example.py").splitlines() == [
        "b'hello'",
        "b'hello twice'",
    ]
