"""Handing a message over: SMTP (``smtplib``), or ``.eml`` files in
development.

Every SMTP answer is sorted into *temporary* (4xx, connection refused or
dropped, timeouts: try again later) or *permanent* (5xx for this recipient:
do not retry), RFC 5321 §4.2.1.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType

from .smtp_url import SmtpSettings

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """The message was not accepted.

    :param temporary: worth retrying later.
    :param connection: the connection is unusable (the rest of the batch
        gets the same answer without trying).
    """

    def __init__(self, reason: str, *, temporary: bool, connection: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason[:500]
        self.temporary = temporary
        self.connection = connection


def _answer(code: int, message: bytes | str) -> DeliveryError:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    text = " ".join(text.split())
    return DeliveryError(f"{code} {text}", temporary=not 500 <= code < 600)


class SmtpTransport:
    """One SMTP connection for a batch, opened on the first message."""

    def __init__(self, settings: SmtpSettings, *, timeout: float = 30.0) -> None:
        self.settings = settings
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        smtp: smtplib.SMTP
        if settings.implicit_tls:
            smtp = smtplib.SMTP_SSL(
                settings.host,
                settings.port,
                timeout=self.timeout,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=self.timeout)
        try:
            smtp.ehlo_or_helo_if_needed()
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.username:
                smtp.login(settings.username, settings.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage, sender: str, recipient: str) -> None:
        """Send *message* to *recipient* (the envelope, RFC 5321 §3.3).

        :raises DeliveryError: not accepted.
        """
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(message, from_addr=sender, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as error:
            code, text = error.recipients.get(recipient, (451, b"refused"))
            self._reset()
            raise _answer(code, text) from None
        except smtplib.SMTPAuthenticationError as error:
            self.close()
            failure = _answer(error.smtp_code, error.smtp_error)
            raise DeliveryError(
                f"authentication failed: {failure.reason}", temporary=True, connection=True
            ) from None
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError) as error:
            self.close()
            raise DeliveryError(
                f"connection: {type(error).__name__}", temporary=True, connection=True
            ) from None
        except smtplib.SMTPResponseException as error:
            self._reset()
            raise _answer(error.smtp_code, error.smtp_error) from None
        except smtplib.SMTPException as error:  # before OSError: it is one
            self.close()
            raise DeliveryError(f"{type(error).__name__}: {error}", temporary=True) from None
        except OSError as error:  # refused, unreachable, timed out, TLS
            self.close()
            raise DeliveryError(
                f"connection: {type(error).__name__}: {error.strerror or error}",
                temporary=True,
                connection=True,
            ) from None

    def _reset(self) -> None:
        """After a refusal the session goes on with ``RSET`` (RFC 5321 §4.1.1.5)."""
        if self._smtp is None:
            return
        try:
            self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        if self._smtp is None:
            return
        smtp, self._smtp = self._smtp, None
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


class FileTransport:
    """Writes each message as ``<directory>/<Message-ID>.eml`` (development)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __enter__(self) -> FileTransport:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pass

    def send(self, message: EmailMessage, sender: str, recipient: str) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            name = str(message["Message-ID"]).strip("<>").partition("@")[0]
            path = self.directory / f"{name}.eml"
            partial = path.with_suffix(".eml.partial")
            partial.write_bytes(message.as_bytes())
            os.replace(partial, path)  # never a half-written file under the final name
        except OSError as error:
            raise DeliveryError(
                f"cannot write {self.directory}: {error.strerror}", temporary=True, connection=True
            ) from None
