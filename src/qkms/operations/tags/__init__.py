"""Tag operations: TagResource, UntagResource, ListResourceTags."""

__all__: list[str] = []
