"""The Credentials tab in Debian's Chromium, against the real server: add a
public key, get a token with it (``private_key_jwt``), remove it, and the
next token request fails at once."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from support.assertions import assertion_form, key_pair, sign

from .conftest import Server, World, screenshot
from .test_browser import flash, log_in

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
)
expect = sync_api.expect

pytestmark = pytest.mark.e2e


def token_status(server: Server, pair: Any, client_id: str) -> int:
    form = assertion_form(sign(pair, client_id, server.url), grant_type="client_credentials")
    return requests.post(server.url + "/oauth2/token", data=form, timeout=10).status_code


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
