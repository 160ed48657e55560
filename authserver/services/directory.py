"""The directory from the portal: organizations, users and who administers
which organization (docs/rules.md, "The directory file").

Importing is all or nothing: the whole file is validated first (JSON syntax,
every field, duplicates, every ``admin_of`` naming a known organization), and
only a valid file is applied, in one transaction. Importing is an upsert
(organizations by TecCom ID, users by lower-cased e-mail): nothing absent from
the file is deleted, and ``admin_of`` replaces the user's organization-admin
rights.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .. import credentials
from ..errors import InvalidDirectoryFile
from ..extensions import db
from ..models import Organization, OrganizationAdmin, User, normalize_email
from ..models.organization import TECCOM_ID_MAX, TECCOM_ID_RULE, is_teccom_id
from . import audit

#: column sizes of the models (a longer value would fail in PostgreSQL only)
ORG_NAME_MAX = 300
ORG_KIND_MAX = 50
EMAIL_MAX = 320
NAME_MAX = 200
#: argon2 hashes any length, but a password is not a document
PASSWORD_MAX = 1024

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_ORGANIZATION_FIELDS = {"teccom_id", "name", "kind"}
_USER_FIELDS = {"email", "first_name", "last_name", "password", "admin_of"}
_TOP_FIELDS = {"organizations", "users"}


@dataclass(frozen=True)
class OrganizationEntry:
    teccom_id: str
    name: str
    kind: str


@dataclass(frozen=True)
class UserEntry:
    email: str
    first_name: str
    last_name: str
    #: ``None``: the user has no password and cannot log in
    password: str | None
    admin_of: tuple[str, ...]
    #: where the entry is in the file, for messages (``users[2]``)
    path: str = ""


@dataclass(frozen=True)
class DirectoryFile:
    """A validated directory file."""

    organizations: tuple[OrganizationEntry, ...]
    users: tuple[UserEntry, ...]


@dataclass
class ImportSummary:
    """What an import changed (an entry is ``updated`` only if it differed)."""

    organizations_created: int = 0
    organizations_updated: int = 0
    organizations_unchanged: int = 0
    users_created: int = 0
    users_updated: int = 0
    users_unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass
class _Checker:
    """Collects every problem of a file, each with its JSON path."""

    problems: list[str] = field(default_factory=list)

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def obj(self, value: Any, path: str, allowed: set[str]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.fail(path or "$", f"must be an object, not {_json_type(value)}")
            return None
        for name in sorted(set(value) - allowed):
            self.fail(_join(path, name), "unknown field")
        return value

    def array(
        self, value: dict[str, Any], name: str, path: str, *, required: bool = True
    ) -> list[Any]:
        at = _join(path, name)
        if name not in value:
            if required:
                self.fail(at, "missing")
            return []
        if not isinstance(value[name], list):
            self.fail(at, f"must be an array, not {_json_type(value[name])}")
            return []
        items: list[Any] = value[name]
        return items

    def string(
        self,
        value: dict[str, Any],
        name: str,
        path: str,
        max_length: int,
        *,
        required: bool = True,
        nullable: bool = False,
    ) -> str | None:
        at = _join(path, name)
        if name not in value:
            if required:
                self.fail(at, "missing")
            return None
        raw = value[name]
        if raw is None and nullable:
            return None
        if not isinstance(raw, str):
            self.fail(at, f"must be a string, not {_json_type(raw)}")
            return None
        return self.text(raw, at, max_length)

    def text(self, raw: str, at: str, max_length: int) -> str | None:
        if not raw.strip():
            self.fail(at, "must not be empty")
            return None
        if len(raw) > max_length:
            self.fail(at, f"must be at most {max_length} characters")
            return None
        return raw


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def parse_directory(raw: bytes | str) -> DirectoryFile:
    """Parse and validate a directory file (without looking at the database).

    :raises InvalidDirectoryFile: listing every location at fault: the line
        and column of a JSON syntax error, else the JSON path of each bad field
        (``users[2].email: missing``) and of each duplicate.
    """
    document = _load_json(raw)
    check = _Checker()
    top = check.obj(document, "", _TOP_FIELDS)
    if top is None:
        raise InvalidDirectoryFile(check.problems)
    organizations = _organizations(check, top)
    users = _users(check, top)
    if check.problems:
        raise InvalidDirectoryFile(check.problems)
    return DirectoryFile(tuple(organizations), tuple(users))


def _load_json(raw: bytes | str) -> Any:
    """The JSON document of a directory file (UTF-8, a byte-order mark allowed).

    :raises InvalidDirectoryFile: not UTF-8, or not JSON (with the line and column).
    """
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidDirectoryFile([f"byte {exc.start}: not UTF-8 text"]) from None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidDirectoryFile(
            [f"line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}"]
        ) from None


def _organizations(check: _Checker, top: dict[str, Any]) -> list[OrganizationEntry]:
    """The file's organizations; each problem is noted in *check*."""
    organizations: list[OrganizationEntry] = []
    seen_orgs: dict[str, str] = {}
    for index, item in enumerate(check.array(top, "organizations", "")):
        path = f"organizations[{index}]"
        entry = check.obj(item, path, _ORGANIZATION_FIELDS)
        if entry is None:
            continue
        teccom_id = check.string(entry, "teccom_id", path, TECCOM_ID_MAX)
        name = check.string(entry, "name", path, ORG_NAME_MAX)
        kind = check.string(entry, "kind", path, ORG_KIND_MAX)
        if teccom_id is not None:
            teccom_id = teccom_id.strip()
            if not is_teccom_id(teccom_id):
                check.fail(f"{path}.teccom_id", TECCOM_ID_RULE)
                continue
            if teccom_id in seen_orgs:
                check.fail(
                    f"{path}.teccom_id",
                    f"duplicate TecCom ID {teccom_id!r} (first at {seen_orgs[teccom_id]})",
                )
                continue
            seen_orgs[teccom_id] = path
        if teccom_id is not None and name is not None and kind is not None:
            organizations.append(OrganizationEntry(teccom_id, name.strip(), kind.strip()))
    return organizations


