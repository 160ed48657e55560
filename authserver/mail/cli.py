"""``authserver mail worker``: the delivery process."""

from __future__ import annotations

import dataclasses
import logging
import signal
import threading
from types import FrameType

import click
from flask import current_app

from .worker import WorkerSettings, drain, run


@click.group("mail")
def mail_group() -> None:
    """E-mail notifications (the outbox)."""


@mail_group.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--interval",
    default=2.0,
    show_default=True,
    type=click.FloatRange(0.1, 300),
    help="Seconds to wait when nothing is due.",
)
@click.option(
    "--batch-size",
    default=50,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Mails claimed at a time.",
)
def worker(once: bool, interval: float, batch_size: int) -> None:
    """Deliver the mails in the outbox, until SIGTERM or Ctrl-C.

    Several workers may run at once (on several hosts too): each mail goes
    to one of them. Without AUTHSERVER_SMTP_URL the mails are written as
    .eml files under the instance folder.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = dataclasses.replace(
        WorkerSettings.from_config(current_app.config, current_app.instance_path),
        batch_size=batch_size,
    )
    where = settings.smtp.describe() if settings.smtp else f"files in {settings.mail_dir}"
    if once:
        handled = drain(settings)
        click.echo(f"Handled {handled} mail{'' if handled == 1 else 's'} ({where}).")
        return
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()  # the mail being sent is finished and recorded first

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo(f"Mail worker delivering to {where}; stop with Ctrl-C or SIGTERM.")
    run(settings, interval=interval, stop=stop)
