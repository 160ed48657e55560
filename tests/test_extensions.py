"""Database settings made per connection (authserver.extensions); SQLite
only: PostgreSQL enforces foreign keys and logs ahead by itself."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from authserver.extensions import db


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'settings.sqlite3'}"


def test_sqlite_enforces_foreign_keys_and_logs_ahead_durably(app_ctx):
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar_one() == 2  # FULL
