"""BearerMiddleware: the RFC 6750 §2.1 and §3.1 answers of the Flask
decorators, for a plain WSGI application (no Flask), with a real issuer."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable
from typing import Any

import pytest
from flask import Flask, request
from werkzeug.test import Client, EnvironBuilder, TestResponse, run_wsgi_app

from authserver.gateway import AccessToken, IntrospectionValidator, TokenValidator
from authserver.gateway.bearer import Validator
from authserver.gateway.decorators import (
    BearerAuth,
    require_token,
)
from authserver.gateway.decorators import (
    refuse_client_tokens as refuse_view,
)
from authserver.gateway.wsgi import (
    ENVIRON_KEY,
    BearerMiddleware,
    Rule,
    protect,
    public,
    refuse_client_tokens,
)

from .forged_tokens import FORGED, Forge
from .support import AUDIENCE, IssuerServer

REALM = "export-api"
MISSING = f'Bearer realm="{REALM}"'
INVALID = (
    f'Bearer realm="{REALM}", error="invalid_token", '
    'error_description="The access token signature is invalid."'
)
NO_TOKEN = {"error_description": "An access token is required in the Authorization header."}
ONE_ORGANIZATION = {
    "error": "invalid_request",
    "error_description": "The request must name exactly one organization.",
}
TEMPLATE = {
    "error": "insufficient_scope",
    "error_description": "Access tokens of this server are not valid for the Template API.",
}

RULES = [
    public("/healthz"),
    protect(re.compile(r"/v1/export/(?P<tecId>[^/]+)(/|$)"), scope="export", organization="tecId"),
    protect("/v1/subscriptions", scope="subscription", organization="tecId"),
    protect("/v1/header-org", organization=lambda environ: environ.get("HTTP_X_TECCOM_ID")),
    refuse_client_tokens("/v1/templates"),
]


class Application:
    """A plain WSGI application that records every environ it is called with
    and answers with the body it read."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.seen.append(environ)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"app:" + body]


@pytest.fixture
def app() -> Application:
    return Application()


@pytest.fixture
def http(app: Application, validator: TokenValidator) -> Client:
    return Client(BearerMiddleware(app, validator, realm=REALM, rules=RULES))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(
    response: TestResponse, status: int, body: dict[str, str], challenge: str | None
) -> None:
    """The exact answer of decorators.error_response."""
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert (
        response.data == (json.dumps(body, separators=(",", ":"), sort_keys=True) + "\n").encode()
    )
    assert response.headers["Content-Length"] == str(len(response.data))
    assert response.headers.get("WWW-Authenticate") == challenge
    assert response.headers["Cache-Control"] == "no-store"


def test_allowed_organization_hands_the_token_to_the_application(
    http: Client,
    app: Application,
    issuer_server: IssuerServer,
) -> None:
    token = issuer_server.mint()
    response = http.get("/v1/export/400100/orders", headers=bearer(token))

    assert response.status_code == 200
    assert response.data == b"app:"
    [environ] = app.seen
    access_token = environ[ENVIRON_KEY]
    assert isinstance(access_token, AccessToken)
    assert access_token.client_id == "cl_partner"
    assert access_token.organizations == ("400100", "400200")
    assert access_token.jti == TokenValidator(issuer_server.issuer, AUDIENCE).validate(token).jti


def test_scheme_is_case_insensitive(http: Client, issuer_server: IssuerServer) -> None:
    response = http.get(
        "/v1/export/400100", headers={"Authorization": "bearer " + issuer_server.mint()}
    )

    assert response.status_code == 200


def test_no_token_is_401_without_error_code(
    http: Client, app: Application, issuer_server: IssuerServer
) -> None:
    response = http.get("/v1/export/400100/orders")

    assert_error(response, 401, NO_TOKEN, MISSING)
    assert app.seen == []
    assert issuer_server.hits == {}


