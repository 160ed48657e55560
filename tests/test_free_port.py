"""``python -m authserver.free_port``: the check ``make run`` makes before it changes anything."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from authserver import free_port


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port that another server listens on."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def test_a_free_port_passes_silently(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert free_port.check_port("127.0.0.1", port) is True
    assert free_port.main(["127.0.0.1", str(port)]) == 0
    assert capsys.readouterr() == ("", "")


def test_a_busy_port_says_in_one_line_what_to_do(
    busy_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert free_port.check_port("127.0.0.1", busy_port) is False
    assert free_port.main(["127.0.0.1", str(busy_port)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    suggested = int(err.split("make run PORT=", 1)[1].split("`", 1)[0])
    assert suggested > busy_port
    assert free_port.check_port("127.0.0.1", suggested) is True
    assert err.startswith(f"Port {busy_port} on 127.0.0.1 is in use")
    assert err.endswith("Nothing was changed.\n")


def test_a_host_that_cannot_be_bound_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    # TEST-NET-1 (RFC 5737): an address this machine does not have
    assert free_port.main(["192.0.2.1", "8000"]) == 1
    assert capsys.readouterr().err.startswith("Cannot listen on 192.0.2.1:8000: ")
