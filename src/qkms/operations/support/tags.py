"""AWS's tag rules for KMS keys (DESIGN §4), shared by CreateKey and TagResource."""

from __future__ import annotations

from qkms.domain.errors import TagException, ValidationException
from qkms.operations.shapes import Tag

__all__ = ["MAX_TAGS", "merged_tags"]

MAX_TAGS = 50
_MAX_KEY = 128
_MAX_VALUE = 256


def _too_long(value: str, position: int, member: str, constraint: str) -> ValidationException:
    # AWS answers the model's length bounds in its "1 validation error detected" form, naming the
    # 1-based position in the request (LocalStack's AWS-validated KMS tag tests record it).
    return ValidationException(
        f"1 validation error detected: Value '{value}' at 'tags.{position}.member.{member}' "
        f"failed to satisfy constraint: Member must have length {constraint}"
    )


def _check(tag: Tag, position: int) -> None:
    if not tag.tag_key:
        raise _too_long(tag.tag_key, position, "tagKey", "greater than or equal to 1")
    if len(tag.tag_key) > _MAX_KEY:
        raise _too_long(tag.tag_key, position, "tagKey", f"less than or equal to {_MAX_KEY}")
    if len(tag.tag_value) > _MAX_VALUE:
        raise _too_long(tag.tag_value, position, "tagValue", f"less than or equal to {_MAX_VALUE}")
    if tag.tag_key.lower().startswith("aws:"):
        # AWS's wording for the reserved prefix, in any case (LocalStack's AWS-validated tests).
        raise TagException("Tags beginning with aws: are reserved")


def merged_tags(current: dict[str, str], new: list[Tag]) -> dict[str, str]:
    """`current` with `new` added or replaced, after AWS's checks (at most 50 tags per key)."""
    seen: set[str] = set()
    merged = dict(current)
    for position, tag in enumerate(new, start=1):
        _check(tag, position)
        if tag.tag_key in seen:
            # AWS's exact wording for a repeated key and for the 51st tag is not recorded in any
            # public source we found; these messages are ours, the TagException code is AWS's.
            raise TagException(f"Tag key '{tag.tag_key}' appears more than once in the request.")
        seen.add(tag.tag_key)
        merged[tag.tag_key] = tag.tag_value
    if len(merged) > MAX_TAGS:
        raise TagException(f"A key can have at most {MAX_TAGS} tags.")
    return merged
