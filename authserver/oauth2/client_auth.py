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
concurrent verifications do; addresses are also counted per /24 or /64
network. A flood from changing addresses is bounded by the budget of failed
verifications (:mod:`.argon2_budget`), checked right after the throttle. An
unknown client id costs a dummy verification too, so that timing does not tell
which ids exist. At most ``ARGON2_MAX_CONCURRENT`` verifications run at once in
a process.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Callable

from .. import credentials, gate
from ..observability import context, metrics
from ..throttle import FailureThrottle
from .argon2_budget import VerificationBudget, network_of
from .client_record import ClientRecord
from .errors import Busy, InvalidClient, TooManyAttempts
from .requests import BASIC, POST, FormRequest

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


def _key(value: str) -> str:
    """A short, fixed-length throttle key for an untrusted value."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class SecretVerifier:
    """Verifies client secrets for one process (see the module docstring).

    :param throttle: counts failures per client id and per address.
    :param max_concurrent: argon2 verifications allowed at once.
    """

    def __init__(
        self,
        throttle: FailureThrottle,
        max_concurrent: int = 2,
        cache_size: int = CACHE_SIZE,
        budget: VerificationBudget | None = None,
    ) -> None:
        self.throttle = throttle
        self.budget = budget
        self._mac_key = secrets.token_bytes(32)
        #: secret row id -> (argon2 hash of the row, HMAC of the verified secret)
        self._cache: dict[int, tuple[str, bytes]] = {}
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max(1, max_concurrent))

    def _mac(self, secret: str) -> bytes:
        return hmac.digest(self._mac_key, secret.encode("utf-8", "surrogatepass"), "sha256")

    def authenticate(
        self,
        load: Callable[[str], ClientRecord | None],
        client_id: str,
        secret: str,
        remote_addr: str | None,
    ) -> ClientRecord:
        """The client whose id and secret these are (see :meth:`identify`)."""
        return self.identify(load, client_id, secret, remote_addr)[0]

    def identify(
        self,
        load: Callable[[str], ClientRecord | None],
        client_id: str,
        secret: str,
        remote_addr: str | None,
    ) -> tuple[ClientRecord, int]:
        """The client whose id and secret these are, and the row id of the
        secret that matched (for its last use).

        :param load: reads the client's live record (:mod:`.client_record`).
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
                    return record, row_id
        # with the counts in Redis, their round trips wait outside the gate too
        with gate.outside() if self.throttle.shared else contextlib.nullcontext():
            matched = self._verify_counted(record, client_id, secret, remote_addr or "-")
        assert record is not None
        self._remember(matched, record.secrets, mac)
        return record, matched

    def _verify_counted(
        self, record: ClientRecord | None, client_id: str, secret: str, address: str
    ) -> int:
        """A cache miss: the throttle and the budget, then argon2; a failure
        is counted. The row id of the secret that matched.

        Nothing here holds a transaction or a lock of the database, so in a
        served worker it may run outside the gate (:mod:`authserver.gate`):
        argon2 always does, and with Redis the throttle's round trips too.
        In memory the counting is CPU only and stays inside.
        """
        keys = (
            "client:" + _key(client_id) + "@" + address,
            "addr:" + address,
            "net:" + network_of(address),
        )
        wait = self.throttle.retry_after(*keys)
        if not wait and self.budget is not None:
            wait = self.budget.retry_after(client_id, known=record is not None)
        if wait:
            raise TooManyFailures(wait)
        matched = self._verify(record, secret)
        if matched is None:
            self.throttle.failed(*keys)
            if self.budget is not None:
                self.budget.failed(client_id, known=record is not None)
            log.info(
                "client authentication failed for a %s client id", "known" if record else "unknown"
            )
            raise AuthenticationFailed()
        return matched

    def _verify(self, record: ClientRecord | None, secret: str) -> int | None:
        """Argon2-verify *secret* against the live hashes; the matching row id
        or ``None``. In a served worker, the wait for a slot and the hashing
        happen outside the worker's gate (:mod:`authserver.gate`): the worker
        answers other requests meanwhile."""
        with gate.outside():
            return self._verify_outside(record, secret)

    def _verify_outside(self, record: ClientRecord | None, secret: str) -> int | None:
        if not self._slots.acquire(timeout=ARGON2_WAIT_SECONDS):
            raise VerifierBusy()
        try:
            if record is None or not secret or not record.secrets:  # no secret: same cost
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


class SecretAuthentication:
    """The ``client_secret_basic`` and ``client_secret_post`` methods (RFC 6749
    §2.3.1) as Authlib client-authentication hooks.

    Registered as bound methods (``server.register_client_auth_method(BASIC,
    auth.client_secret_basic)``), so a hook finds its verifier on ``self``,
    never through the current app. A hook answers ``None`` for a request that
    uses another method, so that Authlib tries the next one.
    """

    def __init__(self, verifier: SecretVerifier) -> None:
        self.verifier = verifier

    def client_secret_basic(
        self, query_client: Callable[[str], ClientRecord | None], request: FormRequest
    ) -> ClientRecord | None:
        """``client_secret_basic`` (RFC 6749 §2.3.1, HTTP Basic, RFC 7617)."""
        return self._authenticate(query_client, request, BASIC)

    def client_secret_post(
        self, query_client: Callable[[str], ClientRecord | None], request: FormRequest
    ) -> ClientRecord | None:
        """``client_secret_post`` (RFC 6749 §2.3.1, credentials in the form body)."""
        return self._authenticate(query_client, request, POST)

    def _authenticate(
        self,
        query_client: Callable[[str], ClientRecord | None],
        request: FormRequest,
        method: str,
    ) -> ClientRecord | None:
        credentials = request.credentials
        if credentials is None or credentials.method != method:
            return None
        try:
            record, request.secret_id = self.verifier.identify(
                query_client,
                credentials.client_id,
                credentials.client_secret,
                request.remote_addr,
            )
        except AuthenticationFailed:
            raise InvalidClient() from None
        except TooManyFailures as error:
            raise TooManyAttempts(error.retry_after) from None
        except VerifierBusy:
            raise Busy() from None
        context.set_client_id(record.client_id)  # for the logs of this request
        return record
