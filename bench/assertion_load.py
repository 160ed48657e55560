"""``private_key_jwt`` load for ``bench/token_endpoint.py --private-key-jwt``.

Registers an EC P-256 public key for the demo client (through the service,
as an administrator would), then, before each run, signs one assertion per
request that the run can make (a ``jti`` is single use) and drives
``POST /oauth2/token`` with wrk and ``assertion-load.lua``, which sends each
body once. Signing happens before the run, so the client's cost is not in the
figures.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: bodies signed per second of load: above what 2 workers on 2 cores can serve
BODIES_PER_SECOND = 5000

_REGISTER = """
import sys
from authserver import create_app
from authserver.extensions import db
from authserver.models import Client, ClientAdministrator, User
from authserver.services import audit, client_keys
app = create_app()
with app.app_context():
    client = db.session.execute(db.select(Client).where(Client.client_id == sys.argv[1])).scalar_one()
    admin = db.session.execute(
        db.select(User).join(ClientAdministrator, ClientAdministrator.user_id == User.id)
        .where(ClientAdministrator.client_pk == client.id)).scalars().first()
    for key in client_keys.list_keys(admin, client.client_id):
        client_keys.remove_key(admin, client.client_id, key.thumbprint, audit.CLI)
    client_keys.add_key(admin, client.client_id, audit.CLI, key=sys.stdin.read(), label="bench")
"""


def register_key(env: dict[str, str], client_id: str) -> ec.EllipticCurvePrivateKey:
    """A fresh EC P-256 key pair; its public half registered for *client_id*."""
    private = ec.generate_private_key(ec.SECP256R1())
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    subprocess.run(
        [str(BIN / "python"), "-c", _REGISTER, client_id],
        input=public_pem.decode(),
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return private


def write_bodies(
    path: Path, private: ec.EllipticCurvePrivateKey, client_id: str, audience: str, count: int
) -> None:
    """*count* token-request bodies, each with a fresh assertion valid for 4 minutes."""
    now = int(time.time())
    with open(path, "w") as out:
        for _ in range(count):
            claims = {
                "iss": client_id,
                "sub": client_id,
                "aud": audience,
                "iat": now,
                "exp": now + 240,
                "jti": uuid.uuid4().hex,
            }
            assertion = jwt.encode(claims, private, algorithm="ES256")
            body = urlencode(
                {
                    "grant_type": "client_credentials",
                    "client_assertion_type": ASSERTION_TYPE,
                    "client_assertion": assertion,
                }
            )
            out.write(body + "\n")


def assertion_load(
    url: str,
    private: ec.EllipticCurvePrivateKey,
    client_id: str,
    audience: str,
    concurrency: int,
    seconds: int,
) -> dict[str, str]:
    """One wrk run; the ``RESULT`` fields (as ``token-load.sh`` prints them)."""
    with tempfile.TemporaryDirectory(prefix="assertion-load-") as tmp:
        bodies = Path(tmp) / "bodies.txt"
        write_bodies(bodies, private, client_id, audience, BODIES_PER_SECOND * max(1, seconds))
        result = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{concurrency}",
                f"-d{seconds}s",
                "--timeout",
                "30s",
                "--latency",
                "-s",
                str(Path(__file__).with_name("assertion-load.lua")),
                url,
            ],
            env={"AL_BODIES": str(bodies), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=False,
        )
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        return {"error": result.stderr.strip() or f"wrk exited {result.returncode}"}
    return dict(item.split("=", 1) for item in lines[-1].split()[1:])
