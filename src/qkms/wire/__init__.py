"""Wire: the HTTP edge (DESIGN §1, §5), one job per module, and nothing of keys.

`asgi` routes each request: POST / to `pipeline` (body cap, `auth` for SigV4 and the caller,
target routing, `codec`, dispatch, `errors` for rendering, the audit event), /healthz and
/readyz to `health`, lifespan to `lifespan`. `messages` holds the typed request and response,
`workers` the thread hop, `http_protocol` the connection limits under the ASGI server.
"""

__all__: list[str] = []
