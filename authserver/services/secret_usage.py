"""When each client secret last got a token ("last used"), recorded without
a database write per token.

The token path only notes the secret's row id in a dict of its process
(:meth:`SecretUsage.note`: one dict write, no lock, no I/O). A background
thread of the process writes what was noted at most once a minute
(:meth:`SecretUsage.flush`: one ``UPDATE`` for all of them), stamped with the
time of the flush, so ``last_used_at`` is at most a minute late; it only ever
moves forward, whichever process writes. What a process noted but had not
written yet when it stops is written at exit.
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, bindparam, or_, update
from sqlalchemy.exc import SQLAlchemyError

from ..models import ClientSecret
from ..models._base import utcnow

log = logging.getLogger(__name__)

#: seconds between two writes of a process
FLUSH_INTERVAL = 60.0

_STAMP = (
    update(ClientSecret)
    .where(
        ClientSecret.id == bindparam("secret_id"),
        or_(ClientSecret.last_used_at.is_(None), ClientSecret.last_used_at < bindparam("used_at")),
    )
    .values(last_used_at=bindparam("used_at"))
)


class SecretUsage:
    """The secrets a process used since its last write, and the thread that writes them.

    :param engine: the engine to write with (called at flush time: it may be
        made lazily, after the first token).
    :param interval: seconds between two writes.
    :param clock: the time of a flush (tests).
    """

    def __init__(
        self,
        engine: Callable[[], Engine],
        *,
        interval: float = FLUSH_INTERVAL,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self._interval = interval
        self._clock = clock
        self._seen: dict[int, None] = {}
        self._started = False
        self._start_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()

    def note(self, secret_id: int) -> None:
        """Remember that the secret *secret_id* got a token (the hot path: a dict write)."""
        self._seen[secret_id] = None

    def start(self) -> None:
        """Start writing every *interval* seconds in a daemon thread, and at exit
        (once per process; a forked child starts its own on first use)."""
        with self._start_lock:
            if self._started:
                return
            self._started = True
        stop = self._stop
        this = weakref.ref(self)
        threading.Thread(
            target=_run, args=(this, stop, self._interval), name="secret-usage", daemon=True
        ).start()
        atexit.register(_flush_at_exit, this)

    def stop(self) -> None:
        """Stop the thread (what was noted stays until the next :meth:`flush`)."""
        self._stop.set()

    def flush(self, *, at_exit: bool = False) -> int:
        """Write what was noted since the last write, in one statement; how many secrets.

        A failed write (database down) keeps the ids for the next one; at exit
        (*at_exit*) there is none, and the failure is only logged for debugging.
        """
        with self._flush_lock:
            seen, self._seen = self._seen, {}
            ids = list(seen)
            if not ids:
                return 0
            used_at = self._clock()
            try:
                with self._engine().begin() as connection:
                    connection.execute(_STAMP, [{"secret_id": i, "used_at": used_at} for i in ids])
            except SQLAlchemyError as error:
                log.log(
                    logging.DEBUG if at_exit else logging.WARNING,
                    "could not record the last use of secrets: %s",
                    type(error).__name__,
                )
                for secret_id in ids:
                    self._seen[secret_id] = None
                return 0
            return len(ids)


def _run(usage: weakref.ref[SecretUsage], stop: threading.Event, interval: float) -> None:
    while not stop.wait(interval):
        live = usage()
        if live is None:
            return
        try:
            live.flush()
        except Exception as error:  # noqa: BLE001 - the thread must go on
            log.warning("could not record the last use of secrets: %s", type(error).__name__)
        del live


def _flush_at_exit(usage: weakref.ref[SecretUsage]) -> None:
    live = usage()
    if live is not None:
        live.flush(at_exit=True)
