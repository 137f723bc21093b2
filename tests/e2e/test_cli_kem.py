"""`aws kms encapsulate` / `decapsulate` with `fileb://` against a real `qkms serve` (DESIGN §4a).

awscli 1.46 and later bundle their own botocore, whose KMS model has no Encapsulate; awscli
1.45.64, the last AWS CLI v1 that runs on the separately installed botocore, has the commands
with the botocore boto3 uses here. `scripts/test.sh` unpacks it into `.venv/awscli-1.45.64`.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import ADMIN_ACCESS_KEY_ID, ADMIN_SECRET, REGION, QkmsServer

pytestmark = [pytest.mark.e2e]

CLI_V1 = Path(__file__).resolve().parents[2] / ".venv" / "awscli-1.45.64"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    if not (CLI_V1 / "awscli").is_dir():
        reason = f"{CLI_V1} is missing: scripts/test.sh unpacks it"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    qkms = QkmsServer(tmp_path_factory.mktemp("cli-kem") / "data").start()
    yield qkms
    qkms.stop()


def aws_v1(server: QkmsServer, tmp_path: Path, *args: str) -> Any:
    """Run the unpacked AWS CLI v1 (on the installed botocore); its JSON output."""
    (tmp_path / "config").touch()
    (tmp_path / "credentials").touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "QKMS_"))}
    env.update(
        {
            "PYTHONPATH": str(CLI_V1),
            "AWS_ACCESS_KEY_ID": ADMIN_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": ADMIN_SECRET,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(tmp_path / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
            "AWS_MAX_ATTEMPTS": "1",
        }
    )
    command = [
        sys.executable,
        "-c",
        "import sys; from awscli.clidriver import main; sys.exit(main())",
        "--endpoint-url",
        server.endpoint,
        "--output",
        "json",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_encapsulate_then_decapsulate_with_fileb(server: QkmsServer, tmp_path: Path) -> None:
    key = server.client().create_key(KeySpec="ML_KEM_768", KeyUsage="ENCAPSULATE_DECAPSULATE")
    key_id = key["KeyMetadata"]["KeyId"]
    sealed = aws_v1(
        server, tmp_path, "kms", "encapsulate", "--key-id", key_id,
        "--encapsulation-algorithm", "ML_KEM",
    )  # fmt: skip
    secret = base64.b64decode(sealed["SharedSecret"])
    ciphertext = tmp_path / "ciphertext.bin"
    ciphertext.write_bytes(base64.b64decode(sealed["SharedSecretCiphertextBlob"]))
    assert len(secret) == 32 and ciphertext.stat().st_size == 1088  # ML-KEM-768
    opened = aws_v1(
        server, tmp_path, "kms", "decapsulate", "--key-id", key_id,
        "--encapsulation-algorithm", "ML_KEM",
        "--shared-secret-ciphertext-blob", f"fileb://{ciphertext}",
    )  # fmt: skip
    assert base64.b64decode(opened["SharedSecret"]) == secret
    assert opened["KeyId"] == key["KeyMetadata"]["Arn"]