def _users(check: _Checker, top: dict[str, Any]) -> list[UserEntry]:
    """The file's users; each problem is noted in *check*."""
    users: list[UserEntry] = []
    seen_emails: dict[str, str] = {}
    for index, item in enumerate(check.array(top, "users", "")):
        path = f"users[{index}]"
        entry = check.obj(item, path, _USER_FIELDS)
        if entry is None:
            continue
        email = check.string(entry, "email", path, EMAIL_MAX)
        first_name = check.string(entry, "first_name", path, NAME_MAX)
        last_name = check.string(entry, "last_name", path, NAME_MAX)
        password = check.string(
            entry, "password", path, PASSWORD_MAX, required=False, nullable=True
        )
        admin_of: list[str] = []
        for position, teccom_id in enumerate(check.array(entry, "admin_of", path, required=False)):
            at = f"{path}.admin_of[{position}]"
            if not isinstance(teccom_id, str):
                check.fail(at, f"must be a string, not {_json_type(teccom_id)}")
            elif check.text(teccom_id, at, TECCOM_ID_MAX) is not None:
                if teccom_id.strip() in admin_of:
                    check.fail(at, f"duplicate TecCom ID {teccom_id.strip()!r}")
                else:
                    admin_of.append(teccom_id.strip())
        if email is not None:
            email = normalize_email(email)
            if not _EMAIL.match(email):
                check.fail(f"{path}.email", "not an e-mail address")
                continue
            if email in seen_emails:
                check.fail(
                    f"{path}.email", f"duplicate e-mail {email!r} (first at {seen_emails[email]})"
                )
                continue
            seen_emails[email] = path
        if email is not None and first_name is not None and last_name is not None:
            users.append(
                UserEntry(
                    email,
                    first_name.strip(),
                    last_name.strip(),
                    password,
                    tuple(admin_of),
                    path,
                )
            )
    return users


def find_organization(teccom_id: str) -> Organization | None:
    """The organization *teccom_id* of the directory, if there is one."""
    found: Organization | None = db.session.get(Organization, teccom_id)
    return found


