"""Operations: one module per KMS operation, plus the registry that names them."""

__all__: list[str] = []
