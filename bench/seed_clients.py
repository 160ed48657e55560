"""Seed a migrated authserver database with many clients, quickly.

``bench/token_endpoint.py --clients N`` uses it: N partner clients, each with
1-10 organizations of its own (an organization belongs to at most one client),
inserted in bulk with SQLAlchemy Core (``executemany``) in one transaction.
Every client gets the same argon2id hash (hashed once, with the production
parameters), so seeding 100,000 clients costs one hash, not 100,000.

Also prints how the database runs the token path's client read
(``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN`` on PostgreSQL): it must use the
indexes, never scan a table.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, create_engine, insert, text

from authserver import credentials
from authserver.config import normalize_database_url
from authserver.models import Assignment, Client, ClientSecret, Organization

#: rows per executemany batch
BATCH = 5_000


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def seed(database_url: str, count: int, *, seed_value: int = 9) -> tuple[str, str, float]:
    """Insert *count* clients with 1-10 organizations each.

    :returns: the client id and secret of one client in the middle of the
        table (the load's client) and the seconds the seeding took.
    """
    started = time.perf_counter()
    secret = credentials.generate_secret()
    secret_hash = credentials.hash_secret(secret)  # production parameters, once
    rng = random.Random(seed_value)
    sizes = [rng.randint(1, 10) for _ in range(count)]
    engine = create_engine(normalize_database_url(database_url))
    with engine.begin() as connection:
        first = connection.execute(text("SELECT COALESCE(MAX(id), 0) FROM clients")).scalar_one()
        pks = range(first + 1, first + count + 1)
        ids = [f"cl_bench{pk:08d}" for pk in pks]
        for batch in _batches(
            {"id": pk, "client_id": client_id, "kind": "partner", "name": f"bench client {pk}"}
            for pk, client_id in zip(pks, ids, strict=True)
        ):
            connection.execute(insert(Client), batch)
        for batch in _batches({"client_pk": pk, "secret_hash": secret_hash} for pk in pks):
            connection.execute(insert(ClientSecret), batch)
        teccom_ids = [
            (pk, f"B{pk:08d}-{n}") for pk, size in zip(pks, sizes, strict=True) for n in range(size)
        ]
        for batch in _batches(
            {"teccom_id": teccom_id, "name": f"Bench organization {teccom_id}", "kind": "supplier"}
            for _, teccom_id in teccom_ids
        ):
            connection.execute(insert(Organization), batch)
        for batch in _batches(
            {"client_pk": pk, "teccom_id": teccom_id, "enabled": True}
            for pk, teccom_id in teccom_ids
        ):
            connection.execute(insert(Assignment), batch)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(
                text("SELECT setval(pg_get_serial_sequence('clients', 'id'), MAX(id)) FROM clients")
            )
            # as autovacuum would after such a load (else it does so during the measurement)
            connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return ids[count // 2], secret, time.perf_counter() - started


def query_plan(database_url: str, sql: str, client_id: str) -> str:
    """How the database runs the token path's client read *sql* for *client_id*."""
    engine: Engine = create_engine(normalize_database_url(database_url))
    try:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            if engine.dialect.name == "sqlite":
                cursor.execute("EXPLAIN QUERY PLAN " + sql, (client_id,))
                plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
            else:
                cursor.execute("EXPLAIN " + sql, {"client_id": client_id})
                plan = "\n".join(str(row[0]) for row in cursor.fetchall())
            cursor.close()
        finally:
            connection.close()
    finally:
        engine.dispose()
    return plan
