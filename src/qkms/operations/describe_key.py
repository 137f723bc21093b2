"""DescribeKey (DESIGN §4): a key's metadata in any state, as AWS returns it."""

from __future__ import annotations

from qkms.domain.lifecycle import KeyOperation
from qkms.operations._keys import load_key
from qkms.operations._metadata import key_metadata
from qkms.operations.context import OperationContext
from qkms.operations.shapes import DescribeKeyRequest, DescribeKeyResponse

__all__ = ["describe_key"]


def describe_key(ctx: OperationContext, request: DescribeKeyRequest) -> DescribeKeyResponse:
    key = load_key(ctx, request.key_id, KeyOperation.DESCRIBE_KEY, request.grant_tokens)
    return DescribeKeyResponse(key_metadata=key_metadata(ctx, key))
