"""One KMS API call, POST / to its answer: the steps of STYLE §2 in order, one catch point.

Body cap → SigV4 (`qkms.wire.auth`) → Content-Type → X-Amz-Target → decode → request quota →
the operation (on the event loop when it can answer from memory, else in a worker thread) →
encode. Any `KmsError` is rendered by `qkms.wire.errors`; anything else is logged with the request
id and answered `KMSInternalException`. Every answer is audited before it is sent (fail closed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import msgspec

from qkms.audit import AuditTrail, api_call
from qkms.audit.ids import random_uuid
from qkms.domain.errors import (
    KmsError,
    KMSInternalException,
    RequestEntityTooLargeException,
    ThrottlingException,
    UnknownOperationException,
)
from qkms.metrics import record_request
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.runtime.dispatch import WouldBlock, execute, execute_inline
from qkms.operations.runtime.registry import OPERATIONS, Operation
from qkms.operations.shapes import Request, Response
from qkms.throttling import THROTTLED_MESSAGE, RateLimiter
from qkms.wire.auth import Authenticator
from qkms.wire.codec import decode_request, encode_response
from qkms.wire.errors import render_error
from qkms.wire.messages import (
    ApiRequest,
    ApiResponse,
    Receive,
    Scope,
    Send,
    api_response,
    read_body,
    send_response,
)
from qkms.wire.workers import Workers

__all__ = ["ApiPipeline"]

_log = logging.getLogger("qkms.request")
_access_log = logging.getLogger("qkms.access")  # one line per call; --no-access-log drops it
_TARGET_PREFIX = "TrentService."
# AWS's JSON protocols: KMS speaks 1.1, and its front end takes 1.0 too (the two differ only
# in error-type spelling, which QKMS never reads from the request).
_ACCEPTED_TYPES = frozenset({b"application/x-amz-json-1.1", b"application/x-amz-json-1.0"})
_MAX_ECHO = 128  # AWS echoes at most 128 characters of a value it refuses, then "..."
_INTERNAL = "An internal error occurred."
_encoder = msgspec.json.Encoder()


@dataclass(slots=True)
class _Call:
    """What one call has established so far: read by its audit event and its log line."""

    request_id: str
    operation: str | None = None  # routed to; None until X-Amz-Target names a known one
    access_key_id: str | None = None  # set once the signature checks out
    context: OperationContext | None = None  # set once the request decodes
    request: Request | None = None
    response: Response | None = None
    error_code: str | None = None
    error_message: str | None = None


class ApiPipeline:
    def __init__(
        self,
        services: Services,
        authenticator: Authenticator,
        workers: Workers,
        *,
        max_body_bytes: int,
        audit: AuditTrail | None,
        limiter: RateLimiter | None,
    ) -> None:
        self._services = services
        self._authenticator = authenticator
        self._workers = workers
        self._max_body_bytes = max_body_bytes
        self._audit = audit
        self._limiter = limiter

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the request, answer it, send the answer, log one line."""
        started = time.perf_counter()
        refusal: KmsError | None = None
        try:
            body = await read_body(scope["headers"], receive, self._max_body_bytes)
        except RequestEntityTooLargeException as error:
            body, refusal = b"", error  # still answered, audited and logged like any refusal
        if body is None:  # the client left (or was cut off) before its request was whole
            return
        request = ApiRequest.of(scope, body)
        call = _Call(random_uuid())
        response = await self._answer(request, call, refusal)
        await send_response(send, response)
        record_request(call.operation, call.error_code, time.perf_counter() - started)
        if _access_log.isEnabledFor(logging.INFO):
            _log_access(
                {
                    "request_id": call.request_id,
                    "operation": call.operation or "-",
                    "status": response.status,
                    "error": call.error_code,
                    "access_key_id": call.access_key_id or "-",
                    "ms": round((time.perf_counter() - started) * 1000, 3),
                }
            )

    async def _answer(
        self, request: ApiRequest, call: _Call, refusal: KmsError | None
    ) -> ApiResponse:
        try:
            if refusal is not None:
                raise refusal
            call.response = await self._call(request, call)
            status, payload = 200, encode_response(call.response)
        except KmsError as error:
            status, payload = render_error(error)
            call.error_code, call.error_message = error.code, str(error)
        except Exception:
            _log.exception(
                "request %s (%s) failed unexpectedly", call.request_id, call.operation or "-"
            )
            internal = KMSInternalException(_INTERNAL)
            status, payload = render_error(internal)
            call.error_code, call.error_message = internal.code, str(internal)
        if self._audit is not None and not await self._audited(self._audit, request, call):
            # Fail closed: no answer goes out without its audit event.
            internal = KMSInternalException(_INTERNAL)
            status, payload = render_error(internal)
            call.error_code = internal.code
        return api_response(status, payload, request_id=call.request_id, error_code=call.error_code)

    async def _call(self, request: ApiRequest, call: _Call) -> Response:
        """Authenticate, route, decode, admit, run: each step raises the KmsError it refuses with."""
        context = await self._authenticator.authenticate(request, call.request_id)
        call.access_key_id = context.caller.access_key_id
        _check_content_type(request)
        operation = _operation(request)
        call.operation = operation.name
        call.request = decode_request(request.body, operation.request_type)
        call.context = context
        # AWS's request quotas, charged to the caller's account (qkms.throttling).
        limiter = self._limiter
        if limiter is not None and not limiter.admit(
            context.caller.account_id, operation.name, call.request
        ):
            raise ThrottlingException(THROTTLED_MESSAGE)
        return await self._run(operation, context, call.request)

    async def _run(
        self, operation: Operation, context: OperationContext, request: Request
    ) -> Response:
        if operation.inline:
            try:
                return execute_inline(operation, context, request)
            except WouldBlock:
                pass  # it needs the store: nothing was done yet, run it again in a thread
        return await self._workers.run(execute, operation, context, request)

    async def _audited(self, audit: AuditTrail, request: ApiRequest, call: _Call) -> bool:
        """Append the call's audit event before the response; False if it could not be."""
        target, user_agent, authorization = _audited_headers(request)
        event = api_call(
            request_id=call.request_id,
            event_time=self._services.clock(),
            operation=call.operation,
            target=target,
            source_ip=request.client_ip,
            user_agent=user_agent,
            authorization=authorization,
            access_key_id=call.access_key_id,
            caller=call.context.caller if call.context is not None else None,
            request=call.request,
            response=call.response,
            error_code=call.error_code,
            error_message=call.error_message,
            additional_event_data=call.context.audit_details if call.context else None,
            event_id=call.context.event_id or None if call.context is not None else None,
        )
        try:
            if audit.needs_fsync(event):  # fsync may take milliseconds: not on the event loop
                await self._workers.run(audit.record, event)
            else:
                audit.record(event)
            return True
        except Exception:  # AuditWriteError, a timeout, or a bug: never answer unaudited
            _log.critical(
                "request %s (%s, %s): AUDIT EVENT NOT WRITTEN to %s; answering "
                "KMSInternalException",
                event.request_id,
                event.event_name,
                event.error_code or "ok",
                audit.path,
                exc_info=True,
            )
            return False


