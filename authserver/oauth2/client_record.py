"""The token path's one read: a client with its live secrets and enabled
organizations, in one query (:class:`ClientRecord`).

A client with no live secret is still found (it may authenticate with a key,
``private_key_jwt``); its keys are not read here, only when an assertion is
presented (:mod:`.private_key_jwt`). A client whose secret authentication is
turned off is read with no secrets at all, so ``client_secret_*`` fails for it.

Every token, introspection and revocation request reads the client afresh,
so a rotated, deleted or expired secret, a deleted client and a disabled
organization take effect for the very next request in every process. The
read is one SQL statement on an autocommit engine: on this path the ORM's
per-query machinery would cost more than the query itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, select
from sqlalchemy.exc import DBAPIError

from ..models import KIND_PARTNER, Assignment, Client, ClientSecret
from ..models._base import utcnow
from .raw_sql import KeptConnections
from .requests import AUTH_METHODS


@dataclass(frozen=True)
class ClientRecord:
    """What the token path needs to know about a client, read in one query.

    It also answers the parts of Authlib's ``ClientMixin`` that the token,
    introspection and revocation endpoints use.
    """

    pk: int
    client_id: str
    kind: str
    tokens_invalid_before: datetime | None
    #: live secrets: (row id, argon2 hash); none when secret authentication is off
    secrets: tuple[tuple[int, str], ...]
    #: enabled organizations, sorted TecCom IDs
    organizations: tuple[str, ...]
    #: its name (introspection answers it as ``client_name``)
    name: str = ""
    #: its own access-token lifetime in seconds; ``None``: the server's default
    access_token_lifetime: int | None = None
    #: raised by every change of its keys (:class:`~.private_key_jwt.ClientKeyReader`)
    keys_version: int = 0

    @property
    def is_partner(self) -> bool:
        return self.kind == KIND_PARTNER

    def get_client_id(self) -> str:
        return self.client_id

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def check_grant_type(self, grant_type: str) -> bool:
        """Only partner clients use the client credentials grant; gateways never get a token."""
        return grant_type == "client_credentials" and self.is_partner


_QUERY = (
    select(
        Client.id,
        Client.kind,
        Client.tokens_invalid_before,
        ClientSecret.id,
        ClientSecret.secret_hash,
        ClientSecret.expires_at,
        Assignment.teccom_id,
        Client.name,
        Client.access_token_lifetime,
        Client.secret_auth_enabled,
        Client.keys_version,
    )
    .select_from(Client)
    .outerjoin(ClientSecret, ClientSecret.client_pk == Client.id)
    .outerjoin(
        Assignment,
        and_(Assignment.client_pk == Client.id, Assignment.enabled.is_(True)),
    )
    .where(Client.client_id == bindparam("client_id"))
)


def load_client(
    connection: Connection, client_id: str, now: datetime | None = None
) -> ClientRecord | None:
    """The client *client_id* with its live secrets and enabled organizations,
    in one query; ``None`` when it does not exist.
    """
    rows = connection.execute(_QUERY, {"client_id": client_id}).all()
    return _record(client_id, rows, now or utcnow())


def _record(client_id: str, rows: Sequence[Sequence[Any]], now: datetime) -> ClientRecord | None:
    live: dict[int, str] = {}
    organizations: set[str] = set()
    if not rows:
        return None
    first = rows[0]
    for row in rows:
        if row[3] is not None and (row[5] is None or row[5] > now):
            live[row[3]] = row[4]
        if row[6] is not None:
            organizations.add(row[6])
    if not first[9]:  # secret authentication is off for this client
        live.clear()
    return ClientRecord(
        pk=first[0],
        client_id=client_id,
        kind=first[1],
        tokens_invalid_before=first[2],
        secrets=tuple(sorted(live.items())),
        organizations=tuple(sorted(organizations)),
        name=first[7],
        access_token_lifetime=first[8],
        keys_version=first[10],
    )


class ClientReader:
    """:func:`load_client` for the token path, on the DB-API cursor.

    The SQL is the same statement, compiled once by SQLAlchemy for the engine's
    dialect, and timestamps go through the columns' own result processing; only
    SQLAlchemy's per-execution machinery is skipped (it cost more CPU than the
    query itself: about 2x on SQLite and PostgreSQL). Use an autocommit engine,
    so that the read needs no BEGIN/ROLLBACK round trips.

    Its connections stay checked out between reads
    (:class:`~.raw_sql.KeptConnections`).

    Database errors are raised as SQLAlchemy's (so the app answers 503); a
    connection the database dropped is discarded with every idle one, and the
    read retried once on a fresh connection.
    """

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect
        compiled = _QUERY.compile(dialect=dialect)
        self.engine = engine
        self.sql = str(compiled)
        self.positional = bool(compiled.positional)
        self.processors = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in _QUERY.selected_columns
        ]
        self.dbapi_error: type[Exception] = dialect.loaded_dbapi.Error
        self.connections = KeptConnections(engine)

    def close(self) -> None:
        """Return the kept connections to the pool."""
        self.connections.close()

    def __call__(self, client_id: str) -> ClientRecord | None:
        params: Any = (client_id,) if self.positional else {"client_id": client_id}
        for attempt in (1, 2):
            try:
                connection = self.connections.take()
            except self.dbapi_error as error:  # the database is unreachable
                raise DBAPIError.instance(
                    self.sql, params, error, self.dbapi_error, connection_invalidated=True
                ) from error
            cursor = None
            try:
                cursor = connection.dbapi_connection.cursor()
                cursor.execute(self.sql, params)
                raw = cursor.fetchall()
                cursor.close()
                self.connections.give_back(connection)
            except self.dbapi_error as error:
                gone = self.engine.dialect.is_disconnect(
                    error,  # type: ignore[arg-type]
                    connection.dbapi_connection,
                    cursor,
                )
                self.connections.discard(connection, error if gone else None)
                if gone and attempt == 1:
                    continue
                raise DBAPIError.instance(
                    self.sql, params, error, self.dbapi_error, connection_invalidated=gone
                ) from error
            processors = self.processors
            rows = [
                [
                    value if proc is None else proc(value)
                    for value, proc in zip(row, processors, strict=True)
                ]
                for row in raw
            ]
            return _record(client_id, rows, utcnow())
        return None  # pragma: no cover - the loop returns or raises
