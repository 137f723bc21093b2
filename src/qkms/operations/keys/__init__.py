"""Key operations: CreateKey, DescribeKey, ListKeys, GetPublicKey, Enable/DisableKey, deletion,
description, and multi-region keys (ReplicateKey, UpdatePrimaryRegion)."""

__all__: list[str] = []