def validate_references(directory: DirectoryFile) -> None:
    """Every ``admin_of`` must name an organization of the file or of the database.

    :raises InvalidDirectoryFile: naming each unknown organization's location.
    """
    known = {entry.teccom_id for entry in directory.organizations}
    wanted = {teccom_id for user in directory.users for teccom_id in user.admin_of} - known
    if wanted:
        known |= set(
            db.session.execute(
                db.select(Organization.teccom_id).where(Organization.teccom_id.in_(wanted))
            ).scalars()
        )
    problems = [
        f"{user.path}.admin_of[{position}]: unknown organization {teccom_id!r}"
        for user in directory.users
        for position, teccom_id in enumerate(user.admin_of)
        if teccom_id not in known
    ]
    if problems:
        raise InvalidDirectoryFile(problems)


def import_directory(raw: bytes | str, ctx: audit.AuditContext) -> ImportSummary:
    """Validate *raw* completely, then upsert it in one transaction, audited
    (``directory.imported``, counts only).

    An unchanged password keeps its stored hash (it is checked against the
    hash instead of hashed again), so a re-import changes nothing.

    :raises InvalidDirectoryFile: the file is refused and nothing changes.
    """
    directory = parse_directory(raw)
    validate_references(directory)
    try:
        summary = _apply(directory)
        audit.record(ctx, "directory.imported", details=summary.as_dict())
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return summary


def _apply(directory: DirectoryFile) -> ImportSummary:
    summary = ImportSummary()
    existing_orgs = {
        org.teccom_id: org
        for org in db.session.execute(
            db.select(Organization).where(
                Organization.teccom_id.in_([entry.teccom_id for entry in directory.organizations])
            )
        ).scalars()
    }
    for org_entry in directory.organizations:
        organization = existing_orgs.get(org_entry.teccom_id)
        if organization is None:
            db.session.add(
                Organization(
                    teccom_id=org_entry.teccom_id, name=org_entry.name, kind=org_entry.kind
                )
            )
            summary.organizations_created += 1
        elif (organization.name, organization.kind) != (org_entry.name, org_entry.kind):
            organization.name, organization.kind = org_entry.name, org_entry.kind
            summary.organizations_updated += 1
        else:
            summary.organizations_unchanged += 1
    db.session.flush()

    existing_users = {
        user.email: user
        for user in db.session.execute(
            db.select(User).where(User.email.in_([entry.email for entry in directory.users]))
        ).scalars()
    }
    for entry in directory.users:
        user = existing_users.get(entry.email)
        if user is None:
            user = User(
                email=entry.email,
                first_name=entry.first_name,
                last_name=entry.last_name,
                password_hash=(
                    credentials.hash_secret(entry.password) if entry.password is not None else None
                ),
            )
            user.admin_rights = [
                OrganizationAdmin(teccom_id=teccom_id) for teccom_id in entry.admin_of
            ]
            db.session.add(user)
            summary.users_created += 1
        elif _update_user(user, entry):
            summary.users_updated += 1
        else:
            summary.users_unchanged += 1
    db.session.flush()
    return summary


def _update_user(user: User, entry: UserEntry) -> bool:
    """Bring *user* in line with *entry*; whether anything changed."""
    changed = False
    if (user.first_name, user.last_name) != (entry.first_name, entry.last_name):
        user.first_name, user.last_name = entry.first_name, entry.last_name
        changed = True
    if entry.password is None:
        if user.password_hash is not None:
            user.password_hash = None
            changed = True
    elif (
        user.password_hash is None
        or not credentials.check_secret(user.password_hash, entry.password)
        or credentials.hasher().check_needs_rehash(user.password_hash)
    ):
        user.password_hash = credentials.hash_secret(entry.password)
        changed = True
    current = {right.teccom_id for right in user.admin_rights}
    wanted = set(entry.admin_of)
    if current != wanted:
        user.admin_rights = [right for right in user.admin_rights if right.teccom_id in wanted] + [
            OrganizationAdmin(teccom_id=teccom_id)
            for teccom_id in entry.admin_of
            if teccom_id not in current
        ]
        changed = True
    return changed
