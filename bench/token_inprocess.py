#!/usr/bin/env python3
"""In-process cost of one token: ``POST /oauth2/token`` straight into the
WSGI application (no server, no network), on SQLite with the demo client
(argon2id secret, verified once and then cached, as on a warm server).

Prints the CPU time of this thread per token, in interleaved blocks (the
median and the best block: CPU time still grows when other processes share
the cores), and with ``--profile`` the functions that cost the most
(cProfile, sorted by own time).

    .venv/bin/python bench/token_inprocess.py
    .venv/bin/python bench/token_inprocess.py --profile
    .venv/bin/python bench/token_inprocess.py --instructions   # needs valgrind
    .venv/bin/python bench/token_inprocess.py --private-key-jwt [--profile] [--breakdown]

``--private-key-jwt`` registers an ES256 key for the demo client (as
``bench/token_endpoint.py --private-key-jwt`` does), signs one assertion per
token beforehand, and measures blocks of secret and assertion tokens in turn:
it prints both, their difference, and what one ES256 signature verification
costs on its own (PyJWT, the same key), the part of the difference no
implementation can avoid. ``--breakdown`` adds blocks of assertion tokens with
the ``jti`` insert skipped, and with the insert and the signature check skipped
(in this process only: the bench's own test doubles), so the difference splits
into its parts as they cost in a request, where caches are colder than in a loop.

``--instructions`` counts the machine instructions of one token with
``valgrind --tool=callgrind`` (the difference between a run of 400 and a run
of 100 tokens, over 300): unlike CPU time, the count is the same whatever else
the machine is doing, so it compares two versions of the code on a busy machine.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import cProfile
import io
import logging
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--tokens", type=int, default=500, help="tokens per block")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--instructions", action="store_true", help="count with callgrind")
    parser.add_argument("--private-key-jwt", action="store_true", help="assertions against secrets")
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)  # tokens only, no timing
    parser.add_argument("--kind", default="secret", help=argparse.SUPPRESS)  # what --count counts
    parser.add_argument(
        "--breakdown", action="store_true", help="with --private-key-jwt: parts skipped in turn"
    )
    args = parser.parse_args()
    if args.instructions:
        if args.private_key_jwt:
            secret, assertion, verify = (
                _per_token(kind) for kind in ("secret", "assertion", "verify")
            )
            print(
                "in-process instructions per token:\n"
                f"  client_secret_basic (cached)  {secret:,.0f}\n"
                f"  private_key_jwt (ES256)       {assertion:,.0f}\n"
                f"  difference                    {assertion - secret:,.0f}\n"
                f"  one ES256 verification        {verify:,.0f}"
            )
            return
        print(f"in-process instructions per token: {_per_token('secret'):,.0f}")
        return
    with tempfile.TemporaryDirectory(prefix="authserver-inprocess-") as tmp:
        os.environ.update(
            AUTHSERVER_DATABASE_URL=f"sqlite:///{tmp}/authserver.sqlite3",
            AUTHSERVER_INSTANCE_PATH=tmp,
            AUTHSERVER_ENV="development",
        )
        subprocess.run([str(BIN / "authserver"), "db", "upgrade"], check=True, capture_output=True)
        setup = subprocess.run(
            [str(BIN / "authserver"), "demo", "setup"], check=True, capture_output=True, text=True
        ).stdout
        found = re.search(r"curl -s -u (\S+?):(\S+) -d grant_type", setup)
        assert found, setup
        logging.disable(logging.WARNING)
        from authserver import create_app

        app = create_app()
        body = b"grant_type=client_credentials"
        basic = "Basic " + base64.b64encode(f"{found[1]}:{found[2]}".encode()).decode()
        if args.private_key_jwt or args.kind != "secret":
            os.environ["BENCH_BASIC"] = basic
            _assertions(app, found[1], args)
            return

        def token() -> bytes:
            environ: dict[str, Any] = {
                "REQUEST_METHOD": "POST",
                "PATH_INFO": "/oauth2/token",
                "QUERY_STRING": "",
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": "8000",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "wsgi.url_scheme": "http",
                "wsgi.input": io.BytesIO(body),
                "wsgi.errors": sys.stderr,
                "CONTENT_TYPE": "application/x-www-form-urlencoded",
                "CONTENT_LENGTH": str(len(body)),
                "HTTP_AUTHORIZATION": basic,
                "HTTP_HOST": "127.0.0.1:8000",
                "REMOTE_ADDR": "127.0.0.1",
            }
            answer = app.wsgi_app(environ, lambda status, headers, exc_info=None: None)
            return b"".join(answer)

        if not token().startswith(b'{"access_token"'):
            sys.exit("bench: no token")
        if args.count is not None:
            for _ in range(50 + args.count):  # 50 to warm every cache
                token()
            return
        blocks = []
        for _ in range(args.blocks):
            started = time.thread_time()
            for _ in range(args.tokens):
                token()
            blocks.append(1000 * (time.thread_time() - started) / args.tokens)
        print(
            f"in-process CPU per token: median {statistics.median(blocks):.3f} ms, "
            f"best block {min(blocks):.3f} ms ({args.blocks} blocks of {args.tokens}; "
            f"loadavg {os.getloadavg()[0]:.2f})"
        )
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.tokens * 4):
                token()
            profile.disable()
            pstats.Stats(profile).sort_stats(os.environ.get("SORT", "tottime")).print_stats(
                int(os.environ.get("TOP", "25"))
            )


def _environ(body: bytes, authorization: str | None = None) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/oauth2/token",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1:8000",
        "REMOTE_ADDR": "127.0.0.1",
    }
    if authorization:
        environ["HTTP_AUTHORIZATION"] = authorization
    return environ


def _assertions(app: Any, client_id: str, args: argparse.Namespace) -> None:
    """Secret tokens and assertion tokens in turn (see the module docstring)."""
    import jwt
    from assertion_load import register_key, write_bodies

    private = register_key(dict(os.environ), client_id)
    bodies_file = Path(os.environ["AUTHSERVER_INSTANCE_PATH"]) / "bodies"
    assertion_kinds = 1 + (len(_SKIPPED) if args.breakdown else 0)
    count = (args.blocks // 2) * args.tokens * assertion_kinds + 200
    count += args.tokens * 4 if args.profile else 0
    if args.count is not None:
        count = 1000  # the same whatever is counted: signing them is not
    write_bodies(bodies_file, private, client_id, app.config["ISSUER"] + "/oauth2/token", count)
    bodies = iter(bodies_file.read_text().splitlines())
    secret = os.environ["BENCH_BASIC"]

    def call(environ: dict[str, Any]) -> bytes:
        return b"".join(app.wsgi_app(environ, lambda status, headers, exc_info=None: None))

    def by_secret() -> bytes:
        return call(_environ(b"grant_type=client_credentials", secret))

    def by_assertion() -> bytes:
        return call(_environ(next(bodies).encode()))

    for make in (by_secret, by_assertion):
        answer = make()
        if not answer.startswith(b'{"access_token"'):
            sys.exit(f"bench: no token: {answer[:300]!r}")
    for _ in range(50):
        by_secret(), by_assertion()
    public = private.public_key()
    algorithm = jwt.algorithms.ECAlgorithm(jwt.algorithms.ECAlgorithm.SHA256)
    message, _, signature = next(bodies).rpartition("client_assertion=")[2].rpartition(".")
    raw = jwt.utils.base64url_decode(signature)
    if args.count is not None:
        counted = {
            "secret": by_secret,
            "assertion": by_assertion,
            "verify": lambda: algorithm.verify(message.encode(), public, raw),
        }[args.kind]
        for _ in range(args.count):
            counted()
        return
    kinds = ["secret", "assertion"] + (list(_SKIPPED) if args.breakdown else [])
    blocks: dict[str, list[float]] = {name: [] for name in kinds}
    for _ in range(args.blocks // 2):
        for name in kinds:
            with _skipping(app, _SKIPPED.get(name, ())):
                make = by_secret if name == "secret" else by_assertion
                started = time.thread_time()
                for _ in range(args.tokens):
                    make()
                blocks[name].append(1000 * (time.thread_time() - started) / args.tokens)
    started = time.thread_time()
    for _ in range(2000):
        algorithm.verify(message.encode(), public, raw)
    verify = 1000 * (time.thread_time() - started) / 2000
    secret_ms, assertion_ms = (statistics.median(blocks[n]) for n in ("secret", "assertion"))
    print(
        f"in-process CPU per token (median of {args.blocks // 2} blocks of {args.tokens} each):\n"
        f"  client_secret_basic (cached)  {secret_ms:.3f} ms\n"
        f"  private_key_jwt (ES256)       {assertion_ms:.3f} ms\n"
        f"  difference                    {assertion_ms - secret_ms:.3f} ms\n"
        f"  one ES256 verification        {verify:.3f} ms\n"
        f"  (loadavg {os.getloadavg()[0]:.2f})"
    )
    if args.breakdown:
        print("private_key_jwt with parts skipped (against the cached secret):")
        for name in _SKIPPED:
            ms = statistics.median(blocks[name])
            print(f"  {name:36s} {ms:.3f} ms  (+{ms - secret_ms:.3f})")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.tokens * 4):
            by_assertion()
        profile.disable()
        pstats.Stats(profile).sort_stats(os.environ.get("SORT", "tottime")).print_stats(
            int(os.environ.get("TOP", "25"))
        )


#: the --breakdown variants: what each skips of an assertion's check
_SKIPPED: dict[str, tuple[str, ...]] = {
    "without the jti insert": ("replay",),
    "without the jti insert, signature": ("replay", "signature"),
}


@contextlib.contextmanager
def _skipping(app: Any, parts: tuple[str, ...]) -> Iterator[None]:
    """For --breakdown only: accept every ``jti`` (``replay``) and every ES256
    signature (``signature``) while in the block, so that what is left of the
    difference to the cached secret is the rest of the check."""
    from authserver.oauth2 import private_key_jwt
    from authserver.oauth2.endpoints import EXTENSION

    method = app.extensions[EXTENSION].assertion
    replay, algorithm = method.replay, private_key_jwt._ALGORITHMS["ES256"]

    class Accept:
        def first_use(self, *args: Any) -> bool:
            return True

        def verify(self, *args: Any) -> bool:
            return True

    if "replay" in parts:
        method.replay = Accept()
    if "signature" in parts:
        private_key_jwt._ALGORITHMS["ES256"] = Accept()
    try:
        yield
    finally:
        method.replay, private_key_jwt._ALGORITHMS["ES256"] = replay, algorithm


def _per_token(kind: str) -> float:
    """Instructions of one *kind* (a secret token, an assertion token, or one
    ES256 verification): the difference between 400 and 100 of them, over 300."""
    counts = [_instructions(tokens, kind) for tokens in (100, 400)]
    return (counts[1] - counts[0]) / 300


def _instructions(tokens: int, kind: str) -> int:
    """Instructions callgrind counts for this script making *tokens* of *kind*."""
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         __file__, "--count", str(tokens), "--kind", kind],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = re.search(r"Collected : (\d+)", run.stderr)
    if not found:
        sys.exit(f"bench: no count from callgrind:\n{run.stderr[-2000:]}")
    return int(found[1])


if __name__ == "__main__":
    main()
