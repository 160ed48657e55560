"""The floor of this stack: a bare Flask app whose token endpoint only signs
an ES256 JWT with a key loaded once per process (no client authentication,
no database). ``bench/token_endpoint.py`` measures it in the same run as
authserver and prints authserver's figure as a ratio of this one.

    gunicorn --workers 2 --no-control-socket --chdir bench bare_flask:app
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask, jsonify, request

KEY = ec.generate_private_key(ec.SECP256R1())
KID = secrets.token_urlsafe(8)
ISSUER = "http://127.0.0.1"
LIFETIME = 300

app = Flask(__name__)


@app.post("/oauth2/token")
def token() -> Any:
    if request.form.get("grant_type") != "client_credentials":
        return jsonify(error="unsupported_grant_type"), 400
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "bench-client",
        "client_id": "bench-client",
        "aud": "export-subscription-api",
        "iat": now,
        "exp": now + LIFETIME,
        "jti": secrets.token_urlsafe(16),
        "scope": "export subscription org:400100",
        "organizations": ["400100"],
    }
    access_token = jwt.encode(claims, KEY, algorithm="ES256", headers={"kid": KID, "typ": "at+jwt"})
    response = jsonify(
        access_token=access_token,
        token_type="Bearer",
        expires_in=LIFETIME,
        scope=claims["scope"],
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
