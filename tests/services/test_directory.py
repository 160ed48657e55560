"""Directory import (docs/rules.md, "The directory file"): validation, upsert, audit."""

from __future__ import annotations

import json
from typing import Any

import pytest

from authserver import credentials
from authserver.errors import InvalidDirectoryFile
from authserver.extensions import db
from authserver.models import AuditEvent, Organization, OrganizationAdmin, User
from authserver.services import audit
from authserver.services.directory import ImportSummary, import_directory, parse_directory


def directory_file(**overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "organizations": [
            {"teccom_id": "400100", "name": "Acme Parts GmbH", "kind": "supplier"},
            {"teccom_id": "500100", "name": "Nordwind Handel", "kind": "wholesaler"},
        ],
        "users": [
            {
                "email": "Anna@Example.com",
                "first_name": "Anna",
                "last_name": "Berg",
                "password": "anna-password",
                "admin_of": ["400100", "500100"],
            },
            {
                "email": "ben@example.com",
                "first_name": "Ben",
                "last_name": "Krause",
                "password": "ben-password",
            },
        ],
    }
    document.update(overrides)
    return document


def run_import(document: Any) -> ImportSummary:
    return import_directory(json.dumps(document).encode(), audit.CLI)


def rights(email: str) -> set[str]:
    return set(
        db.session.execute(
            db.select(OrganizationAdmin.teccom_id).join(User).where(User.email == email)
        ).scalars()
    )


def snapshot() -> tuple[Any, ...]:
    """Everything an import may change, to prove that a refusal changed nothing."""
    db.session.expire_all()
    return (
        sorted(
            (o.teccom_id, o.name, o.kind)
            for o in db.session.execute(db.select(Organization)).scalars()
        ),
        sorted(
            (u.email, u.first_name, u.last_name, u.password_hash)
            for u in db.session.execute(db.select(User)).scalars()
        ),
        sorted(
            (r.user_id, r.teccom_id)
            for r in db.session.execute(db.select(OrganizationAdmin)).scalars()
        ),
        db.session.execute(db.select(db.func.count()).select_from(AuditEvent)).scalar_one(),
    )


def test_import_creates_organizations_users_and_rights(app_ctx):
    summary = run_import(directory_file())
    assert summary.as_dict() == {
        "organizations_created": 2,
        "organizations_updated": 0,
        "organizations_unchanged": 0,
        "users_created": 2,
        "users_updated": 0,
        "users_unchanged": 0,
    }
    acme = db.session.get(Organization, "400100")
    assert (acme.name, acme.kind) == ("Acme Parts GmbH", "supplier")
    anna = db.session.execute(db.select(User).where(User.email == "anna@example.com")).scalar_one()
    assert (anna.first_name, anna.last_name) == ("Anna", "Berg")
    assert anna.password_hash.startswith("$argon2id$")
    assert "anna-password" not in anna.password_hash
    assert credentials.check_secret(anna.password_hash, "anna-password")
    assert rights("anna@example.com") == {"400100", "500100"}
    assert rights("ben@example.com") == set()


def test_reimport_changes_nothing_and_keeps_password_hashes(app_ctx):
    run_import(directory_file())
    before = snapshot()
    summary = run_import(directory_file())
    assert summary.as_dict() == {
        "organizations_created": 0,
        "organizations_updated": 0,
        "organizations_unchanged": 2,
        "users_created": 0,
        "users_updated": 0,
        "users_unchanged": 2,
    }
    after = snapshot()
    assert after[:3] == before[:3]  # same rows, same password hashes
    assert after[3] == before[3] + 1  # one more audit event: the import itself


def test_import_updates_by_teccom_id_and_case_insensitive_email(app_ctx):
    run_import(directory_file())
    old_hash = db.session.execute(
        db.select(User.password_hash).where(User.email == "ben@example.com")
    ).scalar_one()
    document = directory_file()
    document["organizations"][0]["name"] = "Acme Parts SE"
    document["users"][0] = {
        "email": "ANNA@example.COM",
        "first_name": "Anna",
        "last_name": "Berg-Lind",
        "password": "anna-password",
        "admin_of": ["400100"],
    }
    document["users"][1]["password"] = "a-new-password"
    summary = run_import(document)
    assert (summary.organizations_updated, summary.organizations_unchanged) == (1, 1)
    assert (summary.users_created, summary.users_updated) == (0, 2)
    assert db.session.get(Organization, "400100").name == "Acme Parts SE"
    assert db.session.execute(db.select(db.func.count()).select_from(User)).scalar_one() == 2
    anna = db.session.execute(db.select(User).where(User.email == "anna@example.com")).scalar_one()
    assert anna.last_name == "Berg-Lind"
    ben = db.session.execute(db.select(User).where(User.email == "ben@example.com")).scalar_one()
    assert ben.password_hash != old_hash
    assert credentials.check_secret(ben.password_hash, "a-new-password")
    assert not credentials.check_secret(ben.password_hash, "ben-password")


