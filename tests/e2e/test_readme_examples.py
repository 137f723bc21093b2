"""The README's Python examples run as written against a real `qkms serve`.

The README tells a new user to run them from the project directory with the server of
`scripts/serve.sh`: the same code runs here from a directory holding `qkms-data/credentials`,
only the port changed to this test server's.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import QkmsServer

pytestmark = [pytest.mark.e2e]

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    qkms = QkmsServer(tmp_path_factory.mktemp("readme") / "qkms-data").start()
    yield qkms
    qkms.stop()


def test_the_python_examples_run_in_order_as_written(server: QkmsServer) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 2  # the derive example, then envelope encryption continuing it
    assert (server.data_dir / "credentials").is_file()
    script = "\n".join(blocks).replace("127.0.0.1:4580", f"127.0.0.1:{server.port}")
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=server.data_dir.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
