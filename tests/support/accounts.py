"""Accounts for API tests: sign up through the API and authenticate as the user."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from flask.testing import FlaskClient

PASSWORD = "correct horse battery"


def basic(login: str, password: str) -> dict[str, str]:
    """An HTTP Basic Authorization header."""
    raw = base64.b64encode(f"{login}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


@dataclass
class Account:
    """A signed-up user with a live token."""

    id: int
    name: str
    email: str
    token: str
    is_admin: bool
    password: str = PASSWORD
    headers: dict[str, str] = field(default_factory=dict)


def sign_up(
    client: FlaskClient, name: str, email: str | None = None, password: str = PASSWORD
) -> Account:
    """Sign `name` up through the API and give back the Account with a fresh bearer token."""
    email = email or f"{name.replace(' ', '.')}@example.com"
    resp = client.post("/api/v2/users", json={"name": name, "email": email, "password": password})
    assert resp.status_code == 201, resp.get_json()
    user = resp.get_json()
    resp = client.post("/api/v2/tokens", headers=basic(name, password))
    assert resp.status_code == 201, resp.get_json()
    token = resp.get_json()["token"]
    return Account(
        user["id"],
        name,
        user["email"],
        token,
        user["is_admin"],
        password,
        {"Authorization": f"Bearer {token}"},
    )
