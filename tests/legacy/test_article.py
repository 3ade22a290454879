"""The article's OverAchieverTest, ported: the same fixture, requests and expected tree.

What changed: users and goals are made through the services (the models have no `user` or
`parent` relationships, and ids come from the database); every request carries user-1's
bearer token (user-1 is the first user, hence an administrator, who sees every user); a
parent is compared by id.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from unittest import TestCase

import pytest

from overachiever import demo
from overachiever.core.db import db
from overachiever.goals import service as goal_service
from overachiever.goals.models import Goal
from overachiever.goals.schemas import GoalCreate
from overachiever.tokens import service as token_service
from overachiever.users.models import User
from overachiever.users.service import create_user, find_by_name


def add_goal(user: User, name: str, parent: Goal | None = None) -> Goal:
    """The article's m.Goal(user=..., name=..., parent=...), saved through the service."""
    data: dict[str, Any] = {"name": name}
    if parent is not None:
        data["parent_id"] = parent.id
    goal: Goal = goal_service.create_goal(caller=user, goal_in=GoalCreate(**data)).goal
    return goal


class OverAchieverTest(TestCase):
    app: Any

    @pytest.fixture(autouse=True)
    def _app_context(self, app: Any) -> Iterator[None]:
        self.app = app
        with app.app_context():
            yield
            db.session.remove()

    def setUp(self):
        self.session = db.session
        self.test_app = self.app.test_client()
        # add users
        u1 = create_user(name="user-1", email="user-1@example.com", password="123", via_cli=True)
        u2 = create_user(name="user-2", email="user-2@example.com", password="123", via_cli=True)
        self.user = create_user(
            name="user-3", email="user-3@example.com", password="123", via_cli=True
        )
        # add goals
        goals: list[Goal] = [None] * 8  # type: ignore[list-item]
        goals[0] = add_goal(u1, name="goal-0")
        goals[1] = add_goal(u1, name="goal-1")
        goals[2] = add_goal(u1, name="goal-2", parent=goals[1])
        goals[3] = add_goal(u1, name="goal-3", parent=goals[1])
        goals[4] = add_goal(u1, name="goal-4", parent=goals[3])
        goals[5] = add_goal(u1, name="goal-5", parent=goals[3])
        goals[6] = add_goal(u1, name="goal-6", parent=goals[3])
        goals[7] = add_goal(u2, name="goal-7")
        self.session.commit()
        # The one addition: authentication, as user-1.
        _, secret = token_service.issue(u1, "article")
        self.auth = {"Authorization": f"Bearer {secret}"}

    def tearDown(self):
        pass

    def test_get_goals(self):
        # q = self.session.query
        url = "/v1.0/goals"
        response = self.test_app.get(url, headers=self.auth)
        result = json.loads(response.data)
        expected = {
            "user-1": {
                "goal-0": {},
                "goal-1": {"goal-2": {}, "goal-3": {"goal-4": {}, "goal-5": {}, "goal-6": {}}},
            },
            "user-2": {"goal-7": {}},
            "user-3": {},
        }
        self.assertEqual(expected, result)

    def test_add_new_goal(self):
        q = self.session.query
        name = "new-goal"
        # verify the goal doesn't exist yet
        self.assertIsNone(q(Goal).filter_by(name=name).scalar())
        params = dict(user=self.user.name, name=name)
        url = "/v1.0/goals"
        response = self.test_app.post(url, data=params, headers=self.auth)
        self.assertEqual(200, response.status_code)
        self.assertIsNotNone(q(Goal).filter_by(name=name).scalar())

    def test_add_nested_goals(self):
        q = self.session.query
        name = "new-goal"
        # verify the goal doesn't exist yet
        self.assertIsNone(q(Goal).filter_by(name=name).scalar())
        params = dict(user=self.user.name, name=name)
        url = "/v1.0/goals"
        response = self.test_app.post(url, data=params, headers=self.auth)
        self.assertEqual(200, response.status_code)
        parent_goal = q(Goal).filter_by(name=name).one()
        child_name = "child"
        params = dict(user=self.user.name, name=child_name, parent_name=parent_goal.name)
        response = self.test_app.post(url, data=params, headers=self.auth)
        self.assertEqual(200, response.status_code)
        child_goal = q(Goal).filter_by(name=child_name).one()
        self.assertEqual(child_name, child_goal.name)
        self.assertEqual(parent_goal.id, child_goal.parent_id)

    def test_complete_goal(self):
        q = self.session.query
        params = dict(user="user-1", name="goal-0")
        url = "/v1.0/goals"
        response = self.test_app.put(url, data=params, headers=self.auth)
        self.assertEqual(200, response.status_code)
        goal = q(Goal).filter_by(name="goal-0").one()
        self.assertIsNotNone(goal.end)


class DemoDataTest(OverAchieverTest):
    """The same four tests on the data `overachiever demo` loads: it is the article's."""

    def setUp(self):
        self.session = db.session
        self.test_app = self.app.test_client()
        user_1 = demo.load_article()
        self.user = find_by_name("user-3")
        _, secret = token_service.issue(user_1, "demo")
        self.auth = {"Authorization": f"Bearer {secret}"}