def _log_access(fields: dict[str, object]) -> None:
    """The call's access line. A LogRecord and its formatting cost several times the line
    itself, so when one handler alone would see the record, with no filter on the way, and
    that handler can write the line from its fields (`emit_fields` of `qkms.logs`'
    ConsoleHandler, which `qkms serve` installs), the fields go to it directly."""
    emit_fields: Callable[[str, Mapping[str, object]], bool] | None = getattr(
        _sole_handler(_access_log), "emit_fields", None
    )
    if emit_fields is None or not emit_fields(_access_log.name, fields):
        # The fields for JSON logs, the same as JSON text for text logs (qkms.logs).
        _access_log.info("%s", _encoder.encode(fields).decode(), extra={"fields": fields})


def _sole_handler(logger: logging.Logger) -> logging.Handler | None:
    """The handler an INFO record of `logger` would reach, if it would reach exactly one and
    no filter would look at it on the way (`Logger.handle` and `callHandlers`' walk)."""
    if logger.filters:
        return None
    found: logging.Handler | None = None
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            if found is not None:
                return None
            found = handler
        current = current.parent if current.propagate else None
    if found is None or found.filters or found.level > logging.INFO:
        return None
    return found


def _check_content_type(request: ApiRequest) -> None:
    """Only AWS's JSON protocol is spoken here. AWS's front end does not find an operation for
    another media type and answers UnknownOperationException (as Kinesis did to
    application/octet-stream in github.com/disneystreaming/smithy4s/issues/167); the status is
    ours, 400 like every client error of DESIGN §1."""
    value = request.header(b"content-type")
    if value.split(b";", 1)[0].strip().lower() not in _ACCEPTED_TYPES:
        raise UnknownOperationException(
            "Content-Type must be application/x-amz-json-1.1 for this service."
        )


def _operation(request: ApiRequest) -> Operation:
    """The one table of operations (`qkms.operations.runtime.registry`), looked up by X-Amz-Target."""
    target = request.header(b"x-amz-target").decode("latin-1")
    operation = None
    if target.startswith(_TARGET_PREFIX):
        operation = OPERATIONS.get(target[len(_TARGET_PREFIX) :])
    if operation is None:
        shown = target if len(target) <= _MAX_ECHO else target[:_MAX_ECHO] + "..."
        raise UnknownOperationException(f"Unknown operation {shown!r}.")
    return operation


def _audited_headers(request: ApiRequest) -> tuple[str, str, str]:
    """X-Amz-Target, User-Agent and Authorization as the audit event records them: the last
    value of each when a header is repeated."""
    target = user_agent = authorization = b""
    for name, value in request.headers:
        if name == b"x-amz-target":
            target = value
        elif name == b"user-agent":
            user_agent = value
        elif name == b"authorization":
            authorization = value
    return target.decode("latin-1"), user_agent.decode("latin-1"), authorization.decode("latin-1")
