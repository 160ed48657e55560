"""require_token / refuse_client_tokens: RFC 6750 §2.1 and §3.1 answers."""

from __future__ import annotations

import pytest
from flask import Flask, jsonify, request
from flask.testing import FlaskClient

from authserver.gateway import TokenValidator
from authserver.gateway.decorators import (
    BearerAuth,
    current_token,
    refuse_client_tokens,
    require_token,
)

from .support import AUDIENCE, IssuerServer

REALM = "export-api"
MISSING = f'Bearer realm="{REALM}"'
INVALID = (
    f'Bearer realm="{REALM}", error="invalid_token", '
    'error_description="The access token signature is invalid."'
)


@pytest.fixture
def gateway(validator: TokenValidator) -> Flask:
    app = Flask(__name__)
    BearerAuth(app, validator, realm=REALM)

    @app.get("/v1/export/<tecId>/orders")
    @require_token(scope="export", organization="tecId")
    def orders(tecId: str) -> object:
        return jsonify(tecId=tecId, client_id=current_token().client_id)

    @app.route("/v1/subscriptions", methods=["GET", "POST"])
    @require_token(scope="subscription", organization="tecId")
    def subscriptions() -> object:
        return jsonify(tecId=request.args["tecId"])

    @app.get("/v1/header-org")
    @require_token(scope="export", organization=lambda: request.headers.get("X-TecCom-ID"))
    def header_org() -> object:
        return jsonify(ok=True)

    @app.get("/v1/templates")
    @refuse_client_tokens()
    def templates() -> object:  # pragma: no cover - never reached with a bearer token
        return jsonify(templates=["secret"])

    return app


@pytest.fixture
def http(gateway: Flask) -> FlaskClient:
    return gateway.test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_allowed_organization(http: FlaskClient, issuer_server: IssuerServer) -> None:
    response = http.get("/v1/export/400100/orders", headers=bearer(issuer_server.mint()))

    assert response.status_code == 200
    assert response.json == {"tecId": "400100", "client_id": "cl_partner"}


def test_scheme_is_case_insensitive(http: FlaskClient, issuer_server: IssuerServer) -> None:
    response = http.get(
        "/v1/export/400100/orders", headers={"Authorization": "bearer " + issuer_server.mint()}
    )

    assert response.status_code == 200


def test_no_token_is_401_without_error_code(http: FlaskClient, issuer_server: IssuerServer) -> None:
    response = http.get("/v1/export/400100/orders")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == MISSING
    assert response.json == {
        "error_description": "An access token is required in the Authorization header."
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert issuer_server.hits == {}


def test_other_scheme_counts_as_no_token(http: FlaskClient) -> None:
    response = http.get("/v1/export/400100/orders", headers={"Authorization": "Basic dXNlcjpwYXNz"})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == MISSING


def test_bad_token_is_401_invalid_token(http: FlaskClient, issuer_server: IssuerServer) -> None:
    token = issuer_server.mint()
    response = http.get("/v1/export/400100/orders", headers=bearer(token[:-4] + "AAAA"))

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == INVALID
    assert response.json == {
        "error": "invalid_token",
        "error_description": "The access token signature is invalid.",
    }


def test_organization_not_in_token_is_403(http: FlaskClient, issuer_server: IssuerServer) -> None:
    response = http.get("/v1/export/400300/orders", headers=bearer(issuer_server.mint()))

    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="{REALM}", error="insufficient_scope", '
        'error_description="The access token does not grant this organization."'
    )
    assert response.json == {
        "error": "insufficient_scope",
        "error_description": "The access token does not grant this organization.",
    }


def test_missing_api_scope_is_403_naming_the_scope(
    http: FlaskClient, issuer_server: IssuerServer
) -> None:
    token = issuer_server.mint(scope="subscription org:400100")
    response = http.get("/v1/export/400100/orders", headers=bearer(token))

    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="{REALM}", error="insufficient_scope", '
        'error_description="The access token does not grant this API.", scope="export"'
    )


def test_organization_from_query_parameter(http: FlaskClient, issuer_server: IssuerServer) -> None:
    token = issuer_server.mint()

    assert http.get("/v1/subscriptions?tecId=400200", headers=bearer(token)).status_code == 200
    assert http.get("/v1/subscriptions?tecId=400300", headers=bearer(token)).status_code == 403


@pytest.mark.parametrize("query", ["", "?tecId=", "?tecId=400100&tecId=400300"])
def test_missing_or_repeated_organization_is_400(
    http: FlaskClient, issuer_server: IssuerServer, query: str
) -> None:
    response = http.get("/v1/subscriptions" + query, headers=bearer(issuer_server.mint()))

    assert response.status_code == 400
    assert response.json == {
        "error": "invalid_request",
        "error_description": "The request must name exactly one organization.",
    }


def test_organization_from_callable(http: FlaskClient, issuer_server: IssuerServer) -> None:
    token = issuer_server.mint()

    assert (
        http.get("/v1/header-org", headers={**bearer(token), "X-TecCom-ID": "400100"}).status_code
        == 200
    )
    assert (
        http.get("/v1/header-org", headers={**bearer(token), "X-TecCom-ID": "400999"}).status_code
        == 403
    )
    assert http.get("/v1/header-org", headers=bearer(token)).status_code == 400


