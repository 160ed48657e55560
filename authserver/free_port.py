"""Is the port ``make run`` wants free? Asked before anything changes.

``make run`` rotates the demo client's secret before it serves; when the port
is taken, the server could not start and the secret printed earlier would be
lost for nothing. So the Makefile runs ``python -m authserver.free_port HOST
PORT`` first: it exits 0 when the port can be bound, else 1 with one line
that says what to do (``make run PORT=...`` with a port that is free now).
"""

from __future__ import annotations

import errno
import socket
import sys
from collections.abc import Sequence

#: how many ports above a taken one are tried for the suggestion
_SEARCH = 50


def check_port(host: str, port: int) -> bool:
    """Whether a server could listen on *host*:*port* now (as gunicorn binds:
    with ``SO_REUSEADDR``, so that a port in ``TIME_WAIT`` counts as free).

    :raises OSError: for anything but a port in use (e.g. an unknown host).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def suggest_port(host: str, taken: int) -> int | None:
    """A port above *taken* that is free now, if one is near."""
    for port in range(taken + 1, min(taken + 1 + _SEARCH, 65536)):
        if check_port(host, port):
            return port
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m authserver.free_port HOST PORT``: 0 if free, else 1 and one line."""
    host, port_text = argv if argv is not None else sys.argv[1:]
    port = int(port_text)
    try:
        if check_port(host, port):
            return 0
    except OSError as error:
        print(f"Cannot listen on {host}:{port}: {error.strerror}. Check HOST.", file=sys.stderr)  # noqa: T201
        return 1
    other = suggest_port(host, port)
    hint = f"make run PORT={other}" if other else "make run PORT=<a free port>"
    print(  # noqa: T201
        f"Port {port} on {host} is in use (another server is running?): "
        f"stop it, or run `{hint}`. Nothing was changed.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
