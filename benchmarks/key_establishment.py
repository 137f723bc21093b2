"""Key establishment beyond ECDH: Decapsulate ML-KEM-768 and DeriveSharedSecret X25519 end to end,
each as a ratio to the raw `cryptography` call on the same cores (DESIGN §4a).

The raw figure is what the request cannot avoid: `decapsulate(ciphertext)` with a loaded
ML-KEM-768 key, or `load_der_public_key` + X25519 `exchange`, on `--workers` processes side by
side. It is measured right before its end-to-end figure, so load drift on a shared machine
falls on both alike. Ciphertexts are made locally with the key GetPublicKey returns.
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
)

from benchmarks.run import Report, Row, SignedBatch, _ratio, _server, _wrk, raw_seconds

__all__ = ["bench_key_establishment", "raw_rate"]

CONNECTIONS = 16
STORE = "SQLite"
_BATCH = 64


def _decapsulations() -> Callable[[], int]:
    private_key = mlkem.MLKEM768PrivateKey.generate()
    public_key = private_key.public_key()
    ciphertexts = [public_key.encapsulate()[1] for _ in range(16)]

    def run() -> int:
        for ciphertext in ciphertexts:
            private_key.decapsulate(ciphertext)
        return len(ciphertexts)

    return run


def _x25519_exchanges() -> Callable[[], int]:
    private_key = x25519.X25519PrivateKey.generate()
    peers = [
        x25519.X25519PrivateKey.generate()
        .public_key()
        .public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        for _ in range(16)
    ]

    def run() -> int:
        for der in peers:
            peer = load_der_public_key(der)
            assert isinstance(peer, x25519.X25519PublicKey)
            private_key.exchange(peer)
        return len(peers)

    return run


_RAW: dict[str, Callable[[], Callable[[], int]]] = {
    "ML-KEM-768 decapsulate": _decapsulations,
    "X25519": _x25519_exchanges,
}


def _one_process(name: str, duration: float, start_at: float) -> float:
    run = _RAW[name]()
    done = 0
    time.sleep(max(0.0, start_at - time.time()))  # all processes run at the same time
    start = time.perf_counter()
    deadline = start + duration
    while True:
        done += run()
        now = time.perf_counter()
        if now >= deadline:
            return done / (now - start)


def raw_rate(name: str, processes: int, duration: float) -> float:
    """Raw calls per second summed over `processes` processes running side by side."""
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + 1.0  # after every process has started and imported
    with context.Pool(processes) as pool:
        rates = pool.starmap(_one_process, [(name, duration, start_at)] * processes)
    return sum(rates)


def bench_key_establishment(report: Report, args: argparse.Namespace, work: Path) -> None:
    workers, duration = args.workers, args.duration
    print(f"\nKey establishment: qkms serve --workers {workers}, {CONNECTIONS} conns", flush=True)
    with _server(work, "data-key-establishment", workers, None) as server:
        signer = server.signer()
        created = signer.call(
            "CreateKey", {"KeySpec": "ML_KEM_768", "KeyUsage": "ENCAPSULATE_DECAPSULATE"}
        )
        kem_id = created["KeyMetadata"]["KeyId"]
        answer = signer.call("GetPublicKey", {"KeyId": kem_id})
        public_key = load_der_public_key(base64.b64decode(answer["PublicKey"]))
        assert isinstance(public_key, mlkem.MLKEM768PublicKey)
        bodies = [
            {
                "KeyId": kem_id,
                "EncapsulationAlgorithm": "ML_KEM",
                "SharedSecretCiphertextBlob": base64.b64encode(
                    public_key.encapsulate()[1]
                ).decode(),
            }
            for _ in range(_BATCH)
        ]
        decapsulate = SignedBatch(
            work / "decapsulate.req", lambda: signer.raw_many("Decapsulate", bodies)
        )
        created = signer.call("CreateKey", {"KeySpec": "ECC_X25519", "KeyUsage": "KEY_AGREEMENT"})
        x_id = created["KeyMetadata"]["KeyId"]
        peers = [
            x25519.X25519PrivateKey.generate()
            .public_key()
            .public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
            for _ in range(_BATCH)
        ]
        derive_bodies = [
            {
                "KeyId": x_id,
                "KeyAgreementAlgorithm": "ECDH",
                "PublicKey": base64.b64encode(der).decode(),
            }
            for der in peers
        ]
        derive = SignedBatch(
            work / "derive-x25519.req",
            lambda: signer.raw_many("DeriveSharedSecret", derive_bodies),
        )
        for scenario, raw_name, batch in (
            ("Decapsulate ML-KEM-768, 1 key", "ML-KEM-768 decapsulate", decapsulate),
            ("derive X25519, 1 key", "X25519", derive),
        ):
            raw = raw_rate(raw_name, workers, raw_seconds(args))
            report.add(Row("in-process", f"raw {raw_name}", None, raw))
            result = _wrk(server, batch, CONNECTIONS, duration)
            ratio = f"e2e/raw {_ratio(result.requests_per_second, raw)}"
            report.add(Row.of(STORE, scenario, result, ratio))
