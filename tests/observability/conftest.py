"""One real server for the package: started as ``make serve`` starts it
(``authserver serve``, 2 gunicorn workers), JSON logs, metrics behind a token."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from support.server import Server, running_server

METRICS_TOKEN = "metrics-token-" + "m" * 24


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    instance = tmp_path_factory.mktemp("logs-instance")
    with running_server(
        f"sqlite:///{instance / 'logs.sqlite3'}",
        instance,
        extra_env={"AUTHSERVER_LOG_FORMAT": "json", "AUTHSERVER_METRICS_TOKEN": METRICS_TOKEN},
    ) as running:
        yield running


@pytest.fixture(scope="package")
def demo(server: Server) -> dict[str, str]:
    """The demo client's credentials and an administrator's password."""
    result = server.cli("demo", "setup")
    assert result.returncode == 0, result.stderr
    client_id, secret = re.search(r"curl -s -u (\S+?):(\S+) ", result.stdout).groups()
    login, password = re.search(r"log in as (\S+) / (\S+)", result.stdout).groups()
    return {"client_id": client_id, "client_secret": secret, "email": login, "password": password}
