"""The changes feed's cursor: the last event seen, signed, so a client cannot edit it.

It is bound to its owner: another user's cursor, or an edited one, is refused, never read.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

from ..core.errors import Invalid
from ..core.secrets import app_secret

_SALT = "changes-cursor"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(app_secret("cursor"), salt=_SALT)


def make(last_event_id: int, *, owner_id: int) -> str:
    """The cursor after last_event_id for this owner."""
    return str(_serializer().dumps([owner_id, last_event_id]))


def read(token: str, *, owner_id: int) -> int:
    """The last event id a cursor of this owner names; Invalid if forged or someone else's."""
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        payload = None
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or payload[0] != owner_id
        or not isinstance(payload[1], int)
    ):
        raise Invalid(
            "the cursor is not one this server gave you; start again without `after`",
            [{"loc": ["query", "after"], "msg": "not a valid cursor"}],
        )
    return payload[1]
