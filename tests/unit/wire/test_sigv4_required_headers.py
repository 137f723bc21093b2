"""DESIGN §5: `host`, `x-amz-date` and `x-amz-target` must be among the signed headers.

An unsigned X-Amz-Target lets a captured request be replayed as another operation within the
clock window (a DescribeKey turned into a DisableKey).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import botocore.auth
import pytest

from qkms.domain.errors import InvalidSignatureException
from qkms.wire.sigv4 import SignedRequest, SigV4Verifier
from tests.unit.support import AKID, NOW, SECRET, make_verifier, sign, with_header

ONLY_CONTENT_TYPE = (("Content-Type", "application/x-amz-json-1.1"),)


@contextmanager
def botocore_signing_without(*names: str) -> Iterator[None]:
    """botocore's signer, made to leave `names` out of SignedHeaders (as a hand-made client might)."""
    original = botocore.auth.SigV4Auth.headers_to_sign

    def headers_to_sign(self: botocore.auth.SigV4Auth, request: Any) -> Any:
        chosen = original(self, request)
        for name in names:
            del chosen[name]
        return chosen

    with mock.patch.object(botocore.auth.SigV4Auth, "headers_to_sign", headers_to_sign):
        yield


def signed_names(request: SignedRequest) -> list[str]:
    authorization = next(v for n, v in request.headers if n == "authorization")
    return authorization.split("SignedHeaders=")[1].split(",")[0].split(";")


def test_a_target_added_after_signing_is_refused() -> None:
    # Signed over host;x-amz-date;content-type only, then given the target the attacker wants.
    request = sign(headers=ONLY_CONTENT_TYPE)
    assert "x-amz-target" not in signed_names(request)
    replayed = with_header(request, "x-amz-target", "TrentService.DisableKey")
    with pytest.raises(
        InvalidSignatureException,
        match=r"^'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization\.$",
    ):
        make_verifier().verify(replayed)


def test_a_present_but_unsigned_target_is_refused() -> None:
    with botocore_signing_without("x-amz-target"):
        request = sign()
    assert "x-amz-target" not in signed_names(request)
    with pytest.raises(InvalidSignatureException, match="'X-Amz-Target' must be a 'SignedHeader'"):
        make_verifier().verify(request)


def test_an_unsigned_date_is_refused() -> None:
    with botocore_signing_without("x-amz-date"):
        request = sign()
    assert "x-amz-date" not in signed_names(request)
    with pytest.raises(InvalidSignatureException, match="'X-Amz-Date' must be a 'SignedHeader'"):
        make_verifier().verify(request)


def test_an_unsigned_host_is_refused_as_before() -> None:
    with botocore_signing_without("host"):
        request = sign()
    with pytest.raises(InvalidSignatureException, match="'Host' must be a 'SignedHeader'"):
        make_verifier().verify(request)


def test_botocore_signs_all_three_and_verifies() -> None:
    request = sign()
    assert {"host", "x-amz-date", "x-amz-target"} <= set(signed_names(request))
    assert make_verifier().verify(request).access_key_id == AKID


def test_a_verifier_for_another_protocol_may_require_fewer() -> None:
    # The AWS SigV4 test suite signs generic requests with no X-Amz-Target; KMS is the default.
    verifier = SigV4Verifier(
        {AKID: SECRET}.get,
        lambda: NOW,
        required_signed_headers=("host", "x-amz-date"),
    )
    assert verifier.verify(sign(headers=ONLY_CONTENT_TYPE)).access_key_id == AKID
