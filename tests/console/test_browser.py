"""The console's whole story in Debian's Chromium, against the real server.

Each test seeds its own people and organizations (see ``World``), logs in
through the form and clicks through the pages as an organization
administrator would. Screenshots of the main pages go to tests/artifacts/.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from authserver import credentials
from authserver.models._base import utcnow

from .conftest import PASSWORD, Server, World, screenshot
from .screenshots import PAGES, readme_screenshots

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
)
expect = sync_api.expect

pytestmark = pytest.mark.e2e

ORG_PICKER = "Choose one of the organizations you administer"


def log_in(page: Any, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="API clients", exact=True)).to_be_visible()


def flash(page: Any) -> Any:
    return page.locator(".flashes .alert")


# -- log in and out ---------------------------------------------------------------


def test_login_refuses_wrong_credentials_with_a_message_then_logs_in_and_out(
    page: Any, world: World
) -> None:
    org = world.organization(1, "Acme Parts GmbH")
    anna = world.user("anna", "Anna", "Berg", admin_of=(org,))

    page.goto("/clients")
    expect(page).to_have_url(re.compile(r"/login\?next=(%2F|/)clients$"))
    page.get_by_label("E-mail").fill(anna)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    expect(page.get_by_label("E-mail")).to_have_value(anna)
    screenshot(page, "console-login-refused")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/clients$"))
    expect(page.locator(".account-name")).to_have_text("Anna Berg")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    page.goto("/clients")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_logout_ends_the_session_on_the_server_so_a_copied_cookie_is_logged_out_too(
    open_page: Any,
    world: World,
) -> None:
    org = world.organization(1, "Acme Parts GmbH")
    anna = world.user("anna", "Anna", "Berg", admin_of=(org,))
    page = open_page()
    log_in(page, anna)
    copy = open_page()  # another browser, with a copy of the cookies
    copy.context.add_cookies(page.context.cookies())
    copy.goto("/clients")
    expect(copy.locator(".account-name")).to_have_text("Anna Berg")

    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("You are logged out.")

    answer = copy.context.request.get("/clients", max_redirects=0)
    assert (answer.status, answer.headers["location"]) == (303, "/login?next=/clients")
    copy.reload()
    expect(copy).to_have_url(re.compile(r"/login\?next=(%2F|/)clients$"))
    expect(copy.get_by_role("heading", name="Log in")).to_be_visible()


def test_log_out_everywhere_from_the_account_menu_ends_the_users_other_sessions(
    open_page: Any,
    world: World,
) -> None:
    org = world.organization(1, "Acme Parts GmbH")
    anna = world.user("anna", "Anna", "Berg", admin_of=(org,))
    ben = world.user("ben", "Ben", "Meyer", admin_of=(org,))
    here, there, bens = open_page(), open_page(), open_page()
    log_in(here, anna)
    log_in(there, anna)
    log_in(bens, ben)

    everywhere = here.get_by_role("button", name="Log out everywhere")
    expect(everywhere).to_be_hidden()  # in the account menu
    here.get_by_text("Anna Berg").click()
    expect(everywhere).to_be_visible()
    here.keyboard.press("Escape")
    expect(everywhere).to_be_hidden()
    here.get_by_text("Anna Berg").click()
    screenshot(here, "console-account-menu")
    everywhere.click()
    expect(here.get_by_role("status")).to_have_text(
        "You are logged out everywhere: every session of your account has ended."
    )

    there.reload()
    expect(there).to_have_url(re.compile(r"/login\?next=(%2F|/)clients$"))
    bens.reload()
    expect(bens.locator(".account-name")).to_have_text("Ben Meyer")


# -- steps 2 and 3: choose an organization, create a client, the secret once ----------------------------


def test_create_client_for_a_chosen_organization_shows_the_secret_once(
    page: Any, world: World
) -> None:
    org = world.organization(1, "Acme Parts GmbH")
    other = world.organization(2, "Acme Retail")
    anna = world.user("anna", "Anna", "Berg", admin_of=(org, other))
    log_in(page, anna)

    picker = page.get_by_label(ORG_PICKER)
    expect(picker.locator("option:not([disabled])")).to_have_text(
        [f"{org} · Acme Parts GmbH", f"{other} · Acme Retail"]
    )
    picker.select_option(org)  # submits by itself (JavaScript)
    panel = page.get_by_test_id("org-panel")
    expect(panel).to_contain_text("Acme Parts GmbH")
    expect(panel).to_contain_text("No API client yet.")
    name = panel.get_by_label("Client name")
    expect(name).to_have_value("Acme Parts GmbH API client")
    screenshot(page, "console-clients-empty")

    name.fill("ERP production")
    panel.get_by_role("button", name="Create client").click()
    expect(page.get_by_role("heading", name="Client created")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(
        "It is shown only this once and cannot be shown again."
    )
    client_id = page.get_by_label("Client ID").input_value()
    secret = page.get_by_label("Client secret").input_value()
    assert re.fullmatch(r"cl_[\w-]+", client_id)
    assert len(secret) >= 43  # 256 bits, base64url
    hashes, _ = world.secrets(client_id)
    assert len(hashes) == 1 and credentials.check_secret(hashes[0][0], secret)

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy secret").click()
    expect(page.locator("[data-copy-status]")).to_have_text("Secret copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    screenshot(page, "console-secret")

    page.get_by_role("link", name="I have stored the secret: continue").click()
    expect(page).to_have_url(re.compile(rf"/clients/{client_id}/organizations$"))
    expect(page.get_by_role("heading", name="ERP production", exact=True)).to_be_visible()
    expect(page.get_by_test_id("client-id")).to_have_text(client_id)
    expect(page.get_by_test_id("secret-current")).to_contain_text("not used yet")
    expect(page.locator(f'tr[data-teccom-id="{org}"]')).to_contain_text("Enabled")
    assert secret not in page.content()
    page.get_by_role("link", name="Administrators").click()
    expect(page.get_by_test_id("administrators").locator("tbody tr")).to_have_count(1)
    expect(page.locator(f'tr[data-email="{anna}"]')).to_contain_text("Anna Berg")
    expect(page.locator(f'tr[data-email="{anna}"]')).to_contain_text("you")

    page.goto(f"/clients?org={org}")
    expect(panel).to_contain_text(f"Assigned to client ERP production ({client_id})")
    expect(panel.get_by_role("button", name="Create client")).to_have_count(0)
    expect(page.get_by_role("table")).to_contain_text(client_id)
    screenshot(page, "console-clients")
    panel.get_by_role("link", name="Open client").click()
    expect(page).to_have_url(re.compile(rf"/clients/{client_id}/organizations$"))
    assert secret not in page.content()


def test_an_organization_assigned_to_another_administrators_client_shows_no_create_button(
    page: Any,
    world: World,
) -> None:
    org = world.organization(1, "Shared Parts AG")
    carl = world.user("carl", "Carl", "Ohm", admin_of=(org,))
    anna = world.user("anna", "Anna", "Berg", admin_of=(org,))
    client_id = world.client_for(carl, org)
    log_in(page, anna)

    page.get_by_label(ORG_PICKER).select_option(org)
    panel = page.get_by_test_id("org-panel")
    expect(panel).to_contain_text(f"Already assigned to client {client_id}.")
    expect(panel).to_contain_text("You are not an administrator of that client")
    expect(panel.get_by_role("button")).to_have_count(0)
    expect(panel.get_by_role("link")).to_have_count(0)


def test_create_client_is_refused_when_the_organization_was_assigned_meanwhile(
    page: Any, world: World
) -> None:
    org = world.organization(1, "Acme Parts GmbH")
    anna = world.user("anna", "Anna", "Berg", admin_of=(org,))
    carl = world.user("carl", "Carl", "Ohm", admin_of=(org,))
    log_in(page, anna)
    page.goto(f"/clients?org={org}")
    create = page.get_by_role("button", name="Create client")
    expect(create).to_be_visible()

    client_id = world.client_for(carl, org)  # someone else was quicker
    create.click()
    expect(flash(page)).to_have_text(f"Organization {org} is already assigned to a client.")
    expect(page.get_by_test_id("org-panel")).to_contain_text(
        f"Already assigned to client {client_id}."
    )


# -- rotate the secret -----------------------------------------------------------------------------


def test_rotate_secret_asks_for_confirmation_and_offers_grace_periods(
    page: Any, world: World
) -> None:
    org = world.organization(1, "Acme Parts GmbH")
    anna = world.user("anna", "Anna", "Berg", admin_of=(org,))
    client_id = world.client_for(anna, org)
    log_in(page, anna)
    page.goto(f"/clients/{client_id}/organizations")
    ((first_hash, _),) = world.secrets(client_id)[0]

    page.get_by_role("link", name="Rotate secret").click()
    dialog = page.get_by_role("dialog", name="Rotate the client secret?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("radio")).to_have_count(4)
    for label in ("None: the old secret stops working now", "1 hour", "1 day", "7 days"):
        expect(dialog.get_by_label(label)).to_be_visible()
    expect(dialog.get_by_label("None: the old secret stops working now")).to_be_checked()
    dialog.get_by_role("link", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert world.secrets(client_id)[0] == [(first_hash, None)]  # nothing happened

    page.get_by_role("link", name="Rotate secret").click()
    dialog.get_by_label("1 day").check()
    dialog.get_by_label("Also revoke every access token issued so far").check()
    screenshot(page, "console-rotate")
    dialog.get_by_role("button", name="Rotate secret").click()

    expect(page.get_by_role("heading", name="Secret rotated")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("cannot be shown again")
    expect(page.get_by_text("The previous secret keeps working until")).to_be_visible()
    expect(
        page.get_by_text("Every access token issued before now has been revoked.")
    ).to_be_visible()
    secret = page.get_by_label("Client secret").input_value()
    hashes, tokens_invalid_before = world.secrets(client_id)
    previous = [expires for hash_, expires in hashes if hash_ == first_hash]
    current = [hash_ for hash_, expires in hashes if expires is None]
    assert len(current) == 1 and credentials.check_secret(current[0], secret)
    assert previous and abs(previous[0] - (utcnow() + timedelta(days=1))) < timedelta(minutes=1)
    assert tokens_invalid_before is not None

    page.get_by_role("link", name="I have stored the secret: continue").click()
    expect(page.locator("dl.facts")).to_contain_text("Previous secret")
    page.get_by_role("link", name="Rotate secret").click()
    dialog.get_by_role("button", name="Rotate secret").click()  # grace: none
    expect(page.get_by_text("The previous secret no longer works.")).to_be_visible()
    hashes, _ = world.secrets(client_id)
    assert len(hashes) == 1 and hashes[0][1] is None


# -- organizations ---------------------------------------------------------------------------------


def test_organizations_tab_adds_edits_and_removes_an_organization(page: Any, world: World) -> None:
    first = world.organization(1, "Acme Parts GmbH")
    second = world.organization(2, "Acme Retail")
    elsewhere = world.organization(3, "Acme Logistics")
    not_mine = world.organization(4, "Other Corp")
    anna = world.user("anna", "Anna", "Berg", admin_of=(first, second, elsewhere))
    carl = world.user("carl", "Carl", "Ohm", admin_of=(elsewhere, not_mine))
    client_id = world.client_for(anna, first)
    world.client_for(carl, elsewhere)
    log_in(page, anna)
    page.goto(f"/clients/{client_id}/organizations")

    page.get_by_role("link", name="Add TecCom ID").click()
    dialog = page.get_by_role("dialog", name="Add an organization")
    expect(dialog).to_be_visible()
    # only organizations Anna administers that no client has
    expect(dialog.get_by_label("Organization").locator("option")).to_have_text(
        [f"{second} · Acme Retail"]
    )
    switch = dialog.get_by_role("switch", name="Enabled")
    expect(switch).to_be_checked()
    switch.uncheck()
    dialog.get_by_role("button", name="Add email").click()
    dialog.get_by_label("Notification e-mail 1").fill("ops@acme.example")
    dialog.get_by_label("Notification e-mail 2").fill("not-an-e-mail")
    dialog.get_by_role("button", name="OK").click()

    # refused: the dialog comes back with the message next to the bad address
    dialog = page.get_by_role("dialog", name="Add an organization")
    expect(dialog).to_be_visible()
    bad = dialog.get_by_label("Notification e-mail 2")
    expect(bad).to_have_value("not-an-e-mail")
    expect(bad).to_have_attribute("aria-invalid", "true")
    expect(dialog.locator(".error")).to_have_text(
        ["Enter a valid e-mail address, like name@example.com."]
    )
    expect(dialog.get_by_role("switch", name="Enabled")).not_to_be_checked()
    screenshot(page, "console-organizations-bad-email")
    bad.fill("edi@acme.example")
    dialog.get_by_role("button", name="OK").click()

    expect(flash(page)).to_have_text(f"Organization {second} was added.")
    row = page.locator(f'tr[data-teccom-id="{second}"]')
    expect(row).to_contain_text("Acme Retail")
    expect(row).to_contain_text("Disabled")
    expect(row.locator(".email")).to_have_text(["ops@acme.example", "edi@acme.example"])
    expect(page.get_by_test_id("organizations").locator("tbody tr")).to_have_count(2)
    screenshot(page, "console-organizations")

    # the pencil: enable it, drop the first address
    row.get_by_role("link", name=f"Edit {second}").click()
    edit = page.get_by_role("dialog", name=f"Edit {second} · Acme Retail")
    expect(edit.get_by_label("Notification e-mail 1")).to_have_value("ops@acme.example")
    edit.get_by_role("switch", name="Enabled").check()
    edit.get_by_role("button", name="Remove e-mail 1").click()
    expect(edit.get_by_label("Notification e-mail 1")).to_have_value("edi@acme.example")
    edit.get_by_role("button", name="Save").click()
    expect(flash(page)).to_have_text(f"Organization {second} was saved.")
    expect(row).to_contain_text("Enabled")
    expect(row.locator(".email")).to_have_text(["edi@acme.example"])

    # the bin: a confirmation first; Cancel keeps it
    row.get_by_role("link", name=f"Remove {second}").click()
    confirm = page.get_by_role("dialog", name=f"Remove {second}?")
    expect(confirm).to_contain_text("will no longer be in this client's tokens")
    confirm.get_by_role("link", name="Cancel").click()
    expect(confirm).to_be_hidden()
    expect(row).to_be_visible()
    row.get_by_role("link", name=f"Remove {second}").click()
    confirm.get_by_role("button", name="Remove").click()
    expect(flash(page)).to_have_text(f"Organization {second} was removed from the client.")
    expect(row).to_have_count(0)
    expect(page.get_by_test_id("organizations").locator("tbody tr")).to_have_count(1)


def test_add_organization_is_refused_when_it_was_assigned_meanwhile(
    page: Any, world: World
) -> None:
    first = world.organization(1, "Acme Parts GmbH")
    contested = world.organization(2, "Acme Retail")
    anna = world.user("anna", "Anna", "Berg", admin_of=(first, contested))
    carl = world.user("carl", "Carl", "Ohm", admin_of=(contested,))
    client_id = world.client_for(anna, first)
    log_in(page, anna)
    page.goto(f"/clients/{client_id}/organizations")
    page.get_by_role("link", name="Add TecCom ID").click()
    dialog = page.get_by_role("dialog", name="Add an organization")
    expect(dialog.get_by_label("Organization")).to_have_value(contested)

    world.client_for(carl, contested)
    dialog.get_by_role("button", name="OK").click()
    expect(flash(page)).to_have_text(
        f"Organization {contested} is already assigned to another client."
    )
    expect(page.get_by_test_id("organizations").locator("tbody tr")).to_have_count(1)


# -- administrators ------------------------------------------------------------------------------


def test_administrators_tab_searches_adds_and_keeps_the_last_administrator(
    page: Any, world: World
) -> None:
    org = world.organization(1, "Acme Parts GmbH")
    anna = world.user("anna", "Anna", "Berg", admin_of=(org,))
    ben = world.user("ben", "Ben", "Meyer")
    client_id = world.client_for(anna, org)
    log_in(page, anna)
    page.goto(f"/clients/{client_id}/administrators")

    # Anna is the last administrator: removing her is refused
    page.get_by_role("link", name=f"Remove {anna}").click()
    confirm = page.get_by_role("dialog", name="Remove administrator?")
    expect(confirm).to_contain_text("That is you")
    confirm.get_by_role("button", name="Remove").click()
    expect(flash(page)).to_have_text(
        "A client must keep at least one administrator: add another administrator first, then remove this one."
    )
    expect(page.locator(f'tr[data-email="{anna}"]')).to_be_visible()

    page.get_by_role("link", name="Add user").click()
    dialog = page.get_by_role("dialog", name="Add an administrator")
    dialog.get_by_label("E-mail of the user").fill(f"nobody.{world.n}@example.com")
    dialog.get_by_role("button", name="Search").click()
    dialog = page.get_by_role("dialog", name="Add an administrator")
    expect(dialog.get_by_text("User not found.")).to_be_visible()
    expect(dialog.get_by_role("button", name="OK")).to_be_disabled()

    dialog.get_by_label("E-mail of the user").fill(ben.upper())
    dialog.get_by_role("button", name="Search").click()
    dialog = page.get_by_role("dialog", name="Add an administrator")
    expect(dialog.locator(".found-name")).to_have_text("Ben Meyer")
    screenshot(page, "console-add-administrator")
    dialog.get_by_role("button", name="OK").click()
    expect(flash(page)).to_have_text(f"{ben} is now an administrator of this client.")
    expect(page.get_by_test_id("administrators").locator("tbody tr")).to_have_count(2)
    expect(page.locator(f'tr[data-email="{ben}"]')).to_contain_text("Ben Meyer")
    screenshot(page, "console-administrators")

    # with Ben there, Anna may leave; then the client is no longer hers
    page.get_by_role("link", name=f"Remove {anna}").click()
    page.get_by_role("dialog", name="Remove administrator?").get_by_role(
        "button", name="Remove"
    ).click()
    expect(page).to_have_url(re.compile(r"/clients$"))
    expect(flash(page)).to_have_text(f"You are no longer an administrator of client {client_id}.")
    response = page.goto(f"/clients/{client_id}/administrators")
    assert response.status == 404


# -- activity ---------------------------------------------------------------------------------------


def test_activity_tab_lists_the_audit_trail_newest_first_in_words(page: Any, world: World) -> None:
    org = world.organization(1, "Acme Parts GmbH")
    second = world.organization(2, "Acme Retail")
    anna = world.user("anna", "Anna", "Berg", admin_of=(org, second))
    client_id = world.client_for(anna, org)
    log_in(page, anna)
    page.goto(f"/clients/{client_id}/organizations")
    page.get_by_role("link", name="Rotate secret").click()
    rotate = page.get_by_role("dialog", name="Rotate the client secret?")
    rotate.get_by_label("1 hour").check()
    rotate.get_by_role("button", name="Rotate secret").click()
    page.get_by_role("link", name="I have stored the secret: continue").click()
    page.get_by_role("link", name="Add TecCom ID").click()
    page.get_by_role("dialog", name="Add an organization").get_by_role("button", name="OK").click()
    expect(flash(page)).to_have_text(f"Organization {second} was added.")
    page.get_by_role("link", name="Edit", exact=True).click()
    edit = page.get_by_role("dialog", name="Edit client")
    edit.get_by_label("Name").fill("Web shop")
    edit.get_by_label("Access-token lifetime").select_option(label="30 minutes")
    edit.get_by_role("button", name="Save").click()
    expect(flash(page)).to_have_text("The client was saved.")
    expect(page.get_by_role("heading", name="Web shop", exact=True)).to_be_visible()

    page.get_by_role("link", name="Activity").click()
    rows = page.get_by_test_id("activity").locator("tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.locator(".action")).to_have_text(
        ["Client edited", "Organization added", "Secret rotated", "Client created"]
    )
    expect(rows.nth(0)).to_contain_text("name: Acme Parts GmbH API client → Web shop")
    expect(rows.nth(0)).to_contain_text("access-token lifetime: the default → 30 minutes")
    expect(rows.nth(1)).to_contain_text(anna)
    expect(rows.nth(1)).to_contain_text(second)
    expect(rows.nth(1)).to_contain_text("127.0.0.1")
    expect(rows.nth(2)).to_contain_text("grace period: 1 hour")
    expect(rows.nth(2)).to_contain_text("tokens revoked: no")
    expect(page.get_by_test_id("activity")).not_to_contain_text("seconds")
    screenshot(page, "console-activity")


def test_a_mistyped_address_gets_the_consoles_own_404_page(page: Any, world: World) -> None:
    org = world.organization(1, "Acme Parts GmbH")
    anna = world.user("anna", "Anna", "Berg", admin_of=(org,))
    log_in(page, anna)
    for path in ("/client", "/clients/cl_x/nope"):
        response = page.goto(path)
        assert response.status == 404
        assert response.headers["content-type"].startswith("text/html")
        expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
        expect(page.get_by_text("Log out", exact=True)).to_be_visible()  # the console's header
    screenshot(page, "console-page-not-found")
    page.get_by_role("link", name="Back to API clients").click()
    expect(page.get_by_role("heading", name="API clients", exact=True)).to_be_visible()


def test_the_readme_screenshots_are_made_from_the_demo(page: Any, console_server: Server) -> None:
    saved = readme_screenshots(page, console_server.app)
    assert [path.name for path in saved] == list(PAGES)
    assert all(path.stat().st_size > 10_000 for path in saved)
    expect(page.get_by_role("heading", name="Acme ERP production", exact=True)).to_be_visible()


# -- refusals and quality --------------------------------------------------------------------------------


def test_a_user_who_is_not_the_clients_administrator_gets_404_on_every_client_page(
    page: Any,
    world: World,
) -> None:
    org = world.organization(1, "Acme Parts GmbH")
    anna = world.user("anna", "Anna", "Berg", admin_of=(org,))
    ben = world.user("ben", "Ben", "Meyer", admin_of=(org,))  # even an admin of its organization
    client_id = world.client_for(anna, org)
    log_in(page, ben)
    for tab in ("organizations", "administrators", "activity"):
        response = page.goto(f"/clients/{client_id}/{tab}")
        assert response.status == 404
        expect(page.get_by_role("heading", name="Client not found")).to_be_visible()
    screenshot(page, "console-not-found")


def test_the_content_security_policy_blocks_injected_inline_script(page: Any) -> None:
    page.goto("/login")
    violations = page.evaluate("""() => new Promise(resolve => {
        const seen = [];
        document.addEventListener("securitypolicyviolation", event => {
            seen.push(event.violatedDirective);
            resolve(seen);
        });
        const script = document.createElement("script");
        script.textContent = "window.injected = true";
        document.body.append(script);
    })""")
    assert violations == ["script-src-elem"]
    assert page.evaluate("window.injected") is None
    for _ in range(50):  # the console message may trail the DOM event
        expected = [e for e in page.console_errors if "Content Security Policy" in e]
        if expected:
            break
        page.wait_for_timeout(50)
    assert len(expected) == 1
    page.console_errors.remove(expected[0])


def test_dialogs_work_with_the_keyboard(page: Any, world: World) -> None:
    org = world.organization(1, "Acme Parts GmbH")
    world.organization(2, "Acme Retail")
    anna = world.user("anna", "Anna", "Berg", admin_of=(org, world.org_id(2)))
    client_id = world.client_for(anna, org)
    log_in(page, anna)
    page.goto(f"/clients/{client_id}/organizations")

    page.get_by_role("link", name="Add TecCom ID").focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Add an organization")
    expect(dialog).to_be_visible()
    assert page.evaluate("document.activeElement.closest('dialog') !== null")
    assert page.evaluate("document.activeElement.labels[0].textContent.trim()") == "Organization"
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # keyboard only: open, move to OK with Tab, confirm with Enter
    page.get_by_role("link", name="Add TecCom ID").focus()
    page.keyboard.press("Enter")
    ok = dialog.get_by_role("button", name="OK")
    for _ in range(10):
        if page.evaluate("document.activeElement.textContent.trim()") == "OK":
            break
        page.keyboard.press("Tab")
    expect(ok).to_be_focused()
    page.keyboard.press("Enter")
    expect(flash(page)).to_have_text(f"Organization {world.org_id(2)} was added.")


#: labels of stacked table cells (narrow screens) wider than their column: the
#: browser would break them inside a word ("ORGANIZATIO / NS")
LABELS_BROKEN_INSIDE_A_WORD = """() => {
    const canvas = document.createElement("canvas").getContext("2d");
    const broken = [];
    for (const cell of document.querySelectorAll(".table-stack td[data-label]")) {
        const label = getComputedStyle(cell, "::before");
        if (label.content === "none" || getComputedStyle(cell).display !== "grid") continue;
        canvas.font = `${label.fontWeight} ${label.fontSize} ${label.fontFamily}`;
        const column = parseFloat(getComputedStyle(cell).gridTemplateColumns.split(" ")[0]);
        const spacing = parseFloat(label.letterSpacing) || 0;
        for (const word of cell.dataset.label.toUpperCase().split(/\\s+/)) {
            if (canvas.measureText(word).width + spacing * word.length > column) broken.push(word);
        }
    }
    return broken;
}"""
#: status badges drawn across the whole cell instead of around their word
STRETCHED_BADGES = """() => [...document.querySelectorAll(".table-stack .badge")].filter(badge => {
    const text = document.createRange();
    text.selectNodeContents(badge);
    return badge.getBoundingClientRect().width > text.getBoundingClientRect().width + 48;
}).length"""


def test_pages_fit_a_390_px_wide_screen(open_page: Any, world: World) -> None:
    org = world.organization(1, "Acme Parts GmbH")
    second = world.organization(2, "Acme Retail")
    anna = world.user("anna", "Anna", "Berg", admin_of=(org, second))
    client_id = world.client_for(anna, org)
    page = open_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    log_in(page, anna)
    for path, name in (
        (f"/clients?org={org}", "console-clients-390"),
        (f"/clients/{client_id}/organizations", "console-organizations-390"),
        (f"/clients/{client_id}/activity", "console-activity-390"),
    ):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        assert page.evaluate(LABELS_BROKEN_INSIDE_A_WORD) == [], path
        assert page.evaluate(STRETCHED_BADGES) == 0, path
        screenshot(page, name)
    page.goto(f"/clients/{client_id}/organizations")
    page.get_by_role("link", name="Add TecCom ID").click()
    dialog = page.get_by_role("dialog", name="Add an organization")
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    screenshot(page, "console-add-organization-390")


def test_the_story_works_without_javascript(open_page: Any, world: World) -> None:
    org = world.organization(1, "Acme Parts GmbH")
    second = world.organization(2, "Acme Retail")
    anna = world.user("anna", "Anna", "Berg", admin_of=(org, second))
    page = open_page(java_script_enabled=False)
    log_in(page, anna)
    page.get_by_label(ORG_PICKER).select_option(org)
    page.get_by_role("button", name="Show").click()
    page.get_by_role("button", name="Create client").click()
    client_id = page.get_by_label("Client ID").input_value()
    expect(page.get_by_role("button", name="Copy secret")).to_be_hidden()  # needs JavaScript
    page.get_by_role("link", name="I have stored the secret: continue").click()

    page.get_by_role("link", name="Add TecCom ID").click()  # ?dialog=add-organization
    dialog = page.get_by_role("dialog", name="Add an organization")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Notification e-mail 1").fill("ops@acme.example")
    dialog.get_by_role("button", name="Add email").click()  # a round trip adds the field
    dialog.get_by_label("Notification e-mail 2").fill("edi@acme.example")
    dialog.get_by_role("button", name="OK").click()
    row = page.locator(f'tr[data-teccom-id="{second}"]')
    expect(row.locator(".email")).to_have_text(["ops@acme.example", "edi@acme.example"])

    page.get_by_role("link", name="Rotate secret").click()
    page.get_by_role("dialog", name="Rotate the client secret?").get_by_label("7 days").check()
    page.get_by_role("button", name="Rotate secret").last.click()
    expect(page.get_by_role("heading", name="Secret rotated")).to_be_visible()
    assert page.get_by_label("Client ID").input_value() == client_id


def test_the_server_runs_on_the_database_it_was_given(
    console_server: Any, console_database: str
) -> None:
    from conftest import PG_URL  # tests/conftest.py (rootdir conftest)

    from authserver.extensions import db

    with console_server.app.app_context():
        dialect = db.engine.dialect.name
        database = db.engine.url.database
    if console_database.startswith("sqlite"):
        assert dialect == "sqlite"
    else:
        assert PG_URL is not None
        assert (dialect, database) == ("postgresql", f"{PG_URL.rsplit('/', 1)[1]}_console")
