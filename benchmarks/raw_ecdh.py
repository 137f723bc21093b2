"""The ceiling: in-process ECDH (load_der_public_key + exchange) on N processes at once.

This is the work a DeriveSharedSecret cannot avoid; everything else a request costs (HTTP,
SigV4, JSON, authorization, the store, the audit event) shows as the ratio end-to-end / raw.
"""

from __future__ import annotations

import multiprocessing
import time

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
)

__all__ = ["CURVES", "raw_ecdh_rate"]

CURVES: dict[str, ec.EllipticCurve] = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}


def _one_process(curve_name: str, duration: float, start_at: float) -> float:
    curve = CURVES[curve_name]
    private_key = ec.generate_private_key(curve)
    peers = [
        ec.generate_private_key(curve)
        .public_key()
        .public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        for _ in range(16)
    ]
    algorithm = ec.ECDH()
    done = 0
    time.sleep(max(0.0, start_at - time.time()))  # all processes run at the same time
    start = time.perf_counter()
    deadline = start + duration
    while True:
        for der in peers:
            peer = load_der_public_key(der)
            assert isinstance(peer, ec.EllipticCurvePublicKey)
            private_key.exchange(algorithm, peer)
        done += len(peers)
        now = time.perf_counter()
        if now >= deadline:
            return done / (now - start)


def raw_ecdh_rate(curve_name: str, processes: int, duration: float) -> float:
    """Exchanges per second summed over `processes` processes running side by side."""
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + 1.0  # after every process has started and imported
    with context.Pool(processes) as pool:
        rates = pool.starmap(_one_process, [(curve_name, duration, start_at)] * processes)
    return sum(rates)
