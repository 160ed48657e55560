"""The code type-checks (mypy strict over ``authserver`` and ``tests/support``)
and lints cleanly (ruff: lint, import order and formatting), with the
project's own settings (setup.cfg ``[mypy]``, pyproject.toml ``[tool.ruff]``),
run from this venv: the same checks as ``make lint`` and the pre-commit hooks.
"""

from __future__ import annotations

import configparser
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: what ``make lint`` checks
LINTED = ("authserver", "tests", "bench", "examples", "wsgi.py")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_mypy_strict_passes() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Success: no issues found")


def test_ruff_lint_passes() -> None:
    result = _run("ruff", "check", "--quiet", *LINTED)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_ruff_format_leaves_everything_as_it_is() -> None:
    result = _run("ruff", "format", "--check", "--quiet", *LINTED)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_checks_use_the_project_settings() -> None:
    """The checks run the project's settings, not the tools' defaults."""
    setup = configparser.ConfigParser(interpolation=None)
    setup.read(ROOT / "setup.cfg")
    assert setup["mypy"]["strict"] == "True"
    assert "tests/support" in setup["mypy"]["files"]
    ruff = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]
    assert ruff["line-length"] == 100
    assert "I" in ruff["lint"]["select"]  # import order
