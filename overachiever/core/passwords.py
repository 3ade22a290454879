"""Password hashing with argon2id, at the cost the application is configured with."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app, has_app_context


@dataclass(frozen=True)
class HashCost:
    """argon2id's parameters: passes, memory in KiB, lanes."""

    time_cost: int
    memory_cost: int
    parallelism: int


# OWASP's password storage recommendation for argon2id: 19 MiB of memory, 2 passes, 1 lane.
# Hashes made with other parameters are upgraded at the next successful sign-in.
PRODUCTION_COST = HashCost(time_cost=2, memory_cost=19_456, parallelism=1)
_EXTENSION = "overachiever.passwords"


class Hasher:
    """Hashes and checks passwords at one cost."""

    def __init__(self, cost: HashCost) -> None:
        self.cost = cost
        self.argon2 = PasswordHasher(
            time_cost=cost.time_cost,
            memory_cost=cost.memory_cost,
            parallelism=cost.parallelism,
            type=Type.ID,
        )
        # Verified against when the account does not exist, so both failures cost the same.
        self.dummy_hash = self.argon2.hash("overachiever-dummy-password")


_production = Hasher(PRODUCTION_COST)


def init_app(app: Flask) -> None:
    """Hash the app's passwords at its PASSWORD_HASH_COST (production's when unset)."""
    cost = app.config.get("PASSWORD_HASH_COST") or PRODUCTION_COST
    app.extensions[_EXTENSION] = _production if cost == PRODUCTION_COST else Hasher(cost)


def _hasher() -> Hasher:
    """The current app's hasher; production's outside an app."""
    if has_app_context():
        hasher: Hasher | None = current_app.extensions.get(_EXTENSION)
        if hasher is not None:
            return hasher
    return _production


def hash_password(password: str) -> str:
    """Hash a password for storage."""
    return _hasher().argon2.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password; an absent hash still costs one verification."""
    hasher = _hasher()
    try:
        return hasher.argon2.verify(stored_hash or hasher.dummy_hash, password) and (
            stored_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with other parameters than the app's."""
    return _hasher().argon2.check_needs_rehash(stored_hash)
