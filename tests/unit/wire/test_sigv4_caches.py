"""What SigV4 verification caches between calls must never change what it accepts or refuses.

The signing key is cached per (access key id, scope date, region) together with the secret it
was derived from; X-Amz-Date parses once per distinct value; the headers are indexed once per
request, with repeated names kept in full.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import botocore.auth
import pytest

from qkms.domain.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    UnrecognizedClientException,
)
from qkms.wire.sigv4 import SignedRequest
from tests.unit.support import (
    AKID,
    INVALID_TOKEN,
    KMS_BODY,
    KMS_HEADERS,
    MISMATCH,
    NOW,
    OTHER_SECRET,
    SECRET,
    header,
    make_verifier,
    sign,
    with_header,
)

MIDNIGHT = datetime(2024, 5, 24, tzinfo=UTC).timestamp()


@contextmanager
def signing_key_of(date: str, region: str) -> Iterator[None]:
    """botocore's signer, made to sign with the key of `date` and `region` whatever its scope
    says: what a verifier reusing a cached key of another day or region would accept."""

    def signature(self: botocore.auth.SigV4Auth, string_to_sign: str, request: Any) -> str:
        key: bytes = self._sign(f"AWS4{self.credentials.secret_key}".encode(), date)
        for part in (region, self._service_name, "aws4_request"):
            key = self._sign(key, part)
        hexdigest: str = self._sign(key, string_to_sign, hex=True)
        return hexdigest

    with mock.patch.object(botocore.auth.SigV4Auth, "signature", signature):
        yield


def test_the_forging_signer_signs_genuinely_with_the_scopes_own_key() -> None:
    with signing_key_of("20240524", "us-east-1"):
        request = sign()
    assert make_verifier().verify(request).access_key_id == AKID


def test_a_cached_key_of_another_region_is_not_used_for_this_one() -> None:
    verifier = make_verifier()
    assert verifier.verify(sign(region="eu-west-1")).region == "eu-west-1"  # now cached
    with signing_key_of("20240524", "eu-west-1"):
        forged = sign(region="us-east-1")
    with pytest.raises(InvalidSignatureException) as caught:
        verifier.verify(forged)
    assert caught.value.message == MISMATCH
    assert verifier.verify(sign(region="us-east-1")).region == "us-east-1"


def test_a_cached_key_of_another_day_is_not_used_for_this_one() -> None:
    verifier = make_verifier(now=MIDNIGHT)
    yesterday = sign(at=MIDNIGHT - 10)
    assert "/20240523/" in header(yesterday, "authorization")
    assert verifier.verify(yesterday).access_key_id == AKID  # the 20240523 key is now cached
    with signing_key_of("20240523", "us-east-1"):
        forged = sign(at=MIDNIGHT + 10)
    assert "/20240524/" in header(forged, "authorization")
    with pytest.raises(InvalidSignatureException, match=re.escape(MISMATCH)):
        verifier.verify(forged)
    assert verifier.verify(sign(at=MIDNIGHT + 10)).access_key_id == AKID


def test_a_secret_changed_back_and_forth_is_followed_at_once() -> None:
    secrets = {AKID: SECRET}
    verifier = make_verifier(secrets)
    first, second = sign(), sign(secret=OTHER_SECRET)  # same key id, day and region
    for current, stale in [(first, second), (second, first), (first, second)]:
        secrets[AKID] = SECRET if current is first else OTHER_SECRET
        for _ in range(2):  # the second time from the cache
            assert verifier.verify(current).access_key_id == AKID
            with pytest.raises(InvalidSignatureException, match=re.escape(MISMATCH)):
                verifier.verify(stale)


def test_an_equal_secret_in_a_new_string_still_verifies() -> None:
    # The credential cache reloads a key as a new string: equal secrets must share the entry.
    secrets = {AKID: SECRET}
    verifier = make_verifier(secrets)
    request = sign()
    assert verifier.verify(request).access_key_id == AKID
    secrets[AKID] = "".join(list(SECRET))
    assert secrets[AKID] is not SECRET
    assert verifier.verify(request).access_key_id == AKID


def test_a_deleted_key_is_refused_although_its_signing_key_is_cached() -> None:
    secrets = {AKID: SECRET}
    verifier = make_verifier(secrets)
    request = sign()
    assert verifier.verify(request).access_key_id == AKID
    del secrets[AKID]
    with pytest.raises(UnrecognizedClientException) as caught:
        verifier.verify(request)
    assert caught.value.message == INVALID_TOKEN


def test_no_cache_at_all_still_verifies_and_refuses() -> None:
    verifier = make_verifier(cache_size=0)
    for _ in range(2):
        assert verifier.verify(sign()).access_key_id == AKID
        with pytest.raises(InvalidSignatureException, match=re.escape(MISMATCH)):
            verifier.verify(sign(secret=OTHER_SECRET))


def test_a_refused_date_is_refused_every_time() -> None:
    # Refusals raise, so the date cache never keeps them.
    verifier = make_verifier()
    request = with_header(sign(), "x-amz-date", "20240231T001000Z")
    for _ in range(2):
        with pytest.raises(IncompleteSignatureException, match=r"^Date must be in ISO-8601"):
            verifier.verify(request)


def test_one_date_parsed_once_serves_requests_of_either_outcome() -> None:
    verifier = make_verifier()
    good = sign()
    assert verifier.verify(good).signed_at == NOW
    with pytest.raises(InvalidSignatureException, match=re.escape(MISMATCH)):
        verifier.verify(dataclasses.replace(good, body=b"{}"))
    assert verifier.verify(good).signed_at == NOW


# --- headers, indexed once -------------------------------------------------------------------


def repeated(request: SignedRequest, name: str, value: str) -> SignedRequest:
    return dataclasses.replace(request, headers=[*request.headers, (name, value)])


def test_a_repeated_unsigned_header_does_not_matter() -> None:
    request = repeated(repeated(sign(), "user-agent", "one"), "user-agent", "two")
    assert make_verifier().verify(request).access_key_id == AKID


def test_a_repeated_date_header_is_refused_when_x_amz_date_is_missing() -> None:
    request = with_header(sign(), "x-amz-date", None)
    doubled = repeated(repeated(request, "date", "Fri, 24 May 2024 00:10:00 GMT"), "date", "x")
    with pytest.raises(IncompleteSignatureException) as caught:
        make_verifier().verify(doubled)
    assert caught.value.message == "The 'date' header appears more than once."


def test_a_repeated_payload_hash_header_is_refused() -> None:
    declared = hashlib.sha256(KMS_BODY).hexdigest()
    request = sign(headers=[*KMS_HEADERS.items(), ("X-Amz-Content-SHA256", declared)])
    assert make_verifier().verify(request).access_key_id == AKID
    with pytest.raises(IncompleteSignatureException) as caught:
        make_verifier().verify(repeated(request, "x-amz-content-sha256", declared))
    assert caught.value.message == "The 'x-amz-content-sha256' header appears more than once."


def test_a_security_token_among_repeated_headers_is_still_refused() -> None:
    request = repeated(repeated(sign(), "x-multi", "a"), "x-multi", "b")
    with pytest.raises(UnrecognizedClientException, match=re.escape(INVALID_TOKEN)):
        make_verifier().verify(repeated(request, "x-amz-security-token", "token"))


def test_a_repeated_authorization_is_refused_before_anything_else() -> None:
    request = repeated(sign(), "authorization", "garbage")
    request = dataclasses.replace(request, query_string="X-Amz-Algorithm=AWS4-HMAC-SHA256")
    with pytest.raises(IncompleteSignatureException) as caught:
        make_verifier().verify(request)
    assert caught.value.message == "The 'authorization' header appears more than once."


def test_a_signed_header_sent_twice_is_signed_as_its_values_joined() -> None:
    # As botocore canonicalises it: trimmed, inner runs collapsed, joined with ',' in order.
    request = sign(headers=[*KMS_HEADERS.items(), ("X-Multi", " a  b "), ("X-Multi", "c")])
    assert make_verifier().verify(request).access_key_id == AKID
    assert make_verifier().verify(with_header(request, "x-multi", "a b,c")).access_key_id == AKID
    with pytest.raises(InvalidSignatureException, match=re.escape(MISMATCH)):
        make_verifier().verify(with_header(request, "x-multi", "a b, c"))
