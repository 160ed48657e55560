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
before any password hashing. An unknown e-mail is verified against a dummy
hash, so that it takes as long as a wrong password and answers the same.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from .. import credentials, throttle
from ..errors import TooManyRequests, Unauthorized
from ..extensions import db
from ..models import User
from ..observability import metrics

log = logging.getLogger(__name__)

#: ``typ`` header of admin tokens (RFC 8725 §3.11: explicit typing)
ADMIN_TOKEN_TYPE = "admin+jwt"
#: ``aud`` of admin tokens; never the audience of client access tokens
ADMIN_AUDIENCE = "authserver-admin"
ADMIN_TOKEN_ALG = "HS256"

#: one answer for a wrong e-mail and a wrong password
INVALID_LOGIN = "The e-mail or the password is wrong."
INVALID_TOKEN = "The bearer token is invalid or expired."
TOO_MANY_FAILURES = "Too many failed logins; try again later."

_THROTTLE = "authserver.login_throttle"


def _login_throttle() -> throttle.FailureThrottle:
    """The login throttle of the current application (made once per app)."""
    found: throttle.FailureThrottle | None = current_app.extensions.get(_THROTTLE)
    if found is None:
        found = throttle.from_config(current_app.config, "LOGIN_FAILURE_LIMIT", "admin-login")
        current_app.extensions[_THROTTLE] = found
    return found


def authenticate_user(email: str, password: str, remote_addr: str | None) -> User:
    """The user with *email* and *password*.

    :raises TooManyRequests: too many recent failures for this e-mail or
        this address (checked before the password is hashed).
    :raises Unauthorized: wrong e-mail or wrong password (the same answer).
    """
    normalized = email.strip().lower() if isinstance(email, str) else ""
    keys = (f"email:{normalized}", f"addr:{remote_addr or 'unknown'}")
    limiter = _login_throttle()
    wait = limiter.retry_after(*keys)
    if wait:
        raise TooManyRequests(TOO_MANY_FAILURES, retry_after=wait)
    user: User | None = (
        db.session.execute(db.select(User).where(User.email == normalized)).scalar_one_or_none()
        if (normalized)
        else None
    )
    stored = user.password_hash if user is not None and user.password_hash else None
    # always one argon2 verification, so that timing says nothing about the e-mail
    matches = credentials.check_secret(
        stored or credentials.dummy_hash(), password if isinstance(password, str) else ""
    )
    if user is None or stored is None or not matches:
        limiter.failed(*keys)
        metrics.LOGIN_FAILURES.inc()
        log.info("admin login failed from %s", remote_addr)
        raise Unauthorized(INVALID_LOGIN)
    return user


def _key() -> bytes:
    """The HS256 key of admin tokens: HKDF-SHA256 (RFC 5869) of SECRET_KEY,
    so that the Flask secret itself never signs anything.
    """
    secret = current_app.config["SECRET_KEY"]
    material = secret.encode() if isinstance(secret, str) else bytes(secret)
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"authserver admin token v1"
    ).derive(material)


def issue_admin_token(user: User) -> tuple[str, int]:
    """A short-lived admin bearer token for *user*: ``(token, expires_in)``."""
    lifetime = int(current_app.config["ADMIN_TOKEN_LIFETIME"])
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": current_app.config["ISSUER"],
        "aud": ADMIN_AUDIENCE,
        "sub": str(user.id),
        "email": user.email,
        "iat": now,
        "exp": now + lifetime,
        "jti": secrets.token_urlsafe(16),
    }
    token = jwt.encode(claims, _key(), algorithm=ADMIN_TOKEN_ALG, headers={"typ": ADMIN_TOKEN_TYPE})
    return token, lifetime


def verify_admin_token(token: str) -> User:
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
            _key(),
            algorithms=[ADMIN_TOKEN_ALG],
            audience=ADMIN_AUDIENCE,
            issuer=current_app.config["ISSUER"],
            options={"require": ["iss", "aud", "sub", "iat", "exp", "jti"]},
        )
        user_id = int(claims["sub"])
    except (jwt.PyJWTError, ValueError, TypeError):
        raise Unauthorized(INVALID_TOKEN) from None
    user = db.session.get(User, user_id)
    if user is None or user.email != claims.get("email"):
        raise Unauthorized(INVALID_TOKEN)
    return user
