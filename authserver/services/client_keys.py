"""A client's public keys for ``private_key_jwt`` (RFC 7523 §2.2), its
``jwks_uri``, and the switch that turns secret authentication off.

A client may have secrets, keys, or both. Up to :data:`MAX_KEYS` keys are
live at once, so that a partner can add a new key, move to it and remove
the old one without downtime. A client whose secret authentication is off
must keep a way in: removing its last key (with no ``jwks_uri``), or turning
secrets off for a client without keys, is refused. Every change takes the
client's row lock, checks the caller's right after it, and is audited in the
same transaction (docs/rules.md, rule 8). Every change of the keys or the
``jwks_uri`` also raises the client's ``keys_version``, which tells the token
path that the keys it keeps are stale.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from ..errors import DuplicateKey, KeyNotFound, LastCredential, TooManyKeys, ValidationError
from ..extensions import db
from ..jwks_uri import JwksFetchError, check_uri
from ..models import Client, ClientKey, User
from ..public_keys import InvalidPublicKey, parse_public_key
from . import audit, notices
from .clients import get_client, lock_administered_client, write_transaction

#: keys live at once per client (room to rotate: old, new, and one spare)
MAX_KEYS = 3
#: the longest label
MAX_LABEL = 100
#: the longest ``jwks_uri``
MAX_JWKS_URI = 2000

_LAST_CREDENTIAL = (
    "Secret authentication is off for this client: register another key or "
    "turn secret authentication on first."
)


def _keys(client: Client) -> list[ClientKey]:
    return list(
        db.session.execute(
            db.select(ClientKey)
            .where(ClientKey.client_pk == client.id)
            .order_by(ClientKey.id)
            .execution_options(populate_existing=True)
        ).scalars()
    )


def list_keys(user: User, client_id: str) -> list[ClientKey]:
    """The keys of a client *user* administers, oldest first.

    :raises ClientNotFound: no such client, or *user* is not its administrator.
    """
    return _keys(get_client(user, client_id))


def validate_label(label: object) -> str:
    """:raises ValidationError: not a string of at most :data:`MAX_LABEL` characters."""
    if not isinstance(label, str) or len(label.strip()) > MAX_LABEL:
        raise ValidationError(
            f"label must be text of at most {MAX_LABEL} characters.", field="label"
        )
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in label):
        raise ValidationError("label must not contain control characters.", field="label")
    return label.strip()


@write_transaction
def add_key(
    user: User, client_id: str, ctx: audit.AuditContext, *, key: str, label: str = ""
) -> ClientKey:
    """Register a public key (a JWK or a PEM public key) for a client *user* administers.

    :raises ValidationError: not an acceptable public key, or a bad label.
    :raises TooManyKeys: the client has :data:`MAX_KEYS` keys already.
    :raises DuplicateKey: the same key is registered already.
    :raises ClientNotFound: no such client, or *user* is not its administrator.
    """
    # the right first: a client that is not the caller's is 404 (audited) before any 422
    client = lock_administered_client(user, client_id, ctx, "client.add_key")
    label = validate_label(label)
    try:
        public = parse_public_key(key)
    except InvalidPublicKey as error:
        raise ValidationError(str(error), field="key") from None
    existing = _keys(client)
    if any(k.thumbprint == public.thumbprint for k in existing):
        raise DuplicateKey("This key is registered for the client already.")
    if len(existing) >= MAX_KEYS:
        raise TooManyKeys(f"A client has at most {MAX_KEYS} keys: remove one first.")
    added = ClientKey(
        client_pk=client.id,
        thumbprint=public.thumbprint,
        kid=public.kid,
        label=label,
        public_jwk=public.jwk_json,
    )
    db.session.add(added)
    client.keys_version += 1
    try:
        db.session.flush()
    except IntegrityError:  # the unique constraint decides a race
        db.session.rollback()
        raise DuplicateKey("This key is registered for the client already.") from None
    audit.record(
        ctx,
        "client.key_added",
        client_id=client.client_id,
        target=public.thumbprint,
        details={"kid": public.kid, "label": label, "kty": public.jwk["kty"]},
    )
    notices.key_added(client, ctx.actor, label=label, thumbprint=public.thumbprint)
    db.session.commit()
    return added


@write_transaction
def remove_key(user: User, client_id: str, thumbprint: str, ctx: audit.AuditContext) -> None:
    """Remove a key: assertions signed with it fail from the next request on.

    :raises KeyNotFound: the client has no key with this thumbprint.
    :raises LastCredential: secret authentication is off and no other key is left.
    :raises ClientNotFound: no such client, or *user* is not its administrator.
    """
    client = lock_administered_client(user, client_id, ctx, "client.remove_key")
    keys = _keys(client)
    found = next((k for k in keys if k.thumbprint == thumbprint), None)
    if found is None:
        raise KeyNotFound("The client has no such key.")
    if not client.secret_auth_enabled and len(keys) == 1 and not client.jwks_uri:
        raise LastCredential(_LAST_CREDENTIAL)
    audit.record(
        ctx,
        "client.key_removed",
        client_id=client.client_id,
        target=found.thumbprint,
        details={"kid": found.kid, "label": found.label},
    )
    notices.key_removed(client, ctx.actor, label=found.label, thumbprint=found.thumbprint)
    db.session.delete(found)
    client.keys_version += 1
    db.session.commit()


@write_transaction
def set_secret_authentication(
    user: User, client_id: str, ctx: audit.AuditContext, *, enabled: bool
) -> Client:
    """Turn ``client_secret_basic``/``client_secret_post`` on or off for a client.

    :raises ValidationError: *enabled* is not a boolean.
    :raises LastCredential: turning it off for a client with no key and no ``jwks_uri``.
    :raises ClientNotFound: no such client, or *user* is not its administrator.
    """
    if not isinstance(enabled, bool):
        raise ValidationError("enabled must be true or false.", field="enabled")
    client = lock_administered_client(user, client_id, ctx, "client.secret_authentication")
    if not enabled and not _keys(client) and not client.jwks_uri:
        raise LastCredential(
            "Register a key first: a client without secret authentication needs a key."
        )
    if client.secret_auth_enabled != enabled:
        client.secret_auth_enabled = enabled
        action = "client.secret_auth_enabled" if enabled else "client.secret_auth_disabled"
        audit.record(ctx, action, client_id=client.client_id)
        notices.secret_authentication_switched(client, ctx.actor, enabled=enabled)
    db.session.commit()
    return client


@write_transaction
def set_jwks_uri(
    user: User,
    client_id: str,
    ctx: audit.AuditContext,
    jwks_uri: str | None,
    *,
    allow_local: bool = False,
) -> Client:
    """Set (or with ``None`` remove) the URL where the client publishes its keys.

    :param allow_local: also accept http URLs (never in production).
    :raises ValidationError: not an https URL (or longer than :data:`MAX_JWKS_URI`).
    :raises LastCredential: removing it leaves a client without secrets no key.
    :raises ClientNotFound: no such client, or *user* is not its administrator.
    """
    # the right first: a client that is not the caller's is 404 (audited) before any 422
    client = lock_administered_client(user, client_id, ctx, "client.jwks_uri")
    if jwks_uri is not None:
        if not isinstance(jwks_uri, str) or len(jwks_uri) > MAX_JWKS_URI:
            raise ValidationError("jwks_uri must be an https URL.", field="jwks_uri")
        try:
            check_uri(jwks_uri, allow_local=allow_local)
        except JwksFetchError:
            raise ValidationError("jwks_uri must be an https URL.", field="jwks_uri") from None
    if jwks_uri is None and not client.secret_auth_enabled and not _keys(client):
        raise LastCredential(_LAST_CREDENTIAL)
    if client.jwks_uri != jwks_uri:
        client.jwks_uri = jwks_uri
        client.keys_version += 1
        action = "client.jwks_uri_set" if jwks_uri else "client.jwks_uri_removed"
        audit.record(ctx, action, client_id=client.client_id, target=jwks_uri)
        notices.jwks_uri_changed(client, ctx.actor, jwks_uri)
    db.session.commit()
    return client
