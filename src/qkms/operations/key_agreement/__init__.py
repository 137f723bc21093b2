"""Key agreement and key encapsulation: DeriveSharedSecret (DESIGN §3), Encapsulate and
Decapsulate (DESIGN §4a)."""

__all__: list[str] = []
