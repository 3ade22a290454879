"""Password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's password storage recommendation for argon2id: 19 MiB of memory, 2 passes, 1 lane.
# Hashes made with other parameters are upgraded at the next successful sign-in.
TIME_COST, MEMORY_COST_KIB, PARALLELISM = 2, 19_456, 1
_hasher = PasswordHasher(
    time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM, type=Type.ID
)
# Verified against when the account does not exist, so both failures cost the same time.
_DUMMY_HASH = _hasher.hash("overachiever-dummy-password")


def hash_password(password: str) -> str:
    """Hash a password for storage."""
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password; an absent hash still costs one verification."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)
