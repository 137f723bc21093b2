"""docs/api.md names every operation QKMS registers, so the reference never lags the code."""

from __future__ import annotations

import re
from pathlib import Path

from qkms.operations.runtime.registry import OPERATIONS

API_MD = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_every_registered_operation_is_in_the_api_table() -> None:
    rows = [line for line in API_MD.read_text().splitlines() if line.startswith("| `")]
    named = {name for row in rows for name in re.findall(r"`([A-Z][A-Za-z]+)`", row.split("|")[1])}
    assert sorted(set(OPERATIONS) - named) == []
