"""node ``openid-client`` (panva) with ``private_key_jwt`` against the real
server: RFC 8414 discovery, then the client credentials grant.

Needs node and npm; ``openid-client`` is installed with npm into a temporary
folder (pinned below). Skipped, with the reason, where that is not possible.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import jwt
import pytest
from conftest import Directory
from support.assertions import key_pair, keyed_partner

pytestmark = pytest.mark.e2e

OPENID_CLIENT = "openid-client@6.9.1"
SCRIPT = Path(__file__).with_name("node") / "private_key_jwt.mjs"


@pytest.fixture(scope="module")
def node_modules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node and npm are needed for openid-client")
    folder = tmp_path_factory.mktemp("openid-client")
    try:
        installed = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", OPENID_CLIENT],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=180,
        )
    except subprocess.TimeoutExpired:
        pytest.skip("npm install openid-client timed out")
    if installed.returncode != 0:
        pytest.skip(f"npm install {OPENID_CLIENT} failed: {installed.stderr.strip()[:300]}")
    shutil.copy(SCRIPT, folder / SCRIPT.name)
    return folder


def test_openid_client_gets_tokens_with_private_key_jwt(server, data, node_modules):
    pair = key_pair("EC")
    client_id = keyed_partner(Directory(), "620100", pair.public_pem)
    result = subprocess.run(
        ["node", SCRIPT.name],
        cwd=node_modules,
        env={
            **os.environ,
            "ISSUER": server.url,
            "CLIENT_ID": client_id,
            "PRIVATE_KEY_PEM": pair.private_pem,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    tokens = result.stdout.split()
    assert len(tokens) == 2
    for token in tokens:
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["client_id"] == client_id
        assert claims["scope"] == "export org:620100"
