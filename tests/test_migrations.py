"""The Alembic migrations: they build the schema of the models, on SQLite and
on PostgreSQL, and take it down again.

The commands run in a subprocess (as ``make run`` runs them), so that
Alembic's logging setup does not leak into the rest of the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import PG_URL
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

import authserver.models  # noqa: F401  (every table in db.metadata)
from authserver.config import normalize_database_url
from authserver.extensions import db


def authserver_cli(
    database_url: str, tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHSERVER_")}
    env.update(
        AUTHSERVER_DATABASE_URL=database_url, AUTHSERVER_INSTANCE_PATH=str(tmp_path / "instance")
    )
    return subprocess.run(
        [sys.executable, "-c", "from authserver.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or ``<test db>_migrations`` on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    if not PG_URL:
        pytest.skip("AUTHSERVER_TEST_DATABASE_URL is not set")
    url = make_url(normalize_database_url(PG_URL))
    name = f"{url.database}_migrations"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_matches_the_models_and_downgrade_removes_everything(fresh_database, tmp_path):
    upgraded = authserver_cli(fresh_database, tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr

    engine = create_engine(normalize_database_url(fresh_database))
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            assert tables == set(db.metadata.tables) | {"alembic_version"}
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []

        again = authserver_cli(fresh_database, tmp_path, "db", "upgrade")
        assert again.returncode == 0, again.stderr

        downgraded = authserver_cli(fresh_database, tmp_path, "db", "downgrade", "base")
        assert downgraded.returncode == 0, downgraded.stderr
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == {"alembic_version"}
            assert (
                connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 0
            )
    finally:
        engine.dispose()


def test_there_is_one_head(tmp_path):
    heads = authserver_cli(f"sqlite:///{tmp_path / 'heads.sqlite3'}", tmp_path, "db", "heads")
    assert heads.returncode == 0, heads.stderr
    assert len([line for line in heads.stdout.splitlines() if "(head)" in line]) == 1


def test_instances_starting_at_once_upgrade_one_after_the_other(fresh_database, tmp_path):
    """PostgreSQL: ``db upgrade`` takes an advisory lock, so that of several
    instances starting at once one migrates while the others wait, then find
    nothing to do. Here the test holds the lock: all four wait for it."""
    if fresh_database.startswith("sqlite"):
        pytest.skip("PostgreSQL only: SQLite has one writer at a time anyway")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHSERVER_")}
    env.update(
        AUTHSERVER_DATABASE_URL=fresh_database, AUTHSERVER_INSTANCE_PATH=str(tmp_path / "instance")
    )
    command = [sys.executable, "-c", "from authserver.cli import main; main()", "db", "upgrade"]
    engine = create_engine(normalize_database_url(fresh_database), isolation_level="AUTOCOMMIT")
    waiting = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    try:
        with engine.connect() as holder:
            holder.execute(text("SELECT pg_advisory_lock(7204315002)"))
            runs = [
                subprocess.Popen(
                    command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
                )
                for _ in range(4)
            ]
            deadline = time.monotonic() + 60
            while holder.execute(waiting).scalar_one() < 4:
                finished = [run for run in runs if run.poll() is not None]
                assert not finished, "an upgrade ran without waiting for the lock"
                assert time.monotonic() < deadline, "the upgrades never asked for the lock"
                time.sleep(0.1)
            holder.execute(text("SELECT pg_advisory_unlock(7204315002)"))
        results = [(run.wait(timeout=120), run.communicate()[1]) for run in runs]
        assert [code for code, _ in results] == [0, 0, 0, 0], results
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
            assert len(versions) == 1
    finally:
        engine.dispose()
