"""Field types every schema uses: strict booleans, text without control
characters, e-mail addresses, TecCom IDs."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate


class StrictBoolean(fields.Boolean):
    """JSON ``true`` or ``false`` only (marshmallow also takes ``"yes"``, ``1``, ...)."""

    default_error_messages = {"invalid": "Not a valid boolean: use true or false."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Text(fields.String):
    """A string that a database column can hold: no NUL characters, and no
    lone UTF-16 surrogates (JSON can spell ``"\\ud800"``, UTF-8 cannot encode it).
    """

    default_error_messages = {
        "nul": "Must not contain NUL characters.",
        "surrogate": "Must be valid Unicode text (no lone surrogates).",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise self.make_error("nul")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise self.make_error("surrogate") from None
        return text


def email_field(**kwargs: Any) -> fields.String:
    return Text(validate=validate.Length(min=1, max=320), **kwargs)


def teccom_id_field(**kwargs: Any) -> fields.String:
    return Text(
        validate=validate.Length(min=1, max=32),
        metadata={"description": "TecCom ID of the organization", "example": "400100"},
        **kwargs,
    )
