"""``AUTHSERVER_SMTP_URL`` and ``AUTHSERVER_MAIL_FROM``."""

from __future__ import annotations

import pytest

from authserver.config import ConfigError, load_config
from authserver.mail.smtp_url import SmtpSettings, parse_smtp_url, validate_sender


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://relay.example:25", SmtpSettings("smtp", "relay.example", 25)),
        ("smtp://relay.example", SmtpSettings("smtp", "relay.example", 25)),
        (
            "smtp+starttls://mailer%40acme:p%3Ass%2Fw@mail.example:587",
            SmtpSettings("smtp+starttls", "mail.example", 587, "mailer@acme", "p:ss/w"),
        ),
        ("smtps://u:pw@mail.example", SmtpSettings("smtps", "mail.example", 465, "u", "pw")),
        ("SMTP://[::1]:2525", SmtpSettings("smtp", "::1", 2525)),
    ],
)
def test_good_urls(url, expected):
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail.example", "the scheme must be smtp://, smtp+starttls:// or smtps://"),
        ("smtp://", "the URL names no host"),
        ("smtp://mail.example:99999", "not a valid URL (bad port?)"),
        ("smtp://mail.example/path", "the URL must have no path, query or fragment"),
        ("smtp://u:secret@mail.example", "a password needs smtp+starttls:// or smtps://"),
    ],
)
def test_bad_urls_are_refused_without_repeating_them(url, message):
    with pytest.raises(ValueError) as raised:
        parse_smtp_url(url)
    assert str(raised.value).startswith(message)
    assert "secret" not in str(raised.value)


def test_the_password_is_never_in_repr_or_describe():
    settings = parse_smtp_url("smtps://mailer:hunter2@mail.example")
    assert "hunter2" not in repr(settings)
    assert settings.describe() == "smtps://mailer@mail.example:465"


def test_sender():
    address = validate_sender("authserver <noreply@auth.example.com>")
    assert (address.display_name, address.addr_spec) == ("authserver", "noreply@auth.example.com")
    for bad in ("nobody", "a <b@c>\r\nBcc: x@y", ""):
        with pytest.raises(ValueError):
            validate_sender(bad)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("AUTHSERVER_SMTP_URL", "smtp://u:pw@host", "AUTHSERVER_SMTP_URL: a password needs"),
        ("AUTHSERVER_MAIL_FROM", "nobody", "AUTHSERVER_MAIL_FROM: must be an e-mail address"),
        ("AUTHSERVER_MAIL_DIGEST_WINDOW", "-1", "AUTHSERVER_MAIL_DIGEST_WINDOW must be"),
        ("AUTHSERVER_MAIL_DAILY_CAP", "0", "AUTHSERVER_MAIL_DAILY_CAP must be"),
        ("AUTHSERVER_MAIL_LEASE_SECONDS", "0", "AUTHSERVER_MAIL_LEASE_SECONDS must be"),
    ],
)
def test_the_configuration_refuses_bad_mail_settings(
    monkeypatch, tmp_path, variable, value, message
):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_config(str(tmp_path))
    assert str(raised.value).startswith(message)
    assert "pw@" not in str(raised.value)


def test_mail_defaults(monkeypatch, tmp_path):
    for name in (
        "AUTHSERVER_SMTP_URL",
        "AUTHSERVER_MAIL_DIGEST_WINDOW",
        "AUTHSERVER_MAIL_DAILY_CAP",
    ):
        monkeypatch.delenv(name, raising=False)
    config = load_config(str(tmp_path))
    assert (config["SMTP_URL"], config["MAIL_DIGEST_WINDOW"], config["MAIL_DAILY_CAP"]) == (
        None,
        900,
        10,
    )
