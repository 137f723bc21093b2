"""A real QKMS application, built by the composition root, driven over ASGI in this process.

The golden wire tests need the whole pipeline (body cap, SigV4, routing, codec, error renderer)
but no sockets: responses are then a function of the request alone, apart from request ids,
key ids and timestamps, which `mask` replaces with placeholders.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from qkms.app import bootstrap, build_app
from qkms.config import Settings
from qkms.wire.asgi import QkmsApp

__all__ = ["ACCESS_KEY_ID", "SECRET", "InProcessQkms", "WireResponse", "mask"]

ACCESS_KEY_ID = "QKMSWIREGOLDEN000001"
SECRET = "wire-golden-secret-access-key-0123456789"
HOST = "127.0.0.1:4000"  # what the Host header says; nothing listens there
JSON_11 = "application/x-amz-json-1.1"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Members whose value is the clock's: masked after checking they are numbers.
_TIMESTAMPS = frozenset({"CreationDate", "DeletionDate", "ValidTo"})


@dataclass(frozen=True)
class WireResponse:
    status: int
    headers: list[tuple[str, str]]  # names lower-case, in the order sent
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name), None)

    def json(self) -> Any:
        return json.loads(self.body)


class InProcessQkms:
    """One worker's app over a fresh SQLite data directory, its lifespan started."""

    def __init__(self, data_dir: Path) -> None:
        settings = Settings(data_dir=data_dir, workers=1)
        environ = {
            "QKMS_ADMIN_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "QKMS_ADMIN_SECRET_ACCESS_KEY": SECRET,
        }
        bootstrap(settings, environ)
        self._app: QkmsApp = build_app(settings, environ)
        self._loop = asyncio.new_event_loop()
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._lifespan = self._loop.create_task(self._run_lifespan())
        self._lifespan_step("lifespan.startup", "lifespan.startup.complete")

    async def _run_lifespan(self) -> None:
        async def receive() -> dict[str, Any]:
            return await self._to_app.get()

        async def send(message: Any) -> None:
            await self._from_app.put(dict(message))

        await self._app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)

    def _lifespan_step(self, message: str, expected: str) -> None:
        async def step() -> dict[str, Any]:
            await self._to_app.put({"type": message})
            return await asyncio.wait_for(self._from_app.get(), 10.0)

        answer = self._loop.run_until_complete(step())
        if answer["type"] != expected:
            raise RuntimeError(f"lifespan answered {answer}")

    def close(self) -> None:
        self._lifespan_step("lifespan.shutdown", "lifespan.shutdown.complete")
        self._loop.run_until_complete(self._lifespan)
        self._loop.close()

    def send(
        self,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        *,
        method: str = "POST",
        path: str = "/",
        chunks: Sequence[bytes] | None = None,
    ) -> WireResponse:
        """One HTTP exchange; `chunks` delivers the body in pieces (as without Content-Length)."""
        pieces = list(chunks) if chunks is not None else [body]
        messages = [
            {"type": "http.request", "body": piece, "more_body": index < len(pieces) - 1}
            for index, piece in enumerate(pieces)
        ]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            # After the whole body a real server reports the client gone only when it goes.
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: Any) -> None:
            sent.append(dict(message))

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 4000),
        }
        self._loop.run_until_complete(asyncio.wait_for(self._app(scope, receive, send), 10.0))
        start, *bodies = sent
        return WireResponse(
            status=int(start["status"]),
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]],
            body=b"".join(message.get("body", b"") for message in bodies),
        )

    def call(
        self,
        target: str,
        body: bytes,
        *,
        content_type: str = JSON_11,
        secret: str = SECRET,
        access_key_id: str = ACCESS_KEY_ID,
    ) -> WireResponse:
        """A request signed as botocore signs one, sent with the headers it signed."""
        request = AWSRequest(
            method="POST",
            url=f"http://{HOST}/",
            data=body,
            headers={"X-Amz-Target": target, "Content-Type": content_type},
        )
        SigV4Auth(Credentials(access_key_id, secret), "kms", "us-east-1").add_auth(request)
        headers = [("host", HOST), *((str(k), str(v)) for k, v in request.headers.items())]
        return self.send(headers, body)


def mask(value: Any, keep: frozenset[str] = frozenset(), seen: dict[str, str] | None = None) -> Any:
    """`value` with every UUID not in `keep` numbered in order of appearance (`<uuid-1>`, ...)
    and every timestamp member replaced by `<timestamp>` once it is checked to be a number."""
    names = {} if seen is None else seen

    def text(string: str) -> str:
        def one(match: re.Match[str]) -> str:
            found = match.group(0)
            if found in keep:
                return found
            return names.setdefault(found, f"<uuid-{len(names) + 1}>")

        return _UUID.sub(one, string)

    def walk(item: Any, member: str | None) -> Any:
        if member in _TIMESTAMPS:
            if not isinstance(item, int | float) or isinstance(item, bool):
                raise AssertionError(f"{member} is not a number: {item!r}")
            return "<timestamp>"
        if isinstance(item, dict):
            return {key: walk(item[key], key) for key in sorted(item)}
        if isinstance(item, list):
            return [walk(element, None) for element in item]
        if isinstance(item, str):
            return text(item)
        return item

    return walk(value, None)


def is_uuid4(text: str) -> bool:
    try:
        return uuid.UUID(text).version == 4 and str(uuid.UUID(text)) == text
    except ValueError:
        return False
