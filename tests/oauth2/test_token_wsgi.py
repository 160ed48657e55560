"""The token endpoint at the WSGI edge answers exactly as Flask's dispatch
would (RFC 6749 §5.1, §5.2), and leaves to Flask what Flask must judge."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from flask import Flask
from support.oauth import basic, gateway, partner
from werkzeug.test import Client, TestResponse

from authserver.oauth2.token_wsgi import TokenEdge
from authserver.observability import logs, metrics

URL = "/oauth2/token"
FORM = "application/x-www-form-urlencoded"


def _edge(app: Flask) -> TokenEdge:
    """The edge in the app's middleware chain (access log, proxy fix, edge)."""
    layer: Any = app.wsgi_app
    while not isinstance(layer, TokenEdge):
        layer = getattr(layer, "app", None) or layer.wsgi_app
    return layer


def _both(app: Flask, body: str, headers: dict[str, str]) -> tuple[TestResponse, TestResponse]:
    """The same request through the app (edge first) and through Flask's dispatch alone."""
    through_edge = Client(_edge(app)).post(URL, data=body, headers=headers, content_type=FORM)
    through_flask = Client(_edge(app).wsgi_app).post(
        URL, data=body, headers=headers, content_type=FORM
    )
    return through_edge, through_flask


def _answer(response: TestResponse) -> tuple[str, list[tuple[str, str]], bytes]:
    return response.status, list(response.headers.items()), response.get_data()


@pytest.mark.parametrize(
    ("body", "auth"),
    [
        ("grant_type=client_credentials", "wrong secret"),
        ("grant_type=client_credentials&scope=template", "right"),
        ("grant_type=client_credentials&scope=org:999999", "right"),
        ("grant_type=password", "right"),
        ("scope=export", "right"),
        ("grant_type=client_credentials&grant_type=client_credentials", "right"),
        ("grant_type=client_credentials", "none"),
        ("grant_type=client_credentials", "unknown client"),
        ("grant_type=client_credentials", "gateway"),
    ],
)
def test_errors_are_byte_identical_to_flasks(app, directory, body: str, auth: str) -> None:
    creds = partner(directory, "400100")
    headers = {
        "right": {"Authorization": basic(creds.client_id, creds.client_secret)},
        "wrong secret": {"Authorization": basic(creds.client_id, "not-the-secret")},
        "unknown client": {"Authorization": basic("no-such-client", "x")},
        "gateway": {"Authorization": basic(*vars(gateway()).values())},
        "none": {},
    }[auth]
    through_edge, through_flask = _both(app, body, headers)
    assert through_edge.status_code >= 400
    assert _answer(through_edge) == _answer(through_flask)


def test_a_token_answer_has_flasks_headers_and_shape(app, directory) -> None:
    creds = partner(directory, "400100")
    headers = {"Authorization": basic(creds.client_id, creds.client_secret)}
    through_edge, through_flask = _both(app, "grant_type=client_credentials", headers)
    assert (through_edge.status, through_flask.status) == ("200 OK", "200 OK")
    assert list(through_edge.headers.items()) == list(through_flask.headers.items())
    edge_body, flask_body = (
        json.loads(through_edge.get_data()),
        json.loads(through_flask.get_data()),
    )
    assert edge_body.pop("access_token") != flask_body.pop("access_token")  # a new jti each
    assert (
        edge_body
        == flask_body
        == {
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "export subscription org:400100",
        }
    )
    # the same key order and spacing as the app's JSON (sorted keys)
    assert list(json.loads(through_edge.get_data())) == sorted(json.loads(through_edge.get_data()))


def test_a_body_over_the_limit_goes_to_flask_and_is_413(app, http) -> None:
    body = "grant_type=client_credentials&pad=" + "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = http.post(URL, data=body, content_type=FORM)
    assert response.status_code == 413
    assert response.get_json() == {
        "error": "invalid_request",
        "error_description": "Request body too large.",
    }


def test_a_chunked_body_goes_to_flask(app, directory) -> None:
    creds = partner(directory, "400100")
    environ = {
        "HTTP_TRANSFER_ENCODING": "chunked",
        "HTTP_AUTHORIZATION": basic(creds.client_id, creds.client_secret),
    }
    edge = _edge(app)
    assert not edge._takes({"PATH_INFO": URL, "REQUEST_METHOD": "POST", **environ})
    assert not edge._takes({"PATH_INFO": URL, "REQUEST_METHOD": "POST", "CONTENT_LENGTH": ""})
    assert not edge._takes({"PATH_INFO": URL, "REQUEST_METHOD": "GET", "CONTENT_LENGTH": "0"})
    assert not edge._takes({"PATH_INFO": "/oauth2/revoke", "REQUEST_METHOD": "POST"})
    assert edge._takes({"PATH_INFO": URL, "REQUEST_METHOD": "POST", "CONTENT_LENGTH": "29"})


def _count(result: str) -> float:
    value = metrics.REGISTRY.get_sample_value("authserver_token_requests_total", {"result": result})
    return value or 0.0


def test_results_are_counted_and_the_latency_is_labelled(app, http, directory) -> None:
    creds = partner(directory, "400100")
    issued, refused = _count("issued"), _count("invalid_client")
    for secret in (creds.client_secret, "wrong"):
        http.post(
            URL,
            data={"grant_type": "client_credentials"},
            headers={"Authorization": basic(creds.client_id, secret)},
        ).close()  # the access log observes the latency when the answer is closed
    assert (_count("issued"), _count("invalid_client")) == (issued + 1, refused + 1)
    latency = metrics.REGISTRY.get_sample_value(
        "authserver_http_request_duration_seconds_count",
        {"endpoint": "/oauth2/token", "method": "POST", "status": "200"},
    )
    assert latency is not None and latency >= 1


def test_log_records_on_the_token_path_carry_the_request_id(http, directory, caplog) -> None:
    creds = partner(directory, "400100")
    caplog.handler.addFilter(logs.RequestContext())
    with caplog.at_level(logging.INFO, logger="authserver.oauth2.client_auth"):
        response = http.post(
            URL,
            data={"grant_type": "client_credentials"},
            headers={"Authorization": basic(creds.client_id, "wrong"), "X-Request-ID": "req-42"},
        )
    assert response.status_code == 401
    [record] = [r for r in caplog.records if r.name == "authserver.oauth2.client_auth"]
    assert record.getMessage() == "client authentication failed for a known client id"
    assert record.request_id == "req-42"  # type: ignore[attr-defined]
