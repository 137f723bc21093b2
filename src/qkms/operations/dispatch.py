"""Runs one operation and turns storage failures into the KMS errors the contract names."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from qkms.domain.errors import DependencyTimeoutException, KMSInternalException
from qkms.operations.context import OperationContext
from qkms.operations.registry import Operation
from qkms.operations.shapes import Request, Response
from qkms.storage.base import DuplicateError, StoreError, StoreTimeoutError

__all__ = ["execute", "store_errors_as_kms", "with_store_errors_as_kms"]

T = TypeVar("T")


@contextmanager
def store_errors_as_kms() -> Iterator[None]:
    """DESIGN §3: a store that does not answer in time is DependencyTimeoutException (503).

    An unreachable or failing store is answered the same way: the caller can retry, and a
    load balancer can drain the node (issue: fail closed, never 500, never hang).
    """
    try:
        yield
    except DuplicateError as exc:
        raise KMSInternalException("An internal error occurred.") from exc
    except StoreTimeoutError as exc:
        raise DependencyTimeoutException("The key store did not answer in time.") from exc
    except StoreError as exc:
        raise DependencyTimeoutException("The key store is not available.") from exc


def with_store_errors_as_kms(function: Callable[[], T]) -> T:
    with store_errors_as_kms():
        return function()


def execute(operation: Operation, ctx: OperationContext, request: Request) -> Response:
    with store_errors_as_kms():
        return operation.handler(ctx, request)
