"""The bare floor: DeriveSharedSecret's unavoidable work behind an HTTP server, and nothing else.

Read the body, `json.loads`, base64-decode the peer key, `load_der_public_key` + `exchange` with a
fixed private key of the peer's curve, `json.dumps` the answer: no SigV4, no authorization, no
audit, no log line. It answers the very requests the benchmark sends QKMS (their signature is
ignored), so `QKMS / floor` is what everything QKMS adds costs, on the same server software.

    python -m benchmarks.floor_app --server uvicorn --port 8080 --workers 2
    python -m benchmarks.floor_app --server granian-asgi ...   # or granian-rsgi (pip install granian)

Under uvicorn it starts exactly as `qkms serve` does (see qkms.cli: loop uvloop, http httptools,
lifespan on, no access log, no server header); under granian with the same loop and workers.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

__all__ = ["PRIVATE_KEYS", "SERVERS", "answer", "app", "create_app", "main", "rsgi_app"]

SERVERS = ("uvicorn", "granian-asgi", "granian-rsgi")

# Fixed scalars: the floor's keys need no secrecy, only a key per curve that every worker shares.
PRIVATE_KEYS: dict[str, ec.EllipticCurvePrivateKey] = {
    "secp256r1": ec.derive_private_key(0x5EED_0256_0000_0001, ec.SECP256R1()),
    "secp384r1": ec.derive_private_key(0x5EED_0384_0000_0001, ec.SECP384R1()),
}
_ECDH = ec.ECDH()
_JSON_HEADERS = [(b"content-type", b"application/x-amz-json-1.1")]

Message = dict[str, Any]


class FloorError(Exception):
    """The request is not a derive this app can answer (a 400, never a crash)."""


def _decode(body: bytes) -> tuple[str, bytes]:
    request = json.loads(body)
    return request.get("KeyId", ""), base64.b64decode(request["PublicKey"])


def _derive(peer_der: bytes) -> bytes:
    peer = load_der_public_key(peer_der)
    if not isinstance(peer, ec.EllipticCurvePublicKey) or peer.curve.name not in PRIVATE_KEYS:
        raise FloorError("PublicKey is not a P-256 or P-384 key")
    return PRIVATE_KEYS[peer.curve.name].exchange(_ECDH, peer)


def _encode(key_id: str, secret: bytes) -> bytes:
    return json.dumps(
        {
            "KeyId": key_id,
            "SharedSecret": base64.b64encode(secret).decode(),
            "KeyAgreementAlgorithm": "ECDH",
            "KeyOrigin": "AWS_KMS",
        }
    ).encode()


def answer(body: bytes) -> tuple[int, bytes]:
    try:
        key_id, peer_der = _decode(body)
        return 200, _encode(key_id, _derive(peer_der))
    except (FloorError, ValueError, KeyError, TypeError) as exc:
        return 400, json.dumps({"message": str(exc)}).encode()


async def app(
    scope: Message,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    """The ASGI floor (uvicorn, granian --interface asgi)."""
    if scope["type"] == "lifespan":  # `qkms serve` runs with lifespan on: so does the floor
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    status, payload = answer(b"".join(chunks))
    headers = [*_JSON_HEADERS, (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def create_app() -> Callable[..., Awaitable[None]]:
    """The factory uvicorn is given, as `qkms serve` gives it `qkms.app:create_app`."""
    return app


async def rsgi_app(scope: Any, protocol: Any) -> None:
    """The RSGI floor (granian --interface rsgi): the body in one await, the answer in one call."""
    status, payload = answer(await protocol())
    protocol.response_bytes(status, [("content-type", "application/x-amz-json-1.1")], payload)


def _run_uvicorn(host: str, port: int, workers: int) -> None:
    import uvicorn

    uvicorn.run(
        "benchmarks.floor_app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        server_header=False,
        log_level="warning",
        timeout_graceful_shutdown=10,
    )


def _run_granian(interface: str, host: str, port: int, workers: int) -> None:
    target = "benchmarks.floor_app:" + ("rsgi_app" if interface == "rsgi" else "app")
    command = [
        sys.executable, "-m", "granian", "--interface", interface,
        "--host", host, "--port", str(port), "--workers", str(workers),
        "--loop", "uvloop", "--http", "1", "--no-ws", "--log-level", "warning", target,
    ]  # fmt: skip
    os.execv(sys.executable, command)  # the benchmark stops this pid: let it be granian's


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor_app")
    parser.add_argument("--server", choices=SERVERS, default="uvicorn")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    if args.server == "uvicorn":
        _run_uvicorn(args.host, args.port, args.workers)
    else:
        _run_granian(args.server.removeprefix("granian-"), args.host, args.port, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