def test_token_in_query_string_only_is_a_request_without_token(
    http: FlaskClient, issuer_server: IssuerServer
) -> None:
    """RFC 6750 §3.1: an unsupported method (§2.3, the query) means the request
    lacks authentication: 401, a bare challenge, no error code; never validated."""
    response = http.get(f"/v1/export/400100/orders?access_token={issuer_server.mint()}")

    assert response.status_code == 401
    assert response.json == {
        "error_description": "An access token is required in the Authorization header."
    }
    assert response.headers["WWW-Authenticate"] == MISSING
    assert issuer_server.hits == {}


def test_token_in_query_string_and_header_is_invalid_request(
    http: FlaskClient, issuer_server: IssuerServer
) -> None:
    """RFC 6750 §3.1: more than one method for including an access token."""
    token = issuer_server.mint()
    response = http.get(f"/v1/export/400100/orders?access_token={token}", headers=bearer(token))

    assert response.status_code == 400
    assert response.json == {
        "error": "invalid_request",
        "error_description": "Send the access token in the Authorization header only.",
    }
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="{REALM}", error="invalid_request", '
        'error_description="Send the access token in the Authorization header only."'
    )
    assert issuer_server.hits == {}


def test_token_in_form_body_is_never_read(http: FlaskClient, issuer_server: IssuerServer) -> None:
    token = issuer_server.mint()
    response = http.post("/v1/subscriptions?tecId=400100", data={"access_token": token})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == MISSING
    both = http.post(
        "/v1/subscriptions?tecId=400100", data={"access_token": token}, headers=bearer(token)
    )
    assert both.status_code == 400
    assert both.json["error"] == "invalid_request"
    assert issuer_server.hits == {}


@pytest.mark.parametrize("authorization", ["Bearer", "Bearer ", "Bearer a b", 'Bearer a"b'])
def test_malformed_bearer_credentials_are_invalid_token(
    http: FlaskClient, authorization: str
) -> None:
    response = http.get("/v1/export/400100/orders", headers={"Authorization": authorization})

    assert response.status_code == 401
    assert response.json == {
        "error": "invalid_token",
        "error_description": "The access token is malformed.",
    }


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"scope": "export subscription template org:400100", "organizations": ["400100"]},
        {"scope": "template"},
    ],
)
def test_template_api_refuses_every_client_token(
    http: FlaskClient, issuer_server: IssuerServer, claims: dict[str, object]
) -> None:
    response = http.get("/v1/templates", headers=bearer(issuer_server.mint(**claims)))

    assert response.status_code == 403
    assert response.json == {
        "error": "insufficient_scope",
        "error_description": "Access tokens of this server are not valid for the Template API.",
    }


def test_template_api_without_token_is_401(http: FlaskClient) -> None:
    response = http.get("/v1/templates")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == MISSING


def test_template_api_with_forged_token_is_401(
    http: FlaskClient, issuer_server: IssuerServer
) -> None:
    response = http.get("/v1/templates", headers=bearer(issuer_server.mint()[:-4] + "AAAA"))

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == INVALID


def test_unreachable_authorization_server_is_503(issuer_server: IssuerServer) -> None:
    app = Flask(__name__)
    BearerAuth(app, TokenValidator("http://127.0.0.1:9", AUDIENCE, timeout=1), realm=REALM)

    @app.get("/x")
    @require_token(scope=None)
    def view() -> str:  # pragma: no cover
        return "no"

    response = app.test_client().get("/x", headers=bearer(issuer_server.mint()))

    assert response.status_code == 503
    assert response.json == {
        "error": "temporarily_unavailable",
        "error_description": "The authorization server is unavailable.",
    }
    assert response.headers["Retry-After"] == "5"
    assert "WWW-Authenticate" not in response.headers


@pytest.mark.parametrize("realm", ['a"b', "", "x" * 101, "r\u00e9alm"])
def test_realm_that_needs_escaping_is_refused(validator: TokenValidator, realm: str) -> None:
    with pytest.raises(ValueError):
        BearerAuth(Flask(__name__), validator, realm=realm)


def test_every_error_description_fits_the_rfc_6750_challenge_syntax() -> None:
    """RFC 6750 §3: ``error_description`` (and so every description the
    package can raise) is printable ASCII without ``"`` or ``\\``, so the
    challenge never needs escaping and never breaks."""
    import ast
    import re
    from pathlib import Path

    import authserver.gateway
    from authserver.gateway import errors

    allowed = re.compile(r"[\x20\x21\x23-\x5B\x5D-\x7E]+")
    raised = {name for name in errors.__all__ if name != "GatewayError"}
    texts = [getattr(errors, name).description for name in errors.__all__]
    for module in Path(authserver.gateway.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in raised
                and node.args
            ):
                argument = node.args[0]
                parts = argument.values if isinstance(argument, ast.JoinedStr) else [argument]
                texts += [part.value for part in parts if isinstance(part, ast.Constant)]
    assert len(texts) >= 25
    for text in texts:
        assert isinstance(text, str) and allowed.fullmatch(text), text
