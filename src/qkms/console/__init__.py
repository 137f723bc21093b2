"""The browser console at /console: its static files and their HTTP answers.

It serves only the files that ship in `static/`, looked up by exact name in a table built once,
so no request path can reach anything else. The console itself is a client of the TrentService
API like any other: it signs with SigV4 in the browser and has no endpoint of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = [
    "CONSOLE_PATH",
    "ConsoleResponse",
    "console_response",
    "is_console_path",
    "root_redirect",
]

CONSOLE_PATH = "/console"

# A strict policy: nothing inline, nothing from another origin (the page works offline).
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# Only plain, flat file names: no separators, no dot segments, no encoded forms.
_FILE_NAME = re.compile(r"[a-z0-9][a-z0-9-]*\.(?:html|js|css|svg)")
_INDEX = "index.html"


@dataclass(frozen=True, slots=True)
class ConsoleResponse:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


def is_console_path(path: str) -> bool:
    return path == CONSOLE_PATH or path.startswith(CONSOLE_PATH + "/")


def console_response(path: str, method: str) -> ConsoleResponse:
    """The answer to `method path` for a path under /console (see `is_console_path`)."""
    if method not in ("GET", "HEAD"):
        return _reply(405, b"Method Not Allowed\n", ".txt", [(b"allow", b"GET, HEAD")], method)
    if path == CONSOLE_PATH:
        # Relative URLs in the page resolve against /console/, so send the browser there.
        return _reply(308, b"", ".txt", [(b"location", b"/console/")], method)
    name = path[len(CONSOLE_PATH) + 1 :] or _INDEX
    body = _files().get(name)
    if body is None:
        return _reply(404, b"Not Found\n", ".txt", [], method)
    return _reply(200, body, name[name.rindex(".") :], [], method)


def root_redirect(method: str, headers: Iterable[tuple[bytes, bytes]]) -> ConsoleResponse | None:
    """`GET /` from a browser (its Accept names text/html) is sent to the console; API clients,
    which never ask for HTML, keep the JSON 404 (None: not a browser's page request)."""
    if method not in ("GET", "HEAD"):
        return None
    accept = b",".join(value for name, value in headers if name.lower() == b"accept")
    if b"text/html" not in accept.lower():
        return None
    # 303: the browser follows with a GET whatever it sent; no caching of a per-request choice.
    return _reply(303, b"", ".txt", [(b"location", b"/console/")], method)


@cache
def _files() -> dict[str, bytes]:
    # Read once: the table is the whole set of servable names, fixed at first use.
    folder = resources.files(__package__).joinpath("static")
    return {
        entry.name: entry.read_bytes()
        for entry in folder.iterdir()
        if entry.is_file() and _FILE_NAME.fullmatch(entry.name)
    }


def _reply(
    status: int, body: bytes, suffix: str, extra: list[tuple[bytes, bytes]], method: str
) -> ConsoleResponse:
    content_type = _CONTENT_TYPES.get(suffix, "text/plain; charset=utf-8")
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"content-security-policy", _CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
        # no-store: a new QKMS version never runs against a stale cached script.
        (b"cache-control", b"no-store"),
        *extra,
    ]
    return ConsoleResponse(status, tuple(headers), b"" if method == "HEAD" else body)
