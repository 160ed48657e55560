"""End to end: the authorization server and the example gateway as real
processes on loopback ports, tokens from a real OAuth client library
(requests-oauthlib), and the gateway's answers.

The authorization server runs under the production server (2 workers, started by
``tests/support/server.py``) on its own SQLite file (or its own PostgreSQL
database when AUTHSERVER_TEST_DATABASE_URL is set), set up through its console
command (``directory import``, ``clients create``, ``gateways create``) and its
admin API. Its access log (the app's, in the server's output) counts the gateways'
JWKS fetches.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest
import requests
from conftest import DATABASES, PG_URL  # tests/conftest.py (rootdir conftest)
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session
from sqlalchemy import create_engine
from support.postgres import create_database, drop_database
from support.server import Server, running_server

from authserver import keys
from authserver.config import normalize_database_url
from authserver.gateway import IntrospectionValidator, InvalidToken

from .forged_tokens import FORGED, Forge
from .processes import start_gateway
from .support import AUDIENCE, Key

pytestmark = pytest.mark.e2e

PASSWORD = "e2e correct horse battery staple"
DIRECTORY = {
    "organizations": [
        {"teccom_id": teccom_id, "name": f"Org {teccom_id}", "kind": "supplier"}
        for teccom_id in ("400100", "400200", "400300")
    ],
    "users": [
        {
            "email": "anna@example.com",
            "first_name": "Anna",
            "last_name": "Berg",
            "password": PASSWORD,
            "admin_of": ["400100", "400200", "400300"],
        }
    ],
}


@dataclass
class AuthServer:
    server: Server
    database_url: str
    access_log: Path
    client_id: str = ""
    client_secret: str = ""
    gateway_id: str = ""
    gateway_secret: str = ""

    @property
    def url(self) -> str:
        return self.server.url

    def cli(self, *args: str) -> str:
        result = self.server.cli(*args)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def fetch_token(self, scope: list[str] | None = None) -> str:
        """A token from the token endpoint, with requests-oauthlib (client_secret_basic)."""
        with OAuth2Session(
            client=BackendApplicationClient(client_id=self.client_id), scope=scope
        ) as session:
            token = session.fetch_token(
                self.url + "/oauth2/token",
                client_id=self.client_id,
                client_secret=self.client_secret,
                scope=scope,
            )
        return str(token["access_token"])

    def admin(self, method: str, path: str, **kwargs: object) -> requests.Response:
        login = requests.post(
            self.url + "/api/v1/auth/login",
            json={"email": "anna@example.com", "password": PASSWORD},
            timeout=10,
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        return requests.request(
            method, self.url + "/api/v1" + path, headers=headers, timeout=10, **kwargs
        )

    def jwks_fetches(self) -> int:
        return sum(
            '"GET /oauth2/jwks"' in line for line in self.access_log.read_text().splitlines()
        )

    def signing_key(self) -> Key:
        """The server's active signing key, read from its database like the
        server does (for the forged-token suite's validly signed variants)."""
        engine = create_engine(normalize_database_url(self.database_url))
        try:
            loaded = keys.KeyStore(engine).signing_key()
        finally:
            engine.dispose()
        key = Key.__new__(Key)
        key.alg, key.kid, key.private, key.public = (
            loaded.alg,
            loaded.kid,
            loaded.private_key,
            loaded.public_key,
        )
        return key


def credentials(output: str) -> tuple[str, str]:
    values = dict(line.split(":", 1) for line in output.splitlines() if ":" in line)
    return values["client_id"].strip(), values["client_secret"].strip()


@pytest.fixture(scope="module", params=DATABASES)
def authserver_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A SQLite file, and a fresh ``<test database>_gateway`` on PostgreSQL when
    AUTHSERVER_TEST_DATABASE_URL is set (dropped afterwards)."""
    if request.param == "postgresql":
        assert PG_URL is not None
        url = create_database(PG_URL, "_gateway")
        try:
            yield url
        finally:
            drop_database(url)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e-authserver-db') / 'authserver.sqlite3'}"


@pytest.fixture(scope="module")
def authserver(
    tmp_path_factory: pytest.TempPathFactory, authserver_database: str
) -> Iterator[AuthServer]:
    workdir = tmp_path_factory.mktemp("e2e-authserver")
    database_url = authserver_database
    extra_env = {
        # each worker re-reads the signing keys every second, and a rotated key
        # is published 2 s before it signs: every worker publishes it first
        "AUTHSERVER_KEY_CACHE_SECONDS": "1",
        "AUTHSERVER_KEY_ACTIVATION_DELAY": "2",
    }
    with running_server(
        database_url, workdir / "instance", workers=2, extra_env=extra_env
    ) as server:
        setup = AuthServer(server, database_url, server.log)
        directory = workdir / "directory.json"
        directory.write_text(json.dumps(DIRECTORY))
        setup.cli("directory", "import", str(directory))
        setup.client_id, setup.client_secret = credentials(
            setup.cli("clients", "create", "--org", "400100", "--admin", "anna@example.com")
        )
        setup.gateway_id, setup.gateway_secret = credentials(
            setup.cli("gateways", "create", "e2e-gateway")
        )
        added = setup.admin(
            "POST",
            f"/clients/{setup.client_id}/organizations",
            json={"teccom_id": "400200", "enabled": True, "notification_emails": []},
        )
        assert added.status_code == 201, added.text
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on loopback only
            yield setup


@pytest.fixture(scope="module")
def gateway(authserver: AuthServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    service = start_gateway(authserver.url, tmp_path_factory.mktemp("e2e-gateway") / "gateway.log")
    yield service.url
    service.stop()


def call(gateway: str, path: str, token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.get(gateway + path, headers=headers, timeout=10)


def test_token_allows_its_organizations(authserver: AuthServer, gateway: str) -> None:
    token = authserver.fetch_token()

    response = call(gateway, "/v1/export/400100/orders", token)
    assert response.status_code == 200
    assert response.json()["clientId"] == authserver.client_id
    assert call(gateway, "/v1/subscriptions?tecId=400200", token).status_code == 200


def test_organization_not_in_token_is_403(authserver: AuthServer, gateway: str) -> None:
    response = call(gateway, "/v1/export/400300/orders", authserver.fetch_token())
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"

    narrowed = authserver.fetch_token(scope=["export", "org:400100"])
    assert call(gateway, "/v1/export/400100/orders", narrowed).status_code == 200
    assert call(gateway, "/v1/export/400200/orders", narrowed).status_code == 403
    assert call(gateway, "/v1/subscriptions?tecId=400100", narrowed).status_code == 403


def test_disabled_organization_is_403_with_a_fresh_token(
    authserver: AuthServer, gateway: str
) -> None:
    path = f"/clients/{authserver.client_id}/organizations/400200"
    assert authserver.admin("PATCH", path, json={"enabled": False}).status_code == 200
    try:
        token = authserver.fetch_token()
        assert jwt.decode(token, options={"verify_signature": False})["organizations"] == ["400100"]
        response = call(gateway, "/v1/export/400200/orders", token)
        assert response.status_code == 403
        assert response.json()["error"] == "insufficient_scope"
        assert call(gateway, "/v1/export/400100/orders", token).status_code == 200
    finally:
        assert authserver.admin("PATCH", path, json={"enabled": True}).status_code == 200


def test_template_api_refuses_the_token(authserver: AuthServer, gateway: str) -> None:
    response = call(gateway, "/v1/templates", authserver.fetch_token())

    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


def test_no_token_is_401(gateway: str) -> None:
    response = call(gateway, "/v1/export/400100/orders")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="export-subscription-api"'


def test_admin_api_token_is_refused(authserver: AuthServer, gateway: str) -> None:
    login = requests.post(
        authserver.url + "/api/v1/auth/login",
        json={"email": "anna@example.com", "password": PASSWORD},
        timeout=10,
    )
    admin_token = login.json()["access_token"]

    response = call(gateway, "/v1/export/400100/orders", admin_token)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


@pytest.fixture(scope="module")
def forge(authserver: AuthServer) -> Forge:
    return Forge(authserver.url, authserver.signing_key())


def test_the_forge_signs_like_the_server(forge: Forge, gateway: str) -> None:
    """Baseline of the suite: unforged, the forge's token passes."""
    assert call(gateway, "/v1/export/400100/orders", forge.valid()).status_code == 200


@pytest.mark.parametrize("name", sorted(FORGED))
def test_forged_tokens_are_401(name: str, forge: Forge, gateway: str) -> None:
    response = call(gateway, "/v1/export/400100/orders", FORGED[name](forge))

    if name.startswith("oversized"):
        # gunicorn refuses a header field over 8 KiB before the app sees it
        assert response.status_code == 431
    else:
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"


@pytest.fixture(scope="module")
def introspector(authserver: AuthServer) -> IntrospectionValidator:
    return IntrospectionValidator(
        authserver.url,
        AUDIENCE,
        authserver.gateway_id,
        authserver.gateway_secret,
        cache_ttl=0,
        negative_cache_ttl=0,
    )


def test_real_introspection_accepts_a_real_token(
    authserver: AuthServer, introspector: IntrospectionValidator
) -> None:
    access_token = introspector.validate(authserver.fetch_token())

    assert access_token.client_id == authserver.client_id
    assert access_token.organizations == ("400100", "400200")


@pytest.mark.parametrize("name", sorted(FORGED))
def test_real_introspection_refuses_forged_tokens(
    name: str, forge: Forge, introspector: IntrospectionValidator
) -> None:
    with pytest.raises(InvalidToken):
        introspector.validate(FORGED[name](forge))


def test_key_rotation_under_traffic(authserver: AuthServer, tmp_path: Path) -> None:
    """``authserver keys rotate`` while a steady stream of fresh tokens goes
    through a gateway: no request fails, and the gateway fetched the JWKS
    twice (at start, and once when the first token of the new key came);
    the server publishes the key 2 s before it signs with it."""
    service = start_gateway(authserver.url, tmp_path / "gateway.log", workers=1)
    fetches_before = authserver.jwks_fetches()
    results: list[tuple[str, int]] = []
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            token = authserver.fetch_token()
            kid = jwt.get_unverified_header(token)["kid"]
            results.append((kid, call(service.url, "/v1/export/400100/orders", token).status_code))

    worker = threading.Thread(target=traffic)
    started = time.monotonic()
    worker.start()
    try:
        wait_for(lambda: len(results) >= 20, "traffic before the rotation")
        old_kid = results[0][0]
        authserver.cli("keys", "rotate")
        wait_for(lambda: sum(kid != old_kid for kid, _ in results) >= 20, "tokens of the new key")
    finally:
        stop.set()
        worker.join(30)
        service.stop()
    elapsed = time.monotonic() - started

    assert [status for _, status in results] == [200] * len(results)
    assert len({kid for kid, _ in results}) == 2
    # at most one more fetch per 30 s, only if the run was that slow (the server
    # allows max-age=1 here, and the validator keeps a set at least 30 s)
    fetches = authserver.jwks_fetches() - fetches_before
    assert 2 <= fetches <= 2 + int(elapsed // 30), (fetches, elapsed)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def introspecting_gateway(
    authserver: AuthServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    service = start_gateway(
        authserver.url,
        tmp_path_factory.mktemp("e2e-introspection") / "gateway.log",
        workers=1,
        GATEWAY_VALIDATION="introspection",
        GATEWAY_CLIENT_ID=authserver.gateway_id,
        GATEWAY_CLIENT_SECRET=authserver.gateway_secret,
    )
    yield service.url
    service.stop()


def test_introspecting_gateway_sees_disable_and_revocation_at_once(
    authserver: AuthServer,
    gateway: str,
    introspecting_gateway: str,
) -> None:
    """A JWT gateway trusts a token until it expires; a gateway asking the
    server (``GATEWAY_VALIDATION=introspection``) follows a disabled
    organization and a revocation on its next uncached question."""
    token, other = authserver.fetch_token(), authserver.fetch_token()
    path = f"/clients/{authserver.client_id}/organizations/400200"
    assert authserver.admin("PATCH", path, json={"enabled": False}).status_code == 200
    try:
        assert call(gateway, "/v1/export/400200/orders", token).status_code == 200
        response = call(introspecting_gateway, "/v1/export/400200/orders", token)
        assert response.status_code == 403
        assert response.json()["error"] == "insufficient_scope"
        assert call(introspecting_gateway, "/v1/export/400100/orders", token).status_code == 200
    finally:
        assert authserver.admin("PATCH", path, json={"enabled": True}).status_code == 200

    revoked = requests.post(
        authserver.url + "/oauth2/revoke",
        data={"token": other},
        auth=(authserver.client_id, authserver.client_secret),
        timeout=10,
    )
    assert revoked.status_code == 200
    assert call(gateway, "/v1/export/400100/orders", other).status_code == 200
    response = call(introspecting_gateway, "/v1/export/400100/orders", other)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
