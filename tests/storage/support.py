"""Rows the storage tests share: the contract suite and the PostgreSQL-only tests build keys alike."""

from __future__ import annotations

import time
import uuid

from qkms.storage import KeyRow

__all__ = ["ACCOUNT", "key_row"]

ACCOUNT = "111122223333"


def key_row(account: str = ACCOUNT, key_id: str | None = None, state: str = "Enabled") -> KeyRow:
    return KeyRow(
        key_id=key_id or str(uuid.uuid4()),
        account_id=account,
        description="d",
        key_usage="KEY_AGREEMENT",
        key_spec="ECC_NIST_P256",
        origin="AWS_KMS",
        key_state=state,
        creation_date=time.time(),
        deletion_date=None,
        public_key=b"\x30public",
        wrapped_material=b"\x01wrapped",
    )
