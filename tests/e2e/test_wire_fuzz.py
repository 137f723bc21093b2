"""Fuzz the wire layer of a real `qkms serve` with requests generated from botocore's KMS model.

Thousands of damaged requests (tests/wire_fuzz_cases.py), signed with the admin's credentials
by botocore's own SigV4 signer and unsigned, over one keep-alive connection. None may get a
5xx (DependencyTimeoutException's 503 included: nothing here should be slow), every answer
carries `x-amzn-RequestId`, every error body is JSON with `__type`, and the server still
answers a normal DescribeKey afterwards. QKMS_FUZZ_SEED replays another seed.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import botocore.auth
import botocore.session
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.e2e.server import ADMIN_ACCESS_KEY_ID, ADMIN_SECRET, REGION, QkmsServer
from tests.wire_fuzz_cases import FuzzCase, generate_cases

SEED = int(os.environ.get("QKMS_FUZZ_SEED", "20261201"))
# Unsigned requests stop at the SigV4 check whatever the body, so a sample of them suffices.
UNSIGNED_SHARE = 0.25
# The whole run must fit CI's budget on 2 cores; it takes a few seconds on a laptop.
TIME_BUDGET_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True, slots=True)
class Finding:
    case: FuzzCase
    signed: bool
    problem: str
    answer: Answer | None

    def __str__(self) -> str:
        sent = self.case.body[:160]
        got = (
            "no answer"
            if self.answer is None
            else f"{self.answer.status} {self.answer.body[:240]!r}"
        )
        return (
            f"{self.case.name} ({'signed' if self.signed else 'unsigned'}, "
            f"X-Amz-Target={self.case.x_amz_target!r}, Content-Type={self.case.content_type!r}, "
            f"{len(self.case.body)} bytes: {sent!r}): {self.problem}; got {got}"
        )


class Client:
    """One keep-alive HTTP/1.1 connection; signs with botocore's SigV4Auth when asked."""

    def __init__(self, server: QkmsServer) -> None:
        self._server = server
        self._signer = botocore.auth.SigV4Auth(
            Credentials(ADMIN_ACCESS_KEY_ID, ADMIN_SECRET), "kms", REGION
        )
        self._connection = self._connect()

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self._server.port, timeout=15)

    def close(self) -> None:
        self._connection.close()

    def send(self, case: FuzzCase, signed: bool) -> Answer | None:
        headers: dict[str, str] = {}
        if case.x_amz_target is not None:
            headers["X-Amz-Target"] = case.x_amz_target
        if case.content_type is not None:
            headers["Content-Type"] = case.content_type
        if signed:
            request = AWSRequest(
                "POST", f"{self._server.endpoint}/", data=case.body, headers=headers
            )
            self._signer.add_auth(request)
            headers = dict(request.headers.items())
        # A keep-alive connection the server closed between requests fails on first use;
        # one retry on a fresh connection tells that apart from a request that kills it.
        for attempt in (1, 2):
            try:
                self._connection.request("POST", "/", body=case.body, headers=headers)
                response = self._connection.getresponse()
                return Answer(
                    response.status,
                    {k.lower(): v for k, v in response.getheaders()},
                    response.read(),
                )
            except (http.client.HTTPException, OSError):
                self._connection.close()
                self._connection = self._connect()
                if attempt == 2:
                    return None
        return None


def problems_with(answer: Answer | None, signed: bool) -> Iterator[str]:
    if answer is None:
        yield "the connection closed without an answer"
        return
    if answer.status >= 500:
        yield f"server error {answer.status}"
    if not answer.headers.get("x-amzn-requestid"):
        yield "no x-amzn-RequestId"
    try:
        body = json.loads(answer.body)
    except ValueError:
        yield "body is not JSON"
        return
    if answer.status != 200:
        if not isinstance(body, dict) or not isinstance(body.get("__type"), str):
            yield "error body has no __type"
    elif not signed:
        yield "an unsigned request was answered 200"
    if not signed and answer.status == 400 and isinstance(body, dict):
        if body.get("__type") != "MissingAuthenticationTokenException":
            yield "an unsigned request got past the signature check"


def run(server: QkmsServer, plan: Iterable[tuple[FuzzCase, bool]]) -> tuple[list[Finding], int]:
    client = Client(server)
    findings: list[Finding] = []
    sent = 0
    try:
        for case, signed in plan:
            answer = client.send(case, signed)
            sent += 1
            findings += [Finding(case, signed, p, answer) for p in problems_with(answer, signed)]
    finally:
        client.close()
    return findings, sent


def assert_every_operation_and_member_is_covered(cases: list[FuzzCase]) -> None:
    model = botocore.session.get_session().get_service_model("kms")
    names = {case.name.rsplit("/", 1)[0] for case in cases}
    for operation in model.operation_names:
        shape = model.operation_model(operation).input_shape
        assert f"{operation}/-" in names, operation
        for member in shape.members if shape is not None else ():
            assert f"{operation}/{member}" in names, (operation, member)


def assert_still_answers(kms: Any, key_id: str) -> None:
    metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert metadata["KeyId"] == key_id
    assert metadata["KeyState"] == "Enabled"


def report(findings: list[Finding], sent: int, seconds: float) -> str:
    lines = [f"seed {SEED}: {len(findings)} finding(s) in {sent} requests ({seconds:.1f} s)"]
    lines += [str(finding) for finding in findings[:40]]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def cases(kms: Any) -> list[FuzzCase]:
    # Cases name a real key (the KeyId baseline), so damage to other members reaches the
    # operations behind the codec; the key DescribeKey checks at the end is a different one.
    arn = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["Arn"]
    return generate_cases(SEED, arn)


@pytest.fixture(scope="module")
def witness_key(kms: Any) -> str:
    return str(
        kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["KeyId"]
    )


def test_fuzzed_requests_get_no_server_error(
    server: QkmsServer, kms: Any, cases: list[FuzzCase], witness_key: str
) -> None:
    print(f"wire fuzz seed: {SEED} (set QKMS_FUZZ_SEED to replay another)")
    sampler = random.Random(SEED)
    signed = [(case, True) for case in cases if not case.deep]
    # Deep nesting unsigned belongs here: the signature check answers before any parsing.
    unsigned = [(case, False) for case in cases if case.deep or sampler.random() < UNSIGNED_SHARE]
    plan = signed + unsigned
    assert len(plan) >= 2_000
    assert_every_operation_and_member_is_covered([case for case, _ in signed])

    log_before = len(server.log())
    started = time.monotonic()
    findings, sent = run(server, plan)
    seconds = time.monotonic() - started
    print(report(findings, sent, seconds))

    assert findings == [], report(findings, sent, seconds)
    assert sent == len(plan)
    # A 4xx is not enough if the server logged a crash on the way to it.
    logged = server.log()[log_before:]
    assert "Traceback" not in logged and " ERROR " not in logged, logged[-3000:]
    assert seconds < TIME_BUDGET_SECONDS
    assert_still_answers(kms, witness_key)


def test_deeply_nested_bodies_get_no_server_error(
    server: QkmsServer, kms: Any, cases: list[FuzzCase], witness_key: str
) -> None:
    print(f"wire fuzz seed: {SEED}")
    plan = [(case, True) for case in cases if case.deep]
    assert len(plan) >= 4 * len({case.operation for case in cases})
    started = time.monotonic()
    findings, sent = run(server, plan)
    seconds = time.monotonic() - started
    print(report(findings, sent, seconds))

    assert findings == [], report(findings, sent, seconds)
    assert_still_answers(kms, witness_key)
