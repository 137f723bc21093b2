"""Alias operations: CreateAlias, UpdateAlias, DeleteAlias, ListAliases."""

__all__: list[str] = []
