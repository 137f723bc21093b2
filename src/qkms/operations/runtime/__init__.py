"""The machinery operations run in: registry, dispatch, context, caches, credentials, background jobs."""

__all__: list[str] = []
