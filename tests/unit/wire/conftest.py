"""Every SigV4 check in these tests runs twice: through `verify` (text headers, as the tests build
them) and through `verify_wire` (the same headers as the bytes an ASGI server hands over, which
is what the Authenticator calls). Both must give the same answer or the same refusal, word for
word, so each test of `verify` is a test of `verify_wire` too."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from qkms.domain.errors import KmsError
from qkms.wire.sigv4 import SignedRequest, SigV4Verifier, VerifiedCaller

_verify_text = SigV4Verifier.verify


def _as_wire(headers: Sequence[tuple[str, str]]) -> list[tuple[bytes, bytes]] | None:
    try:
        return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    except UnicodeEncodeError:
        return None  # text no server could have decoded from latin-1 bytes


def _outcome(verify: object) -> VerifiedCaller | KmsError:
    assert callable(verify)
    try:
        result = verify()
    except KmsError as error:
        return error
    assert isinstance(result, VerifiedCaller)
    return result


def _verify_both_ways(self: SigV4Verifier, request: SignedRequest) -> VerifiedCaller:
    as_text = _outcome(lambda: _verify_text(self, request))
    wire_headers = _as_wire(request.headers)
    if wire_headers is not None:
        as_wire = _outcome(
            lambda: self.verify_wire(
                request.method, request.path, request.query_string, wire_headers, request.body
            )
        )
        if isinstance(as_text, KmsError):
            assert isinstance(as_wire, KmsError), as_wire
            assert (type(as_wire), as_wire.message) == (type(as_text), as_text.message)
        else:
            assert as_wire == as_text
    if isinstance(as_text, KmsError):
        raise as_text
    return as_text


@pytest.fixture(autouse=True)
def _verify_wire_agrees_with_verify(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(SigV4Verifier, "verify", _verify_both_ways)
    yield
