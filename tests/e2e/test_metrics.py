"""GET /metrics on a real two-worker server: the counters add up to the calls sent, per
operation and error code, whichever worker answered; nothing identifying is a label."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.server import QkmsServer, free_port
from tests.peer_keys import peer_public_key_der

pytestmark = pytest.mark.e2e

PEER = peer_public_key_der()
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> tuple[str, Samples]:
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return text, samples


def requests_by(samples: Samples) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for (name, labels), value in samples.items():
        if name == "qkms_requests_total" and value:
            found = dict(labels)
            counts[(found["operation"], found["code"])] = int(value)
    return counts


def _load(server: QkmsServer, sent: Counter[tuple[str, str]], lock: threading.Lock) -> None:
    kms = server.client()

    def call(operation: str, method: Any, **params: Any) -> Any:
        try:
            result = method(**params)
            code = "ok"
        except ClientError as exc:
            result, code = None, exc.response["Error"]["Code"]
        with lock:
            sent[(operation, code)] += 1
        return result

    for _ in range(8):
        created = call(
            "CreateKey", kms.create_key, KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT"
        )
        key_id = created["KeyMetadata"]["KeyId"]
        for _ in range(3):
            call(
                "DeriveSharedSecret", kms.derive_shared_secret,
                KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=PEER,
            )  # fmt: skip
        call("DescribeKey", kms.describe_key, KeyId="alias/does-not-exist")
        call("ListKeys", kms.list_keys)


def test_counters_add_up_to_the_calls_sent_across_two_workers(tmp_path: Path) -> None:
    # ListKeys is held to 2 calls a second so some are throttled, and counted as such.
    server = QkmsServer(
        tmp_path / "data", workers=2, extra_args=["--throttle", "*=1000000,ListKeys=2"]
    ).start()
    try:
        url = f"{server.endpoint}/metrics"
        _, before = scrape(url)
        sent: Counter[tuple[str, str]] = Counter()
        lock = threading.Lock()
        threads = [threading.Thread(target=_load, args=(server, sent, lock)) for _ in range(4)]
        for thread in threads:
            thread.start()
        mid_text, _ = scrape(url)  # a scrape during the load parses like any other
        assert "qkms_requests_total" in mid_text
        for thread in threads:
            thread.join(timeout=120)
        assert sum(sent.values()) == 4 * 8 * 6
        assert sent[("DescribeKey", "NotFoundException")] == 32
        assert sent[("ListKeys", "ThrottlingException")] > 0

        # A worker counts a call just after sending its answer: allow it a moment.
        deadline = time.monotonic() + 5
        while True:
            text, after = scrape(url)
            counted = requests_by(after) - requests_by(before)
            if counted == sent or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert counted == sent
        for operation in ("CreateKey", "DeriveSharedSecret", "DescribeKey", "ListKeys"):
            calls = sum(n for (op, _), n in sent.items() if op == operation)
            histogram = after[("qkms_request_duration_seconds_count", (("operation", operation),))]
            assert histogram == calls
        throttled = after[("qkms_throttled_requests_total", (("operation", "ListKeys"),))]
        assert throttled == sent[("ListKeys", "ThrottlingException")]

        # The store, the audit log and the background sampler are measured too.
        names = {name for name, _ in after}
        for family in (
            "qkms_store_call_duration_seconds_count",
            "qkms_audit_write_duration_seconds_count",
            "qkms_change_feed_lag_seconds",
            "qkms_ready",
            "qkms_process_resident_memory_bytes",
        ):
            assert family in names, family
        deadline = time.monotonic() + 20  # sampled every 5 s
        while ("qkms_keys", (("spec", "ECC_NIST_P256"), ("state", "Enabled"))) not in after:
            assert time.monotonic() < deadline, "key counts never sampled"
            time.sleep(1)
            text, after = scrape(url)
        assert after[("qkms_keys", (("spec", "ECC_NIST_P256"), ("state", "Enabled")))] == 32
        hits = after[("qkms_cache_lookups_total", (("cache", "keys"), ("result", "hit")))]
        assert hits > 0

        # Bounded labels: no key id, access key id or account appears anywhere.
        kms = server.client()
        some_key = kms.list_keys(Limit=1)["Keys"][0]["KeyId"]
        for secret_ish in (some_key, "QKMSTESTADMIN", "111122223333", "does-not-exist"):
            assert secret_ish not in text
    finally:
        server.stop()


def test_metrics_port_and_off_switch(tmp_path: Path) -> None:
    port = free_port()
    server = QkmsServer(tmp_path / "a", extra_args=["--metrics-port", str(port)]).start()
    try:
        server.client().list_keys()
        deadline = time.monotonic() + 5
        while True:
            _, samples = scrape(f"http://127.0.0.1:{port}/metrics")
            if requests_by(samples)[("ListKeys", "ok")] == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert requests_by(samples)[("ListKeys", "ok")] == 1
        with pytest.raises(urllib.error.HTTPError) as refused:  # not on the API port then
            urllib.request.urlopen(f"{server.endpoint}/metrics", timeout=5)
        assert refused.value.code == 404
        refused.value.close()
    finally:
        server.stop()
    off = QkmsServer(tmp_path / "b", extra_args=["--no-metrics"]).start()
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{off.endpoint}/metrics", timeout=5)
        assert refused.value.code == 404
        refused.value.close()
    finally:
        off.stop()
