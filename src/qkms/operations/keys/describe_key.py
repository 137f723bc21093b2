"""DescribeKey (DESIGN §4): a key's metadata in any state, as AWS returns it."""

from __future__ import annotations

from qkms.domain.lifecycle import KeyOperation
from qkms.operations.keys._metadata import key_metadata
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import DescribeKeyRequest, DescribeKeyResponse
from qkms.operations.support.keys import load_key

__all__ = ["describe_key"]


def describe_key(ctx: OperationContext, request: DescribeKeyRequest) -> DescribeKeyResponse:
    key = load_key(ctx, request.key_id, KeyOperation.DESCRIBE_KEY, request.grant_tokens)
    return DescribeKeyResponse(key_metadata=key_metadata(ctx, key))
