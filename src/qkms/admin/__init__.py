"""Operator work outside the KMS API: accounts, users, access keys and identity policies
(`accounts`), root-key rotation (`root_key_rotation`) and the audit events of both (`audit`).

The `qkms admin` and `qkms root-key` commands (qkms.cli) and first start (qkms.app) use it; it
runs on the same Services as the server and may import operations, domain, crypto, storage and
audit, never the CLI or the HTTP edge.
"""

__all__: list[str] = []
