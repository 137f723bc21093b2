"""Helpers the browser tests share (test modules import from here, never from one another).

Import it only after `require_browser()`: it needs Playwright.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.server import ADMIN_ACCESS_KEY_ID, ADMIN_SECRET, QkmsServer

__all__ = ["sign_in"]


def sign_in(page: Page, server: QkmsServer) -> None:
    page.goto(f"{server.endpoint}/console/")
    page.get_by_label("Access key id").fill(ADMIN_ACCESS_KEY_ID)
    page.get_by_label("Secret access key").fill(ADMIN_SECRET)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Keys", exact=True)).to_be_visible()
