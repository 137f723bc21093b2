"""STYLE §1 and §3 as tests: imports point down only, and every package lists its public names."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import qkms

SRC = Path(qkms.__file__).parent
# Which qkms packages each layer may import (its own included). app/cli/config/logs are the
# composition root (the cli package included) and may import anything.
ALLOWED = {
    # The console's Python side only serves its static files; it imports nothing of QKMS.
    "console": {"console"},
    "wire": {
        "wire",
        "console",
        "audit",
        "throttling",
        "metrics",
        "operations",
        "domain",
        "crypto",
        "storage",
    },
    # Metrics count what the wire layer and the composition root hand them; they time the
    # store and the audit writer by wrapping them, and know nothing of keys.
    "metrics": {"metrics", "audit", "storage"},
    # Request quotas are arithmetic on a shared file: they know no other part of QKMS.
    "throttling": {"throttling"},
    # The audit trail records what the wire layer hands it; it knows only the store's row type.
    "audit": {"audit", "storage"},
    # Operator work beside the API (users, root-key rotation, their audit events), for the CLI.
    "admin": {"admin", "operations", "domain", "crypto", "storage", "audit"},
    "operations": {"operations", "domain", "crypto", "storage"},
    # The domain is pure: no I/O, no locks, no store rows (operations map keys to rows).
    "domain": {"domain", "crypto"},
    "crypto": {"crypto"},
    "storage": {"storage"},
}


def qkms_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "qkms" and len(parts) > 1:
                found.add(parts[1])
    return found


def layer_violations(root: Path, layer: str) -> dict[str, list[str]]:
    """Each module of `layer` under `root` that imports a qkms package the layer may not."""
    return {
        str(path.relative_to(root)): sorted(qkms_imports(path) - ALLOWED[layer])
        for path in (root / layer).rglob("*.py")
        if qkms_imports(path) - ALLOWED[layer]
    }


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_imports_point_down_only(layer: str) -> None:
    assert layer_violations(SRC, layer) == {}


@pytest.mark.parametrize(
    "statement",
    [
        "from qkms.storage.base import KeyRow",
        "import qkms.storage.sqlite",
        "from qkms.operations.runtime.cache import FreshCache",
        "from qkms.wire import asgi",
    ],
)
def test_the_checker_refuses_a_domain_module_that_imports_outside_domain_and_crypto(
    tmp_path: Path, statement: str
) -> None:
    (tmp_path / "domain" / "policy").mkdir(parents=True)
    (tmp_path / "domain" / "keys.py").write_text("from qkms.crypto import Curve\n")
    (tmp_path / "domain" / "policy" / "model.py").write_text(f"{statement}\n")
    assert layer_violations(tmp_path, "domain") == {
        "domain/policy/model.py": [statement.split()[1].split(".")[1]]
    }


def operations_imports(path: Path) -> set[str]:
    """The `qkms.operations` subpackages (or top-level modules) a module imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[:2] == ["qkms", "operations"] and len(parts) > 2:
                found.add(parts[2])
    return found


# The rule in qkms.operations' docstring: a family uses only itself and the shared packages;
# the shared packages use no family (only the registry names every operation).
_OPERATIONS_SHARED = {"runtime", "support", "shapes"}


@pytest.mark.parametrize(
    "package",
    sorted(path.name for path in (SRC / "operations").iterdir() if (path / "__init__.py").exists()),
)
def test_operation_families_import_no_other_family(package: str) -> None:
    allowed = _OPERATIONS_SHARED | {package}
    if package == "shapes":
        allowed = {"shapes"}
    violations = {
        str(path.relative_to(SRC)): sorted(operations_imports(path) - allowed)
        for path in (SRC / "operations" / package).rglob("*.py")
        if path != SRC / "operations" / "runtime" / "registry.py"
        and operations_imports(path) - allowed
    }
    assert violations == {}


def test_only_crypto_imports_cryptography() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.is_relative_to(SRC / "crypto"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cryptography"):
                offenders.append(str(path))
            if isinstance(node, ast.Import) and any(
                a.name.startswith("cryptography") for a in node.names
            ):
                offenders.append(str(path))
    assert offenders == []


def all_modules() -> list[str]:
    return [
        m.name
        for m in pkgutil.walk_packages([str(SRC)], prefix="qkms.")
        if m.name != "qkms.__main__"
    ]


@pytest.mark.parametrize("name", all_modules())
def test_every_module_declares_its_public_names_and_job(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__ and module.__doc__.strip(), f"{name} has no docstring saying its job"
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list), f"{name} has no __all__"
    for public in exported:
        assert hasattr(module, public), f"{name}.__all__ names {public}, which does not exist"
