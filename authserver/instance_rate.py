"""A rate shared by the worker processes of one instance, without Redis.

``authserver serve`` runs several worker processes; a count kept in each
process's memory lets an instance do workers × the configured rate. The
argon2 failure budget (:mod:`authserver.oauth2.argon2_budget`) is meant per
instance, so its count lives in a small file that ``authserver serve`` makes
for the run (``AUTHSERVER_ARGON2_BUDGET_FILE``), shared by its workers under
an exclusive ``flock``. With Redis the count is shared by every instance
instead (:mod:`authserver.throttle`).

The count is the generic cell rate algorithm (GCRA, the ATM traffic policer
that ``redis-cell`` and ``limits``' own GCRA strategy implement as well):
for "*n* per *t* seconds" the file holds one number, the theoretical arrival
time of the next event; an event conforms while that time is at most
``t - t/n`` seconds ahead, and each event moves it ``t/n`` on. So *n* events
may come at once, then one every ``t/n`` seconds. The clock is
:func:`time.monotonic`, which is one clock for all processes of the machine
and never jumps with the wall clock.
"""

from __future__ import annotations

import fcntl
import logging
import math
import os
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

from limits import parse

log = logging.getLogger(__name__)

_STATE = struct.Struct("<d")


class InstanceRate:
    """*limit* (a ``limits`` expression such as ``"1 per 2 seconds"``) counted
    in the file *path*, for every process that opens it.

    It answers like :class:`~authserver.throttle.FailureThrottle`
    (:meth:`retry_after`, :meth:`failed`) with one count for all keys.
    """

    def __init__(
        self, limit: str, path: str | Path, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        item = parse(limit)
        period = float(item.get_expiry())
        #: seconds each event moves the arrival time on
        self.interval = period / item.amount
        #: how far ahead the arrival time may be for an event to conform
        self.tolerance = period - self.interval
        self.path = Path(path)
        self.clock = clock
        self._lock = threading.Lock()  # flock excludes processes, not threads sharing a file
        self._fd: int | None = None
        self._pid = 0

    def retry_after(self, *keys: str) -> int:
        """Seconds until the next event conforms (0: now); *keys* are ignored."""
        wait = self._count_if(lambda wait: False)
        return max(1, math.ceil(wait)) if wait > 0 else 0

    def failed(self, *keys: str) -> None:
        """Count one event; *keys* are ignored (one count per instance)."""
        self._count_if(lambda wait: True)

    def take(self, *keys: str) -> bool:
        """Count one event if it conforms now, in one step under the lock;
        ``False``: it must wait, nothing counted. *keys* are ignored."""
        return self._count_if(lambda wait: wait <= 0) <= 0

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _file(self) -> int:
        """The file, opened once per process (a forked child opens its own:
        ``flock`` does not exclude two holders of one open file)."""
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd

    def _count_if(self, condition: Callable[[float], bool]) -> float:
        """Seconds the next event must wait, read under the lock; one event
        is counted, in the same step, if *condition* holds for that wait."""
        with self._lock:
            fd = self._file()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                raw = os.pread(fd, _STATE.size, 0)
                arrival = _STATE.unpack(raw)[0] if len(raw) == _STATE.size else 0.0
                now = self.clock()
                wait = arrival - self.tolerance - now
                if condition(wait):
                    os.pwrite(fd, _STATE.pack(max(arrival, now) + self.interval), 0)
                return wait
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
