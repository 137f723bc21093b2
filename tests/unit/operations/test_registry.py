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


# Family packages: one module per operation, beside their `_`-prefixed shared helpers.
_FAMILIES = ("signing", "mac")


def operation_modules() -> list[str]:
    folder = Path(qkms.operations.__file__).parent
    paths = [*folder.glob("*.py"), *(p for f in _FAMILIES for p in (folder / f).glob("*.py"))]
    return sorted(
        path.stem
        for path in paths
        if not path.stem.startswith("_")
        and path.stem not in _SUPPORT
        and not path.stem.endswith("shapes")
    )


def camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def test_every_operation_module_is_registered_under_its_aws_name() -> None:
    missing = [name for name in operation_modules() if camel(name) not in OPERATIONS]
    assert missing == []


def test_each_entry_points_at_the_function_of_its_module() -> None:
    for name, operation in OPERATIONS.items():
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
        module = importlib.import_module(operation.handler.__module__)
        assert module.__name__.startswith("qkms.operations."), name
        assert module.__name__.rsplit(".", 1)[-1] == snake, name
        assert operation.handler is getattr(module, snake), name
