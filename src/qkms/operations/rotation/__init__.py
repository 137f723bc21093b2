"""Key rotation (DESIGN §4a): EnableKeyRotation ... ListKeyRotations, one module each."""

__all__: list[str] = []
