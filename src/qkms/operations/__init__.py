"""Operations: one module per KMS operation, grouped by family, plus the machinery that runs them.

Where to look: the module of an AWS operation is the snake_case of its name inside its family
package, as AWS's API reference groups them: `keys/` (CreateKey ... UpdateKeyDescription),
`key_agreement/` (DeriveSharedSecret, Encapsulate, Decapsulate), `access/` (key policies and
grants), `aliases/`, `tags/`, `key_import/`; a new family (symmetric data plane, signing, MAC, rotation) gets its own package.
Each module holds one handler `(context, request) -> response` named like the module, and reads
parse -> load -> check -> act -> respond (STYLE §2). A helper used by one family lives in that
family as an `_`-module; a helper shared across families lives in `support/`; what runs the
operations (the registry, dispatch, context, caches, credentials, background jobs) lives in
`runtime/`; request and response types live in `shapes/`, grouped by family. To add an
operation: its shapes in `shapes/`, its module in the family package, and one line in
`runtime/registry.py` (a test checks that every operation module is registered exactly once).
Operator work behind the CLI (users, access keys, root-key rotation) lives in `qkms.admin`.
"""

__all__: list[str] = []
