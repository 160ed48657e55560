"""``AUTHSERVER_SMTP_URL``: where the mail worker hands mails over.

``smtp://host:25`` (plain, as a local relay expects), ``smtp+starttls://user:
password@host:587`` (RFC 3207 STARTTLS, then RFC 4954 AUTH) and
``smtps://user:password@host:465`` (implicit TLS, RFC 8314 §3.3). User and
password are percent-decoded; the password never appears in ``repr`` or a log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.headerregistry import Address
from email.utils import parseaddr
from urllib.parse import unquote, urlsplit

#: scheme -> default port
SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True)
class SmtpSettings:
    """A parsed SMTP URL."""

    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def starttls(self) -> bool:
        return self.scheme == "smtp+starttls"

    @property
    def implicit_tls(self) -> bool:
        return self.scheme == "smtps"

    def describe(self) -> str:
        """The URL without the password, for logs and messages."""
        user = f"{self.username}@" if self.username else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpSettings:
    """Parse *url*.

    :raises ValueError: an unknown scheme, no host, a bad port, a path or
        query (the messages never repeat the URL: it may hold a password).
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ValueError("not a valid URL (bad port?)") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError("the scheme must be smtp://, smtp+starttls:// or smtps://")
    if not parts.hostname:
        raise ValueError("the URL names no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("the URL must have no path, query or fragment")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and scheme == "smtp":
        raise ValueError(
            "a password needs smtp+starttls:// or smtps:// (never sent over plain smtp://)"
        )
    return SmtpSettings(scheme, parts.hostname, port or SCHEMES[scheme], username, password)


def validate_sender(value: str) -> Address:
    """``AUTHSERVER_MAIL_FROM``: ``name <address>`` or a bare address.

    :raises ValueError: not one address, or a line break in it.
    """
    if "\r" in value or "\n" in value:
        raise ValueError("must be one line")
    name, address = parseaddr(value)
    if not address or "@" not in address:
        raise ValueError("must be an e-mail address, like 'authserver <noreply@example.com>'")
    local, _, domain = address.rpartition("@")
    return Address(display_name=name, username=local, domain=domain)
