"""The bare floor does the real work (its answer is the ECDH secret the peer computes too) and
its optional servers are skipped with a line when they are not installed."""

from __future__ import annotations

import base64
import importlib.util
import json

import pytest
from benchmarks.floor import available_servers
from benchmarks.floor_app import PRIVATE_KEYS, SERVERS, answer
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1()], ids=lambda c: c.name)
def test_floor_answers_the_shared_secret_of_the_peers_curve(curve: ec.EllipticCurve) -> None:
    peer = ec.generate_private_key(curve)
    der = peer.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    body = {
        "KeyId": "k1",
        "KeyAgreementAlgorithm": "ECDH",
        "PublicKey": base64.b64encode(der).decode(),
    }
    status, payload = answer(json.dumps(body).encode())
    assert status == 200
    reply = json.loads(payload)
    expected = peer.exchange(ec.ECDH(), PRIVATE_KEYS[curve.name].public_key())
    assert base64.b64decode(reply["SharedSecret"]) == expected
    assert reply["KeyId"] == "k1"


def test_floor_refuses_a_request_it_cannot_answer() -> None:
    status, payload = answer(b'{"KeyId": "k1", "PublicKey": "AAAA"}')
    assert status == 400 and b"message" in payload


def test_granian_rows_are_skipped_with_a_line_when_granian_is_absent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "granian" else real_find_spec(name, *a),
    )
    usable, notes = available_servers(list(SERVERS))
    assert usable == ["uvicorn"]
    assert len(notes) == 2 and all("pip install granian" in note for note in notes)