def test_other_scheme_counts_as_no_token(http: Client) -> None:
    response = http.get("/v1/export/400100/orders", headers={"Authorization": "Basic dXNlcjpwYXNz"})

    assert_error(response, 401, NO_TOKEN, MISSING)


def test_bad_token_is_401_invalid_token(
    http: Client, app: Application, issuer_server: IssuerServer
) -> None:
    response = http.get(
        "/v1/export/400100/orders", headers=bearer(issuer_server.mint()[:-4] + "AAAA")
    )

    assert_error(
        response,
        401,
        {"error": "invalid_token", "error_description": "The access token signature is invalid."},
        INVALID,
    )
    assert app.seen == []


@pytest.mark.parametrize("authorization", ["Bearer", "Bearer ", "Bearer a b", 'Bearer a"b'])
def test_malformed_bearer_credentials_are_invalid_token(http: Client, authorization: str) -> None:
    response = http.get("/v1/export/400100/orders", headers={"Authorization": authorization})

    assert_error(
        response,
        401,
        {"error": "invalid_token", "error_description": "The access token is malformed."},
        f'Bearer realm="{REALM}", error="invalid_token", '
        'error_description="The access token is malformed."',
    )


def test_organization_not_in_token_is_403(
    http: Client, app: Application, issuer_server: IssuerServer
) -> None:
    response = http.get("/v1/export/400300/orders", headers=bearer(issuer_server.mint()))

    assert_error(
        response,
        403,
        {
            "error": "insufficient_scope",
            "error_description": "The access token does not grant this organization.",
        },
        f'Bearer realm="{REALM}", error="insufficient_scope", '
        'error_description="The access token does not grant this organization."',
    )
    assert app.seen == []


def test_missing_api_scope_is_403_naming_the_scope(
    http: Client, issuer_server: IssuerServer
) -> None:
    response = http.get(
        "/v1/export/400100/orders", headers=bearer(issuer_server.mint(scope="subscription"))
    )

    assert_error(
        response,
        403,
        {
            "error": "insufficient_scope",
            "error_description": "The access token does not grant this API.",
        },
        f'Bearer realm="{REALM}", error="insufficient_scope", '
        'error_description="The access token does not grant this API.", scope="export"',
    )


def test_organization_from_query_parameter(
    http: Client, app: Application, issuer_server: IssuerServer
) -> None:
    token = issuer_server.mint()

    assert http.get("/v1/subscriptions?tecId=400200", headers=bearer(token)).status_code == 200
    assert (
        http.get("/v1/subscriptions/sub-1?tecId=400200", headers=bearer(token)).status_code == 200
    )
    assert http.get("/v1/subscriptions?tecId=400300", headers=bearer(token)).status_code == 403
    assert len(app.seen) == 2


@pytest.mark.parametrize("query", ["", "?tecId=", "?tecId=400100&tecId=400300", "?tecid=400100"])
def test_missing_or_repeated_organization_is_400(
    http: Client, app: Application, issuer_server: IssuerServer, query: str
) -> None:
    response = http.get("/v1/subscriptions" + query, headers=bearer(issuer_server.mint()))

    assert_error(
        response,
        400,
        ONE_ORGANIZATION,
        f'Bearer realm="{REALM}", error="invalid_request", '
        'error_description="The request must name exactly one organization."',
    )
    assert app.seen == []


def test_invalid_token_is_answered_before_the_organization(
    http: Client, issuer_server: IssuerServer
) -> None:
    """As require_token: the token first, then what the request names."""
    response = http.get(
        "/v1/subscriptions?tecId=1&tecId=2", headers=bearer(issuer_server.mint()[:-4] + "AAAA")
    )

    assert response.status_code == 401


