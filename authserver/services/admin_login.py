"""Admin login and admin bearer tokens.

Admin tokens are a different kind from the access tokens that clients get at
the token endpoint, so that neither is ever taken for the other:

=============  ==========================  ==============================
               client access token         admin token
=============  ==========================  ==============================
``typ``        ``at+jwt`` (RFC 9068 §2.1)  ``admin+jwt``
``alg``        ES256 / RS256 / EdDSA       HS256, key derived from SECRET_KEY
``aud``        AUTHSERVER_AUDIENCE         ``authserver-admin``
=============  ==========================  ==============================

Failed logins are counted per e-mail and per remote address (moving window,
shared through Redis when configured) and refused with 429 past the limit,
before any password hashing.

One :class:`AdminLogin` per app (made by the app factory from its
configuration, kept in ``app.extensions``) holds the settings and the
throttle; it reads no Flask globals. An unknown e-mail is verified against a dummy
hash, so that it takes as long as a wrong password and answers the same.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .. import credentials, throttle
from ..errors import TooManyRequests, Unauthorized
from ..extensions import db
from ..models import User, normalize_email
from ..observability import metrics

log = logging.getLogger(__name__)

#: where the app keeps its :class:`AdminLogin` (``app.extensions``)
EXTENSION = "authserver.admin_login"
#: ``typ`` header of admin tokens (RFC 8725 §3.11: explicit typing)
ADMIN_TOKEN_TYPE = "admin+jwt"
#: ``aud`` of admin tokens; never the audience of client access tokens
ADMIN_AUDIENCE = "authserver-admin"
ADMIN_TOKEN_ALG = "HS256"

#: one answer for a wrong e-mail and a wrong password
INVALID_LOGIN = "The e-mail or the password is wrong."
INVALID_TOKEN = "The bearer token is invalid or expired."
TOO_MANY_FAILURES = "Too many failed logins; try again later."


class AdminLogin:
    """Admin login and admin tokens for one app.

    :param issuer: ``iss`` of admin tokens (the server's issuer).
    :param secret_key: the app's secret key; admin tokens are signed with a
        key derived from it, never with the secret key itself.
    :param token_lifetime: seconds an admin token is valid.
    :param failures: counts failed logins per e-mail and per address.
    """

    def __init__(
        self,
        *,
        issuer: str,
        secret_key: str | bytes,
        token_lifetime: int,
        failures: throttle.FailureThrottle,
    ) -> None:
        self.issuer = issuer
        self.token_lifetime = token_lifetime
        self.failures = failures
        self._key = _derive_key(secret_key)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AdminLogin:
        """The login of an app with this configuration."""
        return cls(
            issuer=config["ISSUER"],
            secret_key=config["SECRET_KEY"],
            token_lifetime=int(config["ADMIN_TOKEN_LIFETIME"]),
            failures=throttle.from_config(config, "LOGIN_FAILURE_LIMIT", "admin-login"),
        )

    def authenticate(self, email: object, password: object, remote_addr: str | None) -> User:
        """The user with *email* and *password*.

        :raises TooManyRequests: too many recent failures for this e-mail or
            this address (checked before the password is hashed).
        :raises Unauthorized: wrong e-mail or wrong password (the same answer).
        """
        normalized = normalize_email(email)
        keys = (f"email:{normalized}", f"addr:{remote_addr or 'unknown'}")
        wait = self.failures.retry_after(*keys)
        if wait:
            raise TooManyRequests(TOO_MANY_FAILURES, retry_after=wait)
        user: User | None = (
            db.session.execute(db.select(User).where(User.email == normalized)).scalar_one_or_none()
            if normalized
            else None
        )
        stored = user.password_hash if user is not None and user.password_hash else None
        # always one argon2 verification, so that timing says nothing about the e-mail
        matches = credentials.check_secret(
            stored or credentials.dummy_hash(), password if isinstance(password, str) else ""
        )
        if user is None or stored is None or not matches:
            self.failures.failed(*keys)
            metrics.LOGIN_FAILURES.inc()
            log.info("admin login failed from %s", remote_addr)
            raise Unauthorized(INVALID_LOGIN)
        return user

    def issue_token(self, user: User) -> tuple[str, int]:
        """A short-lived admin bearer token for *user*: ``(token, expires_in)``."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": ADMIN_AUDIENCE,
            "sub": str(user.id),
            "email": user.email,
            "iat": now,
            "exp": now + self.token_lifetime,
            "jti": secrets.token_urlsafe(16),
        }
        token = jwt.encode(
            claims, self._key, algorithm=ADMIN_TOKEN_ALG, headers={"typ": ADMIN_TOKEN_TYPE}
        )
        return token, self.token_lifetime

    def verify_token(self, token: str) -> User:
        """The user an admin token was issued to.

        Refuses any other kind of token (a client access token has ``typ``
        ``at+jwt``, another algorithm and another audience) and a token whose
        user has left the directory or changed e-mail.

        :raises Unauthorized: the token is not a valid, unexpired admin token.
        """
        try:
            header = jwt.get_unverified_header(token)
            if header.get("typ") != ADMIN_TOKEN_TYPE or header.get("alg") != ADMIN_TOKEN_ALG:
                raise Unauthorized(INVALID_TOKEN)
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ADMIN_TOKEN_ALG],
                audience=ADMIN_AUDIENCE,
                issuer=self.issuer,
                options={"require": ["iss", "aud", "sub", "iat", "exp", "jti"]},
            )
            user_id = int(claims["sub"])
        except (jwt.PyJWTError, ValueError, TypeError):
            raise Unauthorized(INVALID_TOKEN) from None
        user = db.session.get(User, user_id)
        if user is None or user.email != claims.get("email"):
            raise Unauthorized(INVALID_TOKEN)
        return user


def _derive_key(secret_key: str | bytes) -> bytes:
    """The HS256 key of admin tokens: HKDF-SHA256 (RFC 5869) of the app's
    secret key, so that the secret key itself never signs anything.
    """
    material = secret_key.encode() if isinstance(secret_key, str) else bytes(secret_key)
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"authserver admin token v1"
    ).derive(material)
