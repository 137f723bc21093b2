"""The /console static files over plain HTTP: headers, policy, content types, and no traversal."""

from __future__ import annotations

import fnmatch
import http.client
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from qkms.console import console_response
from tests.e2e.server import QkmsServer

STATIC = Path(__file__).resolve().parents[2] / "src" / "qkms" / "console" / "static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def get(server: QkmsServer, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


def assert_security_headers(headers: dict[str, str]) -> None:
    assert headers["content-security-policy"] == CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"


def test_index_is_served_with_a_strict_policy(server: QkmsServer) -> None:
    status, headers, body = get(server, "/console/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert_security_headers(headers)
    assert b'<script type="module" src="app.js"></script>' in body
    assert int(headers["content-length"]) == len(body)


def test_console_without_slash_redirects(server: QkmsServer) -> None:
    status, headers, _ = get(server, "/console")
    assert status == 308
    assert headers["location"] == "/console/"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("derive.js", "text/javascript; charset=utf-8"),
        ("sigv4.js", "text/javascript; charset=utf-8"),
        ("console.css", "text/css; charset=utf-8"),
    ],
)
def test_files_have_their_content_type(server: QkmsServer, name: str, content_type: str) -> None:
    status, headers, body = get(server, f"/console/{name}")
    assert status == 200
    assert headers["content-type"] == content_type
    assert_security_headers(headers)
    assert body == (STATIC / name).read_bytes()


def test_every_shipped_file_is_served(server: QkmsServer) -> None:
    names = sorted(p.name for p in STATIC.iterdir())
    assert "index.html" in names
    for name in names:
        assert get(server, f"/console/{name}")[0] == 200, name


@pytest.mark.parametrize(
    "path",
    [
        "/console/nope.js",
        "/console/../pyproject.toml",
        "/console/%2e%2e/pyproject.toml",
        "/console/%2E%2E%2Fpyproject.toml",
        "/console/..%2fpyproject.toml",
        "/console/..%5cpyproject.toml",
        "/console/%252e%252e%252fpyproject.toml",
        "/console/../../../../etc/passwd",
        "/console/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/console//etc/passwd",
        "/console/./index.html",
        "/console/index.html/",
        "/console/../__init__.py",
        "/console/..%2f__init__.py",
        "/console/static/index.html",
        "/console/.htaccess",
        "/console/index.html%00.js",
        "/console/INDEX.HTML",
    ],
)
def test_only_static_files_are_reachable(server: QkmsServer, path: str) -> None:
    status, headers, body = get(server, path)
    assert status == 404, (path, status, body[:200])
    assert b"[project]" not in body and b"root:" not in body and b"import" not in body
    assert_security_headers(headers)


def test_traversal_is_refused_by_the_module_too() -> None:
    # Whatever the ASGI server does with the raw path, the module itself serves names only.
    for path in ("/console/../pyproject.toml", "/console/../__init__.py", "/console/a/b.js"):
        assert console_response(path, "GET").status == 404


def test_head_and_other_methods(server: QkmsServer) -> None:
    status, headers, body = get(server, "/console/app.js", "HEAD")
    assert status == 200 and body == b""
    assert headers["content-type"] == "text/javascript; charset=utf-8"
    status, headers, _ = get(server, "/console/", "POST")
    assert status == 405
    assert headers["allow"] == "GET, HEAD"


def test_the_api_is_unchanged(server: QkmsServer, kms: Any) -> None:
    # Serving the console must leave the API as it was: a key it creates is listed and
    # described, with the API's own headers and none of the console's page policy.
    created = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    listed = kms.list_keys(Limit=1000)
    assert {"KeyId": created["KeyId"], "KeyArn": created["Arn"]} in listed["Keys"]
    described = kms.describe_key(KeyId=created["Arn"])["KeyMetadata"]
    assert (described["KeyId"], described["KeyState"]) == (created["KeyId"], "Enabled")
    headers = listed["ResponseMetadata"]["HTTPHeaders"]
    assert headers["content-type"] == "application/x-amz-json-1.1"
    assert headers["cache-control"] == "no-store"
    assert headers["x-amzn-requestid"] == listed["ResponseMetadata"]["RequestId"]
    assert "content-security-policy" not in headers
    status, headers, body = get(server, "/")  # GET / is still not the API, nor the console
    assert (status, headers["content-type"], body) == (
        404,
        "application/json",
        b'{"message":"Not Found"}',
    )


def test_pages_have_nothing_inline() -> None:
    # The CSP forbids inline script and style; this finds them before a browser would.
    html = (STATIC / "index.html").read_text()
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None
    assert re.search(r"<style|\sstyle=|\son[a-z]+=", html, re.IGNORECASE) is None
    for script in STATIC.glob("*.js"):
        text = script.read_text()
        for forbidden in (
            "innerHTML",
            "outerHTML",
            "eval(",
            "new Function",
            "localStorage.",
            "document.cookie",
        ):
            assert forbidden not in text, (script.name, forbidden)
        # Every module comes from this folder: no third-party script from the network.
        for specifier in re.findall(r'^import .* from "([^"]+)";$', text, re.MULTILINE):
            assert specifier.startswith("./") and (STATIC / specifier[2:]).is_file(), specifier


def test_packaging_ships_every_static_file() -> None:
    # The wheel carries what [tool.setuptools.package-data] names; a new file type must be added.
    pyproject = tomllib.loads((STATIC.parents[3] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["qkms"]
    for path in STATIC.iterdir():
        relative = str(path.relative_to(STATIC.parents[1]))
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_get_root_sends_a_browser_to_the_console(server: QkmsServer, method: str) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        # What Chromium and Firefox send for a page.
        accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        connection.request(method, "/", headers={"Accept": accept})
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status == 303
    assert response.getheader("location") == "/console/"


@pytest.mark.parametrize("accept", [None, "application/json", "*/*"])
def test_get_root_stays_a_json_404_for_api_clients(server: QkmsServer, accept: str | None) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", "/", headers={"Accept": accept} if accept else {})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert (response.status, body) == (404, b'{"message":"Not Found"}')