def test_organization_from_callable(http: Client, issuer_server: IssuerServer) -> None:
    token = issuer_server.mint()

    assert (
        http.get("/v1/header-org", headers={**bearer(token), "X-TecCom-ID": "400100"}).status_code
        == 200
    )
    assert (
        http.get("/v1/header-org", headers={**bearer(token), "X-TecCom-ID": "400999"}).status_code
        == 403
    )
    assert_error(
        http.get("/v1/header-org", headers=bearer(token)),
        400,
        ONE_ORGANIZATION,
        f'Bearer realm="{REALM}", error="invalid_request", '
        'error_description="The request must name exactly one organization."',
    )


def test_token_in_query_string_only_is_a_request_without_token(
    http: Client, issuer_server: IssuerServer
) -> None:
    """RFC 6750 §3.1: an unsupported method (§2.3, the query) means the request
    lacks authentication: 401, a bare challenge, no error code; never validated."""
    response = http.get(f"/v1/export/400100/orders?access_token={issuer_server.mint()}")

    assert_error(response, 401, NO_TOKEN, MISSING)
    assert issuer_server.hits == {}


def test_token_in_query_string_and_header_is_invalid_request(
    http: Client, issuer_server: IssuerServer
) -> None:
    """RFC 6750 §3.1: more than one method for including an access token."""
    token = issuer_server.mint()
    response = http.get(f"/v1/export/400100/orders?access_token={token}", headers=bearer(token))

    assert_error(
        response,
        400,
        {
            "error": "invalid_request",
            "error_description": "Send the access token in the Authorization header only.",
        },
        f'Bearer realm="{REALM}", error="invalid_request", '
        'error_description="Send the access token in the Authorization header only."',
    )
    assert issuer_server.hits == {}


def test_token_in_form_body(http: Client, app: Application, issuer_server: IssuerServer) -> None:
    token = issuer_server.mint()
    alone = http.post("/v1/subscriptions?tecId=400100", data={"access_token": token})
    both = http.post(
        "/v1/subscriptions?tecId=400100", data={"access_token": token}, headers=bearer(token)
    )

    assert_error(alone, 401, NO_TOKEN, MISSING)
    assert_error(
        both,
        400,
        {
            "error": "invalid_request",
            "error_description": "Send the access token in the Authorization header only.",
        },
        f'Bearer realm="{REALM}", error="invalid_request", '
        'error_description="Send the access token in the Authorization header only."',
    )
    assert app.seen == []
    assert issuer_server.hits == {}


def test_a_form_body_read_for_the_check_reaches_the_application_whole(
    http: Client,
    app: Application,
    issuer_server: IssuerServer,
) -> None:
    response = http.post(
        "/v1/subscriptions?tecId=400100",
        data={"event": "order.shipped", "n": "1"},
        headers=bearer(issuer_server.mint()),
    )

    assert response.status_code == 200
    assert response.data == b"app:event=order.shipped&n=1"
    assert app.seen[0]["CONTENT_LENGTH"] == "23"


def call(middleware: BearerMiddleware, environ: dict[str, Any]) -> tuple[str, bytes]:
    app_iter, status, _ = run_wsgi_app(middleware, environ)
    return status, b"".join(app_iter)


def test_other_bodies_are_never_read(
    app: Application, validator: TokenValidator, issuer_server: IssuerServer
) -> None:
    """A JSON body, and a form body without a Content-Length from a server that
    does not promise a terminated stream (PEP 3333), stay as they are."""
    middleware = BearerMiddleware(app, validator, realm=REALM, rules=RULES)
    headers = bearer(issuer_server.mint())
    json_body = EnvironBuilder(
        "/v1/export/400100", method="POST", headers=headers, json={"access_token": "x"}
    ).get_environ()
    form = EnvironBuilder(
        "/v1/export/400100",
        method="POST",
        headers=headers,
        data="access_token=x",
        content_type="application/x-www-form-urlencoded",
    ).get_environ()
    del form["CONTENT_LENGTH"]
    streams = [json_body["wsgi.input"], form["wsgi.input"]]

    assert call(middleware, json_body) == ("200 OK", b'app:{"access_token": "x"}')
    assert call(middleware, form) == ("200 OK", b"app:")
    assert [environ["wsgi.input"] for environ in app.seen] == streams
    assert [stream.tell() for stream in streams] == [21, 0]


