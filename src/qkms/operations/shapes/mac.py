"""Shapes of GenerateMac and VerifyMac, mirroring AWS's (botocore's kms 2014-11-01 model)."""

from __future__ import annotations

from typing import Final

from qkms.operations.shapes.base import GRANT_TOKENS, KEY_ID, Member, Request, Response

__all__ = [
    "MAC_ALGORITHM_SPECS",
    "GenerateMacRequest",
    "GenerateMacResponse",
    "VerifyMacRequest",
    "VerifyMacResponse",
]

MAC_ALGORITHM_SPECS: Final = ("HMAC_SHA_224", "HMAC_SHA_256", "HMAC_SHA_384", "HMAC_SHA_512")
_MESSAGE: Final = Member("Message", required=True, min_length=1, max_length=4096)
_ALGORITHM: Final = Member("MacAlgorithm", required=True, enum=MAC_ALGORITHM_SPECS)


class GenerateMacRequest(Request, frozen=True, kw_only=True):
    message: bytes | None = None
    key_id: str | None = None
    mac_algorithm: str | None = None
    grant_tokens: list[str] | None = None
    dry_run: bool | None = None

    constraints = (_MESSAGE, KEY_ID, _ALGORITHM, GRANT_TOKENS)

    def __repr__(self) -> str:  # the message stays out of log lines
        return f"GenerateMacRequest(key_id={self.key_id!r}, mac_algorithm={self.mac_algorithm!r})"


class VerifyMacRequest(Request, frozen=True, kw_only=True):
    message: bytes | None = None
    key_id: str | None = None
    mac_algorithm: str | None = None
    mac: bytes | None = None
    grant_tokens: list[str] | None = None
    dry_run: bool | None = None

    constraints = (
        _MESSAGE,
        KEY_ID,
        _ALGORITHM,
        Member("Mac", required=True, min_length=1, max_length=6144),
        GRANT_TOKENS,
    )

    def __repr__(self) -> str:
        return f"VerifyMacRequest(key_id={self.key_id!r}, mac_algorithm={self.mac_algorithm!r})"


class GenerateMacResponse(Response, frozen=True, kw_only=True):
    mac: bytes
    mac_algorithm: str
    key_id: str

    def __repr__(self) -> str:
        return f"GenerateMacResponse(key_id={self.key_id!r}, mac=<redacted>)"


class VerifyMacResponse(Response, frozen=True, kw_only=True):
    key_id: str
    mac_valid: bool
    mac_algorithm: str
