"""A write for an owner whose account was deleted while the request was on its way.

The request authenticated a moment earlier; by the time it holds the owner's lock, the
account and its goals are gone. It must get a 404, not a name conflict or a 500 from the
foreign key.
"""

from __future__ import annotations

import pytest

from overachiever.core.errors import NotFound
from overachiever.goals import service
from overachiever.goals.importing import import_trees
from overachiever.tokens import service as tokens
from overachiever.users.service import delete_user
from tests.support.services import edit, new_goal, to_nodes


def test_create_for_a_deleted_owner_is_not_found(owner, other, make):
    parent = make(other, "parent")
    delete_user(owner, other.id)  # `other` stays what the request authenticated
    with pytest.raises(NotFound, match=f"user {other.id}"):
        service.create_goal(caller=other, goal_in=new_goal(name="late"))
    with pytest.raises(NotFound, match=f"user {other.id}"):
        import_trees(
            caller=other, nodes=to_nodes([{"name": "late", "children": []}]), parent_id=None
        )
    with pytest.raises(NotFound):
        service.update_goal(caller=other, goal_id=parent, changes=edit(description="late"))


def test_token_for_a_deleted_account_is_not_found(owner, other):
    delete_user(owner, other.id)  # deleted between the password check and the token insert
    with pytest.raises(NotFound, match=f"user {other.id}"):
        tokens.issue(other, "late")
