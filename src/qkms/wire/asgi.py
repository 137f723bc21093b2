"""The ASGI application: body cap, SigV4, target routing, codec, error rendering, health (DESIGN §1).

It knows requests and responses only; keys are the operations' business.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from qkms.audit import (
    ApiCall,
    AuditTrail,
    Identity,
    claimed_access_key_id,
    event_name_from_target,
)
from qkms.console import console_response, is_console_path
from qkms.domain.errors import (
    DependencyTimeoutException,
    KmsError,
    KMSInternalException,
    RequestEntityTooLargeException,
    ThrottlingException,
    UnknownOperationException,
    UnrecognizedClientException,
)
from qkms.operations.background import ChangeFollower, sweep
from qkms.operations.context import OperationContext, Services
from qkms.operations.credentials import CredentialResolver
from qkms.operations.dispatch import (
    WouldBlock,
    call_with_store_off_limits,
    execute,
    execute_inline,
)
from qkms.operations.registry import OPERATIONS, Operation
from qkms.throttling import THROTTLED_MESSAGE, RateLimiter
from qkms.wire.codec import decode_request, encode_response
from qkms.wire.errors import render_error
from qkms.wire.sigv4 import SignedRequest, SigV4Verifier

__all__ = ["QkmsApp", "WireSettings"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

T = TypeVar("T")
_log = logging.getLogger("qkms.request")
_access_log = logging.getLogger("qkms.access")  # one line per call; --no-access-log drops it
_TARGET_PREFIX = "TrentService."
_JSON_TYPE = b"application/x-amz-json-1.1"
# AWS's JSON protocols: KMS speaks 1.1, and its front end takes 1.0 too (the two differ only
# in error-type spelling, which QKMS never reads from the request).
_ACCEPTED_TYPES = frozenset({b"application/x-amz-json-1.1", b"application/x-amz-json-1.0"})
_MAX_ECHO = 128  # AWS echoes at most 128 characters of a value it refuses, then "..."
_encoder = msgspec.json.Encoder()
_AUDIT_HEADERS = frozenset({b"x-amz-target", b"authorization", b"user-agent"})


@dataclass(frozen=True, slots=True)
class WireSettings:
    max_body_bytes: int = 64 * 1024
    store_deadline_seconds: float = 2.0
    poll_interval_seconds: float = 0.2
    sweep_interval_seconds: float = 60.0
    worker_threads: int = 8


class _Reply(Exception):
    """Internal: carries a finished error out of the request pipeline."""

    def __init__(self, error: KmsError) -> None:
        self.error = error


class QkmsApp:
    def __init__(
        self,
        services: Services,
        credentials: CredentialResolver,
        follower: ChangeFollower,
        settings: WireSettings,
        audit: AuditTrail | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._services = services
        self._limiter = limiter
        self._audit = audit
        self._credentials = credentials
        self._follower = follower
        self._settings = settings
        self._verifier = SigV4Verifier(self._secret_for, clock=services.clock)
        self._executor = ThreadPoolExecutor(settings.worker_threads, thread_name_prefix="qkms-op")
        self._background = ThreadPoolExecutor(1, thread_name_prefix="qkms-bg")
        self._tasks: list[asyncio.Task[None]] = []
        self._store_ok = True
        # Tells workers apart on /healthz without showing a process id.
        self._worker_id = secrets.token_hex(8)

    def _secret_for(self, access_key_id: str) -> str | None:
        return self._credentials.secret_for(access_key_id)

    # --- ASGI entry -------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._start()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._background, self._follower.poll)
        self._tasks = [
            asyncio.create_task(self._every(self._settings.poll_interval_seconds, self._poll)),
            asyncio.create_task(self._every(self._settings.sweep_interval_seconds, self._sweep)),
        ]

    async def _stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._executor.shutdown(wait=True)
        self._background.shutdown(wait=True)
        if self._audit is not None:
            self._audit.close()
        self._services.store.close()

    async def _every(self, seconds: float, job: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(seconds)
            try:
                await asyncio.wait_for(
                    loop.run_in_executor(self._background, job),
                    self._settings.store_deadline_seconds + 1.0,
                )
            except Exception:
                _log.warning("background job %s failed", job.__name__, exc_info=True)

    def _poll(self) -> None:
        try:
            self._follower.poll()
            self._store_ok = True
        except Exception:
            self._store_ok = False
            raise

    def _sweep(self) -> None:
        deleted, expired = sweep(self._services)
        if expired:
            _log.info("destroyed imported material past its ValidTo: %s", expired)
        if deleted:
            _log.info("destroyed %d key(s) whose deletion window ended: %s", len(deleted), deleted)

    # --- HTTP -------------------------------------------------------------------------------
    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if path == "/healthz":
            await _send(
                send,
                200,
                _encoder.encode({"status": "ok", "worker": self._worker_id}),
                b"application/json",
            )
            return
        if path == "/readyz":
            await self._readyz(send)
            return
        if is_console_path(path):  # static files of the browser console (issue #7)
            reply = console_response(path, method)
            await send(
                {
                    "type": "http.response.start",
                    "status": reply.status,
                    "headers": list(reply.headers),
                }
            )
            await send({"type": "http.response.body", "body": reply.body})
            return
        if path != "/" or method != "POST":
            await _send(send, 404, b'{"message":"Not Found"}', b"application/json")
            return
        await self._api(scope, receive, send)

    async def _readyz(self, send: Send) -> None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(
                loop.run_in_executor(self._background, self._services.store.ping),
                self._settings.store_deadline_seconds,
            )
            ready = self._services.key_cache.is_fresh
        except Exception:
            ready = False
        body = _encoder.encode(
            {"status": "ready" if ready else "unavailable", "store": "ok" if ready else "failing"}
        )
        await _send(send, 200 if ready else 503, body, b"application/json")

    async def _api(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        operation_name = "-"
        access_key_id = "-"
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        ctx: OperationContext | None = None
        request: Any = None
        response: Any = None
        error_message: str | None = None
        try:
            body = await self._read_body(headers, receive)
            if body is None:  # the client left (or was cut off) before its request was whole
                return
            signed = SignedRequest(
                method="POST",
                # The verifier canonicalises UTF-8 paths; surrogateescape keeps any byte intact.
                path=(scope.get("raw_path") or b"/")
                .decode("utf-8", "surrogateescape")
                .split("?", 1)[0],
                query_string=scope.get("query_string", b"").decode("utf-8", "surrogateescape"),
                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers],
                body=body,
            )
            caller_ctx = await self._authenticate(scope, headers, signed, request_id)
            access_key_id = caller_ctx.caller.access_key_id
            _check_content_type(headers)
            operation = self._operation(headers)
            operation_name = operation.name
            request = decode_request(body, operation.request_type)
            ctx = caller_ctx
            # AWS's request quotas, charged to the caller's account (qkms.throttling).
            limiter, account = self._limiter, caller_ctx.caller.account_id
            if limiter is not None and not limiter.admit(account, operation.name, request):
                raise ThrottlingException(THROTTLED_MESSAGE)
            response = await self._run(operation, ctx, request)
            status, payload, error_code = 200, encode_response(response), None
        except KmsError as error:
            status, payload = render_error(error)
            error_code, error_message = error.code, str(error)
        except Exception:
            _log.exception("request %s (%s) failed unexpectedly", request_id, operation_name)
            internal = KMSInternalException("An internal error occurred.")
            status, payload = render_error(internal)
            error_code, error_message = internal.code, str(internal)
        if self._audit is not None:
            call = self._audit_call(
                scope,
                headers,
                request_id,
                operation_name,
                access_key_id,
                ctx,
                (request, response, error_code, error_message),
            )
            written = await self._record(self._audit, call)
            if not written:  # fail closed: no answer goes out without its audit event
                internal = KMSInternalException("An internal error occurred.")
                status, payload = render_error(internal)
                error_code = internal.code
        extra = [(b"x-amzn-errortype", error_code.encode())] if error_code else []
        await _send(send, status, payload, _JSON_TYPE, request_id, extra)
        access = {
            "request_id": request_id,
            "operation": operation_name,
            "status": status,
            "error": error_code,
            "access_key_id": access_key_id,
            "ms": round((time.perf_counter() - started) * 1000, 3),
        }
        # The fields for JSON logs, the same as JSON text for text logs (qkms.logs).
        _access_log.info("%s", _encoder.encode(access).decode(), extra={"fields": access})

    async def _read_body(
        self, headers: list[tuple[bytes, bytes]], receive: Receive
    ) -> bytes | None:
        limit = self._settings.max_body_bytes
        too_large = RequestEntityTooLargeException(f"Request body exceeds {limit} bytes.")
        for name, value in headers:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                raise too_large
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _audit_call(
        self,
        scope: Scope,
        headers: list[tuple[bytes, bytes]],
        request_id: str,
        operation_name: str,
        access_key_id: str,
        ctx: OperationContext | None,
        outcome: tuple[Any, Any, str | None, str | None],  # request, response, code, message
    ) -> ApiCall:
        """The facts of this call that its audit event records (issue #4)."""
        request, response, error_code, error_message = outcome
        caller = ctx.caller if ctx is not None else None
        identity = None
        if caller is not None:
            identity = Identity(
                caller.account_id, caller.principal_arn, caller.access_key_id, caller.user_name
            )
        header = {k: v.decode("latin-1") for k, v in headers if k in _AUDIT_HEADERS}
        if operation_name == "-":
            operation_name = event_name_from_target(header.get(b"x-amz-target", ""))
        claimed = access_key_id if access_key_id != "-" else None
        return ApiCall(
            request_id=request_id,
            event_time=self._services.clock(),
            event_name=operation_name,
            source_ip=str((scope.get("client") or ("", 0))[0]),
            user_agent=header.get(b"user-agent", ""),
            identity=identity,
            claimed_access_key_id=claimed
            or claimed_access_key_id(header.get(b"authorization", "")),
            request=request,
            response=response if error_code is None else None,
            error_code=error_code,
            error_message=error_message,
        )

    async def _record(self, audit: AuditTrail, call: ApiCall) -> bool:
        """Append the call's audit event before the response; False if it could not be."""
        try:
            if audit.needs_fsync(call):  # fsync may take milliseconds: not on the event loop
                loop = asyncio.get_running_loop()
                await asyncio.wait_for(
                    loop.run_in_executor(self._executor, audit.record, call),
                    self._settings.store_deadline_seconds * 2 + 1.0,
                )
            else:
                audit.record(call)
            return True
        except Exception:  # AuditWriteError, a timeout, or a bug: never answer unaudited
            _log.critical(
                "request %s (%s, %s): AUDIT EVENT NOT WRITTEN to %s; answering "
                "KMSInternalException",
                call.request_id,
                call.event_name,
                call.error_code or "ok",
                audit.path,
                exc_info=True,
            )
            return False

    @staticmethod
    def _operation(headers: list[tuple[bytes, bytes]]) -> Operation:
        target = next((v for k, v in headers if k == b"x-amz-target"), b"").decode("latin-1")
        operation = None
        if target.startswith(_TARGET_PREFIX):
            operation = OPERATIONS.get(target[len(_TARGET_PREFIX) :])
        if operation is None:
            shown = target if len(target) <= _MAX_ECHO else target[:_MAX_ECHO] + "..."
            raise UnknownOperationException(f"Unknown operation {shown!r}.")
        return operation

    async def _authenticate(
        self,
        scope: Scope,
        headers: list[tuple[bytes, bytes]],
        signed: SignedRequest,
        request_id: str,
    ) -> OperationContext:
        """Verify SigV4 and resolve the caller: from the credential cache on the event loop,
        or, when the store must be asked, in a worker thread (never blocking the loop)."""

        def authenticate() -> OperationContext:
            verified = self._verifier.verify(signed)
            return self._context(scope, headers, verified.access_key_id, request_id)

        try:
            return call_with_store_off_limits(authenticate)
        except WouldBlock:
            return await self._in_thread(authenticate)

    def _context(
        self, scope: Scope, headers: list[tuple[bytes, bytes]], access_key_id: str, request_id: str
    ) -> OperationContext:
        client = scope.get("client") or ("", 0)
        user_agent = next((v for k, v in headers if k == b"user-agent"), b"").decode("latin-1")
        caller = self._credentials.caller(
            access_key_id,
            source_ip=str(client[0]),
            user_agent=user_agent,
            secure_transport=scope.get("scheme") == "https",
        )
        if caller is None:  # revoked between signature check and here
            raise UnrecognizedClientException(
                "The security token included in the request is invalid."
            )
        return OperationContext(services=self._services, caller=caller, request_id=request_id)

    async def _run(self, operation: Operation, ctx: OperationContext, request: Any) -> Any:
        if operation.inline:
            try:
                return execute_inline(operation, ctx, request)
            except WouldBlock:
                pass  # it needs the store: nothing was done yet, run it again in a thread
        return await self._in_thread(execute, operation, ctx, request)

    async def _in_thread(self, function: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, function, *args)
        try:
            # The store bounds its own waits; this outer bound catches anything that does not,
            # so a caller always gets an answer (DESIGN §1: never a hang).
            return await asyncio.wait_for(future, self._settings.store_deadline_seconds * 2 + 1.0)
        except TimeoutError:
            raise DependencyTimeoutException("The key store did not answer in time.") from None


def _check_content_type(headers: list[tuple[bytes, bytes]]) -> None:
    """Only AWS's JSON protocol is spoken here. AWS's front end does not find an operation for
    another media type and answers UnknownOperationException (as Kinesis did to
    application/octet-stream in github.com/disneystreaming/smithy4s/issues/167); the status is
    ours, 400 like every client error of DESIGN §1."""
    value = next((v for k, v in headers if k == b"content-type"), b"")
    if value.split(b";", 1)[0].strip().lower() not in _ACCEPTED_TYPES:
        raise UnknownOperationException(
            "Content-Type must be application/x-amz-json-1.1 for this service."
        )


async def _send(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    request_id: str | None = None,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        # Every API response may carry key facts or a shared secret: never cache any.
        (b"cache-control", b"no-store"),
    ]
    if request_id is not None:
        headers.append((b"x-amzn-requestid", request_id.encode()))
    if extra:
        headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
