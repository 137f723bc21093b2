"""CPU per call of authentication alone: SigV4 verification, and the whole wire step around it.

Why: in `benchmarks.in_process` authentication is a few percent of a DeriveSharedSecret, too
little to see a change in against the noise of the rest. Here the same botocore-signed request
(captured from a real botocore KMS client, so with the headers a real client sends) is checked
in a loop, CPU time only, so one run shows before/after differences of a microsecond.

    PYTHONPATH=$PWD/src .venv/bin/python -m benchmarks.sigv4
    PYTHONPATH=$PWD/src .venv/bin/python -m benchmarks.sigv4 --profile 25
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import botocore.session
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

__all__ = ["main"]

_ENDPOINT = "http://127.0.0.1:8080"


class _Body:
    def stream(self, **kwargs: object) -> Any:
        yield b"{}"


def _captured_request(access_key_id: str, secret: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The header bytes and body of one DeriveSharedSecret as botocore would send it."""
    captured: list[tuple[list[tuple[bytes, bytes]], bytes]] = []

    def capture(request: AWSPreparedRequest, **kwargs: object) -> AWSResponse:
        headers = [(b"host", urlsplit(request.url).netloc.encode())]
        for name, value in request.headers.items():
            text = value if isinstance(value, bytes) else str(value).encode("latin-1")
            headers.append((str(name).lower().encode("latin-1"), text))
        body = request.body if isinstance(request.body, bytes) else b""
        captured.append((headers, body))
        return AWSResponse(request.url, 200, {}, _Body())

    client = botocore.session.get_session().create_client(
        "kms",
        region_name="us-east-1",
        endpoint_url=_ENDPOINT,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret,
    )
    client.meta.events.register("before-send", capture)
    public_key = bytes(91)  # never decoded here: only its bytes are signed
    client.derive_shared_secret(
        KeyId="alias/bench", KeyAgreementAlgorithm="ECDH", PublicKey=public_key
    )
    (request,) = captured
    return request


def _cpu_per_call(calls: Callable[[int], object], count: int) -> float:
    started = time.process_time()
    calls(count)
    return (time.process_time() - started) / count * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="top N functions")
    args = parser.parse_args(argv)

    from benchmarks.in_process import InProcessApp
    from qkms.wire.messages import ApiRequest
    from qkms.wire.sigv4 import SignedRequest, SigV4Verifier

    with tempfile.TemporaryDirectory() as tmp:
        app = InProcessApp(Path(tmp) / "data")
        credentials = app.credentials
        headers, body = _captured_request(credentials.access_key, credentials.secret_key)
        now = time.time()
        verifier = SigV4Verifier({credentials.access_key: credentials.secret_key}.get, lambda: now)
        signed = SignedRequest(
            "POST", "/", "", [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers], body
        )
        wire = ApiRequest("POST", "/", "", headers, body, "127.0.0.1", False)
        # The app's own Authenticator, with its credential cache warm: what every API call runs
        # before routing (a private attribute, read here only to time the step in isolation).
        authenticator = app.app._api._authenticator

        async def authenticate_many(count: int) -> None:
            for index in range(count):
                await authenticator.authenticate(wire, "request-id")
                if index % 200 == 0:
                    # Let the change follower confirm the caches fresh (DESIGN §7), or every
                    # lookup would miss after a second and go to a worker thread.
                    await asyncio.sleep(0)

        def authenticate(count: int) -> None:
            app.loop.run_until_complete(authenticate_many(count))

        def verify(count: int) -> None:
            for _ in range(count):
                verifier.verify(signed)

        def verify_wire(count: int) -> None:
            for _ in range(count):
                verifier.verify_wire("POST", "/", "", headers, body)

        cases: dict[str, Callable[[int], object]] = {"SigV4Verifier.verify": verify}
        if hasattr(verifier, "verify_wire"):  # absent before it was added: compare with those
            cases["SigV4Verifier.verify_wire"] = verify_wire
        cases["Authenticator.authenticate"] = authenticate
        app.call(*app.sign("ListKeys", {}))  # loads the admin's credential into the cache
        figures: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, calls in cases.items():
                figures[name].append(_cpu_per_call(calls, args.count))
        for name, values in figures.items():
            print(f"{name:28} {statistics.median(values):6.2f} us CPU/call (min {min(values):.2f})")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            authenticate(args.count)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile)


if __name__ == "__main__":
    main()
