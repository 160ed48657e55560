"""``authserver serve``: the production server, drained on SIGTERM."""

from __future__ import annotations

import sys

import click
from flask import current_app


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, help="Worker processes.")
def serve(host: str, port: int, workers: int) -> None:
    """Run the production server, draining it on SIGTERM.

    On SIGTERM, /readyz fails for AUTHSERVER_DRAIN_SECONDS, then the server stops.
    """
    from .. import serving

    sys.exit(serving.serve(host, port, workers, float(current_app.config["DRAIN_SECONDS"])))