def test_admin_of_replaces_the_users_rights(app_ctx):
    run_import(directory_file())
    document = directory_file()
    document["users"][0]["admin_of"] = ["500100"]
    document["users"][1]["admin_of"] = ["400100"]
    run_import(document)
    assert rights("anna@example.com") == {"500100"}
    assert rights("ben@example.com") == {"400100"}
    document["users"][0]["admin_of"] = []
    del document["users"][1]["admin_of"]
    summary = run_import(document)
    assert summary.users_updated == 2
    assert rights("anna@example.com") == set()
    assert rights("ben@example.com") == set()


def test_entries_absent_from_the_file_are_kept(directory):
    directory.user("carl@example.com", admin_of=("600100",))
    run_import(directory_file())
    assert db.session.get(Organization, "600100") is not None
    assert rights("carl@example.com") == {"600100"}


def test_admin_of_may_name_an_organization_already_in_the_database(directory):
    directory.organization("600100")
    document = directory_file()
    document["users"][1]["admin_of"] = ["600100"]
    run_import(document)
    assert rights("ben@example.com") == {"600100"}


def test_missing_or_null_password_means_no_login(app_ctx):
    run_import(directory_file())
    document = directory_file()
    document["users"][0]["password"] = None
    del document["users"][1]["password"]
    summary = run_import(document)
    assert summary.users_updated == 2
    hashes = db.session.execute(db.select(User.password_hash)).scalars().all()
    assert hashes == [None, None]


def test_changed_argon2_parameters_rehash_an_unchanged_password(app_ctx):
    run_import(directory_file())
    credentials.configure(
        {"ARGON2_TIME_COST": 2, "ARGON2_MEMORY_COST": 2048, "ARGON2_PARALLELISM": 1}
    )
    summary = run_import(directory_file())
    assert summary.users_updated == 2
    (anna_hash,) = db.session.execute(
        db.select(User.password_hash).where(User.email == "anna@example.com")
    ).scalars()
    assert anna_hash.startswith("$argon2id$v=19$m=2048,t=2,p=1$")
    assert credentials.check_secret(anna_hash, "anna-password")


def test_import_is_audited_with_counts_only(app_ctx):
    run_import(directory_file())
    (event,) = db.session.execute(db.select(AuditEvent)).scalars()
    assert (event.actor, event.action, event.client_id, event.target) == (
        "cli",
        "directory.imported",
        None,
        None,
    )
    assert event.details == {
        "organizations_created": 2,
        "organizations_updated": 0,
        "organizations_unchanged": 0,
        "users_created": 2,
        "users_updated": 0,
        "users_unchanged": 0,
    }


BAD_FILES = [
    pytest.param(
        b'{"organizations": [\n  {"teccom_id": "1",}\n]}',
        ["line 2, column 21: invalid JSON: Expecting property name enclosed in double quotes"],
        id="invalid-json",
    ),
    pytest.param(b"\xff\xfe{}", ["byte 0: not UTF-8 text"], id="not-utf8"),
    pytest.param(b"[]", ["$: must be an object, not an array"], id="not-an-object"),
    pytest.param(b'{"organizations": []}', ["users: missing"], id="missing-users"),
    pytest.param(
        b'{"organizations": {}, "users": []}',
        ["organizations: must be an array, not an object"],
        id="organizations-not-array",
    ),
    pytest.param(
        b'{"organizations": [], "users": [], "groups": []}',
        ["groups: unknown field"],
        id="unknown-top-field",
    ),
]


@pytest.mark.parametrize(("raw", "problems"), BAD_FILES)
def test_unreadable_files_are_refused_with_the_location(app_ctx, raw, problems):
    with pytest.raises(InvalidDirectoryFile) as refused:
        import_directory(raw, audit.CLI)
    assert refused.value.problems == problems
    assert refused.value.code == 422


def _bad_users(mutate):
    document = directory_file()
    mutate(document)
    return document