def test_a_terminated_form_stream_without_length_is_read(
    app: Application, validator: TokenValidator, issuer_server: IssuerServer
) -> None:
    middleware = BearerMiddleware(app, validator, realm=REALM, rules=RULES)
    environ = EnvironBuilder(
        "/v1/export/400100",
        method="POST",
        headers=bearer(issuer_server.mint()),
        content_type="application/x-www-form-urlencoded",
    ).get_environ()
    del environ["CONTENT_LENGTH"]
    environ.update({"wsgi.input": io.BytesIO(b"a=1&access_token=x"), "wsgi.input_terminated": True})

    status, body = call(middleware, environ)

    assert status == "400 Bad Request"
    assert json.loads(body)["error"] == "invalid_request"


def test_form_body_over_the_limit_is_413(
    app: Application, validator: TokenValidator, issuer_server: IssuerServer
) -> None:
    http = Client(BearerMiddleware(app, validator, realm=REALM, rules=RULES, max_form_bytes=16))
    headers = bearer(issuer_server.mint())

    assert (
        http.post("/v1/export/400100", data={"a": "x" * 14}, headers=headers).data
        == b"app:a=" + b"x" * 14
    )
    response = http.post("/v1/export/400100", data={"a": "x" * 15}, headers=headers)

    assert_error(
        response,
        413,
        {"error": "invalid_request", "error_description": "The form body is too large."},
        f'Bearer realm="{REALM}", error="invalid_request", '
        'error_description="The form body is too large."',
    )
    # without an Authorization header the body is not read: 401, whatever it holds
    assert http.post("/v1/export/400100", data={"a": "x" * 99}).status_code == 401
    assert len(app.seen) == 1


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"scope": "export subscription template org:400100", "organizations": ["400100"]},
        {"scope": "template"},
    ],
)
def test_template_api_refuses_every_client_token(
    http: Client, app: Application, issuer_server: IssuerServer, claims: dict[str, object]
) -> None:
    response = http.get("/v1/templates/tpl-1", headers=bearer(issuer_server.mint(**claims)))

    assert_error(
        response,
        403,
        TEMPLATE,
        f'Bearer realm="{REALM}", error="insufficient_scope", '
        f'error_description="{TEMPLATE["error_description"]}"',
    )
    assert app.seen == []


def test_template_api_without_token_or_with_a_forged_one_is_401(
    http: Client, issuer_server: IssuerServer
) -> None:
    assert_error(http.get("/v1/templates"), 401, NO_TOKEN, MISSING)
    forged = http.get("/v1/templates", headers=bearer(issuer_server.mint()[:-4] + "AAAA"))
    assert forged.status_code == 401
    assert forged.headers["WWW-Authenticate"] == INVALID


def test_a_path_no_rule_covers_is_refused_by_default(
    http: Client, app: Application, issuer_server: IssuerServer
) -> None:
    """``default="deny"``: a route the rules forgot, or a path the router reads
    differently (here a prefix rule that does not cover a longer segment), is
    refused like the Template API."""
    assert_error(http.get("/v1/subscriptionsx?tecId=400100"), 401, NO_TOKEN, MISSING)
    response = http.get("/v2/export/400100", headers=bearer(issuer_server.mint()))

    assert_error(
        response,
        403,
        {
            "error": "insufficient_scope",
            "error_description": "Access tokens of this server are not valid for this path.",
        },
        f'Bearer realm="{REALM}", error="insufficient_scope", '
        'error_description="Access tokens of this server are not valid for this path."',
    )
    assert app.seen == []


