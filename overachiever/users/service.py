"""Account rules: sign-up, the first admin, who may see and change whom."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from ..core.db import db, write_transaction
from ..core.errors import Conflict, Forbidden, Invalid, NameConflict, NotFound
from ..core.passwords import hash_password, needs_rehash, verify_password
from ..core.search import contains_folded
from ..tokens.models import Token
from .locks import owner_transaction
from .models import User


def normalise_email(email: str) -> str:
    """An e-mail address as accounts store it: trimmed and lower-cased."""
    return email.strip().lower()


def check_user_name(name: str) -> None:
    """Refuse (Invalid) a user name that could never sign in or be told from an address."""
    # "@" is reserved for e-mail addresses, so a login name can never be taken for one; HTTP
    # Basic splits "login:password" at the first colon, so a name with one could never sign in.
    for reserved in "@:":
        if reserved in name:
            msg = f"must not contain {reserved!r}"
            raise Invalid(f"a user name {msg}", [{"loc": ["body", "name"], "msg": msg}])


def ensure_name_and_email_free(
    name: str | None, email: str | None, exclude_id: int | None = None
) -> None:
    """Refuse (NameConflict) a user name or e-mail address another account has.

    None skips that check; exclude_id is the account being changed, which may keep its own.
    Call it inside the write transaction that then stores them.
    """
    conditions = []
    if name is not None:
        conditions.append(User.name == name)
    if email is not None:
        conditions.append(User.email == email)
    if not conditions:
        return
    stmt = select(User.name, User.email).where(or_(*conditions))
    if exclude_id is not None:
        stmt = stmt.where(User.id != exclude_id)
    for taken_name, _email in db.session.execute(stmt):
        if name is not None and taken_name == name:
            raise NameConflict(f"the user name {name!r} is taken")
        raise NameConflict("that e-mail address is already registered")


def create_user(
    name: str,
    email: str,
    password: str | None,
    *,
    actor: User | None = None,
    is_admin: bool = False,
    via_cli: bool = False,
    signup_open: bool = False,
) -> User:
    """Create an account; the first account ever created becomes an admin.

    Unless signup_open, only an administrator (actor) or the command line (via_cli) may.
    """
    check_user_name(name)
    email = normalise_email(email)
    if not via_cli and not signup_open and not (actor and actor.is_admin):
        raise Forbidden("sign-up is closed on this server; ask an administrator for an account")
    password_hash = hash_password(password) if password is not None else None
    with write_transaction(serialise_all=True) as session:
        ensure_name_and_email_free(name, email)
        first = session.execute(select(User.id).limit(1)).first() is None
        user = User(name=name, email=email, password_hash=password_hash, is_admin=is_admin or first)
        session.add(user)
        try:
            session.flush()
        except IntegrityError as exc:  # a concurrent sign-up took the name between check and insert
            raise NameConflict("that user name or e-mail address is taken") from exc
    return user


def _login_lookup(login: str) -> tuple[InstrumentedAttribute[str], str] | None:
    """The column and value a sign-in login names an account by; None if no account can match.

    Names are stored in NFC and e-mail addresses lower-cased, so the login is brought to that.
    """
    login = unicodedata.normalize("NFC", login.strip())
    # A login no account can have (PostgreSQL also refuses NUL in text) matches none.
    if not login or len(login) > 254 or "\x00" in login:
        return None
    if "@" in login:
        return User.email, normalise_email(login)
    return User.name, login


def find_by_login(login: str) -> User | None:
    """The user a login names, by name or e-mail address as sign-in takes them, or None."""
    found = _login_lookup(login)
    if found is None:
        return None
    column, value = found
    return db.session.execute(select(User).where(column == value)).scalar_one_or_none()


def account_key(user_id: int) -> str:
    """The key under which the rate limits count one account's password checks."""
    return f"account:{user_id}"


def login_key(login: str) -> str:
    """The rate-limit key of a sign-in login: the account it names, whether by name or e-mail,
    else (no such account) the login itself, normalised."""
    found = _login_lookup(login)
    if found is None:
        return "login:"
    column, value = found
    user_id = db.session.execute(select(User.id).where(column == value)).scalar_one_or_none()
    return account_key(user_id) if user_id is not None else f"login:{value}"


def authenticate(login: str, password: str) -> User | None:
    """Check a name-or-email and password; unknown accounts and wrong passwords look alike."""
    found = _login_lookup(login)
    if found is None or len(password) > 1024:
        verify_password(None, password[:1024])
        return None
    column, value = found
    user = db.session.execute(select(User).where(column == value)).scalar_one_or_none()
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None:
        return None
    if user.password_hash and needs_rehash(user.password_hash):
        # Upgrade hashes made with older parameters while the password is at hand.
        with write_transaction():
            user.password_hash = hash_password(password)
    return user


def resolve(actor: User, ref: int | str) -> User:
    """The user a path names ('self' or an id) if the actor may see them, else NotFound."""
    if ref == "self" or ref == actor.id:
        return actor
    user = db.session.get(User, ref) if isinstance(ref, int) else None
    if user is None or not actor.is_admin:
        raise NotFound(f"user {ref} not found")
    return user


