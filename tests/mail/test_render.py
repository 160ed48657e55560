"""Rendering: subject, plain-text and HTML parts from the templates, and
nothing from a caller in a header."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.headerregistry import Address
from types import SimpleNamespace

import pytest

from authserver.mail.render import NOTICE_KINDS, build_message, one_line, render

BASE = {
    "client_id": "cl_1",
    "client_name": "Acme ERP",
    "teccom_id": "400100",
    "organization_name": "Acme <Parts> & Co",
    "console_url": "https://auth.example/clients/cl_1/organizations",
    "activity_url": "https://auth.example/clients/cl_1/activity",
    "actor": "anna@example.com",
}


def failure(export_id: str, reason: str = "failed") -> SimpleNamespace:
    return SimpleNamespace(
        export_id=export_id,
        failed_at=datetime(2026, 12, 6, 10, tzinfo=UTC),
        reason=reason,
        reason_code="E42",
    )


def test_a_digest_lists_every_export_and_escapes_html():
    mail = render("export_failures", {**BASE, "failures": [failure("a"), failure("<b>")]})
    assert mail.subject == "2 failed exports for 400100 Acme <Parts> & Co"
    assert "Export <b>" in mail.text and "(code E42)" in mail.text
    assert "<code>&lt;b&gt;</code>" in mail.html
    assert "Acme &lt;Parts&gt; &amp; Co" in mail.html


@pytest.mark.parametrize("kind", sorted(NOTICE_KINDS))
def test_every_notice_renders_a_subject_and_both_parts(kind):
    context = {
        **BASE,
        "email": "bob@example.com",
        "organization": "400200",
        "enabled": True,
        "grace_end": None,
        "tokens_revoked": False,
        "organizations": ["400100"],
        "label": "ERP 2027",
        "thumbprint": "rzDxmDkMkZiYg98RiCTgW5MVQ0zWR06Z13qrBXzK9Vc",
        "jwks_uri": "https://partner.example/jwks",
    }
    mail = render(kind, context)
    assert mail.subject.endswith(": API client Acme ERP")
    assert "anna@example.com" in mail.text and "anna@example.com" in mail.html
    assert "\n" not in mail.subject


def test_one_line_folds_every_line_break_and_control_character():
    assert one_line("a\r\nBcc: x\x00\u2028y\tz") == "a Bcc: x y z"
    assert len(one_line("x" * 500)) == 200


def test_a_subject_from_a_name_with_cr_lf_stays_one_header():
    mail = render("test", {**BASE, "organization_name": "Evil\r\nBcc: victim@example.com"})
    message = build_message(
        mail,
        sender=Address("authserver", "noreply", "auth.example"),
        recipient="ops@acme.example",
        message_id="abc",
        date=datetime(2026, 12, 6, tzinfo=UTC),
    )
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "Test e-mail for 400100 Evil Bcc: victim@example.com"
    assert parsed["Message-ID"] == "<abc@auth.example>"
    assert parsed["Auto-Submitted"] == "auto-generated"
