"""Client administrators (docs/rules.md, rule 5).

A client always keeps at least one administrator. Additions and removals
take the client's row lock and count the administrators after it, so two
concurrent removals (each other, or the last two themselves) are serialized:
exactly one succeeds and the other sees the new state.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from ..errors import (
    AdministratorNotFound,
    AlreadyAdministrator,
    LastAdministrator,
    NotClientAdministrator,
    UserNotFound,
    ValidationError,
)
from ..extensions import db
from ..models import ClientAdministrator, User, normalize_email
from . import audit, notices
from .clients import get_client, lock_administered_client, write_transaction

#: the answer when removing the last administrator is refused
LAST_ADMINISTRATOR = (
    "A client must keep at least one administrator: "
    "add another administrator first, then remove this one."
)


def require_email(email: object) -> str:
    """*email* normalized (:func:`~authserver.models.normalize_email`).

    :raises ValidationError: not a non-empty string.
    """
    normalized = normalize_email(email)
    if not normalized:
        raise ValidationError("email must be an e-mail address.", field="email")
    return normalized


def find_user(email: str) -> User:
    """Look a user up by e-mail.

    :raises UserNotFound: no such user in the directory.
    """
    user: User | None = db.session.execute(
        db.select(User).where(User.email == require_email(email))
    ).scalar_one_or_none()
    if user is None:
        raise UserNotFound("user not found", field="email")
    return user


def look_up_user(caller: User, email: str) -> User:
    """Look a user up by e-mail for *caller*, who must administer a client
    (docs/rules.md, rule 5: to add administrators; nobody else may learn names).

    :raises NotClientAdministrator: *caller* administers no client.
    :raises UserNotFound: no such user in the directory.
    """
    administers = db.session.execute(
        db.select(ClientAdministrator.user_id)
        .where(ClientAdministrator.user_id == caller.id)
        .limit(1)
    ).first()
    if administers is None:
        raise NotClientAdministrator(
            "Only an administrator of a client may look users up by e-mail."
        )
    return find_user(email)


def list_administrators(user: User, client_id: str) -> list[User]:
    """The administrators of a client *user* administers, by e-mail.

    :raises ClientNotFound: no such client, or *user* is not its administrator.
    """
    client = get_client(user, client_id)
    return list(
        db.session.execute(
            db.select(User)
            .join(ClientAdministrator, ClientAdministrator.user_id == User.id)
            .where(ClientAdministrator.client_pk == client.id)
            .order_by(User.email)
        ).scalars()
    )


def _is_administrator(client_pk: int, user_id: int) -> bool:
    return (
        db.session.execute(
            db.select(ClientAdministrator.user_id).where(
                ClientAdministrator.client_pk == client_pk, ClientAdministrator.user_id == user_id
            )
        ).first()
        is not None
    )


@write_transaction
def add_administrator(user: User, client_id: str, email: str, ctx: audit.AuditContext) -> User:
    """Make the user with *email* an administrator of the client.

    :raises ClientNotFound: no such client, or *user* is not its administrator.
    :raises UserNotFound: no user with *email*.
    :raises AlreadyAdministrator: that user administers the client already.
    """
    require_email(email)
    client = lock_administered_client(user, client_id, ctx, "administrator.add")
    new = find_user(email)
    if _is_administrator(client.id, new.id):
        raise AlreadyAdministrator(
            f"{new.email} is already an administrator of this client.", field="email"
        )
    db.session.add(ClientAdministrator(client_pk=client.id, user_id=new.id))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise AlreadyAdministrator(
            f"{new.email} is already an administrator of this client.", field="email"
        ) from None
    audit.record(ctx, "administrator.added", client_id=client.client_id, target=new.email)
    notices.administrator_added(client, ctx.actor, new.email)
    db.session.commit()
    return new


@write_transaction
def remove_administrator(user: User, client_id: str, email: str, ctx: audit.AuditContext) -> None:
    """Remove the administrator with *email* (possibly *user* themselves).

    :raises ClientNotFound: no such client, or *user* is not its administrator
        (also when a concurrent request has just removed *user*).
    :raises UserNotFound: no user with *email*.
    :raises AdministratorNotFound: that user does not administer the client.
    :raises LastAdministrator: that user is the client's last administrator.
    """
    require_email(email)
    client = lock_administered_client(user, client_id, ctx, "administrator.remove")
    target = find_user(email)
    if not _is_administrator(client.id, target.id):
        raise AdministratorNotFound(f"{target.email} is not an administrator of this client.")
    count = db.session.execute(
        db.select(func.count())
        .select_from(ClientAdministrator)
        .where(ClientAdministrator.client_pk == client.id)
    ).scalar_one()
    if count <= 1:
        raise LastAdministrator(LAST_ADMINISTRATOR)
    db.session.execute(
        db.delete(ClientAdministrator).where(
            ClientAdministrator.client_pk == client.id, ClientAdministrator.user_id == target.id
        )
    )
    audit.record(ctx, "administrator.removed", client_id=client.client_id, target=target.email)
    notices.administrator_removed(client, ctx.actor, target.email)
    db.session.commit()
