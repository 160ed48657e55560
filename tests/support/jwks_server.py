"""A partner's ``jwks_uri`` for the tests: a tiny HTTP server on 127.0.0.1
(plain http, which only ``allow_local`` accepts) that serves the JWK Set, the
headers and the status a test sets."""

from __future__ import annotations

import http.server
import json
import threading
import time
from typing import Any


class JwksServer:
    """A tiny HTTP server on 127.0.0.1 that serves what the test sets."""

    def __init__(self) -> None:
        self.body = b'{"keys": []}'
        self.headers: dict[str, str] = {}
        self.delay = 0.0
        self.status = 200
        self.hits = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                owner.hits += 1
                time.sleep(owner.delay)
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/json")
                for name, value in owner.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve_keys(self, *jwks: dict[str, Any], **headers: str) -> None:
        self.body = json.dumps({"keys": list(jwks)}).encode()
        self.headers = dict(headers)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
