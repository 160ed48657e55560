"""The package as pip builds it: every data file ships, and the build
prints no warning about the project's own configuration (setup.cfg)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: one file of each kind of package data the server needs at run time
DATA_FILES = [
    "authserver/console/templates/console/base.html",
    "authserver/console/templates/console/client/activity.html",
    "authserver/console/static/console.css",
    "authserver/console/static/console.js",
    "authserver/console/static/favicon.svg",
    "authserver/demo/directory.json",
    "authserver/migrations/alembic.ini",
    "authserver/migrations/script.py.mako",
    "authserver/migrations/env.py",
    "authserver/migrations/versions/63136343dc30_initial_schema.py",
]


@pytest.mark.timeout(180)
def test_the_wheel_holds_the_package_data_and_the_build_warns_of_nothing(tmp_path: Path) -> None:
    shutil.rmtree(ROOT / "build", ignore_errors=True)  # no stale files from an older build
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert build.returncode == 0, build.stderr
    warnings = [
        line
        for line in build.stderr.splitlines()
        if "Warning" in line and "Location 'file:" not in line  # pip's index configuration
    ]
    assert warnings == []
    (wheel,) = tmp_path.glob("authserver-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert [name for name in DATA_FILES if name not in names] == []
    assert not [name for name in names if name.startswith(("tests/", "bench/", "examples/"))]
