"""The README's screenshots, made from the demo data.

:func:`readme_screenshots` loads the demo directory and the demo client
(``authserver demo setup``, as ``make run`` does), gives the client a second
organization and some settings, logs in as the demo administrator and takes
the pictures the README shows. The browser tests run it on every test run
(into ``tests/artifacts/readme/``), so it keeps working as the console
changes; ``make screenshots`` runs the same test with the README's folder
(``docs/``) as the target.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from authserver import credentials
from authserver.extensions import db
from authserver.models import Assignment, User
from authserver.services import assignments, audit, client_settings, demo

#: where the pictures go: ``$AUTHSERVER_SCREENSHOTS_DIR``, else the test artifacts
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "readme"
#: the README's pictures: file name -> page (``{client_id}`` is the demo client)
PAGES = {
    "console-clients.png": "/clients?org=400100",
    "console-organizations.png": "/clients/{client_id}/organizations",
    "console-credentials.png": "/clients/{client_id}/credentials",
    "console-activity.png": "/clients/{client_id}/activity",
}


def target_folder() -> Path:
    folder = Path(os.environ.get("AUTHSERVER_SCREENSHOTS_DIR") or ARTIFACTS)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def seed_demo(app: Flask) -> tuple[str, str, str]:
    """The demo data on *app*'s database: ``(client_id, e-mail, password)``."""
    ctx = audit.AuditContext(actor="anna@example.com", remote_addr="192.0.2.10")
    with app.app_context():
        credentials.configure(app.config)
        setup = demo.setup_demo(audit.CLI, environment="testing")
        anna = db.session.execute(
            db.select(User).where(User.email == setup.admin_email)
        ).scalar_one()
        assigned = db.session.execute(
            db.select(Assignment).where(Assignment.teccom_id == "400200")
        ).first()
        if assigned is None:
            assignments.assign_organization(
                anna,
                setup.client_id,
                "400200",
                ctx,
                notification_emails=["edi@acme-parts.example"],
            )
        client_settings.update_client(
            anna,
            setup.client_id,
            ctx,
            {
                "name": "Acme ERP production",
                "description": "SAP S/4HANA in Hamburg: order export and price subscriptions.",
                "contacts": ["it-integration@acme-parts.example"],
            },
            max_token_lifetime=int(app.config["MAX_TOKEN_LIFETIME"]),
        )
        return setup.client_id, setup.admin_email, setup.admin_password


def readme_screenshots(page: Any, app: Flask) -> list[Path]:
    """Log in as the demo administrator on *page* and save the README's pictures."""
    client_id, email, password = seed_demo(app)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/clients**")
    folder = target_folder()
    saved = []
    for name, path in PAGES.items():
        page.goto(path.format(client_id=client_id))
        saved.append(folder / name)
        page.screenshot(path=str(saved[-1]))
    return saved
