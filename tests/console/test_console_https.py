"""Secure contexts: the console over HTTPS (`--tls-cert`), and its message over plain HTTP off loopback."""

from __future__ import annotations

import ssl
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.console.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, require_browser

require_browser()

from playwright.sync_api import Browser, expect  # noqa: E402

from tests.e2e.server import (  # noqa: E402
    ADMIN_ACCESS_KEY_ID,
    ADMIN_SECRET,
    REGION,
    QkmsServer,
    self_signed,
)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[QkmsServer, str, Path]]:
    directory = tmp_path_factory.mktemp("qkms-tls")
    cert, key = self_signed(directory)
    qkms = QkmsServer(
        directory / "data", extra_args=["--tls-cert", str(cert), "--tls-key", str(key)]
    ).start(wait=False)
    endpoint = f"https://127.0.0.1:{qkms.port}"
    context = ssl.create_default_context(cafile=str(cert))
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{endpoint}/readyz", timeout=1, context=context):
                break
        except OSError:
            if time.monotonic() > deadline:
                qkms.stop()
                raise RuntimeError(
                    f"qkms serve (TLS) did not become ready:\n{qkms.log()}"
                ) from None
            time.sleep(0.05)
    yield qkms, endpoint, cert
    qkms.stop()


def test_console_over_https(browser: Browser, tls_server: tuple[QkmsServer, str, Path]) -> None:
    _, endpoint, cert = tls_server
    kms: Any = boto3.client(
        "kms",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ADMIN_ACCESS_KEY_ID,
        aws_secret_access_key=ADMIN_SECRET,
        verify=str(cert),
    )
    key_id = kms.create_key(KeyUsage="DERIVE_SHARED_SECRET", KeySpec="ECC_NIST_P384")[
        "KeyMetadata"
    ]["KeyId"]
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    try:
        response = page.goto(f"{endpoint}/console/")
        assert response is not None and response.ok
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert page.evaluate("() => window.isSecureContext") is True
        page.get_by_label("Access key id").fill(ADMIN_ACCESS_KEY_ID)
        page.get_by_label("Secret access key").fill(ADMIN_SECRET)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Keys", exact=True)).to_be_visible()
        page.goto(f"{endpoint}/console/#/derive/{key_id}")
        expect(page.locator("#derive-key")).to_have_value(key_id)
        page.get_by_role("button", name="Derive shared secret").click()
        expect(page.locator("#verdict")).to_have_text("match")
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "test_console_over_https.png"), full_page=True)
        context.close()
        kms.close()


def test_plain_http_off_loopback_explains_what_it_needs(
    browser: Browser, server: QkmsServer
) -> None:
    # A name that is not loopback, over plain HTTP: browsers withhold WebCrypto there.
    insecure = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP qkms.test 127.0.0.1"],
    )
    try:
        page = insecure.new_page()
        page.goto(f"http://qkms.test:{server.port}/console/")
        assert page.evaluate("() => window.isSecureContext") is False
        heading = page.get_by_role("heading", name="This page needs a secure context")
        expect(heading).to_be_visible()
        expect(page.locator("main")).to_contain_text("--tls-cert")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "test_plain_http_off_loopback.png"))
    finally:
        insecure.close()
