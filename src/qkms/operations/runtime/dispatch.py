"""Runs one operation and turns storage failures into the KMS errors the contract names.

Hot-path operations are first tried on the event loop with the store *off limits*: if all they
need is in the per-process caches (the common case) they answer without a thread hop; the
moment they would touch the store they raise `WouldBlock` before doing anything, and the wire
runs them again in a worker thread. So a slow or unreachable database can never stall the event
loop (DESIGN §1: never a hang), and a cache hit never pays for a thread.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from qkms.domain.errors import DependencyTimeoutException, KMSInternalException
from qkms.operations.runtime.context import OperationContext
from qkms.operations.runtime.registry import Operation
from qkms.operations.shapes import Request, Response
from qkms.storage.base import DuplicateError, KeyStore, StoreError, StoreTimeoutError

__all__ = [
    "InlineGuardedStore",
    "WouldBlock",
    "call_with_store_off_limits",
    "execute",
    "execute_inline",
    "store_errors_as_kms",
]

T = TypeVar("T")
_store_off_limits = contextvars.ContextVar("qkms_store_off_limits", default=False)


class WouldBlock(Exception):
    """Raised instead of a store call while running on the event loop; retry in a thread."""


class InlineGuardedStore:
    """Wraps a KeyStore: every call raises WouldBlock while the store is off limits."""

    def __init__(self, store: KeyStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if not callable(attribute):
            return attribute

        def guarded(*args: Any, **kwargs: Any) -> Any:
            if _store_off_limits.get():
                raise WouldBlock(name)
            return attribute(*args, **kwargs)

        return guarded

    @classmethod
    def wrap(cls, store: KeyStore) -> KeyStore:
        return cast(KeyStore, cls(store))


@contextmanager
def store_errors_as_kms() -> Iterator[None]:
    """DESIGN §3: a store that does not answer in time is DependencyTimeoutException (503).

    An unreachable or failing store is answered the same way: the caller can retry, and a
    load balancer can drain the node (DESIGN §1: fail closed, never a 500, never a hang).
    """
    try:
        yield
    except DuplicateError as exc:
        raise KMSInternalException("An internal error occurred.") from exc
    except StoreTimeoutError as exc:
        raise DependencyTimeoutException("The key store did not answer in time.") from exc
    except StoreError as exc:
        raise DependencyTimeoutException("The key store is not available.") from exc


def execute(operation: Operation, ctx: OperationContext, request: Request) -> Response:
    with store_errors_as_kms():
        response = operation.handler(ctx, request)
    # Only a successful call counts as a use (GetKeyLastUsage); in memory, never the store.
    ctx.services.key_usage.note(ctx.used_keys, ctx.services.clock(), ctx.request_id, ctx.event_id)
    return response


def call_with_store_off_limits(function: Callable[..., T], *args: Any) -> T:
    """Run `function` with the store off limits: it answers from caches or raises WouldBlock."""
    token = _store_off_limits.set(True)
    try:
        return function(*args)
    finally:
        _store_off_limits.reset(token)


def execute_inline(operation: Operation, ctx: OperationContext, request: Request) -> Response:
    """`execute` with the store off limits; raises WouldBlock if the store would be needed."""
    token = _store_off_limits.set(True)
    try:
        return execute(operation, ctx, request)
    finally:
        _store_off_limits.reset(token)
