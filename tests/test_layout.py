"""The test tree's own rule: no test module imports another; shared helpers live in support modules.

A test module that imports helpers from another one couples two files that read as independent,
runs the other file's module-level code, and hides the helper where nobody looks for it. Helpers
shared across files belong in `support.py` (tests/unit/support.py, tests/e2e/support.py) or a
named support module beside them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).parent


def _test_modules() -> list[Path]:
    return sorted(TESTS.rglob("test_*.py"))


def _imported_modules(path: Path) -> list[str]:
    """Every module `path` imports, absolute or relative, at any depth (functions included)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            names.append(base)
            # `from tests.e2e import test_x` names the test module as an imported member.
            names.extend(f"{base}.{alias.name}" if base else alias.name for alias in node.names)
    return names


def _is_test_module(dotted: str) -> bool:
    return any(part.startswith("test_") for part in dotted.split("."))


def test_the_tree_has_test_modules_to_check() -> None:
    assert len(_test_modules()) > 50


@pytest.mark.parametrize("path", _test_modules(), ids=lambda p: str(p.relative_to(TESTS)))
def test_no_test_module_imports_another(path: Path) -> None:
    imported = [name for name in _imported_modules(path) if _is_test_module(name)]
    assert imported == [], f"{path.relative_to(TESTS)} imports test modules: {imported}"


def test_the_check_sees_an_import_of_a_test_module(tmp_path: Path) -> None:
    sample = tmp_path / "test_sample.py"
    sample.write_text(
        "from tests.e2e.test_access_control import make_person\n"
        "def f() -> None:\n"
        "    from . import test_other\n"
    )
    assert [n for n in _imported_modules(sample) if _is_test_module(n)] == [
        "tests.e2e.test_access_control",
        "tests.e2e.test_access_control.make_person",
        "test_other",
    ]
