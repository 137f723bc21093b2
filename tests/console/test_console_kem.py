"""The console's panels for ML-KEM and X25519/X448 keys in Chromium (kem.js, derive.js, ecdh.js).

ML-KEM: the key page's panel calls Encapsulate, then Decapsulate on the ciphertext it got, and
compares the two secrets; with one bit flipped, implicit rejection gives another secret and no
error. X25519: the DeriveSharedSecret panel agrees with WebCrypto's X25519 in the browser; X448
(not in Chromium's WebCrypto) takes a pasted peer key. The `page` fixture fails a test on any
page error or Content-Security-Policy violation.
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.console.conftest import require_browser

require_browser()

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import x448, x25519  # noqa: E402
from playwright.sync_api import Page, expect  # noqa: E402

from tests.console.support import sign_in  # noqa: E402
from tests.e2e.server import QkmsServer  # noqa: E402
from tests.peer_keys import public_key_der  # noqa: E402

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "console-kem.png"
# FIPS 203 Table 3: ciphertext sizes.
CIPHERTEXT_LENGTHS = {"ML_KEM_768": 1088, "ML_KEM_1024": 1568}
MASK = "••••"


def _open_key(page: Page, server: QkmsServer, key_id: str) -> None:
    sign_in(page, server)
    page.goto(f"{server.endpoint}/console/#/key/{key_id}")
    expect(page.locator('dd[data-field="KeyId"]')).to_have_text(key_id)


def _run_kem(page: Page) -> None:
    page.get_by_role("button", name="Encapsulate and decapsulate").click()
    expect(page.locator("#kem-verdict")).to_be_visible()
    expect(page.locator("#kem-results")).to_have_attribute("aria-busy", "false")


def _decapsulate(kms: Any, key_id: str, ciphertext_b64: str) -> str:
    answer = kms.decapsulate(
        KeyId=key_id,
        SharedSecretCiphertextBlob=base64.b64decode(ciphertext_b64),
        EncapsulationAlgorithm="ML_KEM",
    )
    return bytes(answer["SharedSecret"]).hex()


@pytest.mark.parametrize("spec", ["ML_KEM_768", "ML_KEM_1024"])
def test_encapsulate_then_decapsulate_match_and_a_flipped_bit_is_implicitly_rejected(
    page: Page, server: QkmsServer, kms: Any, spec: str
) -> None:
    key_id = kms.create_key(KeySpec=spec, KeyUsage="ENCAPSULATE_DECAPSULATE")["KeyMetadata"][
        "KeyId"
    ]
    _open_key(page, server, key_id)
    expect(page.locator('dd[data-field="EncapsulationAlgorithms"]')).to_have_text("ML_KEM")
    # An ML-KEM key cannot derive: the page offers its own panel, not DeriveSharedSecret's.
    expect(page.locator("#kem-panel")).to_be_visible()
    expect(page.locator("#test-derive")).to_be_hidden()
    expect(page.locator("#sign-panel")).to_have_count(0)

    _run_kem(page)
    expect(page.locator("#kem-verdict")).to_have_text("match")
    expect(page.locator("#kem-ciphertext-length")).to_have_text(f"{CIPHERTEXT_LENGTHS[spec]} bytes")
    ciphertext = page.locator("#kem-ciphertext").inner_text()
    assert len(base64.b64decode(ciphertext)) == CIPHERTEXT_LENGTHS[spec]
    # Secrets stay masked until revealed; revealed, they are what QKMS decapsulates the shown
    # ciphertext to, as boto3 sees it.
    expect(page.locator("#kem-encapsulated-secret")).to_have_text(MASK)
    expect(page.locator("#kem-decapsulated-secret")).to_have_text(MASK)
    if spec == "ML_KEM_768" and (
        not DOCS_SCREENSHOT.exists() or os.environ.get("QKMS_UPDATE_SCREENSHOTS") == "1"
    ):
        page.locator("#kem-panel").screenshot(path=str(DOCS_SCREENSHOT))
    page.get_by_role("button", name="Reveal shared secret").click()
    expected = _decapsulate(kms, key_id, ciphertext)
    assert len(expected) == 64
    expect(page.locator("#kem-encapsulated-secret")).to_have_text(expected)
    expect(page.locator("#kem-decapsulated-secret")).to_have_text(expected)

    page.get_by_label(re.compile("^Flip one bit of the ciphertext")).check()
    _run_kem(page)
    expect(page.locator("#kem-verdict")).to_have_text("no match")
    expect(page.locator("#kem-explanation")).to_contain_text("Implicit rejection")
    expect(page.locator("#kem-results .error")).to_have_count(0)
    original = base64.b64decode(page.locator("#kem-ciphertext").inner_text())
    sent = base64.b64decode(page.locator("#kem-ciphertext-sent").inner_text())
    assert len(sent) == len(original)
    assert bytes(a ^ b for a, b in zip(original, sent, strict=True)) == b"\x01" + bytes(
        len(sent) - 1
    )
    page.get_by_role("button", name="Reveal shared secret").click()
    encapsulated = page.locator("#kem-encapsulated-secret").inner_text()
    rejected = page.locator("#kem-decapsulated-secret").inner_text()
    assert len(rejected) == 64
    assert rejected != encapsulated
    # Implicit rejection is deterministic: boto3 decapsulates the altered ciphertext to the same
    # pseudo-random secret the panel shows, and the unaltered one to Encapsulate's secret.
    assert _decapsulate(kms, key_id, base64.b64encode(sent).decode()) == rejected
    assert _decapsulate(kms, key_id, base64.b64encode(original).decode()) == encapsulated


def test_the_console_creates_an_ml_kem_key_and_tries_it(
    page: Page, server: QkmsServer, kms: Any
) -> None:
    sign_in(page, server)
    page.get_by_label("Curve (KeySpec) or ML-KEM parameter set").select_option("ML_KEM_1024")
    # An ML-KEM key has one usage: the form offers only that one.
    usage = page.get_by_label("KeyUsage", exact=True)
    expect(usage.locator("option")).to_have_text(["ENCAPSULATE_DECAPSULATE"])
    page.get_by_label("Description").fill("ML-KEM from the console")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator('dd[data-field="KeySpec"]')).to_have_text("ML_KEM_1024")
    key_id = page.locator('dd[data-field="KeyId"]').inner_text()
    described = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert (described["KeySpec"], described["KeyUsage"]) == (
        "ML_KEM_1024",
        "ENCAPSULATE_DECAPSULATE",
    )
    _run_kem(page)
    expect(page.locator("#kem-verdict")).to_have_text("match")
    # Back on the Keys page, a curve brings the key agreement usages back.
    page.goto(f"{server.endpoint}/console/#/keys")
    page.get_by_label("Curve (KeySpec) or ML-KEM parameter set").select_option("ECC_X25519")
    expect(page.get_by_label("KeyUsage", exact=True).locator("option")).to_have_text(
        ["KEY_AGREEMENT", "DERIVE_SHARED_SECRET"]
    )


def test_the_kem_panel_shows_the_api_error_for_a_disabled_key(
    page: Page, server: QkmsServer, kms: Any
) -> None:
    key_id = kms.create_key(KeySpec="ML_KEM_768", KeyUsage="ENCAPSULATE_DECAPSULATE")[
        "KeyMetadata"
    ]["KeyId"]
    kms.disable_key(KeyId=key_id)
    _open_key(page, server, key_id)
    page.get_by_role("button", name="Encapsulate and decapsulate").click()
    box = page.locator("#kem-results .error")
    expect(box.locator(".error-code")).to_have_text("DisabledException")
    expect(page.locator("#kem-verdict")).to_have_count(0)


def test_an_x25519_key_derives_in_the_browser_and_matches(
    page: Page, server: QkmsServer, kms: Any
) -> None:
    key_id = kms.create_key(KeySpec="ECC_X25519", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["KeyId"]
    _open_key(page, server, key_id)
    expect(page.locator("#kem-panel")).to_have_count(0)
    page.get_by_role("link", name="Test DeriveSharedSecret with this key").click()
    expect(page.locator("#derive-key")).to_have_value(key_id)
    # Chromium's WebCrypto has X25519: the browser generates its own key pair.
    expect(page.locator("#mode-generate")).to_be_enabled()
    expect(page.locator("#mode-generate")).to_be_checked()
    page.get_by_role("button", name="Derive shared secret").click()
    expect(page.locator("#derive-results")).to_have_attribute("aria-busy", "false")
    expect(page.locator("#verdict")).to_have_text("match")
    expect(page.locator("#derive-results")).to_contain_text("WebCrypto X25519")
    # The ephemeral key the browser sent is an RFC 8410 X25519 SubjectPublicKeyInfo.
    request = page.locator("#request-json").inner_text()
    sent_b64 = re.search(r'"PublicKey": "([^"]+)"', request)
    assert sent_b64 is not None
    sent = serialization.load_der_public_key(base64.b64decode(sent_b64.group(1)))
    assert isinstance(sent, x25519.X25519PublicKey)
    page.get_by_role("button", name="Reveal shared secret").click()
    kms_secret = page.locator("#kms-secret").inner_text()
    assert len(kms_secret) == 64
    assert kms_secret == page.locator("#own-secret").inner_text()


@pytest.mark.parametrize("form", ["pem", "raw-hex", "raw-base64"])
def test_a_pasted_x448_key_matches_a_locally_computed_secret(
    page: Page, server: QkmsServer, kms: Any, form: str
) -> None:
    key_id = kms.create_key(KeySpec="ECC_X448", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["KeyId"]
    peer = x448.X448PrivateKey.generate()
    kms_public = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    assert isinstance(kms_public, x448.X448PublicKey)
    expected = peer.exchange(kms_public).hex()
    raw = peer.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pasted = {
        "pem": peer.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
        "raw-hex": raw.hex(),
        "raw-base64": base64.b64encode(raw).decode(),
    }[form]
    sign_in(page, server)
    page.goto(f"{server.endpoint}/console/#/derive/{key_id}")
    expect(page.locator("#derive-key")).to_have_value(key_id)
    # WebCrypto has no X448 in Chromium: the panel offers the paste path only, and says why.
    expect(page.locator("#mode-generate")).to_be_disabled()
    expect(page.locator("#mode-paste")).to_be_checked()
    expect(page.locator("#curve-note")).to_contain_text("WebCrypto has no X448")
    page.get_by_label(re.compile("^Peer public key")).fill(pasted)
    page.get_by_label(re.compile("^Expected shared secret")).fill(expected)
    page.get_by_role("button", name="Derive shared secret").click()
    expect(page.locator("#derive-results")).to_have_attribute("aria-busy", "false")
    expect(page.locator("#verdict")).to_have_text("match")
    page.get_by_role("button", name="Reveal shared secret").click()
    expect(page.locator("#kms-secret")).to_have_text(expected)
    # What was sent is the peer's key as a DER SubjectPublicKeyInfo, whatever form was pasted.
    request = page.locator("#request-json").inner_text()
    assert base64.b64encode(public_key_der(peer.public_key())).decode() in request


def test_the_kem_panel_fits_a_phone(page: Page, server: QkmsServer, kms: Any) -> None:
    key_id = kms.create_key(KeySpec="ML_KEM_1024", KeyUsage="ENCAPSULATE_DECAPSULATE")[
        "KeyMetadata"
    ]["KeyId"]
    page.set_viewport_size({"width": 375, "height": 812})
    _open_key(page, server, key_id)
    page.get_by_label(re.compile("^Flip one bit of the ciphertext")).check()
    _run_kem(page)
    expect(page.locator("#kem-ciphertext-sent")).to_be_visible()
    # A 1568-byte ciphertext wraps and scrolls in its box instead of widening the page.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
