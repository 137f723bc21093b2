"""Access operations: key policies and grants (AWS's "Key policies" and "Grants" groups, DESIGN §5)."""

__all__: list[str] = []
