"""The ``authserver`` console commands, through Flask's CLI runner."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import jwt
import pytest
from conftest import make_config

from authserver import create_app, credentials
from authserver.extensions import db
from authserver.mail.worker import WorkerSettings, drain
from authserver.models import AuditEvent, Client, ClientSecret, ConsoleSession, Organization, User
from authserver.models._base import utcnow
from authserver.services import clients, console_sessions

CURL = re.compile(
    r"curl -s -u (?P<id>cl_[\w-]+):(?P<secret>[\w-]{43}) -d grant_type=client_credentials "
    r"https://auth\.example\.test/oauth2/token"
)


def stored_hashes(client_id: str) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.execute(
            db.select(ClientSecret.secret_hash).join(Client).where(Client.client_id == client_id)
        ).scalars()
    )


def audit_actions() -> list[str]:
    return list(db.session.execute(db.select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


# --- clients create -------------------------------------------------------


def test_clients_create_prints_the_id_and_the_secret_once(runner, directory):
    directory.user("anna@example.com", admin_of=("400100",))
    result = runner.invoke(
        args=["clients", "create", "--org", "400100", "--admin", "Anna@Example.com"]
    )
    assert result.exit_code == 0, result.output
    client_id = re.search(r"^client_id:\s+(cl_[\w-]+)$", result.stdout, re.M).group(1)
    secret = re.search(r"^client_secret:\s+([\w-]{43})$", result.stdout, re.M).group(1)
    assert result.stdout.count(secret) == 1
    assert "not shown again" in result.stderr
    (stored,) = stored_hashes(client_id)
    assert secret not in stored
    assert credentials.check_secret(stored, secret)
    assert audit_actions() == ["client.created"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--org", "400100", "--admin", "nobody@example.com"],
            "Error: no user 'nobody@example.com' in the directory.\n",
        ),
        (
            ["--org", "400200", "--admin", "anna@example.com"],
            "Error: You are not an administrator of organization 400200.\n",
        ),
        (
            ["--org", "999999", "--admin", "anna@example.com"],
            "Error: Organization 999999 is not in the directory.\n",
        ),
    ],
    ids=["unknown-user", "not-org-admin", "unknown-organization"],
)
def test_clients_create_refusals_exit_1_with_a_clear_message(runner, directory, args, message):
    directory.user("anna@example.com", admin_of=("400100",))
    directory.organization("400200")
    result = runner.invoke(args=["clients", "create", *args])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == message
    assert db.session.execute(db.select(Client)).first() is None


def test_clients_create_for_an_assigned_organization_is_refused(runner, directory):
    anna = directory.user("anna@example.com", admin_of=("400100",))
    existing = clients.create_client(anna, "400100", clients.audit.CLI)
    result = runner.invoke(
        args=["clients", "create", "--org", "400100", "--admin", "anna@example.com"]
    )
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "Error: Organization 400100 is already assigned to a client.\n"
    assert db.session.execute(db.select(Client.client_id)).scalars().all() == [
        existing.client.client_id
    ]


def test_clients_create_requires_org_and_admin(runner, app_ctx):
    result = runner.invoke(args=["clients", "create", "--org", "400100"])
    assert result.exit_code == 2
    assert "Missing option '--admin'" in result.stderr


# --- gateways create ------------------------------------------------------


def test_gateways_create_prints_gateway_credentials(runner, app_ctx):
    result = runner.invoke(args=["gateways", "create", "edge-eu-1"])
    assert result.exit_code == 0, result.output
    client_id = re.search(r"^client_id:\s+(gw_[\w-]+)$", result.stdout, re.M).group(1)
    secret = re.search(r"^client_secret:\s+([\w-]{43})$", result.stdout, re.M).group(1)
    gateway = db.session.execute(
        db.select(Client).where(Client.client_id == client_id)
    ).scalar_one()
    assert (gateway.kind, gateway.name, gateway.organizations) == ("gateway", "edge-eu-1", [])
    (stored,) = stored_hashes(client_id)
    assert credentials.check_secret(stored, secret)
    assert audit_actions() == ["gateway.created"]


# --- directory import -----------------------------------------------------

GOOD = {
    "organizations": [{"teccom_id": "400100", "name": "Acme Parts GmbH", "kind": "supplier"}],
    "users": [
        {
            "email": "anna@example.com",
            "first_name": "Anna",
            "last_name": "Berg",
            "password": "pw-anna",
            "admin_of": ["400100"],
        }
    ],
}


def test_directory_import_then_reimport(runner, app_ctx, tmp_path):
    path = tmp_path / "directory.json"
    path.write_text(json.dumps(GOOD))
    first = runner.invoke(args=["directory", "import", str(path)])
    assert first.exit_code == 0, first.output
    assert first.stdout == (
        f"Imported {path}: organizations 1 created, 0 updated, 0 unchanged; "
        "users 1 created, 0 updated, 0 unchanged.\n"
    )
    second = runner.invoke(args=["directory", "import", str(path)])
    assert second.exit_code == 0, second.output
    assert second.stdout == (
        f"Imported {path}: organizations 0 created, 0 updated, 1 unchanged; "
        "users 0 created, 0 updated, 1 unchanged.\n"
    )
    assert db.session.get(Organization, "400100").name == "Acme Parts GmbH"
    assert audit_actions() == ["directory.imported", "directory.imported"]


def test_directory_import_refuses_a_bad_file_and_names_the_location(runner, app_ctx, tmp_path):
    path = tmp_path / "directory.json"
    bad = json.loads(json.dumps(GOOD))
    bad["users"].append({"email": "ben@example.com", "first_name": "Ben", "admin_of": ["777"]})
    path.write_text(json.dumps(bad))
    result = runner.invoke(args=["directory", "import", str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: {path} was not imported; nothing changed.\n  {path}: users[1].last_name: missing\n"
    )
    assert db.session.execute(db.select(Organization)).first() is None
    assert audit_actions() == []


def test_directory_import_reports_json_syntax_errors_by_line_and_column(runner, app_ctx, tmp_path):
    path = tmp_path / "directory.json"
    path.write_text('{\n  "organizations": []\n  "users": []\n}\n')
    result = runner.invoke(args=["directory", "import", str(path)])
    assert result.exit_code == 1
    assert f"  {path}: line 3, column 3: invalid JSON: Expecting ',' delimiter\n" in result.stderr


def test_directory_import_of_a_missing_file(runner, app_ctx, tmp_path):
    result = runner.invoke(args=["directory", "import", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "No such file or directory" in result.stderr


# --- demo setup -----------------------------------------------------------


def test_demo_setup_twice(runner, app_ctx):
    first = runner.invoke(args=["demo", "setup"])
    assert first.exit_code == 0, first.output
    assert "5 organizations and 4 users created" in first.stdout
    assert (
        "Console:  https://auth.example.test/\n  log in as anna@example.com / demo-password-anna\n"
        in first.stdout
    )
    first_curl = CURL.search(first.stdout)
    assert first_curl is not None, first.stdout
    client_id, first_secret = first_curl["id"], first_curl["secret"]
    (stored,) = stored_hashes(client_id)
    assert credentials.check_secret(stored, first_secret)

    second = runner.invoke(args=["demo", "setup"])
    assert second.exit_code == 0, second.output
    assert "0 organizations and 0 users created, 0 updated" in second.stdout
    second_curl = CURL.search(second.stdout)
    assert second_curl["id"] == client_id
    assert second_curl["secret"] != first_secret
    (stored,) = stored_hashes(client_id)  # grace 0: only the new secret is live
    assert credentials.check_secret(stored, second_curl["secret"])
    assert not credentials.check_secret(stored, first_secret)

    demo_client = db.session.execute(
        db.select(Client).where(Client.client_id == client_id)
    ).scalar_one()
    assert [(a.teccom_id, a.enabled) for a in demo_client.organizations] == [("400100", True)]
    assert [a.user.email for a in demo_client.administrators] == ["anna@example.com"]
    anna = db.session.execute(db.select(User).where(User.email == "anna@example.com")).scalar_one()
    assert credentials.check_secret(anna.password_hash, "demo-password-anna")
    assert audit_actions() == [
        "directory.imported",
        "client.created",
        "organization.updated",  # the demo notification address
        "gateway.created",  # the demo Export service
        "directory.imported",
        "client.secret_rotated",
        "client.secret_rotated",  # the demo gateway's
    ]
    rotation = db.session.execute(
        db.select(AuditEvent).where(
            AuditEvent.action == "client.secret_rotated", AuditEvent.client_id == client_id
        )
    ).scalar_one()
    assert (rotation.actor, rotation.client_id) == ("cli", client_id)
    assert rotation.details["grace_period_seconds"] == 0


REPORT = re.compile(
    r'curl -s -u (?P<id>gw_[\w-]+):(?P<secret>[\w-]{43}) -H "Content-Type: application/json" '
    r'-d "(?P<body>.*)" https://auth\.example\.test/api/v1/export-failures'
)


def test_demo_setup_prints_a_failed_export_report_that_ends_as_a_mail_on_disk(app, runner, app_ctx):
    result = runner.invoke(args=["demo", "setup"])
    assert result.exit_code == 0, result.output
    mail_dir = Path(app.instance_path) / "mail"
    assert f"Mail: the server delivers mails to files (.eml) in {mail_dir}/\n" in result.stdout
    report = REPORT.search(result.stdout)
    assert report is not None, result.stdout
    body = (
        report["body"]
        .replace('\\"', '"')
        .replace("$(date +%s)", "1")
        .replace("$(date -u +%Y-%m-%dT%H:%M:%SZ)", "2026-12-06T10:00:00Z")
    )
    basic = base64.b64encode(f"{report['id']}:{report['secret']}".encode()).decode()
    response = app.test_client().post(
        "/api/v1/export-failures",
        data=body,
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/json"},
    )
    assert response.status_code == 202, response.json

    settings = WorkerSettings.from_config(app.config, app.instance_path)
    later = utcnow() + timedelta(seconds=app.config["MAIL_DIGEST_WINDOW"] + 1)
    assert drain(settings, clock=lambda: later) == 1
    (eml,) = mail_dir.glob("*.eml")
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "edi@acme-parts.example"
    assert message["Subject"] == "Failed export for 400100 Acme Parts GmbH"


def test_demo_setup_restores_a_disabled_demo_organization(runner, app_ctx):
    first = runner.invoke(args=["demo", "setup"])
    client_id = CURL.search(first.stdout)["id"]
    demo_client = db.session.execute(
        db.select(Client).where(Client.client_id == client_id)
    ).scalar_one()
    demo_client.organizations[0].enabled = False
    db.session.commit()
    assert runner.invoke(args=["demo", "setup"]).exit_code == 0
    db.session.expire_all()
    assert demo_client.organizations[0].enabled is True


def test_demo_setup_is_refused_in_production(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTHSERVER_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(make_config(database_url, tmp_path, ENV="production", TESTING=False))
    with app.app_context():
        db.drop_all()
        db.create_all()
        try:
            result = app.test_cli_runner().invoke(args=["demo", "setup"])
            assert result.exit_code == 1
            assert result.stdout == ""
            assert (
                result.stderr
                == "Error: The demo setup is refused when AUTHSERVER_ENV=production.\n"
            )
            assert db.session.execute(db.select(User)).first() is None
            assert audit_actions() == []
        finally:
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def test_demo_file_ships_in_the_package():
    import authserver

    path = Path(authserver.__file__).parent / "demo" / "directory.json"
    demo = json.loads(path.read_text())
    anna = next(user for user in demo["users"] if user["email"] == "anna@example.com")
    assert anna["admin_of"] == ["400100", "400200"]
    kinds = {org["kind"] for org in demo["organizations"]}
    assert {"supplier", "wholesaler"} <= kinds


def test_demo_admin_can_log_in_to_the_admin_api_and_sees_the_demo_client(runner, http, app_ctx):
    setup = runner.invoke(args=["demo", "setup"])
    client_id = CURL.search(setup.stdout)["id"]
    login = http.post(
        "/api/v1/auth/login", json={"email": "anna@example.com", "password": "demo-password-anna"}
    )
    assert login.status_code == 200, login.get_json()
    token = login.get_json()["access_token"]
    listed = http.get("/api/v1/clients", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200
    assert [item["client_id"] for item in listed.get_json()] == [client_id]


def test_the_printed_token_request_works_and_the_previous_secret_does_not(runner, http, app_ctx):
    first = CURL.search(runner.invoke(args=["demo", "setup"]).stdout)
    second = CURL.search(runner.invoke(args=["demo", "setup"]).stdout)
    fresh = http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(second["id"], second["secret"]),
    )
    assert fresh.status_code == 200, fresh.get_json()
    body = fresh.get_json()
    assert body["token_type"].lower() == "bearer"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert (claims["client_id"], claims["organizations"]) == (second["id"], ["400100"])
    stale = http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(first["id"], first["secret"]),
    )
    assert stale.status_code == 401
    assert stale.get_json()["error"] == "invalid_client"


# --- sessions revoke / purge ------------------------------------------------


def test_sessions_revoke_ends_every_console_session_of_the_user(runner, directory):
    anna = directory.user("anna@example.com")
    ben = directory.user("ben@example.com")
    annas = [console_sessions.start(anna) for _ in range(2)]
    bens = console_sessions.start(ben)
    result = runner.invoke(args=["sessions", "revoke", "--user", " Anna@Example.com"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "Ended 2 console sessions of anna@example.com.\n"
    assert [console_sessions.lookup(handle) for handle in annas] == [None, None]
    assert console_sessions.lookup(bens) is not None
    event = db.session.execute(db.select(AuditEvent)).scalar_one()
    assert (event.actor, event.action, event.target, event.details) == (
        "cli",
        "session.revoked_all",
        "anna@example.com",
        {"sessions": 2},
    )
    assert all(handle not in json.dumps(event.details) for handle in annas)

    again = runner.invoke(args=["sessions", "revoke", "--user", "ben@example.com"])
    assert again.stdout == "Ended 1 console session of ben@example.com.\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--user", "nobody@example.com"],
            "Error: no user 'nobody@example.com' in the directory.\n",
        ),
        (["--user", " "], "Error: email must be an e-mail address.\n"),
    ],
    ids=["unknown-user", "blank"],
)
def test_sessions_revoke_refusals_exit_1_and_change_nothing(runner, directory, args, message):
    result = runner.invoke(args=["sessions", "revoke", *args])
    assert result.exit_code == 1
    assert (result.stdout, result.stderr) == ("", message)
    assert audit_actions() == []


def test_sessions_purge_deletes_the_sessions_that_ended_by_time(runner, directory):
    anna = directory.user("anna@example.com")
    live = console_sessions.start(anna)
    console_sessions.start(anna)
    stale = (
        db.session.execute(db.select(ConsoleSession).order_by(ConsoleSession.id)).scalars().all()[1]
    )
    stale.expires_at = utcnow()
    db.session.commit()
    result = runner.invoke(args=["sessions", "purge"])
    assert (result.exit_code, result.stdout) == (0, "Purged 1 console session that had expired.\n")
    assert db.session.execute(db.select(ConsoleSession.handle_hash)).scalars().all() == [
        console_sessions.hash_handle(live)
    ]
    assert (
        runner.invoke(args=["sessions", "purge"]).stdout
        == "Purged 0 console sessions that had expired.\n"
    )


# --- authserver --help ---------------------------------------------------------


def _listed(group, ctx, prefix=()):
    import click

    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _listed(command, ctx, (*prefix, name))


@pytest.fixture
def command_line(tmp_path, monkeypatch):
    """The real ``authserver`` entry point, with its own instance folder."""
    from click.testing import CliRunner

    from authserver.cli import main

    monkeypatch.setenv("AUTHSERVER_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("AUTHSERVER_ENV", raising=False)
    return lambda *args: CliRunner().invoke(main, list(args), prog_name="authserver")


def test_help_lists_only_our_commands_without_flasks_generic_options(command_line):
    result = command_line("--help")
    assert result.exit_code == 0, result.output
    commands = result.output.split("Commands:\n", 1)[1]
    names = [line.split()[0] for line in commands.splitlines() if line.strip()]
    assert names == [
        "audit",
        "clients",
        "db",
        "demo",
        "directory",
        "gateways",
        "keys",
        "mail",
        "serve",
        "sessions",
    ]
    options = result.output.split("Options:\n", 1)[1].split("Commands:", 1)[0]
    assert options.split() == ["--help", "Show", "this", "message", "and", "exit."]
    for generic in ("--env-file", "--app", "--debug", " run ", " shell ", " routes ", "openapi"):
        assert generic not in result.output


def test_every_listed_command_has_a_one_line_help_that_fits(command_line):
    import click

    from authserver.cli import main

    with click.Context(main) as ctx:
        listed = list(_listed(main, ctx))
    assert ("db", "upgrade") in [path for path, _ in listed]
    for path, command in listed:
        short = command.get_short_help_str(limit=1000)
        assert short and len(short) <= 60 and not short.endswith("..."), (path, short)
        assert "\n" not in short


def test_the_db_group_lists_what_an_operator_needs_and_the_others_still_answer(command_line):
    result = command_line("db", "--help")
    assert result.exit_code == 0, result.output
    commands = result.output.split("Commands:\n", 1)[1]
    assert [line.split()[0] for line in commands.splitlines() if line.strip()] == [
        "current",
        "downgrade",
        "history",
        "upgrade",
    ]
    assert command_line("db", "upgrade", "--help").exit_code == 0
    # a developer's command is not listed, but still there
    assert "Autogenerate" in command_line("db", "migrate", "--help").output
