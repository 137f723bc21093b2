"""Fixtures: a real `qkms serve` per test module (one or two workers), and a boto3 client for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import QkmsServer, kms_client


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    qkms = QkmsServer(tmp_path_factory.mktemp("qkms") / "data").start()
    yield qkms
    qkms.stop()


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    """A server with two worker processes, for what must hold in every worker."""
    qkms = QkmsServer(tmp_path_factory.mktemp("two-workers") / "data", workers=2).start()
    yield qkms
    qkms.stop()


@pytest.fixture(scope="module")
def regional(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    """Two workers writing six-part ARNs, for clients that sign in several regions."""
    data_dir = tmp_path_factory.mktemp("regional") / "data"
    qkms = QkmsServer(data_dir, workers=2, extra_args=["--arn-format", "aws"]).start()
    yield qkms
    qkms.stop()


@pytest.fixture(scope="module")
def east(regional: QkmsServer) -> Any:
    """A client of `regional` signing for us-east-1 (a module may override `regional`)."""
    return kms_client(regional.endpoint, region="us-east-1")


@pytest.fixture(scope="module")
def west(regional: QkmsServer) -> Any:
    """A client of `regional` signing for us-west-2."""
    return kms_client(regional.endpoint, region="us-west-2")


@pytest.fixture(scope="module")
def kms(server: QkmsServer) -> Any:
    return server.client()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
