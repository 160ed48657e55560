"""Delivery inside the development server (``make run``), so that a new user
sees real mails without starting a worker. Never in production or tests:
there ``authserver mail worker`` runs as its own process (see the README).

The thread starts with the first request a server process handles (not at
import, so CLI commands never start one) and uses the same claims as the
worker, so several server processes deliver each mail once.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from .worker import WorkerSettings, run

log = logging.getLogger(__name__)

#: seconds between two looks at the outbox
INTERVAL = 2.0


def init_app(app: Flask) -> None:
    if app.config["ENV"] != "development" or app.config.get("TESTING"):
        return
    started = threading.Lock()
    state = {"running": False}

    def start() -> None:
        if state["running"]:
            return
        with started:
            if state["running"]:
                return
            state["running"] = True
        settings = WorkerSettings.from_config(app.config, app.instance_path)

        def loop() -> None:
            with app.app_context():
                run(settings, interval=INTERVAL, stop=threading.Event())

        threading.Thread(target=loop, name="mail-delivery", daemon=True).start()
        log.info("development server: delivering mails in a background thread")

    app.before_request(start)
