"""Domain: keys, their lifecycle, ARNs, principals, authorization and errors; no I/O."""

__all__: list[str] = []
