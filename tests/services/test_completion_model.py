"""The completion rules against a reference model, with hypothesis' stateful testing.

The model is one owner's forest kept in plain dictionaries, with the four rules of DESIGN §12
applied the obvious way: a cascade walks every descendant, every `auto` goal is recomputed
until nothing changes, a `strict` goal lists its open descendants. Random operations go to the
real services (create, update, trash, restore, import, undo of the last operation, some of
them as dry runs first); after each one the goals in the database must be the goals of the
model, a refusal must be the model's refusal with nothing changed, and the record must hold
every goal as it is.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from overachiever.core.db import db
from overachiever.core.errors import (
    CycleConflict,
    DomainError,
    Invalid,
    NameConflict,
    OpenDescendants,
    RuleConflict,
)
from overachiever.goals import service, trash
from overachiever.goals.importing import import_trees
from overachiever.goals.models import Goal
from overachiever.goals.schemas import GoalCreate, GoalPatch, GoalPut
from overachiever.history.models import Operation
from overachiever.history.recording import dry_run
from overachiever.history.undo import undo
from overachiever.users.models import User
from overachiever.users.service import create_user
from tests.support.accounts import PASSWORD
from tests.support.history import assert_record_matches, goal_state, last_operation
from tests.support.history import operation_changes as recorded_changes
from tests.support.services import RETENTION, T0, to_nodes

RULES = ("manual", "cascade", "auto", "strict")
# Few instants, so that ends and starts often tie or cross (an end before a start).
TIMES = [T0 + timedelta(hours=h) for h in range(5)]
NAMES = ("a", "b", "c")

rules_ = st.sampled_from(RULES)
times = st.sampled_from(TIMES)


@dataclass
class G:
    """A goal of the model."""

    parent: int | None
    name: str
    start: datetime
    end: datetime | None
    rule: str
    trash_root: int | None = None  # None: live

    @property
    def live(self) -> bool:
        return self.trash_root is None


State = dict[int, G]


class Refused(Exception):
    """The model refuses an operation: the error the service must raise."""

    def __init__(self, error: type[DomainError], open_ids: list[set[int]] | None = None) -> None:
        super().__init__(error.__name__)
        self.error = error
        # A strict refusal: the open descendants of one of the strict goals completed.
        self.open_ids = open_ids


# ---------------------------------------------------------------------------- the model


def live_children(state: State, goal_id: int | None) -> list[int]:
    return [i for i, g in state.items() if g.live and g.parent == goal_id]


def live_descendants(state: State, goal_id: int) -> list[int]:
    found, todo = [], [goal_id]
    while todo:
        kids = live_children(state, todo.pop())
        found.extend(kids)
        todo.extend(kids)
    return found


def ancestors(state: State, goal_id: int) -> list[int]:
    up, seen = [], state[goal_id].parent
    while seen is not None:
        up.append(seen)
        seen = state[seen].parent
    return up


def check_name(state: State, parent: int | None, name: str, exclude: int | None = None) -> None:
    if any(state[i].name == name for i in live_children(state, parent) if i != exclude):
        raise Refused(NameConflict)


def apply_rules(state: State, completed: set[int]) -> None:
    """DESIGN §12, applied to `completed` (goals that went from open, or nothing, to done).

    A cascade gives every open live descendant its end (or the descendant's later start); a
    descendant under two completed cascades takes the nearer one's. Then every live auto goal
    is recomputed until none changes. Then a completed strict goal with an open live
    descendant refuses the whole operation.
    """
    cascades = {i for i in completed if state[i].live and state[i].rule == "cascade"}
    for goal_id, goal in state.items():
        if not goal.live or goal.end is not None:
            continue
        nearest = next((a for a in ancestors(state, goal_id) if a in cascades), None)
        if nearest is not None:
            end = state[nearest].end
            assert end is not None
            goal.end = max(end, goal.start)
    changed = True
    while changed:
        changed = False
        for goal_id, goal in state.items():
            if not goal.live or goal.rule != "auto":
                continue
            ends = [state[k].end for k in live_children(state, goal_id)]
            wanted = None
            if ends and all(e is not None for e in ends):
                wanted = max([goal.start, *(e for e in ends if e is not None)])
            if goal.end != wanted:
                goal.end = wanted
                changed = True
    refusals = []
    for goal_id in completed:
        goal = state[goal_id]
        if goal.live and goal.rule == "strict":
            still_open = {d for d in live_descendants(state, goal_id) if state[d].end is None}
            if still_open:
                refusals.append(still_open)
    if refusals:
        raise Refused(OpenDescendants, refusals)


def completed_between(before: State, after: State) -> set[int]:
    """Goals live and done after, that were open (or did not exist) before.

    A goal restored from the trash with the end it had is not completed by the restore.
    """
    return {
        i
        for i, g in after.items()
        if g.live and g.end is not None and (i not in before or before[i].end is None)
    }


# ---------------------------------------------------------------------------- the database


def db_state(owner_id: int) -> State:
    rows = db.session.execute(
        select(
            Goal.id,
            Goal.parent_id,
            Goal.name,
            Goal.start,
            Goal.end,
            Goal.completion,
            Goal.trash_root_id,
            Goal.deleted_at,
        ).where(Goal.owner_id == owner_id)
    ).all()
    state: State = {}
    for r in rows:
        assert (r.deleted_at is None) == (r.trash_root_id is None)
        state[r.id] = G(r.parent_id, r.name, r.start, r.end, r.completion, r.trash_root_id)
    return state


def operations_count(owner_id: int) -> int:
    return int(
        db.session.execute(
            select(func.count()).select_from(Operation).where(Operation.owner_id == owner_id)
        ).scalar_one()
    )


_owners = count()


def _planned(changes: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (c["goal_id"] or 0, c["field"], repr(c["before"]), repr(c["after"])) for c in changes
    )


class CompletionModel(RuleBasedStateMachine):
    """One owner's forest, in the database and in the model."""

    def __init__(self) -> None:
        super().__init__()
        n = next(_owners)
        self.owner: User = create_user(f"model{n}", f"model{n}@example.com", PASSWORD, via_cli=True)
        db.session.commit()
        self.model: State = {}
        # The model before the last recorded operation (what undoing it puts back).
        self.before_last: State | None = None

    # ------------------------------------------------------------------ running one operation

    def run(
        self,
        call: Callable[[], Any],
        plan: Callable[[State], tuple[State, set[int]]],
        dry: bool,
    ) -> Any:
        """Run call against the service and plan against the model; they must agree.

        plan gets a copy of the model and returns it changed, with the goals the operation
        completed by itself (before the rules), or raises Refused. A dry run goes first when
        dry: it must agree with the real run, and change nothing.
        """
        expected: Refused | None = None
        planned = copy.deepcopy(self.model)
        try:
            planned, completed = plan(planned)
        except Refused as refusal:
            expected = refusal
        stored, ops = goal_state(self.owner.id), operations_count(self.owner.id)
        dry_changes = None
        if dry:
            dry_changes = self._expect(lambda: dry_run(call), expected)
            db.session.rollback()
            assert goal_state(self.owner.id) == stored
            assert operations_count(self.owner.id) == ops
        result = self._expect(call, expected)
        db.session.rollback()
        if expected is not None:
            assert goal_state(self.owner.id) == stored
            assert operations_count(self.owner.id) == ops
            return None
        return result, planned, completed, dry_changes

    def _expect(self, call: Callable[[], Any], expected: Refused | None) -> Any:
        refused: DomainError | None = None
        try:
            result = call()
        except DomainError as exc:
            if expected is None or type(exc) is not expected.error:
                raise
            refused = exc
        if refused is None:
            assert expected is None, f"the service did not refuse: {expected.error.__name__}"
            return result
        if expected is not None and expected.open_ids is not None:
            listed = set(refused.extra["open"])
            # Goals of a refused import have no ids: the model's stand-ins are negative.
            assert any(
                listed == ids or (min(ids) < 0 and len(listed) == len(ids))
                for ids in expected.open_ids
            ), (listed, expected.open_ids)
        return None

    def settle(self, outcome: Any, fix_ids: Callable[[Any, State], State] | None = None) -> None:
        """After a successful operation: the model takes what was planned, rules applied."""
        result, planned, _, dry_changes = outcome
        if fix_ids is not None:
            planned = fix_ids(result, planned)
        self.before_last = self.model
        self.model = planned
        if dry_changes is not None:
            assert _planned(dry_changes) == _planned(
                recorded_changes(self.owner, last_operation(self.owner.id))
            )

    def planner(self, change: Callable[[State], None]) -> Callable[[State], tuple[State, set[int]]]:
        """A plan: change the model, then apply the rules to what it completed."""

        def plan(state: State) -> tuple[State, set[int]]:
            before = copy.deepcopy(state)
            change(state)
            completed = completed_between(before, state)
            apply_rules(state, completed)
            return state, completed

        return plan

    # ------------------------------------------------------------------ drawing goals

    def live_ids(self) -> list[int]:
        return sorted(i for i, g in self.model.items() if g.live)

    def draw_live(self, data: Any) -> int:
        return int(data.draw(st.sampled_from(self.live_ids())))

    def draw_parent(self, data: Any) -> int | None:
        ids = self.live_ids()
        if not ids or data.draw(st.integers(0, 3)) == 0:
            return None
        return int(data.draw(st.sampled_from(ids)))

    # ------------------------------------------------------------------ rules

    @rule(
        data=st.data(),
        completion=rules_,
        start=times,
        end=st.none() | times,
        name=st.sampled_from(NAMES),
        at_top=st.booleans(),
        dry=st.booleans(),
    )
    def create(
        self,
        data: Any,
        completion: str,
        start: datetime,
        end: datetime | None,
        name: str,
        at_top: bool,
        dry: bool,
    ) -> None:
        parent = self.draw_parent(data)
        goal_in = GoalCreate(
            name=name,
            parent_id=parent,
            start=start,
            end=end,
            completion=completion,
            position=0 if at_top else None,
        )
        new = G(parent, name, start, end, completion)

        def change(state: State) -> None:
            if end is not None and end < start:
                raise Refused(Invalid)
            if completion == "auto" and end is not None:
                raise Refused(RuleConflict)
            check_name(state, parent, name)
            state[0] = new  # the id is known once made

        def fix_ids(result: Any, state: State) -> State:
            state[int(result.goal.id)] = state.pop(0)
            return state

        outcome = self.run(
            lambda: service.create_goal(caller=self.owner, goal_in=goal_in),
            self.planner(change),
            dry,
        )
        if outcome is not None:
            self.settle(outcome, fix_ids)

    def _update(
        self, goal_id: int, fields: dict[str, Any], dry: bool, *, put: bool = False
    ) -> None:
        goal = self.model[goal_id]
        if put:
            body: dict[str, Any] = {
                "name": goal.name,
                "description": "",
                "parent_id": goal.parent,
                "start": goal.start,
                "end": goal.end,
                "due": None,
                **fields,
            }
            changes: GoalPatch | GoalPut = GoalPut(**body)
            sent = dict(body)
        else:
            changes = GoalPatch(**fields)
            sent = dict(fields)

        def change(state: State) -> None:
            g = state[goal_id]
            start = sent.get("start", g.start)
            end = sent.get("end", g.end)
            if end is not None and end < start:
                raise Refused(Invalid)
            completion = sent.get("completion", g.rule)
            if completion == "auto" and "end" in sent and end != g.end:
                raise Refused(RuleConflict)
            parent = sent.get("parent_id", g.parent)
            if parent != g.parent:
                if parent is not None and (
                    parent == goal_id or goal_id in ancestors(state, parent)
                ):
                    raise Refused(CycleConflict)
                check_name(state, parent, g.name, exclude=goal_id)
            g.start, g.end, g.rule, g.parent = start, end, completion, parent

        outcome = self.run(
            lambda: service.update_goal(caller=self.owner, goal_id=goal_id, changes=changes),
            self.planner(change),
            dry,
        )
        if outcome is not None:
            self.settle(outcome)

    @rule(data=st.data(), completion=rules_, put=st.booleans(), dry=st.booleans())
    def set_rule(self, data: Any, completion: str, put: bool, dry: bool) -> None:
        if self.live_ids():
            self._update(self.draw_live(data), {"completion": completion}, dry, put=put)

    @rule(
        data=st.data(),
        end=times,
        start=st.none() | times,
        put=st.booleans(),
        dry=st.booleans(),
    )
    def complete(
        self, data: Any, end: datetime, start: datetime | None, put: bool, dry: bool
    ) -> None:
        if self.live_ids():
            fields: dict[str, Any] = {"end": end}
            if start is not None:
                fields["start"] = start
            self._update(self.draw_live(data), fields, dry, put=put)

    @rule(data=st.data(), completion=st.none() | rules_, dry=st.booleans())
    def reopen(self, data: Any, completion: str | None, dry: bool) -> None:
        if self.live_ids():
            fields: dict[str, Any] = {"end": None}
            if completion is not None:
                fields["completion"] = completion
            self._update(self.draw_live(data), fields, dry)

    @rule(data=st.data(), dry=st.booleans())
    def move(self, data: Any, dry: bool) -> None:
        if self.live_ids():
            goal_id = self.draw_live(data)
            self._update(goal_id, {"parent_id": self.draw_parent(data)}, dry)

    @rule(data=st.data(), dry=st.booleans())
    def trash_one(self, data: Any, dry: bool) -> None:
        if not self.live_ids():
            return
        goal_id = self.draw_live(data)

        def change(state: State) -> None:
            for i in [goal_id, *live_descendants(state, goal_id)]:
                state[i].trash_root = goal_id

        outcome = self.run(
            lambda: service.trash_goal(caller=self.owner, goal_id=goal_id, retention=RETENTION),
            self.planner(change),
            dry,
        )
        if outcome is not None:
            self.settle(outcome)

    @rule(data=st.data())
    def restore(self, data: Any) -> None:
        roots = sorted({g.trash_root for g in self.model.values() if g.trash_root is not None})
        if not roots:
            return
        root_id = int(data.draw(st.sampled_from(roots)))

        def change(state: State) -> None:
            root = state[root_id]
            parent = root.parent
            if parent is not None and not state[parent].live:
                parent = None
            check_name(state, parent, root.name, exclude=root_id)
            for g in state.values():
                if g.trash_root == root_id:
                    g.trash_root = None
            root.parent = parent

        outcome = self.run(
            lambda: trash.restore(owner=self.owner, goal_id=root_id, retention=RETENTION),
            self.planner(change),
            dry=False,
        )
        if outcome is not None:
            self.settle(outcome)

    @rule(
        data=st.data(),
        shape=st.lists(st.integers(0, 3), min_size=1, max_size=5),
        dry=st.booleans(),
    )
    def import_tree(self, data: Any, shape: list[int], dry: bool) -> None:
        """Import one tree: node i (after the first) goes under node shape[i] % i."""
        parent = self.draw_parent(data)
        nodes: list[dict[str, Any]] = []
        under: list[int | None] = []
        for i, pick in enumerate(shape):
            up = None if i == 0 else pick % i
            siblings = {nodes[j]["name"] for j in range(i) if under[j] == up}
            name = next(n for n in (*NAMES, "d", "e", "f") if n not in siblings)
            start = data.draw(times)
            end = data.draw(st.none() | st.sampled_from([t for t in TIMES if t >= start]))
            nodes.append(
                {"name": name, "start": start, "end": end, "completion": data.draw(rules_)}
            )
            under.append(up)
        trees: list[dict[str, Any]] = [dict(n, children=[]) for n in nodes]
        for i, up in enumerate(under):
            if up is not None:
                trees[up]["children"].append(trees[i])
        # Pre-order of the nested trees: the order of the ids import_trees returns.
        order: list[int] = []
        todo = [0]
        while todo:
            i = todo.pop()
            order.append(i)
            todo.extend(reversed([j for j, u in enumerate(under) if u == i]))

        def change(state: State) -> None:
            if any(n["completion"] == "auto" and n["end"] is not None for n in nodes):
                raise Refused(RuleConflict)
            check_name(state, parent, nodes[0]["name"])
            for i in order:
                n = nodes[i]
                up = parent if under[i] is None else -1 - under[i]
                state[-1 - i] = G(up, n["name"], n["start"], n["end"], n["completion"])

        def fix_ids(ids: list[int], state: State) -> State:
            real = {-1 - i: ids[k] for k, i in enumerate(order)}
            fixed: State = {}
            for goal_id, g in state.items():
                if g.parent is not None and g.parent < 0:
                    g.parent = real[g.parent]
                fixed[real.get(goal_id, goal_id)] = g
            return fixed

        outcome = self.run(
            lambda: import_trees(caller=self.owner, nodes=to_nodes([trees[0]]), parent_id=parent),
            self.planner(change),
            dry,
        )
        if outcome is not None:
            self.settle(outcome, fix_ids)

    @rule()
    def undo_last(self) -> None:
        """Undo the last operation: the model before it comes back, then the rules apply."""
        before = self.before_last
        if before is None:
            return

        def plan(state: State) -> tuple[State, set[int]]:
            back = copy.deepcopy(before)
            # What the operation created goes to the trash, under its topmost created goal.
            for goal_id, g in state.items():
                if goal_id in before:
                    continue
                top = goal_id
                while state[top].parent is not None and state[top].parent not in before:
                    top = state[top].parent  # type: ignore[assignment]
                back[goal_id] = copy.deepcopy(g)
                back[goal_id].trash_root = top
            completed = completed_between(state, back)
            apply_rules(back, completed)
            return back, completed

        outcome = self.run(
            lambda: undo(owner=self.owner, operation_id=last_operation(self.owner.id)),
            plan,
            dry=False,
        )
        if outcome is not None:
            self.settle(outcome)

    # ------------------------------------------------------------------ invariants

    @invariant()
    def database_is_the_model(self) -> None:
        actual = db_state(self.owner.id)
        assert actual == self.model
        assert_record_matches(self.owner.id)


def test_the_services_follow_the_reference_model(ctx: Any) -> None:
    run_state_machine_as_test(
        CompletionModel,
        settings=settings(
            max_examples=100,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
