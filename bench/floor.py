"""The raw floor of a forest read, and the article's one-query-per-goal design, without a framework.

Both read the same rows the app reads, straight through sqlite3 or psycopg.
"""

from __future__ import annotations

import gc
from collections import deque
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

FOREST_SQL = (
    'SELECT id, parent_id, name, "end", due, completion FROM goals '
    "WHERE owner_id = {p} AND deleted_at IS NULL ORDER BY position, id"
)


def _stamp(value: Any) -> Any:
    # sqlite3 returns SQLAlchemy's text form of a naive UTC timestamp; psycopg a datetime.
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value


def forest_json(conn: Any, kind: str, owner_id: int) -> bytes:
    """The owner's forest as the API's nested JSON, with progress: one query, then orjson.

    The cyclic garbage collector is paused meanwhile: a dict and a list per goal would
    otherwise wake it again and again, and the floor is meant to be the fastest this plain
    approach gets.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _forest_json(conn, kind, owner_id)
    finally:
        if collecting:
            gc.enable()


def _forest_json(conn: Any, kind: str, owner_id: int) -> bytes:
    sql = FOREST_SQL.format(p="?" if kind == "sqlite" else "%s")
    rows = conn.execute(sql, (owner_id,)).fetchall()
    nodes: dict[int, dict[str, Any]] = {}
    done: dict[int, bool] = {}
    for goal_id, _parent, name, end, due, completion in rows:
        nodes[goal_id] = {
            "id": goal_id,
            "name": name,
            "end": _stamp(end),
            "due": _stamp(due),
            "progress": 0.0,
            "completion": completion,
            "children": [],
        }
        done[goal_id] = end is not None
    roots = []
    for goal_id, parent, *_ in rows:
        if parent is None:
            roots.append(nodes[goal_id])
        else:
            nodes[parent]["children"].append(nodes[goal_id])
    # Roll-ups bottom-up over a breadth-first order: leaves and done leaves per goal.
    order: list[dict[str, Any]] = []
    queue = deque(roots)
    while queue:
        node = queue.popleft()
        order.append(node)
        queue.extend(node["children"])
    leaves: dict[int, tuple[int, int]] = {}
    for node in reversed(order):
        goal_id = node["id"]
        if node["children"]:
            total = sum(leaves[c["id"]][0] for c in node["children"])
            finished = sum(leaves[c["id"]][1] for c in node["children"])
        else:
            total, finished = 1, 0
        if done[goal_id]:
            finished = total
        leaves[goal_id] = (total, finished)
        node["progress"] = 1.0 if done[goal_id] else finished / total
    return orjson.dumps({"items": roots}, option=orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC)


def article_raw(conn: Any, kind: str, owner_id: int) -> bytes:
    """The article's name-keyed tree, read with one SELECT per goal straight through the driver."""
    p = "?" if kind == "sqlite" else "%s"
    top = f"SELECT id, name FROM goals WHERE owner_id = {p} AND parent_id IS NULL"  # noqa: S608
    kids = f"SELECT id, name FROM goals WHERE parent_id = {p}"  # noqa: S608
    result: dict[str, Any] = {}
    stack: list[tuple[int | None, dict[str, Any]]] = [(None, result)]
    while stack:
        parent, into = stack.pop()
        sql, arg = (top, owner_id) if parent is None else (kids, parent)
        for goal_id, name in conn.execute(sql, (arg,)).fetchall():
            child: dict[str, Any] = {}
            into[name] = child
            stack.append((goal_id, child))
    return orjson.dumps(result)


class _Base(DeclarativeBase):
    pass


class ArticleGoal(_Base):
    """The article's model of a goal: a self-referential ORM class with lazy `sub_goals`."""

    __tablename__ = "goals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("goals.id"))
    name: Mapped[str] = mapped_column(String)
    parent: Mapped[ArticleGoal | None] = relationship(
        remote_side=[id], backref="sub_goals", lazy="select"
    )


def article_orm(engine: Engine, owner_id: int) -> bytes:
    """The article's design as it was written: ORM objects, each goal's sub_goals loaded lazily
    (one SELECT per goal), walked into the name-keyed tree (iteratively here)."""
    with Session(engine) as session:
        result: dict[str, Any] = {}
        tops = session.query(ArticleGoal).filter_by(owner_id=owner_id, parent_id=None).all()
        stack: list[tuple[Any, dict[str, Any]]] = [(goal, result) for goal in tops]
        while stack:
            goal, into = stack.pop()
            child: dict[str, Any] = {}
            into[goal.name] = child
            stack.extend((sub, child) for sub in goal.sub_goals)
        return orjson.dumps(result)
