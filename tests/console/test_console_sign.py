"""The key page's Test Sign/Verify panel in Chromium (sign.js): QKMS signs, WebCrypto verifies.

The page runs under the console's strict CSP; the `page` fixture fails a test on any page error
or policy violation.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.console.conftest import require_browser

require_browser()

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.serialization import load_der_public_key  # noqa: E402
from playwright.sync_api import Page, expect  # noqa: E402

from tests.console.support import sign_in  # noqa: E402
from tests.e2e.server import QkmsServer  # noqa: E402

HASHES = {"ECC_NIST_P256": hashes.SHA256(), "ECC_NIST_P384": hashes.SHA384()}


def _open_key(page: Page, server: QkmsServer, key_id: str) -> None:
    sign_in(page, server)
    page.goto(f"{server.endpoint}/console/#/key/{key_id}")
    expect(page.locator('dd[data-field="KeyId"]')).to_have_text(key_id)


def _run(page: Page) -> None:
    page.get_by_role("button", name="Sign and verify").click()
    expect(page.locator("#sign-local")).to_be_visible()


@pytest.mark.parametrize("spec", ["ECC_NIST_P256", "ECC_NIST_P384"])
def test_a_qkms_signature_verifies_in_the_browser_and_in_qkms(
    page: Page, server: QkmsServer, kms: Any, spec: str
) -> None:
    key_id = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    _open_key(page, server, key_id)
    algorithm = "ECDSA_SHA_256" if spec == "ECC_NIST_P256" else "ECDSA_SHA_384"
    expect(page.locator('dd[data-field="SigningAlgorithms"]')).to_have_text(algorithm)
    page.get_by_label("Message (UTF-8)").fill("sign me, QKMS")
    _run(page)
    expect(page.locator("#sign-local")).to_have_text("valid")
    expect(page.locator("#sign-remote")).to_have_text("valid")
    # The signature shown is the DER one QKMS returned: it verifies with cryptography too.
    signature = base64.b64decode(page.locator("#sign-signature").inner_text())
    public = load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(signature, b"sign me, QKMS", ec.ECDSA(HASHES[spec]))

    page.get_by_label("Flip one bit of the message before verifying (expect invalid)").check()
    _run(page)
    expect(page.locator("#sign-local")).to_have_text("invalid")
    expect(page.locator("#sign-remote")).to_have_text("invalid")


def test_other_keys_show_their_algorithms_and_no_sign_panel(
    page: Page, server: QkmsServer, kms: Any
) -> None:
    key_id = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"][
        "KeyId"
    ]
    _open_key(page, server, key_id)
    expect(page.locator('dd[data-field="MacAlgorithms"]')).to_have_text("HMAC_SHA_256")
    expect(page.locator("#sign-panel")).to_have_count(0)
