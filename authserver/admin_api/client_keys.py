"""``/api/v1/clients/{id}/keys``, ``/secret-authentication`` and ``/jwks-uri``:
the credentials of ``private_key_jwt`` (RFC 7523 §2.2) and the switch that
turns secret authentication off for a client that uses keys only.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, url_for
from flask.views import MethodView

from ..models import ClientKey
from ..public_keys import load_verifier
from ..services import client_keys
from .base import PREFIX, Blueprint, audit_context, current_user
from .schemas import (
    ClientKeyCreateSchema,
    ClientKeySchema,
    JwksUriSchema,
    JwksUriStateSchema,
    SecretAuthenticationSchema,
    SecretAuthenticationStateSchema,
)

blp = Blueprint(
    "client_keys",
    __name__,
    url_prefix=PREFIX + "/clients/<client_id>",
    description="Keys for private_key_jwt client authentication, and secret authentication",
)


def key_body(key: ClientKey) -> dict[str, Any]:
    """A key as the API shows it: public material only."""
    jwk = json.loads(key.public_jwk)
    return {
        "thumbprint": key.thumbprint,
        "kid": key.kid,
        "label": key.label,
        "kty": jwk["kty"],
        "algorithms": list(load_verifier(jwk).algorithms),
        "public_jwk": jwk,
        "created_at": key.created_at,
    }


@blp.route("/keys")
class KeyList(MethodView):
    @blp.response(200, ClientKeySchema(many=True))
    @blp.refusals(401, 404)
    def get(self, client_id: str) -> list[dict[str, Any]]:
        """The client's public keys, oldest first."""
        return [key_body(k) for k in client_keys.list_keys(current_user(), client_id)]

    @blp.arguments(ClientKeyCreateSchema)
    @blp.response(201, ClientKeySchema)
    @blp.refusals(401, 404, 409, 415)
    def post(
        self, body: dict[str, Any], client_id: str
    ) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Register a public key (a JWK or a PEM public key, never the private
        key). At most 3 keys are live at once (409): add the new key, move the
        client to it, then remove the old one. A key registered already is 409;
        one that is not acceptable (a private key, RSA under 2048 bits, an
        unsupported curve) is 422."""
        key = client_keys.add_key(
            current_user(), client_id, audit_context(), key=body["key"], label=body["label"]
        )
        location = url_for("client_keys.KeyItem", client_id=client_id, thumbprint=key.thumbprint)
        return key_body(key), 201, {"Location": location}


@blp.route("/keys/<thumbprint>")
class KeyItem(MethodView):
    @blp.response(204)
    @blp.refusals(401, 404, 409)
    def delete(self, client_id: str, thumbprint: str) -> None:
        """Remove a key: assertions signed with it fail from the next request
        on. The last key of a client whose secret authentication is off cannot
        be removed (409)."""
        client_keys.remove_key(current_user(), client_id, thumbprint, audit_context())


@blp.route("/secret-authentication", methods=["PUT"])
@blp.arguments(SecretAuthenticationSchema)
@blp.response(200, SecretAuthenticationStateSchema)
@blp.refusals(401, 404, 409, 415)
def put_secret_authentication(body: dict[str, Any], client_id: str) -> dict[str, Any]:
    """Turn secret authentication (``client_secret_basic``/``client_secret_post``)
    on or off. Off, a secret is ``invalid_client`` even when it is right; a
    client needs a key (or a ``jwks_uri``) first (409)."""
    client = client_keys.set_secret_authentication(
        current_user(), client_id, audit_context(), enabled=body["enabled"]
    )
    return {"client_id": client.client_id, "enabled": client.secret_auth_enabled}


@blp.route("/jwks-uri", methods=["PUT"])
@blp.arguments(JwksUriSchema)
@blp.response(200, JwksUriStateSchema)
@blp.refusals(401, 404, 409, 415)
def put_jwks_uri(body: dict[str, Any], client_id: str) -> dict[str, Any]:
    """Set the https URL where the client publishes its public keys (a JWK
    Set), or remove it with ``null``. Its keys are fetched when an assertion
    arrives and cached as the answer's ``Cache-Control`` allows."""
    client = client_keys.set_jwks_uri(
        current_user(),
        client_id,
        audit_context(),
        body["jwks_uri"],
        allow_local=bool(current_app.config["JWKS_URI_ALLOW_LOCAL"]),
    )
    return {"client_id": client.client_id, "jwks_uri": client.jwks_uri}
