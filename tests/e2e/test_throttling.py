"""Request quotas on a real `qkms serve --workers 2`: AWS's ThrottlingException, boto3's standard
retries riding it out, one quota for both workers, and the audit event of a throttled call."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from qkms.audit import iter_events
from qkms.throttling import THROTTLED_MESSAGE
from tests.e2e.server import (
    ADMIN_ACCESS_KEY_ID,
    ADMIN_SECRET,
    REGION,
    QkmsServer,
    RawResponse,
    raw_call,
)
from tests.peer_keys import peer_public_key_der

pytestmark = pytest.mark.e2e
RATE = 5  # DeriveSharedSecret's class (ecc) in these tests; its bucket holds one second's worth
BURST = 5


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    data_dir = tmp_path_factory.mktemp("throttle") / "data"
    qkms = QkmsServer(data_dir, workers=2, extra_args=["--throttle", f"ecc={RATE}"]).start()
    yield qkms
    qkms.stop()


@pytest.fixture(scope="module")
def key_id(server: QkmsServer) -> str:
    created = server.client().create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")
    return str(created["KeyMetadata"]["KeyId"])


def peer() -> bytes:
    return peer_public_key_der()


PEER = peer()


def derive_raw(server: QkmsServer, key_id: str) -> RawResponse:
    """One derive on a new connection (so the calls spread over both workers)."""
    body = {"KeyId": key_id, "PublicKey": base64.b64encode(PEER).decode()}
    return raw_call(server.endpoint, "DeriveSharedSecret", body)


def refill() -> None:
    time.sleep(BURST / RATE + 0.2)


def test_calls_over_the_quota_get_aws_throttling_error(server: QkmsServer, key_id: str) -> None:
    refill()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: derive_raw(server, key_id), range(6 * BURST)))
    throttled = [a for a in answers if a.status != 200]
    assert throttled, [a.status for a in answers]
    for answer in throttled:
        assert answer.status == 400
        assert answer.json() == {"__type": "ThrottlingException", "message": THROTTLED_MESSAGE}
        assert answer.headers["x-amzn-errortype"] == "ThrottlingException"
        assert answer.headers["x-amzn-requestid"]


def test_boto3_without_retries_sees_the_throttling_exception(
    server: QkmsServer, key_id: str
) -> None:
    kms = server.client()  # the harness's client: one attempt, no retries
    with pytest.raises(ClientError) as raised:
        for _ in range(3 * BURST):
            kms.derive_shared_secret(KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=PEER)
    error = raised.value.response
    assert error["Error"]["Code"] == "ThrottlingException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_boto3_standard_retries_complete_a_burst(server: QkmsServer, key_id: str) -> None:
    refill()
    kms = standard_retry_client(server)
    calls = 3 * BURST
    with ThreadPoolExecutor(3) as pool:
        answers = list(
            pool.map(
                lambda _: kms.derive_shared_secret(
                    KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=PEER
                ),
                range(calls),
            )
        )
    assert len(answers) == calls
    assert all(len(a["SharedSecret"]) == 32 for a in answers)
    # They could not all have passed at once: boto3 retried throttled attempts.
    assert sum(a["ResponseMetadata"]["RetryAttempts"] for a in answers) > 0


def standard_retry_client(server: QkmsServer) -> Any:
    """boto3 as an application would configure it: `standard` mode retries ThrottlingException
    with exponential backoff."""
    return boto3.client(
        "kms",
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=ADMIN_ACCESS_KEY_ID,
        aws_secret_access_key=ADMIN_SECRET,
        config=Config(retries={"mode": "standard", "max_attempts": 10}),
    )


def test_both_workers_draw_from_one_quota(server: QkmsServer, key_id: str) -> None:
    """Over one second, many connections (spread by the kernel over both workers) get at most
    one bucket's worth plus one second's refill: two separate buckets would admit twice that."""
    window = 1.0
    done: list[tuple[float, int]] = []
    lock = threading.Lock()
    start = time.monotonic()

    def hammer() -> None:
        while time.monotonic() - start < window + 0.3:
            status = derive_raw(server, key_id).status
            with lock:
                done.append((time.monotonic() - start, status))

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    in_window = [status for at, status in done if at <= window]
    assert len(in_window) >= 3 * (RATE + BURST), "too few calls to tell one bucket from two"
    assert set(in_window) <= {200, 400}
    assert 0 < in_window.count(200) <= RATE * window + BURST


def test_a_throttled_call_is_audited_with_its_caller(server: QkmsServer, key_id: str) -> None:
    refill()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: derive_raw(server, key_id), range(6 * BURST)))
    throttled_ids = {a.headers["x-amzn-requestid"] for a in answers if a.status == 400}
    assert throttled_ids
    events = {e["requestID"]: e for e in iter_events(Path(server.data_dir) / "audit.log")}
    for request_id in throttled_ids:
        event = events[request_id]
        assert event["eventName"] == "DeriveSharedSecret"
        assert event["errorCode"] == "ThrottlingException"
        assert event["userIdentity"]["accountId"] == "111122223333"
