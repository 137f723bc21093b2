"""The ASGI application: routes each request to the part of the edge that answers it (DESIGN §1).

POST / is a KMS API call (`qkms.wire.pipeline`); /healthz and /readyz are `qkms.wire.health`;
/metrics is Prometheus's view of every worker (`qkms.metrics`); /console is the browser
console's files, and GET / from a browser redirects there; the lifespan protocol is
`qkms.wire.lifespan`. It knows requests and responses only; keys are the operations' business.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from qkms.audit import AuditTrail
from qkms.console import console_response, is_console_path, root_redirect
from qkms.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from qkms.metrics import Sampled
from qkms.metrics import render as render_metrics
from qkms.operations.runtime.background import ChangeFollower
from qkms.operations.runtime.context import Services
from qkms.operations.runtime.credentials import CredentialResolver
from qkms.throttling import RateLimiter
from qkms.wire.auth import Authenticator
from qkms.wire.health import Health
from qkms.wire.lifespan import Lifespan
from qkms.wire.messages import ApiResponse, Receive, Scope, Send, api_response, send_response
from qkms.wire.pipeline import ApiPipeline
from qkms.wire.workers import Workers

__all__ = ["QkmsApp", "WireSettings"]


@dataclass(frozen=True, slots=True)
class WireSettings:
    max_body_bytes: int = 64 * 1024
    store_deadline_seconds: float = 2.0
    poll_interval_seconds: float = 0.2
    sweep_interval_seconds: float = 60.0
    worker_threads: int = 8
    metrics_endpoint: bool = False  # answer GET /metrics here (when metrics are recorded)


class QkmsApp:
    """One worker's application; `qkms.app.build_app` composes it."""

    def __init__(
        self,
        services: Services,
        credentials: CredentialResolver,
        follower: ChangeFollower,
        settings: WireSettings,
        audit: AuditTrail | None = None,
        limiter: RateLimiter | None = None,
        metrics: Sampled | None = None,
    ) -> None:
        self._services = services
        self._metrics = metrics if settings.metrics_endpoint else None
        self._audit = audit
        # Calls that must wait for the store (or an fsync) run on these threads; the change
        # follower, the sweeper and /readyz on one more of their own, never queued behind calls.
        deadline = settings.store_deadline_seconds
        self._workers = Workers(settings.worker_threads, deadline * 2 + 1.0)
        self._background = ThreadPoolExecutor(1, thread_name_prefix="qkms-bg")
        self._api = ApiPipeline(
            services,
            Authenticator(services, credentials, self._workers),
            self._workers,
            max_body_bytes=settings.max_body_bytes,
            audit=audit,
            limiter=limiter,
        )
        self._health = Health(services, self._background, deadline)
        self._lifespan = Lifespan(
            services,
            follower,
            self._background,
            poll_interval_seconds=settings.poll_interval_seconds,
            sweep_interval_seconds=settings.sweep_interval_seconds,
            job_deadline_seconds=deadline + 1.0,
            close=self._close,
            sample=metrics.sample if metrics is not None else None,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path, method = scope["path"], scope["method"]
            if path == "/" and method == "POST":
                await self._api.serve(scope, receive, send)
            elif path == "/healthz":
                await send_response(send, self._health.healthz())
            elif path == "/readyz":
                await send_response(send, await self._health.readyz())
            elif path == "/metrics" and self._metrics is not None:
                await send_response(send, await self._metrics_response())
            elif is_console_path(path):  # static files of the browser console
                reply = console_response(path, method)
                await send_response(
                    send, ApiResponse(reply.status, list(reply.headers), reply.body)
                )
            elif path == "/" and (redirect := root_redirect(method, scope["headers"])):
                # A browser opening the server's address lands on the console.
                await send_response(
                    send, ApiResponse(redirect.status, list(redirect.headers), redirect.body)
                )
            else:
                not_found = api_response(404, b'{"message":"Not Found"}', b"application/json")
                await send_response(send, not_found)
        elif scope["type"] == "lifespan":
            await self._lifespan.serve(receive, send)

    async def _metrics_response(self) -> ApiResponse:
        """Every worker's metrics, read from their files off the event loop (qkms.metrics)."""
        loop = asyncio.get_running_loop()
        body = await loop.run_in_executor(self._background, render_metrics)
        return api_response(200, body, METRICS_CONTENT_TYPE)

    def _close(self) -> None:
        """On shutdown, once the background loops have stopped: finish the calls in hand, then
        close the audit log and the store."""
        self._workers.shutdown()
        self._background.shutdown(wait=True)
        if self._audit is not None:
            self._audit.close()
        self._services.store.close()
        Sampled.close()
