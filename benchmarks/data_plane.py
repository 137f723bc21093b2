"""Signing, RSA decryption and MAC through QKMS, each beside the raw `cryptography` call.

Rows: Sign P-256 (ECDSA_SHA_256, RAW), Verify P-256, Decrypt RSA-2048 (RSAES_OAEP_SHA_256)
and GenerateMac (HMAC_SHA_256), each driven by wrk at 16 connections against one `qkms serve`;
the raw rows run the same primitive in-process on `--workers` processes at once, on the same
cores, so e2e/raw says what HTTP, SigV4, JSON, authorization and the audit cost on top.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import multiprocessing
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from benchmarks.run import RAW_SMOKE_SECONDS, Report, Row, SignedBatch, _ratio, _server, _wrk

__all__ = ["bench_data_plane", "raw_rate"]

CONNECTIONS = 16
STORE = "SQLite"
MESSAGES = [hashlib.sha256(str(i).encode()).digest() * 4 for i in range(64)]  # 128 bytes each
_OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def _raw_work(name: str) -> Callable[[], int]:
    """One round of the primitive QKMS runs for `name`; returns how many calls it made."""
    if name in ("Sign P-256", "Verify P-256"):
        private = ec.generate_private_key(ec.SECP256R1())
        public = private.public_key()
        signatures = [private.sign(m, ec.ECDSA(hashes.SHA256())) for m in MESSAGES]
        if name == "Sign P-256":
            return lambda: sum(1 for m in MESSAGES if private.sign(m, ec.ECDSA(hashes.SHA256())))

        def verify() -> int:
            for m, s in zip(MESSAGES, signatures, strict=True):
                public.verify(s, m, ec.ECDSA(hashes.SHA256()))
            return len(MESSAGES)

        return verify
    if name == "Decrypt RSA-2048":
        key = rsa.generate_private_key(65537, 2048)
        blobs = [key.public_key().encrypt(m[:32], _OAEP) for m in MESSAGES[:16]]
        return lambda: sum(1 for b in blobs if key.decrypt(b, _OAEP) is not None)
    secret = bytes(32)

    def mac() -> int:
        for m in MESSAGES:
            h = hmac.HMAC(secret, hashes.SHA256())
            h.update(m)
            h.finalize()
        return len(MESSAGES)

    return mac


def _one_process(name: str, duration: float, start_at: float) -> float:
    work = _raw_work(name)
    time.sleep(max(0.0, start_at - time.time()))  # all processes run at the same time
    start = time.perf_counter()
    done = 0
    while True:
        done += work()
        now = time.perf_counter()
        if now - start >= duration:
            return done / (now - start)


def raw_rate(name: str, processes: int, duration: float) -> float:
    """Calls per second of the raw primitive, summed over `processes` processes side by side."""
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + 1.0
    with context.Pool(processes) as pool:
        rates = pool.starmap(_one_process, [(name, duration, start_at)] * processes)
    return sum(rates)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _bodies(signer: Any) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    """(operation, request bodies) per row, on keys made for this run."""

    def create(spec: str, usage: str) -> str:
        created = signer.call("CreateKey", {"KeySpec": spec, "KeyUsage": usage})
        return str(created["KeyMetadata"]["KeyId"])

    ecc = create("ECC_NIST_P256", "SIGN_VERIFY")
    rsa_key = create("RSA_2048", "ENCRYPT_DECRYPT")
    mac_key = create("HMAC_256", "GENERATE_VERIFY_MAC")
    sign = [
        {
            "KeyId": ecc,
            "Message": _b64(m),
            "MessageType": "RAW",
            "SigningAlgorithm": "ECDSA_SHA_256",
        }
        for m in MESSAGES
    ]
    signatures = [signer.call("Sign", body)["Signature"] for body in sign[:16]]
    verify = [{**body, "Signature": s} for body, s in zip(sign, signatures, strict=False)]
    public_der = base64.b64decode(signer.call("GetPublicKey", {"KeyId": rsa_key})["PublicKey"])
    public = serialization.load_der_public_key(public_der)
    if not isinstance(public, rsa.RSAPublicKey):
        raise TypeError("GetPublicKey did not return an RSA key")
    decrypt = [
        {
            "KeyId": rsa_key,
            "CiphertextBlob": _b64(public.encrypt(m[:32], _OAEP)),
            "EncryptionAlgorithm": "RSAES_OAEP_SHA_256",
        }
        for m in MESSAGES[:16]
    ]
    mac = [{"KeyId": mac_key, "Message": _b64(m), "MacAlgorithm": "HMAC_SHA_256"} for m in MESSAGES]
    return {
        "Sign P-256": ("Sign", sign),
        "Verify P-256": ("Verify", verify),
        "Decrypt RSA-2048": ("Decrypt", decrypt),
        "GenerateMac": ("GenerateMac", mac),
    }


def _signing(
    signer: Any, operation: str, bodies: list[dict[str, Any]]
) -> Callable[[], list[bytes]]:
    return lambda: list(signer.raw_many(operation, bodies))


def bench_data_plane(report: Report, args: argparse.Namespace, work: Path) -> None:
    workers, duration = args.workers, args.duration
    print(f"\nSign, Verify, Decrypt RSA-2048, GenerateMac vs raw cryptography ({workers} procs)")
    with _server(work, "data-plane", workers, None) as server:
        signer = server.signer()
        for name, (operation, bodies) in _bodies(signer).items():
            batch = SignedBatch(
                work / f"data-plane-{operation}.req", _signing(signer, operation, bodies)
            )
            result = _wrk(server, batch, CONNECTIONS, duration)
            raw = raw_rate(name, workers, RAW_SMOKE_SECONDS if args.smoke else duration)
            report.add(Row("in-process", f"raw {name}", None, raw))
            report.add(
                Row.of(STORE, name, result, f"e2e/raw {_ratio(result.requests_per_second, raw)}")
            )
