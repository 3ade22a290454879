"""The access decision (sharing.access): who a caller is to a goal, in one statement."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from overachiever.core.db import db
from overachiever.core.errors import Forbidden, NotFound
from overachiever.goals import service, trash
from overachiever.sharing import access
from overachiever.sharing import service as sharing
from overachiever.sharing.access import Role
from overachiever.sharing.models import Share
from overachiever.users.service import create_user, delete_user
from tests.support.accounts import PASSWORD
from tests.support.services import bulk_create_chain

RETENTION = timedelta(days=30)


@pytest.fixture
def third(other):
    """A third user, given nothing by anyone unless a test says so."""
    return create_user("third", "third@example.com", PASSWORD, via_cli=True)


def _role(caller, goal_id, **kw):
    grant = access.decide(caller_id=caller.id, goal_id=goal_id, **kw)
    return None if grant is None else (grant.role, grant.owner_id, grant.share_root_id)


def test_owner_recipients_and_strangers(owner, other, third, make):
    root = make(owner, "Root")
    inside = make(owner, "Inside", root)
    outside = make(owner, "Outside")
    sharing.share_goal(caller=owner, goal_id=root, login="other", role="viewer")
    assert _role(owner, inside) == (Role.OWNER, owner.id, None)
    assert _role(other, root) == (Role.VIEWER, owner.id, root)
    assert _role(other, inside) == (Role.VIEWER, owner.id, root)
    assert _role(other, outside) is None
    assert _role(third, inside) is None
    assert _role(other, 10**9) is None


def test_the_nearest_share_decides(owner, other, make):
    project = make(owner, "Project")
    branch = make(owner, "Branch", project)
    leaf = make(owner, "Leaf", branch)
    sibling = make(owner, "Sibling", project)
    sharing.share_goal(caller=owner, goal_id=project, login="other", role="viewer")
    sharing.share_goal(caller=owner, goal_id=branch, login="other@example.com", role="editor")
    assert _role(other, leaf) == (Role.EDITOR, owner.id, branch)
    assert _role(other, sibling) == (Role.VIEWER, owner.id, project)
    with pytest.raises(Forbidden):
        access.writable(caller=other, goal_id=sibling)
    assert access.writable(caller=other, goal_id=leaf).may_edit


def test_a_trashed_goal_is_its_owners_alone(owner, other, make):
    root = make(owner, "Root")
    inside = make(owner, "Inside", root)
    sharing.share_goal(caller=owner, goal_id=root, login="other", role="editor")
    service.trash_goal(caller=owner, goal_id=inside, retention=RETENTION)
    assert _role(owner, inside) is None
    assert _role(owner, inside, trashed=True) == (Role.OWNER, owner.id, None)
    assert _role(other, inside, trashed=True) is None
    with pytest.raises(NotFound):
        access.own_or_absent(caller=other, goal_id=inside, trashed=True)


def test_a_decision_is_one_statement_at_any_depth(owner, other, third, make, count_queries):
    chain = bulk_create_chain(owner, (f"level {i}" for i in range(500)))
    sharing.share_goal(caller=owner, goal_id=chain[0], login="other", role="viewer")
    # A share elsewhere from the same owner: the stranger's walk is taken, and finds nothing.
    elsewhere = make(owner, "Elsewhere")
    sharing.share_goal(caller=owner, goal_id=elsewhere, login="third", role="viewer")
    for caller, expected in ((owner, Role.OWNER), (other, Role.VIEWER), (third, None)):
        with count_queries() as log:
            grant = access.decide(caller_id=caller.id, goal_id=chain[-1])
        assert log.count == 1, log.statements
        assert (grant.role if grant else None) == expected


def test_the_shared_goal_itself_stays_where_its_owner_put_it(owner, other, make):
    root = make(owner, "Root")
    inside = make(owner, "Inside", root)
    sharing.share_goal(caller=owner, goal_id=root, login="other", role="editor")
    grant = access.writable(caller=other, goal_id=root)
    with pytest.raises(Forbidden):
        access.refuse_shared_root(grant, goal_id=root, action="delete")
    with pytest.raises(Forbidden):
        access.refuse_outside(grant, goal_id=root, target=None)
    inner = access.writable(caller=other, goal_id=inside)
    access.refuse_outside(inner, goal_id=inside, target=access.readable(caller=other, goal_id=root))
    with pytest.raises(Forbidden):
        access.refuse_outside(inner, goal_id=inside, target=None)


def test_purging_a_shared_goal_removes_its_shares(owner, other, make):
    root = make(owner, "Root")
    sharing.share_goal(caller=owner, goal_id=root, login="other", role="viewer")
    service.trash_goal(caller=owner, goal_id=root, retention=RETENTION)
    assert sharing.shared_with(caller=other) == []
    trash.restore(owner=owner, goal_id=root, retention=RETENTION)
    assert [s["goal"]["id"] for s in sharing.shared_with(caller=other)] == [root]
    service.trash_goal(caller=owner, goal_id=root, retention=RETENTION)
    trash.purge(owner=owner, goal_id=root)
    assert db.session.execute(select(Share)).all() == []


def test_deleting_either_user_removes_the_share(owner, other, third, make):
    mine = make(owner, "Mine")
    theirs = make(other, "Theirs")
    sharing.share_goal(caller=owner, goal_id=mine, login="other", role="viewer")
    sharing.share_goal(caller=other, goal_id=theirs, login="third", role="editor")
    delete_user(owner, other.id)
    assert db.session.execute(select(Share)).all() == []
