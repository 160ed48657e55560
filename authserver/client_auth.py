"""Client authentication with hashed secrets (RFC 6749 §2.3.1), made cheap.

A secret is stored only as an argon2id hash, and verifying one costs tens of
milliseconds by design. So each process keeps a *verified-credential cache*:
after a successful verification it remembers an HMAC-SHA256 of the secret
under a random per-process key (never the secret itself), bound to the
:class:`~authserver.models.ClientSecret` row id and its hash. Each request
still reads the client's *live* secret rows (one query, together with its
enabled organizations), so a rotated, deleted or expired secret stops working
at once in every process: its row is gone (or expired) and the cache entry no
longer matches anything.

Failures are never cached. On a cache miss, before any argon2 work, repeated
failures per remote address, and per client id *from that address*, are
throttled (:class:`~authserver.throttle.FailureThrottle`); only failures are
counted, and a cache hit skips the throttle. Counting a client id's failures
per address (not globally) means that someone guessing at a client's secret
from elsewhere can never lock the client out, even in a process that has not
verified its secret yet; guessing a 256-bit secret is hopeless anyway, so the
throttle is there to protect CPU, which the per-address count and the bound on
concurrent verifications do. An unknown client id
costs a dummy verification too, so that timing does not tell which ids exist.
At most ``ARGON2_MAX_CONCURRENT`` verifications run at once in a process.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, select
from sqlalchemy.exc import DBAPIError

from . import credentials
from .models import KIND_PARTNER, Client, ClientOrganization, ClientSecret
from .models._base import utcnow
from .observability import metrics
from .throttle import FailureThrottle

log = logging.getLogger(__name__)

#: entries kept in a process's verified-credential cache
CACHE_SIZE = 10_000
#: seconds to wait for a free argon2 slot before answering 503
ARGON2_WAIT_SECONDS = 10.0


class AuthenticationFailed(Exception):
    """Unknown client, wrong secret, or no live secret (``invalid_client``)."""


class TooManyFailures(Exception):
    """Too many recent failures for the client id or the address (429)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class VerifierBusy(Exception):
    """No argon2 slot became free in time (503)."""


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
    #: live secrets: (row id, argon2 hash)
    secrets: tuple[tuple[int, str], ...]
    #: enabled organizations, sorted TecCom IDs
    organizations: tuple[str, ...]

    @property
    def is_partner(self) -> bool:
        return self.kind == KIND_PARTNER

    def get_client_id(self) -> str:
        return self.client_id

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

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
        ClientOrganization.teccom_id,
    )
    .select_from(Client)
    .join(ClientSecret, ClientSecret.client_pk == Client.id)
    .outerjoin(
        ClientOrganization,
        and_(ClientOrganization.client_pk == Client.id, ClientOrganization.enabled.is_(True)),
    )
    .where(Client.client_id == bindparam("client_id"))
)


def load_client(
    connection: Connection, client_id: str, now: datetime | None = None
) -> ClientRecord | None:
    """The client *client_id* with its live secrets and enabled organizations,
    in one query; ``None`` when it does not exist or has no live secret.
    """
    rows = connection.execute(_QUERY, {"client_id": client_id}).all()
    return _record(client_id, rows, now or utcnow())


def _record(client_id: str, rows: Sequence[Sequence[Any]], now: datetime) -> ClientRecord | None:
    live: dict[int, str] = {}
    organizations: set[str] = set()
    for row in rows:
        if row[5] is None or row[5] > now:
            live[row[3]] = row[4]
        if row[6] is not None:
            organizations.add(row[6])
    if not live:
        return None
    first = rows[0]
    return ClientRecord(
        pk=first[0],
        client_id=client_id,
        kind=first[1],
        tokens_invalid_before=first[2],
        secrets=tuple(sorted(live.items())),
        organizations=tuple(sorted(organizations)),
    )


