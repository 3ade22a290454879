"""Password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's RFC 9106 low-memory profile (t=3, m=64 MiB, p=4) is stronger than the OWASP
# minimum (t=2, m=19 MiB, p=1); pin the type to argon2id explicitly.
_hasher = PasswordHasher(type=Type.ID)
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
