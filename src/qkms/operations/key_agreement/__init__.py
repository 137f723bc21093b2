"""Key agreement operations: DeriveSharedSecret (DESIGN §3); later the KEM encapsulate/decapsulate pair."""

__all__: list[str] = []
