"""The AWS SDK for JavaScript v3 against a real `qkms serve`: runs `node --test` on kms.test.mjs.

scripts/test.sh installs `@aws-sdk/client-kms` (tests/js/package-lock.json) with `npm ci`. On a
developer machine without Node.js or without that install the test is skipped, saying why; under
CI=true it must run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import ADMIN_ACCESS_KEY_ID, ADMIN_SECRET, REGION, QkmsServer

HERE = Path(__file__).resolve().parent
TEST_FILE = HERE / "kms.test.mjs"
SDK = HERE / "node_modules" / "@aws-sdk" / "client-kms" / "package.json"
# Every DeriveSharedSecret curve, paging, two error names, and Encrypt and Sign (skipped by the
# script itself while this QKMS lacks those operations): a run with fewer tests ran the wrong file.
EXPECTED_TESTS = 9


def _why_not_runnable() -> str | None:
    node = shutil.which("node")
    if node is None:
        return "node is not installed (apt-get install nodejs npm)"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    major = re.match(r"v(\d+)\.", version.stdout)
    if major is None or int(major.group(1)) < 20:
        return f"node {version.stdout.strip()} is older than the SDK's minimum, 20"
    if not SDK.exists():
        return "@aws-sdk/client-kms is not installed: run `npm ci --prefix tests/js` (scripts/test.sh does)"
    return None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    reason = _why_not_runnable()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the AWS SDK for JavaScript test cannot run in CI: {reason}")
        pytest.skip(f"AWS SDK for JavaScript test skipped: {reason}")
    qkms = QkmsServer(tmp_path_factory.mktemp("qkms-js") / "data").start()
    yield qkms
    qkms.stop()


def test_the_aws_sdk_for_javascript_v3_works_against_qkms(server: QkmsServer) -> None:
    # Only what the SDK needs: no AWS_PROFILE or config file of the developer's can interfere.
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(server.data_dir.parent),
        "QKMS_ENDPOINT": server.endpoint,
        "AWS_ACCESS_KEY_ID": ADMIN_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": ADMIN_SECRET,
        "AWS_REGION": REGION,
        "NODE_OPTIONS": "",
    }
    result = subprocess.run(
        ["node", "--test", "--test-reporter=tap", str(TEST_FILE)],
        cwd=HERE,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    counts = dict(re.findall(r"^# (tests|pass|fail|skipped|todo) (\d+)$", result.stdout, re.M))
    assert counts.get("tests") == str(EXPECTED_TESTS), output
    assert counts.get("fail") == "0", output
    assert int(counts["pass"]) + int(counts.get("skipped", "0")) == EXPECTED_TESTS, output
    # The skips are only for operations this server does not have yet, and they say so.
    for skipped in re.findall(r"# SKIP (.*)$", result.stdout, re.M):
        assert "is not an operation of this QKMS yet" in skipped, output
