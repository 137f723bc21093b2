"""Key operations: CreateKey, DescribeKey, ListKeys, GetPublicKey, Enable/DisableKey, deletion, description."""

__all__: list[str] = []