class ClientReader:
    """:func:`load_client` for the token path, on the DB-API cursor.

    The SQL is the same statement, compiled once by SQLAlchemy for the engine's
    dialect, and timestamps go through the columns' own result processing; only
    SQLAlchemy's per-execution machinery is skipped (it cost more CPU than the
    query itself: about 2x on SQLite and PostgreSQL, see PERFORMANCE.md). Use
    an autocommit engine so that the read needs no BEGIN/ROLLBACK round trips.

    Database errors are raised as SQLAlchemy's (so the app answers 503); a
    connection the database dropped is discarded and the read retried once.
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

    def __call__(self, client_id: str) -> ClientRecord | None:
        params: Any = (client_id,) if self.positional else {"client_id": client_id}
        for attempt in (1, 2):
            try:
                connection = self.engine.raw_connection()
            except self.dbapi_error as error:  # the database is unreachable
                raise DBAPIError.instance(
                    self.sql, params, error, self.dbapi_error, connection_invalidated=True
                ) from error
            cursor = None
            try:
                cursor = connection.cursor()
                cursor.execute(self.sql, params)
                raw = cursor.fetchall()
                cursor.close()
            except self.dbapi_error as error:
                gone = self.engine.dialect.is_disconnect(
                    error,  # type: ignore[arg-type]
                    connection.dbapi_connection,
                    cursor,
                )
                if gone:
                    connection.invalidate(error)
                else:
                    connection.close()
                if gone and attempt == 1:
                    continue
                raise DBAPIError.instance(
                    self.sql, params, error, self.dbapi_error, connection_invalidated=gone
                ) from error
            connection.close()
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


def _key(value: str) -> str:
    """A short, fixed-length throttle key for an untrusted value."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class SecretVerifier:
    """Verifies client secrets for one process (see the module docstring).

    :param throttle: counts failures per client id and per address.
    :param max_concurrent: argon2 verifications allowed at once.
    """

    def __init__(
        self, throttle: FailureThrottle, max_concurrent: int = 2, cache_size: int = CACHE_SIZE
    ) -> None:
        self.throttle = throttle
        self._mac_key = secrets.token_bytes(32)
        #: secret row id -> (argon2 hash of the row, HMAC of the verified secret)
        self._cache: dict[int, tuple[str, bytes]] = {}
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max(1, max_concurrent))

    def _mac(self, secret: str) -> bytes:
        return hmac.new(
            self._mac_key, secret.encode("utf-8", "surrogatepass"), hashlib.sha256
        ).digest()

    def authenticate(
        self,
        load: Callable[[str], ClientRecord | None],
        client_id: str,
        secret: str,
        remote_addr: str | None,
    ) -> ClientRecord:
        """The client whose id and secret these are.

        :param load: reads the client's live record (:func:`load_client`).
        :raises TooManyFailures: throttled; nothing was verified.
        :raises AuthenticationFailed: unknown client or wrong secret.
        :raises VerifierBusy: every argon2 slot stayed busy.
        """
        # no client id holds a NUL character (PostgreSQL cannot even be asked)
        record = load(client_id) if client_id and "\x00" not in client_id else None
        mac = self._mac(secret)
        if record is not None:
            for row_id, secret_hash in record.secrets:
                entry = self._cache.get(row_id)
                if (
                    entry is not None
                    and entry[0] == secret_hash
                    and hmac.compare_digest(entry[1], mac)
                ):
                    metrics.CREDENTIAL_CACHE_HITS.inc()
                    return record
        address = remote_addr or "-"
        keys = ("client:" + _key(client_id) + "@" + address, "addr:" + address)
        wait = self.throttle.retry_after(*keys)
        if wait:
            raise TooManyFailures(wait)
        matched = self._verify(record, secret)
        if matched is None:
            self.throttle.failed(*keys)
            log.info(
                "client authentication failed for a %s client id", "known" if record else "unknown"
            )
            raise AuthenticationFailed()
        assert record is not None
        self._remember(matched, record.secrets, mac)
        return record

    def _verify(self, record: ClientRecord | None, secret: str) -> int | None:
        """Argon2-verify *secret* against the live hashes; the matching row id or ``None``."""
        if not self._slots.acquire(timeout=ARGON2_WAIT_SECONDS):
            raise VerifierBusy()
        try:
            if record is None or not secret:
                credentials.check_secret(credentials.dummy_hash(), secret or "-")
                metrics.ARGON2_VERIFICATIONS.labels("dummy").inc()
                return None
            for row_id, secret_hash in record.secrets:
                matched = credentials.check_secret(secret_hash, secret)
                metrics.ARGON2_VERIFICATIONS.labels("match" if matched else "mismatch").inc()
                if matched:
                    return row_id
            return None
        finally:
            self._slots.release()

    def _remember(self, row_id: int, live: tuple[tuple[int, str], ...], mac: bytes) -> None:
        secret_hash = dict(live)[row_id]
        with self._cache_lock:
            self._cache.pop(row_id, None)
            while len(self._cache) >= self._cache_size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[row_id] = (secret_hash, mac)

    def forget(self) -> None:
        """Drop every cached verification (tests; an operator's emergency)."""
        with self._cache_lock:
            self._cache.clear()
