"""``make run``: the development server delivers mail itself, and the
printed ``curl`` of ``authserver demo setup`` ends as a mail on disk."""

from __future__ import annotations

import re
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import requests
from support.server import running_server

pytestmark = pytest.mark.e2e

REPORT = re.compile(
    r"curl -s -u (?P<id>gw_[\w-]+):(?P<secret>[\w-]{43}) -H \"Content-Type: application/json\" "
    r"-d \"(?P<body>.*)\" (?P<url>http://127\.0\.0\.1:\d+/api/v1/export-failures)"
)


def test_the_printed_report_is_delivered_as_an_eml_file(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    database = f"sqlite:///{tmp_path / 'run.sqlite3'}"
    development = {"AUTHSERVER_ENV": "development", "AUTHSERVER_MAIL_DIGEST_WINDOW": "1"}
    with running_server(database, instance, extra_env=development) as server:
        demo = server.cli("demo", "setup")
        assert demo.returncode == 0, demo.stderr
        mail_dir = instance / "mail"
        assert f"Mail: the server delivers mails to files (.eml) in {mail_dir}/" in demo.stdout
        report = REPORT.search(demo.stdout)
        assert report is not None, demo.stdout
        body = (
            report["body"]
            .replace('\\"', '"')
            .replace("$(date +%s)", "1")
            .replace("$(date -u +%Y-%m-%dT%H:%M:%SZ)", "2026-12-06T10:00:00Z")
        )
        response = requests.post(
            report["url"],
            data=body,
            auth=(report["id"], report["secret"]),
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert response.status_code == 202, response.text

        deadline = time.monotonic() + 30
        subjects: list[str] = []
        while time.monotonic() < deadline:
            subjects = [
                str(message_from_bytes(path.read_bytes(), policy=policy.default)["Subject"])
                for path in mail_dir.glob("*.eml")
            ]
            if "Failed export for 400100 Acme Parts GmbH" in subjects:
                break
            time.sleep(0.2)
        assert "Failed export for 400100 Acme Parts GmbH" in subjects, server.log.read_text()
