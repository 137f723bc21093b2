"""QKMS's own CPU per request, without an HTTP server: the ASGI app called in a loop.

Why: on a shared 2-core machine, wrk figures drift with whatever else runs, and the per-stage
budget needs thousands of samples. Calling `QkmsApp` directly with botocore-signed requests (the
same bytes a client sends) measures everything QKMS adds -- SigV4, decode, resolve, authorize,
ECDH, encode, audit, the access log -- in CPU time of this one process, which a busy neighbour
barely moves. The HTTP server's share (parsing, the socket) is not in it: `benchmarks.run`'s
floor rows show that part.

    .venv/bin/python -m benchmarks.in_process                 # derive P-256, ECDH alone beside it
    .venv/bin/python -m benchmarks.in_process --profile 20    # + the top 20 functions (cProfile)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["InProcessApp", "main"]

_HOST = "127.0.0.1:8080"


class InProcessApp:
    """A bootstrapped data dir and one worker's app, driven without a server."""

    def __init__(self, data_dir: Path) -> None:
        from qkms.app import bootstrap, build_app
        from qkms.config import Settings

        environ = {"QKMS_THROTTLE": "*=1000000"}
        settings = Settings.from_env({"QKMS_DATA_DIR": str(data_dir), **environ})
        boot = bootstrap(settings, environ)
        if boot.new_admin_key is None:
            raise SystemExit("in_process: the data dir must be new")
        self.credentials = Credentials(
            boot.new_admin_key.access_key_id, boot.new_admin_key.secret_access_key
        )
        self.app = build_app(settings, environ)
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self._lifespan_start())

    async def _lifespan_start(self) -> None:
        messages = [{"type": "lifespan.startup"}]
        started = asyncio.Event()

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # the lifespan task lives until the loop closes
            return {}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "lifespan.startup.complete":
                started.set()

        self._lifespan = self.loop.create_task(self.app({"type": "lifespan"}, receive, send))
        await started.wait()

    def sign(
        self, operation: str, payload: dict[str, Any]
    ) -> tuple[list[tuple[bytes, bytes]], bytes]:
        body = json.dumps(payload).encode()
        request = AWSRequest(
            method="POST",
            url=f"http://{_HOST}/",
            data=body,
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": f"TrentService.{operation}",
            },
        )
        SigV4Auth(self.credentials, "kms", "us-east-1").add_auth(request)
        headers = [(b"host", _HOST.encode())]
        headers += [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
        headers.append((b"content-length", str(len(body)).encode()))
        return headers, body

    def call(self, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, bytes]:
        return self.loop.run_until_complete(self._call(headers, body))

    async def _call(self, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, bytes]:
        sent: list[MutableMapping[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": "/",
            "raw_path": b"/",
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "scheme": "http",
        }
        await self.app(scope, receive, send)
        return sent[0]["status"], sent[1]["body"]

    def run_many(self, requests: list[tuple[list[tuple[bytes, bytes]], bytes]], count: int) -> None:
        async def many() -> None:
            for index in range(count):
                headers, body = requests[index % len(requests)]
                status, answer = await self._call(headers, body)
                if status != 200:
                    raise SystemExit(f"in_process: {status} {answer[:300]!r}")

        self.loop.run_until_complete(many())


def _cpu_per_call(function: Callable[[], None], count: int) -> float:
    started = time.process_time()
    function()
    return (time.process_time() - started) / count * 1e6


def _peer_requests(app: InProcessApp, key_id: str, curve: ec.EllipticCurve) -> list[Any]:
    requests = []
    for _ in range(64):
        peer = ec.generate_private_key(curve).public_key()
        der = peer.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        payload = {
            "KeyId": key_id,
            "KeyAgreementAlgorithm": "ECDH",
            "PublicKey": base64.b64encode(der).decode(),
        }
        requests.append(app.sign("DeriveSharedSecret", payload))
    return requests


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--curve", choices=("P-256", "P-384"), default="P-256")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="top N functions")
    parser.add_argument(
        "--access-log", action="store_true", help="log lines to stderr (on in serve)"
    )
    args = parser.parse_args(argv)
    # qkms serve logs every request at INFO, through the stderr handler qkms.logs sets up; by
    # default the lines go to /dev/null here so that the cost of writing them is measured
    # without flooding the terminal.
    from qkms.logs import configure_logging

    stderr = sys.stderr
    sys.stderr = stderr if args.access_log else open(os.devnull, "w")
    try:
        configure_logging("info", "text", access_log=True)
    finally:
        sys.stderr = stderr
    curve: ec.EllipticCurve = ec.SECP256R1() if args.curve == "P-256" else ec.SECP384R1()
    spec = "ECC_NIST_P256" if args.curve == "P-256" else "ECC_NIST_P384"
    with tempfile.TemporaryDirectory() as tmp:
        app = InProcessApp(Path(tmp) / "data")
        _status, answer = app.call(
            *app.sign("CreateKey", {"KeySpec": spec, "KeyUsage": "KEY_AGREEMENT"})
        )
        key_id = json.loads(answer)["KeyMetadata"]["KeyId"]
        requests = _peer_requests(app, key_id, curve)
        private = ec.generate_private_key(curve)
        peers = [
            serialization.load_der_public_key(base64.b64decode(json.loads(b)["PublicKey"]))
            for _, b in requests
        ]
        ders = [base64.b64decode(json.loads(b)["PublicKey"]) for _, b in requests]

        def raw() -> None:
            for index in range(args.count):
                peer = serialization.load_der_public_key(ders[index % len(ders)])
                assert isinstance(peer, ec.EllipticCurvePublicKey)
                private.exchange(ec.ECDH(), peer)

        del peers
        app.run_many(requests, 500)  # warm the caches
        qkms, ecdh = [], []
        for _ in range(args.rounds):
            qkms.append(_cpu_per_call(lambda: app.run_many(requests, args.count), args.count))
            ecdh.append(_cpu_per_call(raw, args.count))
        q, e = statistics.median(qkms), statistics.median(ecdh)
        print(f"derive {args.curve} in process: {q:.1f} us CPU/request (rounds {qkms[0]:.0f}..)")
        print(f"raw ECDH {args.curve}:           {e:.1f} us CPU")
        print(f"QKMS's own work:             {q - e:.1f} us CPU/request")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            app.run_many(requests, args.count)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile)


if __name__ == "__main__":
    main()
