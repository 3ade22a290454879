"""Request and response models of the goals, tree, import and trash API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, RootModel, field_validator

from ..core.validation import (
    Body,
    Description,
    GoalName,
    Id,
    Out,
    Position,
    Query,
    QueryId,
    SearchText,
    Timestamp,
    omissible,
)

# What completing a goal (or its children) does: see goals.completion.
Completion = Literal["manual", "cascade", "auto", "strict"]

SortKey = Literal[
    "position",
    "name",
    "start",
    "end",
    "due",
    "created",
    "-position",
    "-name",
    "-start",
    "-end",
    "-due",
    "-created",
]


class GoalCreate(Body):
    """A new goal."""

    name: GoalName
    description: Description = ""
    parent_id: Id | None = None
    start: Timestamp | None = None
    end: Timestamp | None = None
    due: Timestamp | None = None
    position: Position | None = None
    completion: Completion = "manual"


class GoalPatch(Body):
    """Changes to a goal: a new parent_id moves it (null = top level); end null reopens it."""

    # name, description and start may be left out but not cleared: no null in the schema.
    name: GoalName = omissible()
    description: Description = omissible()
    parent_id: Id | None = None
    position: Position | None = None
    start: Timestamp = omissible()
    end: Timestamp | None = None
    due: Timestamp | None = None
    completion: Completion = omissible()


class GoalPut(Body):
    """Every writable field of a goal; position may be left out to keep its place."""

    name: GoalName
    description: Description
    parent_id: Id | None
    start: Timestamp
    end: Timestamp | None
    due: Timestamp | None
    position: Position | None = None
    # Left out, the goal keeps its rule (as it keeps its place without a position).
    completion: Completion = omissible()


class GoalOut(Out):
    """A goal with the roll-ups of its subtree."""

    id: int
    parent_id: int | None
    name: str
    description: str
    start: datetime
    end: datetime | None
    due: datetime | None
    position: int
    created_at: datetime
    updated_at: datetime
    version: int
    completion: Completion
    progress: float = Field(ge=0.0, le=1.0)
    children_count: int
    descendants_count: int
    done_descendants_count: int


class GoalListQuery(Query):
    """Filters, order and paging of the flat goal list."""

    parent: Annotated[str, Field(pattern=r"^(root|[1-9][0-9]{0,18})$")] | None = Field(
        None, description="A goal id, or 'root' for top-level goals"
    )
    status: Literal["open", "done", "all"] = "all"
    q: SearchText | None = None
    due_before: Timestamp | None = None
    due_after: Timestamp | None = None
    sort: SortKey = "position"
    offset: int = Field(0, ge=0, le=2**62)
    limit: int = Field(50, ge=1, le=500)

    @field_validator("parent")
    @classmethod
    def _parent_in_range(cls, value: str | None) -> str | None:
        if value is not None and value != "root" and int(value) > 2**63 - 1:
            raise ValueError("goal id out of range")
        return value


class GoalPage(Out):
    """A page of goals."""

    items: list[GoalOut]
    total: int
    offset: int
    limit: int


class AsOfQuery(Query):
    """An instant in the past to read goals at (see history)."""

    as_of: Timestamp | None = Field(
        None, description="RFC 3339 instant: the state as recorded then (not in the future)"
    )


class TreeQuery(AsOfQuery):
    """Shape of a tree read."""

    status: Literal["open", "done", "all"] = "all"
    depth: int | None = Field(
        None, ge=1, le=1_000_000, description="Levels to include; 1 = roots only"
    )
    format: Literal["nested", "flat"] = "nested"


class TreeNode(Out):
    """One node of a nested tree read."""

    id: int
    name: str
    end: datetime | None
    due: datetime | None
    progress: float
    completion: Completion
    children: list[TreeNode]


class PlannedChange(Out):
    """One field of one goal that a change would set (goal_id null: a goal to be created)."""

    goal_id: int | None
    field: str = Field(
        description="name, description, parent_id, position, start, end, due, completion,"
        " or trashed"
    )
    before: Any
    after: Any


class DryRunResult(Out):
    """What a change would do: every field of every goal it would change."""

    dry_run: Literal[True]
    changes: list[PlannedChange]


class Forest(Out):
    """The caller's forest (nested), or its pre-order listing (format=flat)."""

    items: list[TreeNode] | list[FlatNode]


class FlatNode(Out):
    """One goal of a flat tree read, in pre-order."""

    id: int
    parent_id: int | None
    depth: int
    name: str
    end: datetime | None
    due: datetime | None
    progress: float
    completion: Completion


class ImportNode(Body):
    """A goal to import, with its sub-goals."""

    name: GoalName
    description: Description = ""
    start: Timestamp | None = None
    end: Timestamp | None = None
    due: Timestamp | None = None
    children: list[ImportNode] = []


class ImportBody(RootModel[ImportNode | Annotated[list[ImportNode], Field(min_length=1)]]):
    """A node to import, or a non-empty list of them."""


class ImportFields(Body):
    """The fields of one import node, validated one node at a time (children apart)."""

    name: GoalName
    description: Description = ""
    start: Timestamp | None = None
    end: Timestamp | None = None
    due: Timestamp | None = None
    completion: Completion = "manual"


class DryRunQuery(Query):
    """dry_run=true: check and compute a change, store nothing, answer what it would change."""

    # Exactly true or false: a typo must not turn a dry run into a real change.
    dry_run: Literal["true", "false"] = "false"

    @property
    def dry(self) -> bool:
        """Whether this is a dry run."""
        return self.dry_run == "true"


class ImportQuery(DryRunQuery):
    """Where imported trees go."""

    parent_id: QueryId | None = None


class ImportResult(Out):
    """The ids of the imported goals, in pre-order."""

    ids: list[int]


class FlatTree(Out):
    """A subtree's pre-order listing (format=flat)."""

    items: list[FlatNode]


class Subtree(RootModel[TreeNode | FlatTree]):
    """A subtree: the root as a nested node, or its pre-order listing with format=flat."""


class TrashItem(Out):
    """A trashed subtree, addressed by its root goal's id."""

    id: int
    name: str
    parent_id: int | None
    deleted_at: datetime
    purge_at: datetime
    goals_count: int


class TrashList(Out):
    """The caller's trash."""

    items: list[TrashItem]


Forest.model_rebuild()
