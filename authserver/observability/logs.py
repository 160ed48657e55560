"""Log records as plain text (development) or JSON (``AUTHSERVER_LOG_FORMAT=json``).

Every record made while a request is served carries that request's id and,
once the client has authenticated, its client id (``request_id``,
``client_id``); the JSON formatter writes them as fields, the text formatter
in brackets. Nothing here logs a request's headers, body or query values:
callers never pass a secret, password or token to a logger (the access log
removes sensitive query values, see :mod:`.access_log`).
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from . import context

FORMATS = ("text", "json")

#: the attribute that marks the handler installed here (installed once per process)
_MARKER = "_authserver_handler"

_TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
_JSON_FIELDS = "%(levelname)s %(name)s %(message)s"
_JSON_RENAME = {"levelname": "level", "name": "logger"}


class RequestContext(logging.Filter):
    """Adds ``request_id`` and ``client_id`` to a record (``-`` outside a
    request) unless the caller gave them (the access log does)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            request_id, client_id = context.current()
            record.request_id = request_id or "-"
            record.client_id = client_id or "-"
        return True


def formatter(log_format: str) -> logging.Formatter:
    """The formatter for *log_format* (``text`` or ``json``)."""
    if log_format == "json":
        return JsonFormatter(
            _JSON_FIELDS,
            rename_fields=_JSON_RENAME,
            timestamp="time",  # ISO 8601, UTC
            json_ensure_ascii=False,
        )
    return logging.Formatter(_TEXT)


def configure(log_format: str, level: str) -> None:
    """Send this process's log records to stderr in *log_format*, from *level*
    on for the ``authserver`` loggers.

    Idempotent (every app made in one process shares the handler; the last
    call's format wins). Logging already configured by someone else (a test
    runner, an embedding application) is left alone.
    """
    logging.getLogger("authserver").setLevel(level.upper())
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, _MARKER, False)]
    if root.handlers and not ours:
        return
    if ours:
        handler = ours[0]
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.addFilter(RequestContext())
        setattr(handler, _MARKER, True)
        root.addHandler(handler)
    handler.setFormatter(formatter(log_format))
