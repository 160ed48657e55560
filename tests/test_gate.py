"""The worker's gate: one request runs the app at a time; waits that need no
Python (argon2, a held refusal) step outside it, and the worker serves other
requests meanwhile. The tarpit holds a refusal outside the gate, a bounded
number at once, and only in a served request."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from authserver import credentials, gate
from authserver.oauth2.client_auth import AuthenticationFailed, SecretVerifier
from authserver.oauth2.errors import InvalidClient
from authserver.oauth2.private_key_jwt import PrivateKeyJWT
from authserver.oauth2.requests import PRIVATE_KEY_JWT, Credentials
from authserver.throttle import FailureThrottle

Environ = dict[str, Any]


@pytest.fixture(autouse=True)
def no_gate_left(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A gate made here is this test's only (the module keeps the worker's)."""
    monkeypatch.setattr(gate, "_lock", None)
    monkeypatch.setattr(gate, "_holder", None)
    yield


def start_response(status: str, headers: list[tuple[str, str]]) -> None:
    pass


def run(app: Any, environ: Environ | None = None) -> list[bytes]:
    return list(app(environ or {}, start_response))


def in_threads(*targets: Any) -> None:
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive(), "a request never finished: the gate deadlocked"


def test_one_request_at_a_time_runs_the_app() -> None:
    running, most = [0], [0]
    lock = threading.Lock()

    def app(environ: Environ, start_response: Any) -> list[bytes]:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02)  # a request that takes a while (inside the gate)
        with lock:
            running[0] -= 1
        return [b"ok"]

    gated = gate.Gate(app)
    in_threads(*[lambda: run(gated)] * 4)

    assert most[0] == 1


def test_a_request_outside_the_gate_lets_another_run() -> None:
    second_ran = threading.Event()

    def app(environ: Environ, start_response: Any) -> list[bytes]:
        if environ["who"] == "first":
            assert gate.inside()
            with gate.outside():
                assert not gate.inside()
                # the second request can only run if this one let the gate go
                assert second_ran.wait(timeout=5)
            assert gate.inside()
        else:
            second_ran.set()
        return [environ["who"].encode()]

    gated = gate.Gate(app)
    answers: list[list[bytes]] = []
    in_threads(
        lambda: answers.append(run(gated, {"who": "first"})),
        lambda: (time.sleep(0.05), answers.append(run(gated, {"who": "second"}))),
    )

    assert sorted(answers) == [[b"first"], [b"second"]]


def test_an_answer_that_is_not_a_list_is_read_and_closed_inside() -> None:
    closed_inside: list[bool] = []

    class Answer:
        def __iter__(self) -> Iterator[bytes]:
            assert gate.inside()
            yield from (b"a", b"b")

        def close(self) -> None:  # where the access log writes its line
            closed_inside.append(gate.inside())

    def app(environ: Environ, start_response: Any) -> Iterable[bytes]:
        return Answer()

    assert run(gate.Gate(app)) == [b"ab"]
    assert closed_inside == [True]
    assert not gate.inside()  # the request is over


def test_outside_does_nothing_without_a_gate_or_for_another_thread() -> None:
    with gate.outside():  # no gate: a test, flask run
        assert not gate.inside()
    gated = gate.Gate(lambda environ, start_response: [b""])
    with gate.outside():  # a gate, but this thread does not hold it
        assert not gated.lock.locked()


def test_client_authentication_verifies_outside_the_gate_services_hash_inside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, bool] = {}

    class Hasher:
        def hash(self, secret: str) -> str:
            seen["hash"] = gate.inside()
            return "hash"

        def verify(self, secret_hash: str, secret: str) -> bool:
            seen["verify"] = gate.inside()
            return False

    monkeypatch.setattr(credentials, "hasher", Hasher)
    monkeypatch.setattr(credentials, "_dummy", "dummy-hash")  # made before, not here
    verifier = SecretVerifier(FailureThrottle("100/minute", "gate-test"))

    def app(environ: Environ, start_response: Any) -> list[bytes]:
        # a service inside its transaction (a rotation): stays inside the gate
        assert credentials.hash_secret("s") == "hash"
        # the token path (no transaction): the worker serves others meanwhile
        with pytest.raises(AuthenticationFailed):
            verifier.identify(lambda client_id: None, "cl_unknown", "wrong", "192.0.2.1")
        return [b""]

    run(gate.Gate(app))

    assert seen == {"hash": True, "verify": False}


@pytest.mark.parametrize("shared", [False, True], ids=["in memory", "in Redis"])
def test_the_failure_counts_wait_outside_the_gate_only_when_they_are_in_redis(
    monkeypatch: pytest.MonkeyPatch, shared: bool
) -> None:
    """A round trip to Redis is a wait (outside, the worker serves others); a
    count in memory is CPU (inside, where it does not fight for the GIL)."""
    seen: list[tuple[str, bool]] = []

    class Counting(FailureThrottle):
        def retry_after(self, *keys: str) -> int:
            seen.append(("retry_after", gate.inside()))
            return 0

        def failed(self, *keys: str) -> None:
            seen.append(("failed", gate.inside()))

    class Hasher:
        def verify(self, secret_hash: str, secret: str) -> bool:
            return False

    monkeypatch.setattr(credentials, "hasher", Hasher)
    monkeypatch.setattr(credentials, "_dummy", "dummy-hash")
    throttle = Counting("100/minute", "gate-test")
    throttle.shared = shared
    verifier = SecretVerifier(throttle)

    def app(environ: Environ, start_response: Any) -> list[bytes]:
        with pytest.raises(AuthenticationFailed):
            verifier.identify(lambda client_id: None, "cl_unknown", "wrong", "192.0.2.1")
        assert gate.inside()  # back inside for the answer
        return [b""]

    run(gate.Gate(app))

    assert seen == [("retry_after", not shared), ("failed", not shared)]


