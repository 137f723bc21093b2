"""AWS's tag rules for KMS keys (DESIGN §4), shared by CreateKey and TagResource."""

from __future__ import annotations

from qkms.domain.errors import TagException
from qkms.operations.shapes import Tag

__all__ = ["MAX_TAGS", "merged_tags"]

MAX_TAGS = 50
_MAX_KEY = 128
_MAX_VALUE = 256


def _check(tag: Tag) -> None:
    if not 1 <= len(tag.tag_key) <= _MAX_KEY:
        raise TagException(f"TagKey must be 1 to {_MAX_KEY} characters long.")
    if len(tag.tag_value) > _MAX_VALUE:
        raise TagException(f"TagValue must be at most {_MAX_VALUE} characters long.")
    if tag.tag_key.lower().startswith("aws:"):
        raise TagException(f"Tag key '{tag.tag_key}' is reserved: the aws: prefix belongs to AWS.")


def merged_tags(current: dict[str, str], new: list[Tag]) -> dict[str, str]:
    """`current` with `new` added or replaced, after AWS's checks (at most 50 tags per key)."""
    seen: set[str] = set()
    merged = dict(current)
    for tag in new:
        _check(tag)
        if tag.tag_key in seen:
            raise TagException(f"Tag key '{tag.tag_key}' appears more than once in the request.")
        seen.add(tag.tag_key)
        merged[tag.tag_key] = tag.tag_value
    if len(merged) > MAX_TAGS:
        raise TagException(f"A key can have at most {MAX_TAGS} tags.")
    return merged
