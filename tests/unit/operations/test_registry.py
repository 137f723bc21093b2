"""The registry is the one table of operations: every operation module must be reachable."""

from __future__ import annotations

import importlib
from pathlib import Path

import qkms.operations
from qkms.operations.registry import OPERATIONS

# Modules of the operations package that are not themselves a KMS operation.
_SUPPORT = {
    "admin",
    "background",
    "context",
    "credentials",
    "dispatch",
    "registry",
    "root_key_rotation",
}


def _module_paths() -> list[Path]:
    """Operation modules at the top of the package and in its family packages (e.g.
    `operations/encryption/`), one module per operation either way."""
    folder = Path(qkms.operations.__file__).parent
    families = [p for p in folder.iterdir() if (p / "__init__.py").exists() and p.name != "shapes"]
    return [*folder.glob("*.py"), *(path for family in families for path in family.glob("*.py"))]


def operation_modules() -> list[str]:
    return sorted(
        path.stem
        for path in _module_paths()
        if not path.stem.startswith("_")
        and path.stem not in _SUPPORT
        and not path.stem.endswith("shapes")
    )


def _module_of(snake: str) -> str:
    folder = Path(qkms.operations.__file__).parent
    (path,) = [p for p in _module_paths() if p.stem == snake]
    parts = path.relative_to(folder).with_suffix("").parts
    return ".".join(("qkms", "operations", *parts))


def camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def test_every_operation_module_is_registered_under_its_aws_name() -> None:
    missing = [name for name in operation_modules() if camel(name) not in OPERATIONS]
    assert missing == []


def test_each_entry_points_at_the_function_of_its_module() -> None:
    for name, operation in OPERATIONS.items():
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
        module = importlib.import_module(_module_of(snake))
        assert operation.handler is getattr(module, snake), name
