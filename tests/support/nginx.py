"""Run Debian's nginx with ``deploy/nginx/authserver.conf`` in front of test
servers: the upstream addresses and the listen port are the tests' own, every
other line is the deployment's.

``make test`` installs nginx when it is missing (as root); without it the
tests that need it skip and say why.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import requests

from .server import ROOT, free_port

CONFIG = ROOT / "deploy" / "nginx" / "authserver.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

_MAIN = """\
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/authserver.conf;
}}
"""


def missing_reason() -> str | None:
    """Why nginx cannot run here, or ``None``."""
    if not Path(NGINX).exists():
        return "nginx is not installed (make test installs Debian's nginx-light as root)"
    return None


def render(upstreams: Sequence[str], port: int, *, read_timeout: str | None = None) -> str:
    """The deployment's configuration with these upstreams and this port.

    :param read_timeout: ``proxy_read_timeout`` instead of the deployment's
        (nginx's syntax: ``"1s"``, ``"500ms"``).
    """
    text = CONFIG.read_text()
    servers = "".join(
        f"    server {address} max_fails=1 fail_timeout=5s;\n" for address in upstreams
    )
    text, count = re.subn(
        r"(upstream authserver \{\n(?:    #.*\n)*)(?:    server .*\n)+", rf"\g<1>{servers}", text
    )
    assert count == 1, "the upstream block of deploy/nginx/authserver.conf changed shape"
    text, count = re.subn(r"listen \d+;", f"listen 127.0.0.1:{port};", text)
    assert count == 1
    if read_timeout is not None:
        text, count = re.subn(
            r"proxy_read_timeout \w+;", f"proxy_read_timeout {read_timeout};", text
        )
        assert count == 1, "deploy/nginx/authserver.conf sets proxy_read_timeout once"
    return text


@contextmanager
def running_nginx(
    upstreams: Sequence[str],
    workdir: Path,
    port: int | None = None,
    *,
    read_timeout: str | None = None,
) -> Iterator[str]:
    """nginx in front of *upstreams* on *port* (default: a free one); its base URL.

    :param read_timeout: see :func:`render`.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    (workdir / "authserver.conf").write_text(render(upstreams, port, read_timeout=read_timeout))
    (workdir / "nginx.conf").write_text(_MAIN.format(prefix=workdir))
    process = subprocess.Popen(
        [NGINX, "-p", str(workdir), "-c", str(workdir / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"nginx exited:\n{(workdir / 'error.log').read_text()}")
            try:
                requests.get(url + "/healthz", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
