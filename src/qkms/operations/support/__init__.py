"""Helpers the operation families share: key loading, authorization, grant tokens, policies, tags."""

__all__: list[str] = []
