"""/healthz and /readyz: is this worker alive, and may a load balancer send it calls (DESIGN §1)."""

from __future__ import annotations

import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor

import msgspec

from qkms.operations.runtime.context import Services
from qkms.wire.messages import ApiResponse, api_response
from qkms.wire.workers import within

__all__ = ["Health"]

_JSON = b"application/json"
_encoder = msgspec.json.Encoder()
_READY = _encoder.encode({"status": "ready", "store": "ok"})
_UNAVAILABLE = _encoder.encode({"status": "unavailable", "store": "failing"})


class Health:
    def __init__(
        self, services: Services, background: ThreadPoolExecutor, deadline_seconds: float
    ) -> None:
        self._services = services
        self._background = background
        self._deadline = deadline_seconds
        # Tells workers apart on /healthz without showing a process id.
        self._alive = _encoder.encode({"status": "ok", "worker": secrets.token_hex(8)})

    def healthz(self) -> ApiResponse:
        """Alive: the process answers; says nothing of the store."""
        return api_response(200, self._alive, _JSON)

    async def readyz(self) -> ApiResponse:
        """Ready: the store answers within its deadline and the caches follow its changes."""
        loop = asyncio.get_running_loop()
        try:
            await within(
                loop.run_in_executor(self._background, self._services.store.ping), self._deadline
            )
            ready = self._services.key_cache.is_fresh
        except Exception:
            ready = False
        return api_response(200, _READY, _JSON) if ready else api_response(503, _UNAVAILABLE, _JSON)