def test_with_default_pass_a_path_no_rule_covers_goes_through_untouched(
    app: Application,
    validator: TokenValidator,
    issuer_server: IssuerServer,
) -> None:
    http = Client(BearerMiddleware(app, validator, realm=REALM, rules=RULES, default="pass"))

    response = http.post(
        "/v2/anything?access_token=x", data={"access_token": "y"}, headers=bearer("bad")
    )

    assert response.status_code == 200
    assert response.data == b"app:access_token=y"
    assert ENVIRON_KEY not in app.seen[0]
    assert issuer_server.hits == {}
    assert http.get("/v1/templates").status_code == 401  # the rules still apply


def test_public_paths_go_through_without_a_token(
    http: Client, app: Application, issuer_server: IssuerServer
) -> None:
    assert http.get("/healthz").data == b"app:"
    assert http.get("/healthz", headers=bearer("not-checked")).status_code == 200
    assert [ENVIRON_KEY in environ for environ in app.seen] == [False, False]
    assert issuer_server.hits == {}


def test_the_first_matching_rule_decides(
    app: Application, validator: TokenValidator, issuer_server: IssuerServer
) -> None:
    http = Client(
        BearerMiddleware(
            app,
            validator,
            realm=REALM,
            rules=[public("/v1/export/status"), protect("/v1/export/", scope=None)],
        )
    )

    assert http.get("/v1/export/status").status_code == 200
    assert http.get("/v1/export").status_code == 401  # the trailing slash of a prefix is not needed
    assert http.get("/v1/export/x", headers=bearer(issuer_server.mint(scope=""))).status_code == 200


def test_unreachable_authorization_server_is_503(
    app: Application, issuer_server: IssuerServer
) -> None:
    http = Client(
        BearerMiddleware(
            app,
            TokenValidator("http://127.0.0.1:9", AUDIENCE, timeout=1),
            realm=REALM,
            rules=[protect("/x", scope=None)],
        )
    )

    response = http.get("/x", headers=bearer(issuer_server.mint()))

    assert response.status_code == 503
    assert response.json == {
        "error": "temporarily_unavailable",
        "error_description": "The authorization server is unavailable.",
    }
    assert response.headers["Retry-After"] == "5"
    assert response.headers["Cache-Control"] == "no-store"
    assert "WWW-Authenticate" not in response.headers
    assert app.seen == []


def test_head_gets_the_headers_without_the_body(http: Client) -> None:
    response = http.head("/v1/export/400100/orders")

    assert response.status_code == 401
    assert response.data == b""
    assert response.headers["Content-Length"] == str(
        len(json.dumps(NO_TOKEN, separators=(",", ":"))) + 1
    )
    assert response.headers["WWW-Authenticate"] == MISSING


@pytest.mark.parametrize("realm", ['a"b', "", "x" * 101, "r\u00e9alm"])
def test_realm_that_needs_escaping_is_refused(
    app: Application, validator: TokenValidator, realm: str
) -> None:
    with pytest.raises(ValueError):
        BearerMiddleware(app, validator, realm=realm)


@pytest.mark.parametrize("path", ["v1/export", r"^/v1/", "", b"/v1"])
def test_a_rule_path_is_an_absolute_prefix_or_a_compiled_regex(path: Any) -> None:
    with pytest.raises(ValueError):
        protect(path)


