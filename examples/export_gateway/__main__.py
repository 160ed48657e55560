"""Run the example gateway with gunicorn: ``python examples/export_gateway``.

Options: ``--bind HOST:PORT`` (default 127.0.0.1:8081), ``--workers N`` (default 2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway import create_app  # noqa: E402


class GatewayServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        return create_app()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python examples/export_gateway", description=__doc__)
    parser.add_argument("--bind", default="127.0.0.1:8081")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--access-log", action="store_true", help="log every request to stdout")
    args = parser.parse_args(argv)
    options: dict[str, Any] = {
        "bind": args.bind,
        "workers": args.workers,
        "control_socket_disable": True,
    }
    if args.access_log:
        options["accesslog"] = "-"
    GatewayServer(options).run()


if __name__ == "__main__":
    main()
