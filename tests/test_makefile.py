"""``make run``: the port is checked before any data changes, and ``HOST``
and ``PORT`` make the development issuer, so every printed URL and every
token agree with where the server listens.

The Makefile runs for real, with stand-ins for the programs of ``.venv``
that write down how they were called (and the real port check).
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: a stand-in that records its name, arguments and AUTHSERVER_ISSUER
RECORDER = """#!/bin/sh
echo "$(basename "$0") $* | issuer=$AUTHSERVER_ISSUER" >> "{log}"
"""
#: python: the real interpreter for the port check, a recorder otherwise
PYTHON = """#!/bin/sh
if [ "$1 $2" = "-m authserver.free_port" ]; then exec "{python}" "$@"; fi
echo "python $* | issuer=$AUTHSERVER_ISSUER" >> "{log}"
"""

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A stand-in ``.venv`` that is up to date (nothing gets installed)."""
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    log = tmp_path / "calls.log"
    for name in ("authserver", "pip"):
        (bin_dir / name).write_text(RECORDER.format(log=log))
    (bin_dir / "python").write_text(PYTHON.format(python=sys.executable, log=log))
    for program in bin_dir.iterdir():
        program.chmod(program.stat().st_mode | stat.S_IXUSR)
    for marker in (".installed", ".installed-test"):
        (tmp_path / "venv" / marker).touch()
    return tmp_path / "venv"


def make_run(venv: Path, *variables: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AUTHSERVER_")}
    environment.update(env)
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "run", f"VENV={venv}", *variables],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )


def calls(venv: Path) -> list[str]:
    log = venv.parent / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def test_port_sets_the_issuer_of_the_demo_and_of_the_server(venv: Path, free_port: int) -> None:
    result = make_run(venv, f"PORT={free_port}")
    assert result.returncode == 0, result.stderr
    issuer = f"http://127.0.0.1:{free_port}"
    assert calls(venv) == [
        f"authserver db upgrade | issuer={issuer}",
        f"authserver demo setup | issuer={issuer}",
        f"authserver serve --host 127.0.0.1 --port {free_port} --workers 2 | issuer={issuer}",
    ]


def test_host_and_workers_are_used_too(venv: Path, free_port: int) -> None:
    result = make_run(venv, "HOST=127.0.0.2", f"PORT={free_port}", "WORKERS=3")
    assert result.returncode == 0, result.stderr
    assert calls(venv)[-1] == (
        f"authserver serve --host 127.0.0.2 --port {free_port} --workers 3 "
        f"| issuer=http://127.0.0.2:{free_port}"
    )


def test_an_issuer_from_the_environment_wins(venv: Path, free_port: int) -> None:
    result = make_run(venv, f"PORT={free_port}", AUTHSERVER_ISSUER="https://auth.example.com")
    assert result.returncode == 0, result.stderr
    assert all(call.endswith("| issuer=https://auth.example.com") for call in calls(venv))


def test_a_busy_port_stops_before_any_data_changes_with_one_line_of_advice(
    venv: Path, busy_port: int
) -> None:
    result = make_run(venv, f"PORT={busy_port}")
    assert result.returncode != 0
    assert calls(venv) == []  # no migration, no demo secret rotated, no server
    advice = [line for line in result.stderr.splitlines() if not line.startswith("make")]
    assert len(advice) == 1
    assert f"Port {busy_port} on 127.0.0.1 is in use" in advice[0]
    assert "make run PORT=" in advice[0]
    assert result.stdout == ""


def test_the_issuer_is_set_only_for_the_targets_that_serve(tmp_path: Path) -> None:
    """``make test`` (and every other target) leaves AUTHSERVER_ISSUER alone."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AUTHSERVER_")}
    result = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "-f", "Makefile", "-f", "-", "probe", "PORT=8010"],
        input='probe: ; @echo "[$$AUTHSERVER_ISSUER]"\n',
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    assert result.stdout == "[]\n", result.stderr
