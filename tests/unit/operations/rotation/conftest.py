"""Fixtures of the rotation tests: the operation-test store and a symmetric key."""

from __future__ import annotations

import pytest

from qkms.operations.keys.create_key import create_key
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import CreateKeyRequest
from tests.unit.operations.conftest import clock, ctx, root_key, services

__all__ = ["clock", "ctx", "root_key", "services"]


@pytest.fixture
def key_id(ctx: OperationContext) -> str:
    return create_key(ctx, CreateKeyRequest()).key_metadata.key_id
