"""Mails from Jinja templates: a subject, a plain-text and an HTML part.

Templates live in ``templates/<language>/`` (``en`` today; a ``de/`` folder
with the same names adds German). ``<kind>.txt`` holds the blocks
``subject`` and ``body``; ``<kind>.html`` the HTML part. Credential notices
share ``notice.*``, with the sentence of each event in ``_notice_lines.txt``.
Nothing a caller sent reaches a header unchecked: the subject is folded to
one line of printable text, and the reason of a failed export only ever goes
into the body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

#: the languages with templates
LANGUAGES = ("en",)
#: kinds rendered from the shared ``notice`` templates
NOTICE_KINDS = frozenset(
    {
        "secret_rotated",
        "administrator_added",
        "administrator_removed",
        "organization_assigned",
        "organization_unassigned",
        "organization_enabled",
        "organization_disabled",
        "client_deleted",
        "key_added",
        "key_removed",
        "secret_auth_enabled",
        "secret_auth_disabled",
        "jwks_uri_set",
        "jwks_uri_removed",
    }
)
#: the longest subject (RFC 5322 §2.1.1 asks for lines under 78 characters; folding handles more)
SUBJECT_MAX = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\s]+")

_env = Environment(
    loader=PackageLoader("authserver", "mail/templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def one_line(value: object, limit: int = SUBJECT_MAX) -> str:
    """*value* as one line of text: every run of control characters and
    white space (CR and LF included) becomes one space."""
    text = _CONTROL.sub(" ", str(value)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _when(value: datetime | str | None) -> str:
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


_env.filters["when"] = _when
_env.filters["one_line"] = one_line


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(kind: str, context: Mapping[str, Any], language: str = "en") -> Rendered:
    """Render the mail of *kind* with *context*.

    :raises jinja2.TemplateNotFound: no template for *kind*.
    """
    if language not in LANGUAGES:
        language = "en"
    name = "notice" if kind in NOTICE_KINDS else kind
    values = {**context, "kind": kind}
    if kind in NOTICE_KINDS:  # one sentence, shared by both parts (escaped in HTML)
        lines = _env.get_template(f"{language}/_notice_lines.txt").render(values)
        values["summary"] = one_line(lines, limit=2000)
    text_template = _env.get_template(f"{language}/{name}.txt")
    blocks = text_template.blocks
    subject = "".join(blocks["subject"](text_template.new_context(values)))
    body = "".join(blocks["body"](text_template.new_context(values)))
    html = _env.get_template(f"{language}/{name}.html").render(values)
    return Rendered(one_line(subject), body.strip() + "\n", html)


def build_message(
    rendered: Rendered,
    *,
    sender: Address,
    recipient: str,
    message_id: str,
    date: datetime,
) -> EmailMessage:
    """An RFC 5322 message with both parts (RFC 2046 ``multipart/alternative``).

    ``Auto-Submitted: auto-generated`` (RFC 3834 §5) keeps auto-responders
    quiet; ``Message-ID`` is the outbox row's, so a retry repeats it and a
    receiving system can drop a duplicate.
    """
    message = EmailMessage(policy=SMTP)
    local, _, domain = recipient.rpartition("@")
    message["From"] = sender
    message["To"] = Address(username=local, domain=domain)
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = f"<{message_id}@{sender.domain or 'localhost'}>"
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message
