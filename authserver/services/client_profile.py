"""What a partner client is called and how it behaves: the rules for its
name, description, technical contacts and access-token lifetime.

Pure checks, no database: the services that create and edit clients call
them, and the console's forms use the same limits. Every ``validate_*``
returns the cleaned value or raises :class:`~authserver.errors.ValidationError`
naming the field.
"""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

from ..errors import ValidationError

#: length of a client's name
MAX_NAME_LENGTH = 100
#: length of a client's description
MAX_DESCRIPTION_LENGTH = 500
#: technical contacts per client
MAX_CONTACTS = 5
#: the shortest access-token lifetime a client may have, in seconds
MIN_ACCESS_TOKEN_LIFETIME = 60


def default_name(organization_name: str) -> str:
    """The name of a new client when its creator gives none."""
    return f"{organization_name} API client"[:MAX_NAME_LENGTH]


def _has_control_characters(text: str, *, allow_newlines: bool = False) -> bool:
    allowed = {"\n", "\r", "\t"} if allow_newlines else set()
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in text)


def validate_name(name: object) -> str:
    """A name of 1 to 100 characters (surrounding spaces dropped), one line.

    :raises ValidationError: not such a string.
    """
    if not isinstance(name, str) or _has_control_characters(name):
        raise ValidationError("name must be text on one line.", field="name")
    cleaned = name.strip()
    if not 1 <= len(cleaned) <= MAX_NAME_LENGTH:
        raise ValidationError(f"name must be 1 to {MAX_NAME_LENGTH} characters long.", field="name")
    return cleaned


def validate_description(description: object) -> str:
    """A description of at most 500 characters (may be empty).

    :raises ValidationError: not such a string.
    """
    if not isinstance(description, str) or _has_control_characters(
        description, allow_newlines=True
    ):
        raise ValidationError("description must be text.", field="description")
    cleaned = description.strip()
    if len(cleaned) > MAX_DESCRIPTION_LENGTH:
        raise ValidationError(
            f"description must be at most {MAX_DESCRIPTION_LENGTH} characters long.",
            field="description",
        )
    return cleaned


def validate_contacts(contacts: object) -> list[str]:
    """0 to 5 e-mail addresses (RFC 5322 syntax, no DNS look-up), normalized,
    without duplicates, in the given order.

    :raises ValidationError: not such a list; ``errors`` names every address at fault.
    """
    if not isinstance(contacts, (list, tuple)):
        raise ValidationError("contacts must be a list of e-mail addresses.", field="contacts")
    problems: list[dict[str, str]] = []
    result: list[str] = []
    for index, address in enumerate(contacts):
        field = f"contacts.{index}"
        try:
            if not isinstance(address, str):
                raise EmailNotValidError("not a string")
            normalized = validate_email(address, check_deliverability=False).normalized
        except EmailNotValidError as error:
            problems.append({"field": field, "message": f"Not a valid e-mail address: {error}"})
            continue
        if normalized.lower() not in {known.lower() for known in result}:
            result.append(normalized)
    if problems:
        raise ValidationError(problems[0]["message"], field=problems[0]["field"], errors=problems)
    if len(result) > MAX_CONTACTS:
        raise ValidationError(
            f"contacts may hold at most {MAX_CONTACTS} addresses.", field="contacts"
        )
    return result


def validate_access_token_lifetime(lifetime: object, maximum: int) -> int | None:
    """``None`` (the server's default) or 60 seconds to *maximum* (the
    server's longest lifetime, ``AUTHSERVER_TOKEN_LIFETIME``'s upper bound).

    :raises ValidationError: anything else.
    """
    if lifetime is None:
        return None
    if (
        isinstance(lifetime, bool)
        or not isinstance(lifetime, int)
        or not MIN_ACCESS_TOKEN_LIFETIME <= lifetime <= maximum
    ):
        raise ValidationError(
            f"access_token_lifetime must be null (the default) or a number of seconds from "
            f"{MIN_ACCESS_TOKEN_LIFETIME} to {maximum}.",
            field="access_token_lifetime",
        )
    return lifetime
