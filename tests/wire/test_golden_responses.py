"""Golden request/response pairs for the wire layer: error shapes, status codes, headers, one success.

Each case sends one request through the whole pipeline of a real QKMS app (tests/wire/support.py)
and compares the masked response with `golden/<case>.json`, which says when and against what it
was recorded. Request ids, key ids and timestamps are masked after they are checked; the rest must
match byte for byte once parsed. botocore's own JSON 1.1 parser reads every recorded error, so the
shapes are the ones AWS SDKs understand.

To record again after a deliberate change: QKMS_RECORD_GOLDEN=1, then review the diff.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.parsers import JSONParser

from tests.wire.support import (
    JSON_11,
    InProcessQkms,
    WireResponse,
    is_uuid4,
    mask,
)

GOLDEN = Path(__file__).parent / "golden"
RECORD = os.environ.get("QKMS_RECORD_GOLDEN") == "1"
MISSING_KEY = "00000000-0000-4000-8000-000000000000"  # a well-formed id no key has
BODY_LIMIT = 64 * 1024  # DESIGN §1: the edge refuses bodies over 64 KiB
# Where AWS's own answer for a case is on record, the golden file says so.
AWS_SOURCES = {
    "validation_enum": "AWS KMS answers with this wording (github.com/boto/boto3/issues/3428 "
    "quotes it for GenerateDataKey); AWS lists the enum in another order",
    "validation_length": "AWS's constraint wording, as for validation_enum",
    "invalid_signature": "AWS's SigV4 mismatch message, as botocore users see it",
    "unrecognized_client": "AWS's message for an unknown access key id",
}
RECORDED_AGAINST = (
    "QKMS itself: qkms.app.bootstrap + build_app over a fresh SQLite data directory, driven "
    "in-process over ASGI (tests/wire/support.py), requests signed by botocore SigV4Auth"
)


@dataclass
class Exchange:
    """What one case sent and what came back, with the masking state the case needs."""

    request: dict[str, Any]
    response: WireResponse
    keep: frozenset[str] = frozenset()  # UUIDs the caller chose: shown as sent
    seen: dict[str, str] = field(default_factory=dict)  # UUID -> placeholder, seeded by the case


def api(target: str, body: Any, content_type: str = JSON_11) -> Callable[[InProcessQkms], Exchange]:
    encoded = body if isinstance(body, bytes) else json.dumps(body).encode()

    def run(qkms: InProcessQkms) -> Exchange:
        shown = body if not isinstance(body, bytes) else body.decode()
        request = {"target": target, "content_type": content_type, "body": shown}
        return Exchange(request, qkms.call(target, encoded, content_type=content_type))

    return run


def describe_created_key(qkms: InProcessQkms) -> Exchange:
    created = qkms.call(
        "TrentService.CreateKey",
        json.dumps({"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"}).encode(),
    )
    assert created.status == 200, created.body
    key_id = str(created.json()["KeyMetadata"]["KeyId"])
    body = {"KeyId": key_id}
    response = qkms.call("TrentService.DescribeKey", json.dumps(body).encode())
    request = {"target": "TrentService.DescribeKey", "content_type": JSON_11, "body": body}
    return Exchange(request, response, seen={key_id: "<created-key-id>"})


def oversized(chunked: bool) -> Callable[[InProcessQkms], Exchange]:
    """One byte over the cap, refused before the signature is even looked at."""

    def run(qkms: InProcessQkms) -> Exchange:
        body = b"x" * (BODY_LIMIT + 1)
        headers = [("host", "127.0.0.1:4000"), ("content-type", JSON_11)]
        if chunked:  # no Content-Length: the cap is counted as the body arrives
            response = qkms.send(headers, body, chunks=[body[:BODY_LIMIT], body[BODY_LIMIT:]])
        else:
            response = qkms.send([*headers, ("content-length", str(len(body)))], body)
        shown = f"<{len(body)} bytes of 'x'{', in two chunks' if chunked else ''}>"
        return Exchange({"target": None, "content_type": JSON_11, "body": shown}, response)

    return run


def unsigned(qkms: InProcessQkms) -> Exchange:
    headers = [
        ("host", "127.0.0.1:4000"),
        ("content-type", JSON_11),
        ("x-amz-target", "TrentService.ListKeys"),
    ]
    response = qkms.send(headers, b"{}")
    return Exchange({"target": "TrentService.ListKeys", "body": {}, "signed": False}, response)


def wrong_secret(qkms: InProcessQkms) -> Exchange:
    response = qkms.call(
        "TrentService.ListKeys", b"{}", secret="not-the-secret-0123456789abcdefghij"
    )
    request = {"target": "TrentService.ListKeys", "body": {}, "signed": "with a wrong secret"}
    return Exchange(request, response)


def unknown_access_key(qkms: InProcessQkms) -> Exchange:
    response = qkms.call("TrentService.ListKeys", b"{}", access_key_id="QKMSNOSUCHKEY0000001")
    request = {"target": "TrentService.ListKeys", "body": {}, "signed": "by an unknown key id"}
    return Exchange(request, response)


def not_found(qkms: InProcessQkms) -> Exchange:
    exchange = api("TrentService.DescribeKey", {"KeyId": MISSING_KEY})(qkms)
    exchange.keep = frozenset({MISSING_KEY})
    return exchange


def not_the_api(qkms: InProcessQkms) -> Exchange:
    response = qkms.send([("host", "127.0.0.1:4000")], b"", method="GET", path="/")
    return Exchange({"method": "GET", "path": "/"}, response)


CASES: dict[str, Callable[[InProcessQkms], Exchange]] = {
    "create_key": api(
        "TrentService.CreateKey",
        {"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT", "Description": "golden"},
    ),
    "describe_key": describe_created_key,
    "not_found": not_found,
    "validation_enum": api(
        "TrentService.CreateKey", {"KeySpec": "ECC_NIST_P999", "KeyUsage": "KEY_AGREEMENT"}
    ),
    "validation_length": api("TrentService.DescribeKey", {"KeyId": ""}),
    "serialization_wrong_type": api("TrentService.DescribeKey", {"KeyId": 5}),
    "serialization_not_json": api("TrentService.DescribeKey", b"{not json"),
    "unknown_operation": api("TrentService.NoSuchOperation", {}),
    "unknown_operation_content_type": api(
        "TrentService.ListKeys", {}, content_type="application/json"
    ),
    "body_too_large": oversized(chunked=False),
    "body_too_large_chunked": oversized(chunked=True),
    "missing_authentication": unsigned,
    "invalid_signature": wrong_secret,
    "unrecognized_client": unknown_access_key,
    "not_the_api": not_the_api,
}


@pytest.fixture(scope="module")
def qkms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessQkms]:
    app = InProcessQkms(tmp_path_factory.mktemp("wire-golden") / "data")
    yield app
    app.close()


def normalised(exchange: Exchange) -> dict[str, Any]:
    """The response as the golden file holds it; checks what masking would otherwise hide."""
    response = exchange.response
    headers = dict(response.headers)
    assert len(headers) == len(response.headers), f"a header sent twice: {response.headers}"
    assert headers.pop("content-length") == str(len(response.body))
    if "x-amzn-requestid" in headers:
        assert is_uuid4(headers["x-amzn-requestid"]), headers["x-amzn-requestid"]
        headers["x-amzn-requestid"] = "<uuid4>"
    seen = dict(exchange.seen)
    return {
        "status": response.status,
        "headers": dict(sorted(headers.items())),
        "body": mask(response.json(), exchange.keep, seen),
    }


def golden_path(name: str) -> Path:
    return GOLDEN / f"{name}.json"


def _head_commit() -> str:
    """The commit the recording ran on (the working tree may hold more)."""
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=GOLDEN,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def record(name: str, exchange: Exchange, actual: dict[str, Any]) -> None:
    golden_path(name).write_text(
        json.dumps(
            {
                "recorded": {
                    "on": datetime.now(UTC).date().isoformat(),
                    "against": RECORDED_AGAINST,
                    "commit": _head_commit(),
                    "masked": "x-amzn-RequestId (checked a UUID4), Content-Length (checked "
                    "against the body), key ids <uuid-N>, CreationDate <timestamp>",
                    **({"aws": AWS_SOURCES[name]} if name in AWS_SOURCES else {}),
                },
                "request": mask(exchange.request, exchange.keep, dict(exchange.seen)),
                "response": actual,
            },
            indent=2,
            sort_keys=False,
        )
        + "\n"
    )


@pytest.mark.parametrize("name", list(CASES))
def test_response_matches_its_golden_file(qkms: InProcessQkms, name: str) -> None:
    exchange = CASES[name](qkms)
    actual = normalised(exchange)
    if RECORD:
        record(name, exchange, actual)
    golden = json.loads(golden_path(name).read_text())
    assert golden["recorded"]["on"] and golden["recorded"]["against"]
    assert golden["request"] == mask(exchange.request, exchange.keep, dict(exchange.seen))
    assert actual == golden["response"]


def test_every_golden_file_has_a_case() -> None:
    assert sorted(path.stem for path in GOLDEN.glob("*.json")) == sorted(CASES)


def api_errors() -> list[str]:
    """The cases whose recorded answer is an API error (not a success, not the 404 off the API)."""
    names = []
    for name in CASES:
        response = json.loads(golden_path(name).read_text())["response"]
        if response["status"] != 200 and "x-amzn-requestid" in response["headers"]:
            names.append(name)
    return names


@pytest.mark.parametrize("name", api_errors())
def test_api_errors_carry_the_code_three_ways_and_botocore_reads_them(name: str) -> None:
    """`__type`, `x-amzn-ErrorType` and botocore's Error.Code agree, from the golden file."""
    response = json.loads(golden_path(name).read_text())["response"]
    body = response["body"]
    assert set(body) == {"__type", "message"}
    assert response["headers"]["x-amzn-errortype"] == body["__type"]
    assert response["headers"]["cache-control"] == "no-store"
    assert response["headers"]["content-type"] == JSON_11
    model = botocore.session.get_session().get_service_model("kms")
    parsed = JSONParser().parse(
        {
            "status_code": response["status"],
            "headers": response["headers"],
            "body": json.dumps(body).encode(),
        },
        model.operation_model("ListKeys").output_shape,
    )
    assert parsed["Error"] == {"Code": body["__type"], "Message": body["message"]}