BAD_ENTRIES = [
    pytest.param(
        lambda d: d["users"][1].pop("email"), ["users[1].email: missing"], id="missing-email"
    ),
    pytest.param(
        lambda d: d["users"][0].update(email=7),
        ["users[0].email: must be a string, not a number"],
        id="email-not-string",
    ),
    pytest.param(
        lambda d: d["users"][0].update(email="anna"),
        ["users[0].email: not an e-mail address"],
        id="email-invalid",
    ),
    pytest.param(
        lambda d: d["users"][1].update(first_name=" "),
        ["users[1].first_name: must not be empty"],
        id="empty-name",
    ),
    pytest.param(
        lambda d: d["users"][1].update(password=True),
        ["users[1].password: must be a string, not a boolean"],
        id="password-not-string",
    ),
    pytest.param(
        lambda d: d["users"][0].update(admin_of="400100"),
        ["users[0].admin_of: must be an array, not a string"],
        id="admin-of-not-array",
    ),
    pytest.param(
        lambda d: d["users"][0].update(admin_of=["400100", None]),
        ["users[0].admin_of[1]: must be a string, not null"],
        id="admin-of-item-null",
    ),
    pytest.param(
        lambda d: d["users"][0].update(admin_of=["400100", "999999"]),
        ["users[0].admin_of[1]: unknown organization '999999'"],
        id="unknown-organization",
    ),
    pytest.param(
        lambda d: d["users"][0].update(admin_of=["400100", "400100"]),
        ["users[0].admin_of[1]: duplicate TecCom ID '400100'"],
        id="duplicate-right",
    ),
    pytest.param(
        lambda d: d["users"][1].update(email="ANNA@example.com"),
        ["users[1].email: duplicate e-mail 'anna@example.com' (first at users[0])"],
        id="duplicate-email",
    ),
    pytest.param(
        lambda d: d["organizations"].append(
            {"teccom_id": "400100", "name": "X", "kind": "supplier"}
        ),
        ["organizations[2].teccom_id: duplicate TecCom ID '400100' (first at organizations[0])"],
        id="duplicate-teccom-id",
    ),
    pytest.param(
        lambda d: d["organizations"].append(
            {"teccom_id": "500 100", "name": "X", "kind": "supplier"}
        ),
        [
            "organizations[2].teccom_id: must be 1-32 ASCII letters, digits or punctuation"
            " (no spaces, quotes or backslashes)"
        ],
        id="teccom-id-with-a-space",
    ),
    pytest.param(
        lambda d: d["organizations"].append(
            {"teccom_id": "Müller", "name": "X", "kind": "supplier"}
        ),
        [
            "organizations[2].teccom_id: must be 1-32 ASCII letters, digits or punctuation"
            " (no spaces, quotes or backslashes)"
        ],
        id="teccom-id-not-ascii",
    ),
    pytest.param(
        lambda d: d["organizations"][1].update(teccom_id=500100),
        ["organizations[1].teccom_id: must be a string, not a number"],
        id="teccom-id-not-string",
    ),
    pytest.param(
        lambda d: d["organizations"][0].update(name="x" * 301),
        ["organizations[0].name: must be at most 300 characters"],
        id="name-too-long",
    ),
    pytest.param(
        lambda d: d["organizations"][0].pop("kind"),
        ["organizations[0].kind: missing"],
        id="missing-kind",
    ),
    pytest.param(
        lambda d: d["organizations"].__setitem__(1, "500100"),
        ["organizations[1]: must be an object, not a string"],
        id="organization-not-object",
    ),
    pytest.param(
        lambda d: d["users"][0].update(admin_off=["400100"]),
        ["users[0].admin_off: unknown field"],
        id="unknown-field",
    ),
    pytest.param(
        lambda d: (d["users"][0].pop("last_name"), d["users"][1].update(email="ben")),
        ["users[0].last_name: missing", "users[1].email: not an e-mail address"],
        id="every-problem-is-listed",
    ),
]


@pytest.mark.parametrize(("mutate", "problems"), BAD_ENTRIES)
def test_a_bad_entry_is_refused_with_its_json_path_and_changes_nothing(directory, mutate, problems):
    directory.user("carl@example.com", admin_of=("600100",))
    run_import(directory_file())
    before = snapshot()
    with pytest.raises(InvalidDirectoryFile) as refused:
        run_import(_bad_users(mutate))
    assert refused.value.problems == problems
    assert snapshot() == before


def test_a_refused_first_import_creates_nothing(app_ctx):
    document = directory_file()
    document["users"][1]["admin_of"] = ["123"]
    with pytest.raises(InvalidDirectoryFile):
        run_import(document)
    assert snapshot() == ([], [], [], 0)


def test_parse_strips_whitespace_and_lower_cases_emails():
    parsed = parse_directory(
        json.dumps(
            directory_file(
                users=[
                    {
                        "email": " Anna@Example.COM ",
                        "first_name": " Anna ",
                        "last_name": "Berg",
                        "admin_of": [" 400100 "],
                    }
                ],
            )
        )
    )
    (anna,) = parsed.users
    assert (anna.email, anna.first_name, anna.password, anna.admin_of) == (
        "anna@example.com",
        "Anna",
        None,
        ("400100",),
    )
