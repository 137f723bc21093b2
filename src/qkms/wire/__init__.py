"""Wire: the ASGI app, SigV4 check, JSON codec and error rendering (DESIGN §1, §5)."""

__all__: list[str] = []