@pytest.mark.parametrize(
    "options",
    [
        {"rules": [("/v1", "export")]},
        {"default": "allow"},
        {"max_form_bytes": -1},
    ],
    ids=["not-a-rule", "default", "max-form-bytes"],
)
def test_bad_configuration_is_refused(
    app: Application, validator: TokenValidator, options: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        BearerMiddleware(app, validator, **options)


@pytest.fixture(params=["jwt", "introspection"])
def any_validator(
    request: pytest.FixtureRequest, validator: TokenValidator, introspector: IntrospectionValidator
) -> Validator:
    return validator if request.param == "jwt" else introspector


@pytest.mark.parametrize("name", sorted(FORGED))
def test_every_forged_token_is_401(
    name: str, app: Application, any_validator: Validator, issuer_server: IssuerServer
) -> None:
    http = Client(BearerMiddleware(app, any_validator, realm=REALM, rules=RULES))
    token = FORGED[name](Forge(issuer_server.issuer, issuer_server.key))

    response = http.get("/v1/export/400100/orders", headers=bearer(token))

    assert response.status_code == 401
    assert response.json is not None and response.json["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith(
        f'Bearer realm="{REALM}", error="invalid_token", '
    )
    assert app.seen == []


def test_answers_are_those_of_the_flask_decorators(
    http: Client, validator: TokenValidator, issuer_server: IssuerServer
) -> None:
    """The same requests through require_token / refuse_client_tokens and
    through the middleware: the same status, body bytes and headers."""
    flask_app = Flask(__name__)
    BearerAuth(flask_app, validator, realm=REALM)
    flask_app.add_url_rule(
        "/v1/export/<tecId>/orders",
        "orders",
        require_token(scope="export", organization="tecId")(lambda tecId: "app:"),
    )
    flask_app.add_url_rule(
        "/v1/subscriptions",
        "subscriptions",
        require_token(scope="subscription", organization="tecId")(lambda: "app:"),
        methods=["GET", "POST"],
    )
    flask_app.add_url_rule(
        "/v1/header-org",
        "header_org",
        require_token(scope="export", organization=lambda: request.headers.get("X-TecCom-ID"))(
            lambda: "app:"
        ),
    )
    flask_app.add_url_rule("/v1/templates", "templates", refuse_view()(lambda: "app:"))
    flask_http = flask_app.test_client()
    token = issuer_server.mint()
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/v1/export/400100/orders", {}),
        ("GET", "/v1/export/400100/orders", {"headers": bearer(token[:-4] + "AAAA")}),
        ("GET", "/v1/export/400100/orders", {"headers": {"Authorization": "Bearer a b"}}),
        ("GET", "/v1/export/400300/orders", {"headers": bearer(token)}),
        (
            "GET",
            "/v1/export/400100/orders",
            {"headers": bearer(issuer_server.mint(scope="subscription"))},
        ),
        ("GET", f"/v1/export/400100/orders?access_token={token}", {}),
        ("GET", f"/v1/export/400100/orders?access_token={token}", {"headers": bearer(token)}),
        ("POST", "/v1/subscriptions?tecId=400100", {"data": {"access_token": token}}),
        (
            "POST",
            "/v1/subscriptions?tecId=400100",
            {"data": {"access_token": token}, "headers": bearer(token)},
        ),
        ("GET", "/v1/subscriptions?tecId=1&tecId=2", {"headers": bearer(token)}),
        ("GET", "/v1/header-org", {"headers": bearer(token)}),
        ("GET", "/v1/templates", {"headers": bearer(token)}),
        ("GET", "/v1/templates", {}),
    ]
    for method, path, options in requests:
        ours = http.open(path, method=method, **options)
        theirs = flask_http.open(path, method=method, **options)
        assert (ours.status_code, ours.data) == (theirs.status_code, theirs.data), path
        for header in (
            "Content-Type",
            "Content-Length",
            "WWW-Authenticate",
            "Cache-Control",
            "Retry-After",
        ):
            assert ours.headers.get(header) == theirs.headers.get(header), (path, header)


def test_rule_is_a_small_value() -> None:
    rule = protect(re.compile(r"/v1/export/(?P<tecId>[^/]+)"), organization="tecId")

    assert isinstance(rule, Rule)
    assert rule.match("/v1/export/400100/orders") == {"tecId": "400100"}
    assert rule.match("/v2/export/400100") is None
    assert protect("/v1/x/").match("/v1/x") == {}
    assert protect("/v1/x").match("/v1/xy") is None
