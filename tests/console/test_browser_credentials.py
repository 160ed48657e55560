"""The Credentials tab in Debian's Chromium, against the real server: add a
public key, or set a key set URL (``jwks_uri``), get a token with it
(``private_key_jwt``), remove it, and the next token request fails at once."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from support.assertions import assertion_form, key_pair, sign
from support.jwks_server import JwksServer

from .conftest import Server, World, screenshot
from .test_browser import flash, log_in

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
)
expect = sync_api.expect

pytestmark = pytest.mark.e2e


def token_response(server: Server, pair: Any, client_id: str) -> requests.Response:
    form = assertion_form(sign(pair, client_id, server.url), grant_type="client_credentials")
    return requests.post(server.url + "/oauth2/token", data=form, timeout=10)


def token_status(server: Server, pair: Any, client_id: str) -> int:
    return token_response(server, pair, client_id).status_code


def test_credentials_tab_adds_a_key_that_works_and_removes_it(
    page: Any, world: World, console_server: Server
) -> None:
    first = world.organization(1, "Acme Parts GmbH")
    anna = world.user("anna", "Anna", "Berg", admin_of=(first,))
    client_id = world.client_for(anna, first)
    pair = key_pair("EC")
    log_in(page, anna)
    page.goto(f"/clients/{client_id}/organizations")
    page.get_by_role("link", name="Credentials").click()
    expect(page.get_by_role("heading", name="Keys")).to_be_visible()
    expect(page.locator(".empty")).to_contain_text("No key is registered")

    # a private key pasted by mistake is refused with the reason
    page.get_by_role("link", name="Add key").click()
    dialog = page.get_by_role("dialog", name="Add a public key")
    dialog.get_by_label("Public key (JWK or PEM)").fill(pair.private_pem)
    dialog.get_by_role("button", name="Add key").click()
    expect(flash(page)).to_have_text("This is a private key: paste only the public key.")

    page.get_by_role("link", name="Add key").click()
    dialog = page.get_by_role("dialog", name="Add a public key")
    dialog.get_by_label("Label").fill("ERP 2026")
    dialog.get_by_label("Public key (JWK or PEM)").fill(pair.public_pem)
    dialog.get_by_role("button", name="Add key").click()
    expect(flash(page)).to_have_text("Key ERP 2026 added: the client may sign with it now.")
    rows = page.get_by_test_id("keys").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("ERP 2026")
    expect(rows.first).to_contain_text("ES256")
    screenshot(page, "console-credentials")

    assert token_status(console_server, pair, client_id) == 200

    rows.first.get_by_role("link", name="Remove ERP 2026").click()
    page.get_by_role("dialog", name="Remove key?").get_by_role("button", name="Remove").click()
    expect(flash(page)).to_have_text(
        "Key removed: assertions signed with it are refused from now on."
    )
    expect(page.get_by_test_id("keys")).to_have_count(0)
    assert token_status(console_server, pair, client_id) == 401


def test_credentials_tab_sets_a_jwks_uri_that_works_and_removes_it(
    page: Any, world: World, console_server: Server
) -> None:
    """The server under test is not in production, so it accepts (and fetches)
    a plain-http key set URL on 127.0.0.1 (AUTHSERVER_JWKS_URI_ALLOW_LOCAL)."""
    first = world.organization(1, "Acme Parts GmbH")
    anna = world.user("anna", "Anna", "Berg", admin_of=(first,))
    client_id = world.client_for(anna, first)
    pair = key_pair("EC")
    published = JwksServer()
    try:
        published.serve_keys(pair.public_jwk(kid="erp-2026", use="sig"))
        log_in(page, anna)
        page.goto(f"/clients/{client_id}/credentials")
        expect(page.get_by_role("heading", name="Key set URL")).to_be_visible()
        expect(page.get_by_test_id("jwks-uri")).to_have_text(
            "No key set URL: only the keys registered above are accepted."
        )
        expect(page.get_by_role("link", name="Remove URL")).to_have_count(0)
        assert token_status(console_server, pair, client_id) == 401

        # a URL the service refuses is shown with its reason, and nothing changes
        field = page.get_by_label("Key set URL (jwks_uri)")
        field.fill("ftp://erp.example.com/jwks")
        page.get_by_role("button", name="Save URL").click()
        expect(flash(page)).to_have_text("jwks_uri must be an https URL.")
        expect(page.get_by_test_id("jwks-uri")).to_have_text(
            "No key set URL: only the keys registered above are accepted."
        )

        field.fill(published.url)
        page.get_by_role("button", name="Save URL").click()
        expect(flash(page)).to_have_text(
            f"Key set URL saved: the keys are fetched from {published.url}."
        )
        expect(page.get_by_test_id("jwks-uri")).to_have_text(f"Current: {published.url}")
        expect(field).to_have_value(published.url)
        expect(page.get_by_role("button", name="Replace URL")).to_be_visible()
        screenshot(page, "console-credentials-jwks-uri")

        # the server fetches the key set at the URL and accepts an assertion signed
        # with the key published there
        response = token_response(console_server, pair, client_id)
        assert response.status_code == 200, response.text
        assert response.json()["token_type"] == "Bearer"
        assert published.hits >= 1

        page.get_by_role("link", name="Remove URL").click()
        dialog = page.get_by_role("dialog", name="Remove the key set URL?")
        expect(dialog).to_contain_text(f"The URL {published.url} will be removed")
        dialog.get_by_role("button", name="Remove").click()
        expect(flash(page)).to_have_text(
            "Key set URL removed: keys published there are refused from now on."
        )
        expect(page.get_by_test_id("jwks-uri")).to_have_text(
            "No key set URL: only the keys registered above are accepted."
        )
        expect(page.get_by_role("link", name="Remove URL")).to_have_count(0)

        # the key is still published, but the client no longer names the URL
        response = token_response(console_server, pair, client_id)
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
    finally:
        published.close()
