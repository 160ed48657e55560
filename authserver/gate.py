"""One request at a time runs Python in a server worker; waits step outside.

The production server gives each worker process a few threads (see
:func:`authserver.serving.server_command`), but the GIL lets only one run
Python at a time, and when several want it they take turns every few
milliseconds: every request in flight gets slower, and p99 rises. So the
worker's app is wrapped in :class:`Gate`: a request runs the app only while it
holds the worker's gate, and a thread waiting for the gate sleeps instead of
fighting for the GIL. A request steps outside the gate (:func:`outside`) only
for a wait that needs no Python, and only while it holds no database lock:

* the argon2 verification of client authentication (tens of milliseconds in
  C, the GIL released; the token path reads on autocommit connections, so it
  holds no transaction): the worker serves other requests meanwhile, where
  one thread would have stalled every request behind it;
* with the failure counts in Redis, their round trips when client
  authentication misses the cache or an assertion is refused;
* the hold of a refused client authentication (:class:`Tarpit`), after the
  answer is complete;
* the request body, read before the gate is taken (:meth:`Gate.read_body`):
  a client that sends its body slowly waits alone, where, read by the app, it
  held the gate, and three such connections stopped a one-worker server.

Never from inside a transaction: a request that left the gate holding a row
lock would wait for the gate to come back, while the request that took the
gate waits for that row lock (seen: two secret rotations at once, each hashing
its new secret inside its transaction, stopped a worker). So the services'
hashing (new secrets, rotations, passwords) stays inside.

Outside a served worker (tests, ``flask run``) there is no gate, and
:func:`outside` does nothing.
"""

from __future__ import annotations

import contextlib
import io
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


class FifoLock:
    """A lock handed to its waiters in the order they came.

    ``threading.Lock`` lets the thread that just released it take it again
    before a woken waiter runs, and wakes any waiter: under load, with a
    thread per request in flight, some requests waited many turns and p99
    rose by half (``bench/token_endpoint.py``). Handed over in order, p99 and
    tokens/s are those of a single thread.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        #: one locked lock per waiting thread, released when its turn comes
        self._waiters: deque[threading.Lock] = deque()

    def acquire(self) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        turn.acquire()  # released by the holder, who hands the lock over

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()  # still held: now the waiter's
            else:
                self._held = False

    def locked(self) -> bool:
        return self._held

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


#: the gate of this worker process, once :class:`Gate` wraps its app
_lock: FifoLock | None = None
#: the thread that holds it (:func:`outside` releases only its own thread's hold)
_holder: int | None = None
#: what the request a thread serves asks of the gate (``held``: :meth:`Tarpit.hold`)
_this_request = threading.local()


class Gate:
    """WSGI middleware: the wrapped app runs for one request at a time.

    The app's answer is read inside the gate too: an answer that is not a
    list (a file, a generator) is joined there and closed (which writes its
    access log line), so that no Python runs for it outside.

    :param app: the whole app (the access log included).
    :param max_body: the longest request body read before the gate (the app's
        ``MAX_CONTENT_LENGTH``: a longer one is refused by the app unread).
    """

    def __init__(self, app: WSGIApplication, max_body: int = 0) -> None:
        global _lock
        self.app = app
        self.max_body = max_body
        self.lock = _lock = FifoLock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        global _holder
        self.read_body(environ)
        with self.lock:
            _holder = threading.get_ident()
            try:
                answer = self._answer(environ, start_response)
            finally:
                _holder = None
        held, _this_request.held = getattr(_this_request, "held", None), None
        if held is not None:
            held()  # a tarpit's hold: the answer is complete, the gate is free
        return answer

    def read_body(self, environ: WSGIEnvironment) -> None:
        """Read a request body of a declared ``Content-Length`` (up to
        :attr:`max_body`) into memory, outside the gate; the app reads it
        from there. A body without a length (chunked), or a longer one, is
        left to the app, which refuses the longer one without reading it."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return
        if 0 < length <= self.max_body:
            environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length))

    def _answer(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        body = self.app(environ, start_response)
        if isinstance(body, list):
            return body
        try:
            return [b"".join(body)]
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()


def inside() -> bool:
    """Whether this thread holds its worker's gate (runs a served request)."""
    return _lock is not None and _holder == threading.get_ident()


@contextlib.contextmanager
def outside() -> Iterator[None]:
    """Let the worker's other requests run while this one waits (the block
    should spend its time in C code that releases the GIL, or asleep)."""
    global _holder
    lock, me = _lock, threading.get_ident()
    if lock is None or _holder != me:  # no gate here, or not this thread's
        yield
        return
    _holder = None
    lock.release()
    try:
        yield
    finally:
        lock.acquire()
        _holder = me


class Tarpit:
    """Holds a refused answer (429) for a while before it is sent.

    A flood's connections send their next wrong secret as soon as they have an
    answer; held, each connection sends one every *seconds* instead of
    hundreds, and the CPU they took goes back to the clients that
    authenticate. (Postfix does the same with ``smtpd_error_sleep_time``.) The
    answer is held once it is complete (logged and counted) and the gate is
    free: a held request costs a sleeping thread, nothing else. At most
    *slots* answers are held at once per worker; past that, a refusal is sent
    at once.

    :param seconds: how long a refusal is held (at most its ``Retry-After``).
    :param slots: answers held at once; 0 turns the tarpit off.
    """

    def __init__(self, seconds: float, slots: int) -> None:
        self.seconds = seconds
        self._slots = threading.BoundedSemaphore(slots) if slots > 0 and seconds > 0 else None

    def hold(self) -> None:
        """Hold the answer of this thread's request, once it is complete, if
        a slot is free; else it is sent at once (also outside a served worker:
        tests are answered at once)."""
        slots = self._slots
        if slots is None or not inside() or not slots.acquire(blocking=False):
            return  # off, not a served request, or every slot is holding one
        _this_request.held = self._held

    def _held(self) -> None:
        try:
            time.sleep(self.seconds)
        finally:
            assert self._slots is not None
            self._slots.release()