def list_users(actor: User, q: str | None, offset: int, limit: int) -> tuple[Sequence[User], int]:
    """All users, for admins, filtered by text in name or e-mail."""
    if not actor.is_admin:
        raise Forbidden("only administrators may list users")
    stmt = select(User)
    if q:
        stmt = stmt.where(or_(contains_folded(User.name, q), contains_folded(User.email, q)))
    total = db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    users = db.session.execute(stmt.order_by(User.id).offset(offset).limit(limit)).scalars().all()
    return users, total


def _admin_count() -> int:
    return db.session.execute(select(func.count()).where(User.is_admin.is_(True))).scalar_one()


@dataclass(frozen=True, slots=True)
class AccountChange:
    """An account as a change left it, and how many of its tokens the change revoked."""

    user: User
    tokens_revoked: int = 0


def _revoke_tokens(session: Session, user_id: int, keep_token_id: int | None = None) -> int:
    """Delete the user's tokens but keep_token_id; returns how many went."""
    stmt = delete(Token).where(Token.user_id == user_id)
    if keep_token_id is not None:
        stmt = stmt.where(Token.id != keep_token_id)
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def update_user(
    actor: User, ref: int | str, changes: dict[str, Any], *, keep_token_id: int | None = None
) -> AccountChange:
    """Apply changes to an account (name, email, password, is_admin) under the access rules.

    A new password revokes every token of the account except keep_token_id (the one the
    request came with), so whoever knew the old password is signed out everywhere.
    """
    target = resolve(actor, ref)
    if "is_admin" in changes and changes["is_admin"] is not None and not actor.is_admin:
        raise Forbidden("only administrators may grant or revoke admin rights")
    new_password = changes.get("password")
    # Your own password needs the current one, administrator or not: a token alone (perhaps
    # stolen) must not be enough to take the account over. Only someone else's does not.
    if new_password is not None and target.id == actor.id:
        current = changes.get("current_password")
        if current is None or not verify_password(target.password_hash, current):
            raise Forbidden("changing your own password needs your current password")
    if changes.get("name") is not None:
        check_user_name(changes["name"])
    password_hash = hash_password(new_password) if new_password is not None else None
    revoked = 0
    with write_transaction(serialise_all=True) as session:
        user = session.get(User, target.id, populate_existing=True)
        if user is None:
            raise NotFound(f"user {ref} not found")
        name = changes.get("name")
        email = normalise_email(changes["email"]) if changes.get("email") is not None else None
        ensure_name_and_email_free(
            name if name != user.name else None, email if email != user.email else None, user.id
        )
        if name is not None:
            user.name = name
        if email is not None:
            user.email = email
        if password_hash is not None:
            user.password_hash = password_hash
            revoked = _revoke_tokens(session, user.id, keep_token_id)
        if changes.get("is_admin") is not None and changes["is_admin"] != user.is_admin:
            if not changes["is_admin"] and _admin_count() <= 1:
                raise Conflict("the last administrator cannot give up admin rights")
            user.is_admin = changes["is_admin"]
        try:
            session.flush()
        except IntegrityError as exc:
            raise NameConflict("that user name or e-mail address is taken") from exc
    return AccountChange(user, revoked)


def delete_user(actor: User, ref: int | str) -> None:
    """Delete an account with its goals, tokens and calendar feeds."""
    target = resolve(actor, ref)
    from ..calendars.models import CalendarFeed
    from ..goals.models import Goal
    from ..history.models import GoalEvent, Operation
    from ..sharing.models import Share

    # The owner's lock too: a goal write of this user in flight finishes first (or finds the
    # account gone), instead of deadlocking on the goals this deletes.
    with owner_transaction(target.id, serialise_all=True) as session:
        if target.is_admin and _admin_count() <= 1:
            raise Conflict("the last administrator cannot be deleted")
        # Explicit deletes, so nothing depends on the database honouring ON DELETE CASCADE.
        session.execute(delete(Token).where(Token.user_id == target.id))
        session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == target.id))
        # Shares of their goals, and shares of others' goals with them.
        session.execute(
            delete(Share).where(or_(Share.owner_id == target.id, Share.user_id == target.id))
        )
        session.execute(delete(Goal).where(Goal.owner_id == target.id))
        # Their history goes with them (events before operations, which they belong to).
        session.execute(delete(GoalEvent).where(GoalEvent.owner_id == target.id))
        session.execute(delete(Operation).where(Operation.owner_id == target.id))
        # Operations they made in others' trees stay, asked by no one now.
        session.execute(
            update(Operation).where(Operation.actor_id == target.id).values(actor_id=None)
        )
        session.execute(delete(User).where(User.id == target.id))


def find_by_name(name: str) -> User:
    """The user with this exact name (CLI helper)."""
    user = db.session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user named {name!r}")
    return user


def set_password(user: User, password: str) -> int:
    """Set a password without asking for the old one (command line); revokes every token of the
    account and returns how many there were."""
    password_hash = hash_password(password)
    with write_transaction() as session:
        stored = session.get(User, user.id)
        if stored is None:
            raise NotFound(f"user {user.id} not found")
        stored.password_hash = password_hash
        revoked = _revoke_tokens(session, user.id)
    return revoked
