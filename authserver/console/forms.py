"""The console's forms (WTForms via Flask-WTF: every form carries a CSRF token).

Forms only check shape (required fields, lengths, e-mail syntax); business
rules stay in the services, which the views call with the cleaned values.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, ValidationError

from ..errors import ValidationError as DomainValidationError
from ..public_keys import MAX_KEY_TEXT
from ..services.assignments import MAX_NOTIFICATION_EMAILS, validate_notification_emails
from ..services.client_keys import MAX_JWKS_URI, MAX_LABEL
from ..services.client_profile import MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH
from ..services.secret_rotation import MAX_GRACE_PERIOD_SECONDS

#: grace periods offered when rotating a secret (docs/rules.md, rule 3), in seconds
GRACE_PERIODS = [
    SelectChoice("0", "None: the old secret stops working now"),
    SelectChoice("3600", "1 hour"),
    SelectChoice("86400", "1 day"),
    SelectChoice(str(MAX_GRACE_PERIOD_SECONDS), "7 days"),
]

BAD_EMAIL = "Enter a valid e-mail address, like name@example.com."
TOO_MANY_EMAILS = (
    f"At most {MAX_NOTIFICATION_EMAILS} notification e-mails: remove this one or another."
)


class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(
        "E-mail", validators=[InputRequired("Enter your e-mail address."), Length(max=320)]
    )
    password = PasswordField(
        "Password", validators=[InputRequired("Enter your password."), Length(max=1024)]
    )
    next = HiddenField()


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A form with nothing but its CSRF token: confirmations of destructive actions."""


class CreateClientForm(FlaskForm):  # type: ignore[misc]
    teccom_id = HiddenField(validators=[InputRequired(), Length(max=32)])
    #: blank: the service names it after the organization
    name = StringField("Client name", validators=[Length(max=MAX_NAME_LENGTH)])


#: access-token lifetimes offered for a client, in seconds (up to the server's maximum)
TOKEN_LIFETIMES = [60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400]


class ClientSettingsForm(FlaskForm):  # type: ignore[misc]
    """Edit client: name, description, technical contacts, token lifetime."""

    name = StringField(
        "Name", validators=[InputRequired("Name the client."), Length(max=MAX_NAME_LENGTH)]
    )
    description = TextAreaField("Description", validators=[Length(max=MAX_DESCRIPTION_LENGTH)])
    contacts = TextAreaField("Technical contacts", validators=[Length(max=5 * 321)])
    access_token_lifetime = SelectField("Access-token lifetime", validate_choice=True)

    def contact_list(self) -> list[str]:
        """The e-mail addresses, one per line (or separated by commas)."""
        text = (self.contacts.data or "").replace(",", "\n")
        return [line.strip() for line in text.splitlines() if line.strip()]

    def lifetime(self) -> int | None:
        """Seconds, or ``None`` for the server's default."""
        value = self.access_token_lifetime.data
        return int(value) if value else None


class RotateSecretForm(FlaskForm):  # type: ignore[misc]
    grace_period_seconds = RadioField(
        "Keep the old secret valid for",
        choices=GRACE_PERIODS,
        coerce=int,
        default=0,
    )
    revoke_tokens = BooleanField("Also revoke every access token issued so far")


class _EmailsForm(FlaskForm):  # type: ignore[misc]
    #: the most e-mail fields the form shows ("+ Add email" stops there)
    max_emails = MAX_NOTIFICATION_EMAILS

    enabled = BooleanField("Enabled", default=True)
    # no max_entries: WTForms would drop the fields past it without a word;
    # the request size limit bounds the fields, the validator below their number
    notification_emails = FieldList(
        EmailField("Notification e-mail", validators=[Length(max=320)]),
        min_entries=1,
    )

    def validate_notification_emails(self, field: FieldList) -> None:
        bad = False
        seen: set[str] = set()
        for entry in field.entries:
            value = (entry.data or "").strip()
            if not value:
                continue
            try:  # the service's own check, one address at a time
                validate_notification_emails([value])
            except DomainValidationError:
                entry.errors = [*entry.errors, BAD_EMAIL]
                bad = True
                continue
            if value in seen:
                continue  # a repeat is dropped, see emails()
            seen.add(value)
            if len(seen) > MAX_NOTIFICATION_EMAILS:
                entry.errors = [*entry.errors, TOO_MANY_EMAILS]
                bad = True
        if bad:
            raise ValidationError("Correct the e-mail addresses marked below.")

    def emails(self) -> list[str]:
        """The non-empty e-mails, in order, without duplicates."""
        seen: dict[str, None] = {}
        for entry in self.notification_emails.entries:
            value = (entry.data or "").strip()
            if value:
                seen.setdefault(value, None)
        return list(seen)

    def add_blank_email(self) -> None:
        if len(self.notification_emails.entries) < MAX_NOTIFICATION_EMAILS:
            self.notification_emails.append_entry()


class AssignmentForm(_EmailsForm):
    """+ Add TecCom ID: the choices are set by the view (assignable organizations)."""

    teccom_id = SelectField(
        "Organization",
        validate_choice=False,
        validators=[InputRequired("Choose an organization."), Length(max=32)],
    )


class EditAssignmentForm(_EmailsForm):
    """The pencil: enabled and notification e-mails of one assignment."""


class AdministratorForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(
        "E-mail", validators=[InputRequired("Enter an e-mail address."), Length(max=320)]
    )


def with_emails(form: _EmailsForm, emails: list[str]) -> Any:
    """Fill *form*'s e-mail fields with *emails*, plus one blank field below
    the maximum."""
    while form.notification_emails.entries:
        form.notification_emails.pop_entry()
    for email in emails:
        form.notification_emails.append_entry(email)
    form.add_blank_email()
    return form


class ClientKeyForm(FlaskForm):  # type: ignore[misc]
    """Register a public key for ``private_key_jwt``: a JWK or a PEM public key."""

    key = TextAreaField(
        "Public key (JWK or PEM)",
        validators=[
            InputRequired("Paste the public key."),
            Length(max=MAX_KEY_TEXT, message="The key is too long."),
        ],
    )
    label = StringField(
        "Label",
        validators=[Length(max=MAX_LABEL, message=f"At most {MAX_LABEL} characters.")],
    )


class RemoveKeyForm(FlaskForm):  # type: ignore[misc]
    thumbprint = HiddenField(validators=[InputRequired(), Length(max=64)])


class SecretAuthenticationForm(FlaskForm):  # type: ignore[misc]
    enabled = HiddenField(validators=[InputRequired(), AnyOf(["on", "off"])])


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class JwksUriForm(FlaskForm):  # type: ignore[misc]
    """The URL where the client publishes its public keys (a JWK Set); the
    service decides which URLs are acceptable."""

    jwks_uri = URLField(
        "Key set URL (jwks_uri)",
        filters=[_strip],
        validators=[
            DataRequired("Enter the URL of the key set."),
            Length(max=MAX_JWKS_URI, message=f"At most {MAX_JWKS_URI} characters."),
        ],
    )
