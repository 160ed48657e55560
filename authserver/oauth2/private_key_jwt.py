"""``private_key_jwt``: client authentication with a JWT signed by the
client's private key (RFC 7523 §2.2 and §3, RFC 7521 §4.2), on Authlib's
:class:`~authlib.oauth2.rfc7523.JWTBearerClientAssertion`.

The request carries ``client_assertion_type`` =
``urn:ietf:params:oauth:client-assertion-type:jwt-bearer`` and
``client_assertion``, and optionally ``client_id``, which must then name the
assertion's client (:mod:`.requests` refuses a second method in the same
request). The assertion is checked as RFC 7523 §3 and RFC 9700 §2.4 ask:

* the header: ``alg`` one of ES256, ES384, PS256, RS256, EdDSA (never
  ``none`` or an HMAC) and fitting the key; no key material or key reference
  (``jwk``, ``jku``, ``x5u``, ``x5c``) and no ``crit``;
* the signature, with one of the client's registered keys (or those at its
  ``jwks_uri``): a ``kid`` in the header picks the key, else each key that
  fits the ``alg`` is tried (a client has at most three);
* ``iss`` = ``sub`` = the client id; ``aud`` is the issuer or the token
  endpoint URL (a string, or an array of exactly one: nothing else);
* ``exp`` required and at most :data:`MAX_LIFETIME` seconds ahead; ``iat``
  and ``nbf``, if present, not in the future (``LEEWAY`` for clock skew);
* ``jti`` required and used once (:mod:`.replay`).

Every refusal is the same ``invalid_client`` (401) with one fixed
description, and counts toward the failure throttle of secret
authentication, under the same keys (the reason is logged, never returned);
once the claimed client id or the address is over the limit, refusals are
429 with ``Retry-After``. A good assertion is never throttled, as a cached
secret is not: checking it costs a signature verification, not argon2, so
the throttle is consulted only when an assertion fails. The client's keys are read
only here, when an assertion is presented, so secret authentication pays
nothing for them; they are kept per process until the client's
``keys_version`` (read with the client on every request) changes, so a
removed key stops working at once (:class:`ClientKeyReader`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from jwt.algorithms import get_default_algorithms
from jwt.utils import base64url_decode
from sqlalchemy import Engine, bindparam, select

from .. import gate
from ..jwks_uri import JwksFetcher, JwksFetchError
from ..models import Client, ClientKey
from ..public_keys import ASSERTION_ALGORITHMS, InvalidPublicKey, Verifier, load_verifier
from ..throttle import FailureThrottle
from .client_record import ClientRecord
from .errors import InvalidClient, TooManyAttempts
from .raw_sql import RawStatement
from .replay import ReplayStore, make_replay_store
from .requests import PRIVATE_KEY_JWT, Credentials, FormRequest

log = logging.getLogger(__name__)

#: the longest an assertion may still be valid when it arrives (RFC 9700 §2.4: short-lived)
MAX_LIFETIME = 300
#: seconds of clock skew allowed on ``exp``, ``iat`` and ``nbf`` (RFC 7523 §3 items 4-6)
LEEWAY = 30
#: the longest assertion read (a PS256 assertion with a 4096-bit key is under 1 KiB)
MAX_ASSERTION_LENGTH = 4096
#: header members that carry or point to a key: the key must be the registered one
_KEY_HEADERS = frozenset({"jwk", "jku", "x5u", "x5c", "crit"})
_CLAIM_NUMBER = (int, float)
#: PyJWT's signature algorithms, one object each, for the accepted ``alg`` values only
_ALGORITHMS = {name: get_default_algorithms()[name] for name in ASSERTION_ALGORITHMS}


class AssertionRefused(Exception):
    """An assertion that does not authenticate its client (the reason is logged only)."""


def throttle_keys(client_id: str, address: str) -> tuple[str, str]:
    """The failure-throttle keys of :mod:`.client_auth`, so both methods count together."""
    hashed = hashlib.sha256(client_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return "client:" + hashed + "@" + address, "addr:" + address


class ClientKeyReader:
    """The keys a client's assertion may be signed with: its registered keys
    and those published at its ``jwks_uri``. *engine* is called for the engine
    on each read (it needs the app's database).

    The registered keys (and the ``jwks_uri``) are read once per version of
    the client's keys and then kept per process: the client read of every
    token request already fetches ``keys_version``, which each change of the
    keys raises in the same transaction (:mod:`..services.client_keys`). So a
    removed key stops working at the next request without a read of its own.
    Parsed keys are kept by their JWK text, so a key is parsed once.
    """

    #: clients whose keys are kept; past it, the kept ones are dropped
    MAX_KEPT = 10_000

    def __init__(self, engine: Callable[[], Engine], fetcher: JwksFetcher) -> None:
        self.engine = engine
        self.fetcher = fetcher
        self._parsed: dict[str, Verifier | None] = {}
        #: client id -> (keys_version, jwks_uri, registered keys); by the client
        #: id, which is never given again, not by the row id, which SQLite may reuse
        self._kept: dict[str, tuple[int, str | None, list[Verifier]]] = {}
        self._lock = threading.Lock()
        self._query = RawStatement(
            engine,
            select(Client.keys_version, Client.jwks_uri, ClientKey.public_jwk)
            .select_from(Client)
            .outerjoin(ClientKey, ClientKey.client_pk == Client.id)
            .where(Client.id == bindparam("pk")),
        )

    def close(self) -> None:
        """Return the read's kept connections to the pool."""
        self._query.close()

    def __call__(self, client: ClientRecord, *, refresh: bool = False) -> list[Verifier]:
        """The keys of *client* as of the ``keys_version`` its read saw;
        *refresh*: fetch its ``jwks_uri`` again if allowed (:meth:`JwksFetcher.keys`)."""
        kept = self._kept.get(client.client_id)
        if kept is None or kept[0] != client.keys_version:
            kept = self._read(client)
        _, jwks_uri, found = kept
        if not jwks_uri:
            return found
        try:
            fetched = self.fetcher.keys(jwks_uri, refresh=refresh)
        except JwksFetchError as error:
            log.warning("client keys not fetched from jwks_uri: %s", error)
            fetched = ()
        published = (
            self._verifier(json.dumps(jwk, sort_keys=True, separators=(",", ":")))
            for jwk in fetched
        )
        return found + [verifier for verifier in published if verifier is not None]

    def _read(self, client: ClientRecord) -> tuple[int, str | None, list[Verifier]]:
        rows = self._query({"pk": client.pk}, fetch=True)
        if not rows:
            return (-1, None, [])
        parsed = (self._verifier(row[2]) for row in rows if row[2] is not None)
        kept = (rows[0][0], rows[0][1], [verifier for verifier in parsed if verifier is not None])
        with self._lock:
            if len(self._kept) >= self.MAX_KEPT:
                self._kept.clear()
            self._kept[client.client_id] = kept
        return kept

    def _verifier(self, text: str) -> Verifier | None:
        if text in self._parsed:
            return self._parsed[text]
        try:
            verifier: Verifier | None = load_verifier(json.loads(text))
        except (InvalidPublicKey, ValueError, TypeError, KeyError):
            verifier = None  # a fetched set may hold keys this server does not accept
        with self._lock:
            if len(self._parsed) > 10_000:
                self._parsed.clear()
            self._parsed[text] = verifier
        return verifier


class PrivateKeyJWT(JWTBearerClientAssertion):  # type: ignore[misc]
    """The ``private_key_jwt`` method as an Authlib client-authentication hook
    (an instance is the hook: ``server.register_client_auth_method(
    PRIVATE_KEY_JWT, PrivateKeyJWT(...))``); see the module docstring.

    :param audiences: the accepted ``aud`` values: the issuer and the token endpoint URL.
    :param keys: the verification keys of a client
        (``refresh=True``: a ``kid`` was not among them, look again).
    :param replay: records each ``jti`` once.
    :param throttle: the failure throttle shared with secret authentication.
    """

    CLIENT_AUTH_METHOD = PRIVATE_KEY_JWT

    def __init__(
        self,
        audiences: Sequence[str],
        keys: ClientKeyReader | Callable[..., list[Verifier]],
        replay: ReplayStore,
        throttle: FailureThrottle,
        *,
        leeway: int = LEEWAY,
        max_lifetime: int = MAX_LIFETIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(validate_jti=True, leeway=leeway)
        self.audiences = tuple(audiences)
        self.keys = keys
        self.replay = replay
        self.throttle = throttle
        self.max_lifetime = max_lifetime
        self.clock = clock

    def close(self) -> None:
        """Return the connections the key read and the replay store keep."""
        close = getattr(self.keys, "close", None)
        if close is not None:
            close()
        self.replay.close()

    def get_audiences(self) -> list[str]:
        return list(self.audiences)

    def __call__(
        self, query_client: Callable[[str], ClientRecord | None], request: FormRequest
    ) -> ClientRecord | None:
        credentials = request.credentials
        if credentials is None or credentials.method != PRIVATE_KEY_JWT:
            return None  # another method: Authlib tries the next one
        try:
            return self._authenticate(query_client, credentials.client_id, credentials.assertion)
        except (AssertionRefused, InvalidClientError) as error:
            reason = error.args[0] if isinstance(error, AssertionRefused) else error.description
        keys = throttle_keys(self._claimed_client_id(credentials), request.remote_addr or "-")
        # with the counts in Redis, their round trips wait outside the worker's gate
        with gate.outside() if self.throttle.shared else contextlib.nullcontext():
            wait = self.throttle.retry_after(*keys)
            if not wait:
                self.throttle.failed(*keys)
        if wait:
            raise TooManyAttempts(wait)
        log.info("client assertion refused: %s", reason)
        raise InvalidClient()

    def _claimed_client_id(self, credentials: Credentials) -> str:
        """The client an assertion claims to be (unverified): its ``sub``, else ``client_id``."""
        try:
            subject = self.extract_assertion(credentials.assertion)[1].get("sub")
        except AssertionRefused:
            return credentials.client_id
        return subject if isinstance(subject, str) else credentials.client_id

    def _authenticate(
        self,
        query_client: Callable[[str], ClientRecord | None],
        client_id: str,
        assertion: str,
    ) -> ClientRecord:
        header, claims = self.extract_assertion(assertion)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or "\x00" in subject:
            raise AssertionRefused("sub missing or not a string")
        if client_id and client_id != subject:
            raise AssertionRefused("client_id parameter differs from sub")
        client = query_client(subject)
        if client is None:
            raise AssertionRefused("unknown client")
        keys = self.resolve_client_public_key(client)
        kid = header.get("kid")
        if kid is not None and not any(key.kid == kid for key in keys):
            keys = self.keys(client, refresh=True)  # rotated at the jwks_uri?
        verified = self.process_assertion_claims(assertion, (header, claims, keys))
        if verified["iss"] != client.client_id:
            raise AssertionRefused("iss is not the client id")
        return self.authenticate_client_record(client)

    def authenticate_client_record(self, client: ClientRecord) -> ClientRecord:
        """Authlib's last step: the client may use this method."""
        result: ClientRecord = self.authenticate_client(client)
        return result

    # Authlib's hooks -----------------------------------------------------------

    def extract_assertion(self, assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The unverified header and claims, with the header checks.

        :raises AssertionRefused: too long, malformed, or a refused header.
        """
        if not assertion:
            raise AssertionRefused("no assertion, or an unknown assertion type")
        if len(assertion) > MAX_ASSERTION_LENGTH:
            raise AssertionRefused("assertion too long")
        header, claims = split_compact(assertion)
        if header.get("alg") not in ASSERTION_ALGORITHMS:
            raise AssertionRefused("alg not allowed")
        if _KEY_HEADERS & set(header):
            raise AssertionRefused("key material or reference in the header")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise AssertionRefused("kid not a string")
        return header, claims

    def resolve_client_public_key(self, client: ClientRecord) -> list[Verifier]:
        """The client's registered keys as of the version the client read saw
        (and its ``jwks_uri`` keys)."""
        return self.keys(client)

    def process_assertion_claims(
        self,
        assertion: str,
        resolve_key: tuple[dict[str, Any], dict[str, Any], list[Verifier]],
    ) -> dict[str, Any]:
        """Verify the signature with a key that fits the header, then the claims.

        *resolve_key* is what :meth:`extract_assertion` read (header and
        claims, the very bytes that are signed) and the client's keys. The
        signature is checked with PyJWT's algorithm for the header's ``alg``
        (never ``none`` or an HMAC, :meth:`extract_assertion` made sure), on
        the key object loaded once per process.

        :raises AssertionRefused: no key verifies it, or a claim is wrong.
        """
        header, claims, verifiers = resolve_key
        alg = header["alg"]
        kid = header.get("kid")
        candidates = [
            verifier
            for verifier in verifiers
            if alg in verifier.algorithms and (kid is None or verifier.kid == kid)
        ]
        signing_input, _, encoded_signature = assertion.rpartition(".")
        try:
            signature = base64url_decode(encoded_signature.encode("ascii"))
        except (ValueError, UnicodeError):
            raise AssertionRefused("signature not base64url") from None
        algorithm = _ALGORITHMS[alg]
        message = signing_input.encode("ascii")
        if not any(algorithm.verify(message, v.key, signature) for v in candidates):
            raise AssertionRefused("no registered key verifies the signature")
        self.verify_claims(claims)
        return claims

    def verify_claims(self, claims: dict[str, Any]) -> None:
        """RFC 7523 §3 items 1-7, RFC 9700 §2.4 (see the module docstring).

        :raises AssertionRefused: a claim is missing or wrong.
        """
        now = self.clock()
        iss, sub = claims.get("iss"), claims.get("sub")
        if not isinstance(iss, str) or iss != sub:
            raise AssertionRefused("iss and sub must both be the client id")
        aud = claims.get("aud")
        if isinstance(aud, list) and len(aud) == 1:
            aud = aud[0]
        if not isinstance(aud, str) or aud not in self.audiences:
            raise AssertionRefused("aud is not this server")
        exp = claims.get("exp")
        if not _is_number(exp):
            raise AssertionRefused("exp missing or not a number")
        if exp <= now - self.leeway:
            raise AssertionRefused("expired")
        if exp > now + self.max_lifetime + self.leeway:
            raise AssertionRefused("exp too far ahead")
        for name in ("iat", "nbf"):
            if name in claims:
                value = claims[name]
                if not _is_number(value) or value > now + self.leeway:
                    raise AssertionRefused(f"{name} not a number or in the future")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti or len(jti) > 512:
            raise AssertionRefused("jti missing")
        if not self.validate_jti(claims, jti):
            raise AssertionRefused("jti used before")

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        """RFC 7523 §3 item 7: record the ``jti``; ``False`` when it was used before."""
        expires_at = float(claims["exp"]) + self.leeway
        return self.replay.first_use(claims["sub"], jti, expires_at)


def split_compact(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and the claims of a JWS in compact serialization (RFC 7515
    §7.1), unverified: three base64url parts, the first two JSON objects.

    Authlib's own ``extract_assertion`` goes through joserfc's general JWS
    parser, which cost about as much as the rest of the claim checks together;
    the signature is checked over the very text split here
    (:meth:`PrivateKeyJWT.process_assertion_claims`).

    :raises AssertionRefused: not ASCII, not three parts, or a part that is
        not base64url-encoded JSON (an object, for the first two).
    """
    parts = assertion.split(".")
    if len(parts) != 3 or not assertion.isascii() or not all(parts):
        raise AssertionRefused("not a compact JWS")
    try:
        header = json.loads(base64url_decode(parts[0]))
        claims = json.loads(base64url_decode(parts[1]))
    except (ValueError, UnicodeError):  # binascii.Error and JSONDecodeError are ValueErrors
        raise AssertionRefused("not a compact JWS with a JSON payload") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise AssertionRefused("header or payload not a JSON object")
    return header, claims


def _is_number(value: object) -> bool:
    """A JSON number a time claim may be (RFC 7519 §2 NumericDate): not a
    boolean, and finite (``json.loads`` reads ``NaN`` and ``Infinity``)."""
    return isinstance(value, _CLAIM_NUMBER) and not isinstance(value, bool) and math.isfinite(value)


def from_config(
    config: Mapping[str, Any], engine: Callable[[], Engine], throttle: FailureThrottle
) -> PrivateKeyJWT:
    """The method as the app configures it: audiences from ``ISSUER``, the
    replay store in Redis when ``REDIS_URL`` is set, the ``JWKS_URI_*`` fetch limits."""
    issuer = str(config["ISSUER"])
    fetcher = JwksFetcher(
        timeout=float(config["JWKS_URI_TIMEOUT"]),
        max_bytes=int(config["JWKS_URI_MAX_BYTES"]),
        allow_local=bool(config["JWKS_URI_ALLOW_LOCAL"]),
    )
    return PrivateKeyJWT(
        (issuer, issuer.rstrip("/") + "/oauth2/token"),
        ClientKeyReader(engine, fetcher),
        make_replay_store(engine, config.get("REDIS_URL")),
        throttle,
    )
