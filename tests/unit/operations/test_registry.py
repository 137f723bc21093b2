"""The registry is the one table of operations: every operation module must be reachable."""

from __future__ import annotations

import importlib
from collections import Counter
from pathlib import Path

import qkms.operations
from qkms.operations.runtime.registry import OPERATIONS

# Packages of `operations` that hold no KMS operation (the rule in qkms.operations' docstring).
_NOT_FAMILIES = {"runtime", "support", "shapes"}


def operation_modules() -> list[str]:
    """Every operation module as `family.module`: the public modules of each family package."""
    folder = Path(qkms.operations.__file__).parent
    return sorted(
        f"{path.parent.name}.{path.stem}"
        for path in folder.glob("*/*.py")
        if path.parent.name not in _NOT_FAMILIES and not path.stem.startswith("_")
    )


def camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def test_operations_live_only_in_family_packages() -> None:
    folder = Path(qkms.operations.__file__).parent
    loose = {path.stem for path in folder.glob("*.py") if path.stem != "__init__"}
    assert loose == set()  # operator work lives in qkms.admin, beside the CLI that uses it


def test_every_operation_module_is_registered_under_its_aws_name() -> None:
    missing = [name for name in operation_modules() if camel(name.split(".")[1]) not in OPERATIONS]
    assert missing == []


def test_each_operation_module_is_registered_once() -> None:
    modules = Counter(operation.handler.__module__ for operation in OPERATIONS.values())
    assert [module for module, count in modules.items() if count > 1] == []
    assert sorted(modules) == [f"qkms.operations.{name}" for name in operation_modules()]


def test_each_entry_points_at_the_function_of_its_module() -> None:
    for name, operation in OPERATIONS.items():
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
        module = importlib.import_module(operation.handler.__module__)
        assert module.__name__.startswith("qkms.operations."), name
        assert module.__name__.rsplit(".", 1)[1] == snake, name
        assert operation.handler is getattr(module, snake), name
