"""The documentation matches the code: operations and options are documented, links resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qkms.operations.runtime.registry import OPERATIONS

ROOT = Path(__file__).resolve().parents[2]
API_MD = ROOT / "docs" / "api.md"
README = ROOT / "README.md"
DOC_PAGES = sorted((ROOT / "docs").glob("*.md"))
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_every_registered_operation_is_in_the_api_table() -> None:
    rows = [line for line in API_MD.read_text().splitlines() if line.startswith("| `")]
    named = {name for row in rows for name in re.findall(r"`([A-Z][A-Za-z]+)`", row.split("|")[1])}
    assert sorted(set(OPERATIONS) - named) == []


def test_the_readme_stays_short_enough_to_read_to_the_end() -> None:
    assert README.stat().st_size <= 10 * 1024


@pytest.mark.parametrize("page", [README, *DOC_PAGES], ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    targets = [t for t in _LINK.findall(page.read_text()) if "://" not in t]
    missing = [t for t in targets if not (page.parent / t).exists()]
    assert missing == []
