"""Shapes of aliases and tags (DESIGN §4)."""

from __future__ import annotations

from qkms.operations.shapes.base import (
    KEY_ID,
    MARKER,
    Member,
    Request,
    Response,
    Tag,
)

__all__ = [
    "AliasListEntry",
    "CreateAliasRequest",
    "DeleteAliasRequest",
    "ListAliasesRequest",
    "ListAliasesResponse",
    "ListResourceTagsRequest",
    "ListResourceTagsResponse",
    "TagEntry",
    "TagResourceRequest",
    "UntagResourceRequest",
    "UpdateAliasRequest",
]


_ALIAS_NAME = Member("AliasName", required=True, min_length=1, max_length=256)
_TARGETKEY_ID = Member("TargetKeyId", required=True, min_length=1, max_length=2048)


class CreateAliasRequest(Request, frozen=True, kw_only=True):
    alias_name: str | None = None
    target_key_id: str | None = None

    constraints = (_ALIAS_NAME, _TARGETKEY_ID)


class UpdateAliasRequest(Request, frozen=True, kw_only=True):
    alias_name: str | None = None
    target_key_id: str | None = None

    constraints = (_ALIAS_NAME, _TARGETKEY_ID)


class DeleteAliasRequest(Request, frozen=True, kw_only=True):
    alias_name: str | None = None

    constraints = (_ALIAS_NAME,)


class ListAliasesRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    limit: int | None = None
    marker: str | None = None

    constraints = (
        Member("KeyId", min_length=1, max_length=2048),
        Member("Limit", min_value=1, max_value=100),
        MARKER,
    )


class TagResourceRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    tags: list[Tag] | None = None

    constraints = (KEY_ID, Member("Tags", required=True))


class UntagResourceRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    tag_keys: list[str] | None = None

    constraints = (KEY_ID, Member("TagKeys", required=True, max_length=50))


class ListResourceTagsRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    limit: int | None = None
    marker: str | None = None

    constraints = (KEY_ID, Member("Limit", min_value=1, max_value=50), MARKER)


class AliasListEntry(Response, frozen=True, kw_only=True):
    alias_name: str
    alias_arn: str
    target_key_id: str
    creation_date: float
    last_updated_date: float


class ListAliasesResponse(Response, frozen=True, kw_only=True):
    aliases: list[AliasListEntry]
    next_marker: str | None = None
    truncated: bool


class TagEntry(Response, frozen=True, kw_only=True):
    tag_key: str
    tag_value: str


class ListResourceTagsResponse(Response, frozen=True, kw_only=True):
    tags: list[TagEntry]
    next_marker: str | None = None
    truncated: bool
