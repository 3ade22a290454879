"""Rules of the legacy layers, built on the v2 services: goals and users found by name, and
the user directory's bulk creation.

The article addresses goals by name; names are unique among the live siblings of one owner,
so a name can still occur in several branches. Such a name is ambiguous (409) and the client
is sent to v2, which addresses goals by id.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import null, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..core.db import db, snapshot_connection, write_transaction
from ..core.errors import Conflict, DomainError, Forbidden, Invalid, NameConflict, NotFound
from ..core.types import MAX_ID, utcnow
from ..goals import service as goal_service
from ..goals.models import LIVE, Goal
from ..goals.results import GoalResult
from ..goals.schemas import GoalCreate, GoalPatch
from ..goals.tree import Forest, chunked, named_json
from ..users import service as users
from ..users.models import User

# ---------------------------------------------------------------------------- v1.0


def user_named(actor: User, name: str | None) -> User:
    """The user a v1.0 request acts for: the caller by default; others only for an admin."""
    if name is None or name == actor.name:
        return actor
    if not actor.is_admin:
        # Said for every other name, existing or not, so user names do not leak.
        raise Forbidden(f"you may only act as yourself ({actor.name!r}), not as {name!r}")
    return users.find_by_name(name)


def goal_named(owner: User, name: str) -> Goal:
    """The owner's one live goal with this name, wherever it is in the forest."""
    found = (
        db.session.execute(
            select(Goal)
            .where(Goal.owner_id == owner.id, Goal.name == name, LIVE)
            .order_by(Goal.id)
            .limit(10)
        )
        .scalars()
        .all()
    )
    if not found:
        raise NotFound(f"{owner.name!r} has no goal named {name!r}")
    if len(found) > 1:
        ids = [g.id for g in found]
        raise Conflict(
            f"{owner.name!r} has several goals named {name!r} (ids {', '.join(map(str, ids))}); "
            "address them by id with /api/v2/goals/{id}",
            ids=ids,
        )
    return found[0]


def add_goal(
    actor: User,
    user_name: str | None,
    name: str,
    parent_name: str | None,
    description: str | None,
    *,
    max_goals: int = 0,
) -> GoalResult:
    """Create a goal for a user named in the request, under a parent named in it.

    max_goals: the most goals the owner may hold, trash included (0: no limit).
    """
    owner = user_named(actor, user_name)
    parent_id = goal_named(owner, parent_name).id if parent_name else None
    goal_in = GoalCreate(name=name, description=description or "", parent_id=parent_id)
    return goal_service.create_goal(caller=owner, goal_in=goal_in, max_goals=max_goals, actor=actor)


def complete_goal(actor: User, user_name: str | None, name: str) -> GoalResult:
    """Set the end of a goal named in the request to now, as the article's PUT does."""
    owner = user_named(actor, user_name)
    goal_id = goal_named(owner, name).id
    return goal_service.update_goal(
        caller=owner, goal_id=goal_id, changes=GoalPatch(end=utcnow()), actor=actor
    )


def visible_users(actor: User) -> Sequence[User]:
    """Every user for an administrator, else only the caller."""
    if not actor.is_admin:
        return [actor]
    return db.session.execute(select(User).order_by(User.id)).scalars().all()


def create_account(actor: User, name: str, email: str, password: str) -> User:
    """An administrator creates an account (v1.0's POST /users)."""
    if not actor.is_admin:
        raise Forbidden("only administrators may create users here")
    return users.create_user(name, email, password, actor=actor)


# Rows are fetched in batches of this many (a server-side cursor on PostgreSQL).
_STREAM_ROWS = 4096
_users = User.__table__
_goals = Goal.__table__


def goal_trees(actor: User) -> Iterator[bytes]:
    """{user name: {goal name: {child name: {...}}}} for the users the actor may see, streamed.

    Two queries, users and their live goals, read in batches as the answer is written, so one
    user's forest at a time is held, never everyone's. The JSON is written with an explicit
    stack, so a tree of any depth is valid JSON. Nothing is read until it is iterated.
    """
    return chunked(_trees_json(db.engine, None if actor.is_admin else actor.id))


def _trees_json(engine: Engine, only: int | None) -> Iterator[bytes]:
    people = select(_users.c.id, _users.c.name).order_by(_users.c.id)
    # Each owner's goals together, each parent's children together in sibling order: the
    # order of the owner's tree index, so no sort is needed.
    goals = select(
        _goals.c.owner_id, _goals.c.id, _goals.c.parent_id, _goals.c.name, null(), null()
    ).where(_goals.c.deleted_at.is_(None))
    if only is not None:
        people = people.where(_users.c.id == only)
        goals = goals.where(_goals.c.owner_id == only)
    goals = goals.order_by(_goals.c.owner_id, _goals.c.parent_id, _goals.c.position, _goals.c.id)
    with snapshot_connection(engine) as conn:
        users = conn.execute(people.execution_options(yield_per=_STREAM_ROWS))
        rows = conn.execute(goals.execution_options(yield_per=_STREAM_ROWS))
        yield from _users_json(users, rows)


