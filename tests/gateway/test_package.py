"""The gateway package stands alone: gateways do not have the authorization
server's database, so nothing in it may import the server's models, services,
SQLAlchemy or Flask-SQLAlchemy, and only the decorator module imports Flask (the
WSGI middleware is plain WSGI: no Flask, no werkzeug)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import authserver.gateway

PACKAGE = Path(authserver.gateway.__file__).parent
ALLOWED = {"jwt", "cryptography", "flask", "__future__"}
STANDARD = {
    "base64",
    "binascii",
    "collections",
    "dataclasses",
    "functools",
    "hashlib",
    "http",
    "io",
    "ipaddress",
    "json",
    "logging",
    "math",
    "re",
    "threading",
    "time",
    "typing",
    "urllib",
    "wsgiref",
}


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("." if node.level else (node.module or "").split(".")[0])
    return names


def test_only_pyjwt_cryptography_and_the_standard_library() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) >= 8
    for module in modules:
        foreign = imports(module) - ALLOWED - STANDARD - {"."}
        assert foreign == set(), module.name


def test_flask_only_in_the_decorator_module() -> None:
    users = {module.name for module in PACKAGE.glob("*.py") if "flask" in imports(module)}

    assert users == {"decorators.py"}


def test_importing_the_gateway_loads_none_of_the_server() -> None:
    """Importing ``authserver.gateway`` (and its WSGI middleware) runs the
    ``authserver`` package too: it must not pull in the server's stack."""
    code = (
        "import sys, authserver.gateway, authserver.gateway.wsgi\n"
        "print(sorted(m for m in ('flask_sqlalchemy', 'flask_migrate', 'flask_wtf', 'sqlalchemy',"
        " 'argon2', 'authlib', 'flask', 'authserver.app', 'authserver.models') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