class Body:
    """A request body as the server hands it over; says where it was read."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.read_inside: list[bool] = []

    def read(self, size: int = -1) -> bytes:
        self.read_inside.append(gate.inside())
        data, self.data = self.data[:size], self.data[size:]
        return data


@pytest.mark.parametrize(
    ("length", "max_body", "read_outside"),
    [("29", 29, True), ("", 29, False), ("29", 28, False), ("-1", 29, False), ("x", 29, False)],
    ids=["declared, up to the limit", "chunked", "too long", "negative", "not a number"],
)
def test_a_body_of_a_declared_length_is_read_before_the_gate(
    length: str, max_body: int, read_outside: bool
) -> None:
    """A client that sends its body slowly then waits alone, not in the gate;
    a body the app refuses unread (too long) or must read itself (chunked)
    is left to the app."""
    body = Body(b"grant_type=client_credentials")
    seen: list[bytes] = []

    def app(environ: Environ, start_response: Any) -> list[bytes]:
        seen.append(environ["wsgi.input"].read(29))
        return [b""]

    run(gate.Gate(app, max_body=max_body), {"CONTENT_LENGTH": length, "wsgi.input": body})

    assert seen == [b"grant_type=client_credentials"]
    assert body.read_inside == ([False] if read_outside else [True])


@pytest.mark.parametrize("shared", [False, True], ids=["in memory", "in Redis"])
def test_a_refused_assertion_is_counted_outside_the_gate_only_in_redis(shared: bool) -> None:
    """The same for ``private_key_jwt``: a refused assertion counts toward the
    failure throttle, outside the gate when that is a round trip."""
    seen: list[tuple[str, bool]] = []

    class Counting(FailureThrottle):
        def retry_after(self, *keys: str) -> int:
            seen.append(("retry_after", gate.inside()))
            return 0

        def failed(self, *keys: str) -> None:
            seen.append(("failed", gate.inside()))

    throttle = Counting("100/minute", "gate-test")
    throttle.shared = shared
    method = PrivateKeyJWT(["https://issuer.example"], lambda client: [], Replay(), throttle)
    request = SimpleNamespace(
        credentials=Credentials(PRIVATE_KEY_JWT, "", "", "not-a-jwt"), remote_addr="192.0.2.1"
    )

    def app(environ: Environ, start_response: Any) -> list[bytes]:
        with pytest.raises(InvalidClient):
            method(lambda client_id: None, request)
        assert gate.inside()
        return [b""]

    run(gate.Gate(app))

    assert seen == [("retry_after", not shared), ("failed", not shared)]


class Replay:
    def first_use(self, *args: Any) -> bool:
        return True

    def close(self) -> None:
        pass


def held(tarpit: gate.Tarpit, count: int) -> list[float]:
    """How long each of *count* concurrent served refusals took to be answered."""
    start = threading.Barrier(count)
    seconds: list[float] = []

    def app(environ: Environ, start_response: Any) -> list[bytes]:
        tarpit.hold()
        return [b"refused"]

    gated = gate.Gate(app)

    def refused() -> None:
        start.wait()
        started = time.monotonic()
        assert run(gated) == [b"refused"]
        seconds.append(time.monotonic() - started)

    in_threads(*[refused] * count)
    return sorted(seconds)


def test_the_tarpit_holds_a_refusal_for_its_seconds_with_the_gate_free() -> None:
    # two refusals held at the same time: neither held the gate meanwhile
    first, second = held(gate.Tarpit(0.3, slots=2), 2)

    assert first >= 0.3 and second >= 0.3
    assert second < 0.6  # held side by side, not one after the other


def test_a_held_answer_is_complete_before_it_is_held() -> None:
    events: list[str] = []
    tarpit = gate.Tarpit(0.2, slots=1)

    def app(environ: Environ, start_response: Any) -> list[bytes]:
        if environ["who"] == "refused":
            tarpit.hold()
            events.append("refused: answered")
        else:
            events.append("other: answered")
        return [b""]

    gated = gate.Gate(app)
    in_threads(
        lambda: (run(gated, {"who": "refused"}), events.append("refused: sent")),
        lambda: (time.sleep(0.05), run(gated, {"who": "other"}), events.append("other: sent")),
    )

    assert events == ["refused: answered", "other: answered", "other: sent", "refused: sent"]


def test_the_tarpit_holds_at_most_its_slots_at_once() -> None:
    seconds = held(gate.Tarpit(0.3, slots=1), 3)

    assert [s >= 0.3 for s in seconds] == [False, False, True]


def test_the_tarpit_holds_nothing_outside_a_served_request_or_when_off() -> None:
    started = time.monotonic()
    gate.Tarpit(5.0, slots=4).hold()  # a test, flask run: no gate
    assert held(gate.Tarpit(5.0, slots=0), 1) == [pytest.approx(0, abs=1.0)]
    assert held(gate.Tarpit(0, slots=4), 1) == [pytest.approx(0, abs=1.0)]
    assert time.monotonic() - started < 4.0


def test_the_gate_hands_itself_over_in_the_order_of_arrival() -> None:
    lock = gate.FifoLock()
    order: list[int] = []
    lock.acquire()
    waiting = []
    for number in range(5):
        thread = threading.Thread(
            target=lambda n=number: (lock.acquire(), order.append(n), lock.release())
        )
        thread.start()
        waiting.append(thread)
        time.sleep(0.02)  # each is waiting before the next comes
    lock.release()
    for thread in waiting:
        thread.join(timeout=5)

    assert order == [0, 1, 2, 3, 4]
    assert not lock.locked()
