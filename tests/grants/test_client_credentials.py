"""The client credentials grant (RFC 6749 §4.4) and this server's scope rules."""

from __future__ import annotations

import jwt
import pytest
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from support.oauth import assert_oauth_error, gateway, partner, set_enabled, token_request

from authserver.grants.client_credentials import (
    NoEnabledOrganization,
    OrganizationNotGranted,
    TemplateScope,
    UnknownScope,
    resolve_scope,
)

ORGS = ("400100", "400200", "400300")


@pytest.mark.parametrize(
    "requested, granted",
    [
        (None, "export subscription org:400100 org:400200 org:400300"),
        ("", "export subscription org:400100 org:400200 org:400300"),
        ("export", "export org:400100 org:400200 org:400300"),
        ("subscription", "subscription org:400100 org:400200 org:400300"),
        ("subscription export", "export subscription org:400100 org:400200 org:400300"),
        ("export  export", "export org:400100 org:400200 org:400300"),
        ("org:400200", "export subscription org:400200"),
        ("org:400300 export org:400100", "export org:400100 org:400300"),
    ],
)
def test_granted_scope(requested, granted):
    assert resolve_scope(requested, ORGS) == granted


@pytest.mark.parametrize(
    "requested, error",
    [
        ("template", TemplateScope),
        ("export template", TemplateScope),
        ("admin", UnknownScope),
        ("Export", UnknownScope),
        ("org:", UnknownScope),
        ("org", UnknownScope),
        ("export\tsubscription", UnknownScope),
        ("org:999999", OrganizationNotGranted),
        ("org:400100 org:999999", OrganizationNotGranted),
    ],
)
def test_refused_scope(requested, error):
    with pytest.raises(error) as caught:
        resolve_scope(requested, ORGS)
    assert isinstance(caught.value, InvalidScopeError)
    assert caught.value.error == "invalid_scope"


def test_no_enabled_organization_is_refused():
    with pytest.raises(NoEnabledOrganization):
        resolve_scope(None, ())


def test_a_malformed_teccom_id_never_reaches_the_scope():
    """A TecCom ID with a space would read as two scope values, the second
    naming another organization; the directory refuses such IDs, and the
    grant leaves out any that got into the database some other way."""
    assert resolve_scope(None, ("400 100", "400200")) == "export subscription org:400200"
    with pytest.raises(NoEnabledOrganization):
        resolve_scope(None, ("400 100", 'M\u00fcller"x'))


def _claims(response):
    return jwt.decode(response.get_json()["access_token"], options={"verify_signature": False})


def test_scope_and_claims_agree_over_http(http, directory):
    creds = partner(directory, *ORGS)
    response = token_request(http, creds, scope="export org:400300 org:400100")
    assert response.status_code == 200
    assert response.get_json()["scope"] == "export org:400100 org:400300"
    claims = _claims(response)
    assert claims["scope"] == "export org:400100 org:400300"
    assert claims["organizations"] == ["400100", "400300"]


@pytest.mark.parametrize("scope", ["template", "export template", "nonsense", "org:999999", "org:"])
def test_invalid_scope_over_http(http, directory, scope):
    creds = partner(directory, *ORGS)
    body = assert_oauth_error(token_request(http, creds, scope=scope), 400, "invalid_scope")
    assert scope not in body["error_description"]


def test_another_clients_organization_is_invalid_scope(http, directory):
    creds = partner(directory, "400100")
    partner(directory, "400200", email="b@example.com")
    assert_oauth_error(token_request(http, creds, scope="org:400200"), 400, "invalid_scope")


def test_disabled_organization_is_left_out_and_cannot_be_asked_for(http, directory):
    creds = partner(directory, *ORGS)
    set_enabled(creds.client_id, "400200", False)
    response = token_request(http, creds)
    assert response.get_json()["scope"] == "export subscription org:400100 org:400300"
    assert _claims(response)["organizations"] == ["400100", "400300"]
    assert_oauth_error(token_request(http, creds, scope="org:400200"), 400, "invalid_scope")


def test_client_with_no_enabled_organization_gets_invalid_scope(http, directory):
    creds = partner(directory, "400100")
    assert token_request(http, creds).status_code == 200
    set_enabled(creds.client_id, "400100", False)
    body = assert_oauth_error(token_request(http, creds), 400, "invalid_scope")
    assert body["error_description"] == "The client has no enabled organization."
    set_enabled(creds.client_id, "400100", True)
    assert token_request(http, creds).status_code == 200


def test_gateway_is_unauthorized_client_whatever_the_scope(http, app_ctx):
    creds = gateway()
    assert_oauth_error(token_request(http, creds, scope="export"), 400, "unauthorized_client")


def test_wrong_secret_comes_before_scope_errors(http, directory):
    creds = partner(directory, "400100")
    creds.client_secret = "wrong"
    assert_oauth_error(token_request(http, creds, scope="template"), 401, "invalid_client")
