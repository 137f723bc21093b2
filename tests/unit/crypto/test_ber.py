"""The BER/DER encoder against X.690's worked encodings and the test enclave's decoder."""

from __future__ import annotations

import pytest

from qkms.crypto import ber
from tests.enclave import decode_oid, parse_ber


@pytest.mark.parametrize(
    ("value", "encoding"),
    [
        (0, "020100"),
        (2, "020102"),
        (127, "02017f"),
        (128, "02020080"),
        (256, "02020100"),
        (-1, "0201ff"),
        (-128, "020180"),
        (-129, "0202ff7f"),
    ],
)
def test_integer_is_minimal_twos_complement(value: int, encoding: str) -> None:
    assert ber.integer(value).hex() == encoding


@pytest.mark.parametrize(
    ("dotted", "encoding"),
    [
        # RFC 5652 id-envelopedData and NIST's aes256-CBC, as in AWS's CiphertextForRecipient.
        ("1.2.840.113549.1.7.3", "06092a864886f70d010703"),
        ("2.16.840.1.101.3.4.1.42", "060960864801650304012a"),
        ("2.999.3", "0603883703"),  # X.690 §8.19.5 example
    ],
)
def test_oid_encoding(dotted: str, encoding: str) -> None:
    assert ber.oid(dotted).hex() == encoding
    assert decode_oid(parse_ber(ber.oid(dotted))) == dotted


@pytest.mark.parametrize("bad", ["1", "3.1", "1.40", "a.b"])
def test_oid_refuses_non_identifiers(bad: str) -> None:
    with pytest.raises(ValueError):
        ber.oid(bad)


@pytest.mark.parametrize(
    ("size", "header"), [(0, "0400"), (127, "047f"), (128, "048180"), (256, "04820100")]
)
def test_lengths_are_definite_and_minimal(size: int, header: str) -> None:
    encoded = ber.octet_string(b"\x00" * size)
    assert encoded.hex().startswith(header)
    assert parse_ber(encoded).length == size


def test_indefinite_length_closes_with_end_of_contents() -> None:
    encoded = ber.indefinite(ber.Tag.SEQUENCE, ber.null(), ber.integer(1))
    assert encoded.hex() == "30800500020101" + "0000"
    node = parse_ber(encoded)
    assert node.indefinite
    assert [child.tag for child in node.children] == [0x05, 0x02]


def test_indefinite_length_only_on_constructed_encodings() -> None:
    with pytest.raises(ValueError, match="constructed"):
        ber.indefinite(ber.Tag.OCTET_STRING, b"")


def test_context_tags() -> None:
    assert ber.context(0) == 0xA0
    assert ber.context(1) == 0xA1
    assert ber.context(0, constructed=False) == 0x80
    with pytest.raises(ValueError):
        ber.context(31)


def test_set_of_sorts_its_members() -> None:
    assert ber.set_of(ber.integer(2), ber.integer(1)) == ber.tlv(
        ber.Tag.SET, ber.integer(1) + ber.integer(2)
    )
