"""Imports point down only: edge -> service -> models.

* ``models`` and ``services`` never import an HTTP edge (``oauth2``,
  ``admin_api``, ``console``) nor Flask's request globals (``request``,
  ``current_app``, ``g``, ``session``): services take plain arguments;
* the console and the admin API are two edges of one app: neither imports the
  other;
* ``gateway`` (shipped to API gateways) imports nothing of the server.

Read from the source with :mod:`ast`, so a forbidden import fails here even
when it sits inside a function.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "authserver"
EDGES = ("authserver.oauth2", "authserver.admin_api", "authserver.console")
REQUEST_GLOBALS = {"request", "current_app", "g", "session"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, name: str | None = None) -> Iterator[tuple[str, set[str], int]]:
    """``(absolute module, names imported from it, line)`` for every import of
    *path*, the module *name* (by default the one at *path* in the package)."""
    package = name or module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, set(), node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = {alias.name for alias in node.names}
            yield base, names, node.lineno
            for name in names:  # ``from .. import oauth2`` imports a module too
                yield f"{base}.{name}", set(), node.lineno


def modules(*subpackages: str) -> list[Path]:
    return sorted(path for sub in subpackages for path in (PACKAGE / sub).rglob("*.py"))


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
        for path in paths
        for module, _, line in imports(path)
        if any(within(module, edge) for edge in forbidden)
    ]


@pytest.mark.parametrize("layer", ["models", "services"])
def test_models_and_services_import_no_edge(layer: str) -> None:
    assert violations(modules(layer), EDGES) == []


@pytest.mark.parametrize("layer", ["models", "services"])
def test_models_and_services_read_no_request_globals(layer: str) -> None:
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {sorted(names & REQUEST_GLOBALS)}"
        for path in modules(layer)
        for module, names, line in imports(path)
        if module == "flask" and names & REQUEST_GLOBALS
    ]
    assert found == []


def test_the_console_and_the_admin_api_do_not_import_each_other() -> None:
    assert violations(modules("console"), ("authserver.admin_api",)) == []
    assert violations(modules("admin_api"), ("authserver.console",)) == []


def test_the_gateway_imports_nothing_of_the_server() -> None:
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
        for path in modules("gateway")
        for module, _, line in imports(path)
        if within(module, "authserver") and not within(module, "authserver.gateway")
    ]
    assert found == []


def test_the_checks_see_a_forbidden_import(tmp_path: Path) -> None:
    """Relative imports are read right: a service importing an edge is caught."""
    path = tmp_path / "example.py"
    path.write_text("from ..oauth2.client_record import ClientRecord\nfrom flask import request\n")
    found = {
        (module, frozenset(names))
        for module, names, _ in imports(path, "authserver.services.example")
    }
    assert ("authserver.oauth2.client_record", frozenset({"ClientRecord"})) in found
    assert ("flask", frozenset({"request"})) in found
