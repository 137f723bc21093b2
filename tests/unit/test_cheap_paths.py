"""The per-request shortcuts give exactly what the straightforward code they replace gave."""

from __future__ import annotations

import datetime
import logging
import random
import uuid

import pytest

from qkms.audit.events import format_event_time
from qkms.audit.ids import random_uuid
from qkms.domain.errors import IncompleteSignatureException
from qkms.domain.policy.wildcards import _glob, wildcard_match
from qkms.logs import LineFormatter
from qkms.wire.sigv4 import _parse_amz_date

_EPOCHS = [0.0, 0.9999996, 1.0005, 1764595799.9999996, 1764595800.5] + [
    random.Random(7).uniform(0, 4e9) for _ in range(200)
]


def test_random_uuid_is_a_version_4_uuid_in_canonical_form() -> None:
    ids = [random_uuid() for _ in range(2000)]
    for text in ids:
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == text
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("epoch", _EPOCHS)
def test_event_time_matches_strftime_across_seconds(epoch: float) -> None:
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    expected = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    assert format_event_time(epoch) == expected
    assert format_event_time(epoch + 1) != expected  # the cached second is not reused


@pytest.mark.parametrize("epoch", _EPOCHS)
def test_log_line_time_matches_the_standard_formatter(epoch: float) -> None:
    record = logging.LogRecord("qkms.request", logging.INFO, __file__, 1, "m", None, None)
    record.created = epoch
    record.msecs = int((epoch - int(epoch)) * 1000) + 0.0
    text = "%(asctime)s %(levelname)s %(name)s %(message)s"
    assert LineFormatter(text).format(record) == logging.Formatter(text).format(record)


@pytest.mark.parametrize(
    ("pattern", "value"),
    [
        ("*", ""),
        ("*", "kms:Decrypt"),
        ("kms:Decrypt", "kms:Decrypt"),
        ("kms:Decrypt", "kms:DecryptX"),
        ("", ""),
        ("", "a"),
        ("kms:*", "kms:Decrypt"),
        ("kms:?ecrypt", "kms:Decrypt"),
        ("a*b?c", "axxbyc"),
        ("x" * 600 + "*", "x" * 700),
    ],
)
@pytest.mark.parametrize("ignore_case", [False, True])
def test_wildcard_shortcuts_agree_with_the_matcher(
    pattern: str, value: str, ignore_case: bool
) -> None:
    expected = _glob(pattern.lower(), value.lower()) if ignore_case else _glob(pattern, value)
    assert wildcard_match(pattern, value, ignore_case=ignore_case) is expected
    assert wildcard_match(pattern, value, ignore_case=ignore_case) is expected  # cached


@pytest.mark.parametrize(
    "text", ["20261201T133000Z", "20240229T235959Z", "19700101T000000Z", "99991231T235959Z"]
)
def test_amz_date_parses_as_strptime_did(text: str) -> None:
    expected = (
        datetime.datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC).timestamp()
    )
    assert _parse_amz_date(text) == expected


@pytest.mark.parametrize(
    "text", ["20261301T000000Z", "20230229T000000Z", "20261201T246000Z", "20261201T000060Z"]
)
def test_impossible_amz_dates_are_refused_as_before(text: str) -> None:
    with pytest.raises(ValueError):
        datetime.datetime.strptime(text, "%Y%m%dT%H%M%SZ")
    with pytest.raises(IncompleteSignatureException):
        _parse_amz_date(text)