def _users_json(users: Iterable[Any], goals: Iterable[Any]) -> Iterator[bytes]:
    """Merge users and their goals, both in user id order, into one JSON object."""
    owners = groupby(goals, key=itemgetter(0))
    owner_id, rows = next(owners, (None, iter(())))
    yield b"{"
    for index, (user_id, user_name) in enumerate(users):
        yield (b"," if index else b"") + orjson.dumps(user_name) + b":"
        if owner_id != user_id:
            yield b"{}"
            continue
        # Rows are (owner_id, id, parent_id, name, end, due): the forest reads from the id on.
        yield from named_json(Forest.from_grouped(map(itemgetter(slice(1, None)), rows)))
        owner_id, rows = next(owners, (None, iter(())))
    yield b"}"


# ---------------------------------------------------------------------------- directory


# The largest id a directory client may choose (2^31 - 1). Ids handed out afterwards continue
# after the largest one in use, so a chosen id near the top of the 64-bit range would leave
# none for later accounts; below this bound, more than 9 * 10^18 always remain.
MAX_CHOSEN_ID = 2**31 - 1


@dataclass(slots=True)
class Entry:
    """One validated directory item: an optional id, a name and an e-mail address."""

    name: str
    mail: str
    id: int | None = None


def require_admin(actor: User) -> None:
    """The user directory is for administrators only."""
    if not actor.is_admin:
        raise Forbidden("the user directory is for administrators only")


def _directory_user(actor: User, user_id: int) -> User:
    if not 1 <= user_id <= MAX_ID:
        raise NotFound(f"user {user_id} not found")
    return users.resolve(actor, user_id)


def directory_entries(actor: User, user_id: int) -> list[dict[str, Any]]:
    """[{id, name, mail}] of one user, or of every user for id 0."""
    require_admin(actor)
    found = visible_users(actor) if user_id == 0 else [_directory_user(actor, user_id)]
    return [{"id": u.id, "name": u.name, "mail": u.email} for u in found]


def _in_item(index: int | None, error: DomainError) -> DomainError:
    """The same error, its detail prefixed with the item it is about (in a bulk request)."""
    if index is not None:
        error.detail = f"item {index}: {error.detail}"
        error.args = (error.detail,)
    return error


def directory_create(actor: User, entries: Sequence[Entry], bulk: bool) -> list[int]:
    """Create users without passwords, all or none; returns their ids in request order."""
    require_admin(actor)
    seen: dict[tuple[str, object], int] = {}
    for index, entry in enumerate(entries):
        entry.mail = users.normalise_email(entry.mail)
        try:
            users.check_user_name(entry.name)
            _check_chosen_id(entry.id, index if bulk else None)
        except DomainError as exc:
            raise _in_item(index if bulk else None, exc) from exc
        for what, key in (
            ("user name", entry.name),
            ("e-mail address", entry.mail),
            ("id", entry.id),
        ):
            if key is None:
                continue
            earlier = seen.setdefault((what, key), index)
            if earlier != index:
                raise NameConflict(f"items {earlier} and {index} have the same {what}")
    with write_transaction(serialise_all=True) as session:
        for index, entry in enumerate(entries):
            try:
                users.ensure_name_and_email_free(entry.name, entry.mail)
                if entry.id is not None and session.get(User, entry.id) is not None:
                    raise NameConflict(f"the id {entry.id} is taken")
            except DomainError as exc:
                raise _in_item(index if bulk else None, exc) from exc
        made = [User(id=e.id, name=e.name, email=e.mail, password_hash=None) for e in entries]
        chosen = [u for u in made if u.id is not None]
        try:
            # Users with chosen ids first: PostgreSQL's sequence then moves past them before
            # the others draw an id from it.
            session.add_all(chosen)
            session.flush()
            if chosen and session.get_bind().dialect.name == "postgresql":
                _advance_id_sequence(max(u.id for u in chosen))
            session.add_all(u for u in made if u.id is None)
            session.flush()
        except IntegrityError as exc:  # taken between the check and the insert
            raise NameConflict("a user name, e-mail address or id is taken") from exc
        new_ids = [u.id for u in made]
    return new_ids


def _check_chosen_id(chosen: int | None, index: int | None) -> None:
    """Refuse (Invalid) an id a client may not choose, so that ids never run out."""
    if chosen is None or chosen <= MAX_CHOSEN_ID:
        return
    loc: list[Any] = ["body", "item", *([] if index is None else [index]), "id"]
    msg = f"must be at most {MAX_CHOSEN_ID} (leave it out to get the next free id)"
    raise Invalid(f"a chosen id {msg}", [{"loc": loc, "msg": msg}])


def _advance_id_sequence(at_least: int) -> None:
    """Move PostgreSQL's users id sequence past an id a client chose, so later sign-ups do not
    collide with it (SQLite's rowid needs no help)."""
    db.session.execute(
        text(
            "SELECT setval(seq, :n) FROM (SELECT pg_get_serial_sequence('users', 'id')::regclass"
            " AS seq) AS s WHERE :n > coalesce(pg_sequence_last_value(seq), 0)"
        ),
        {"n": at_least},
    )


def directory_update(actor: User, user_id: int, name: str | None, mail: str | None) -> None:
    """Change a user's name and/or e-mail address."""
    require_admin(actor)
    target = _directory_user(actor, user_id)
    users.update_user(actor, target.id, {"name": name, "email": mail})


def directory_delete(actor: User, user_id: int) -> None:
    """Delete a user with their goals and tokens."""
    require_admin(actor)
    users.delete_user(actor, _directory_user(actor, user_id).id)
