"""Flask extensions, created unbound and attached in create_app with init_app."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Deterministic constraint names, so migrations can address every constraint on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# expire_on_commit=False: objects stay readable after a service commits, without a reload query.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def client_address() -> str:
    """Rate-limit key: the client address (after ProxyFix, when proxies are trusted)."""
    return get_remote_address() or "unknown"


def login_account() -> str:
    """Rate-limit key: the account named in the HTTP Basic credentials."""
    auth = request.authorization
    name = (auth.username or "") if auth else ""
    return "account:" + name.strip().lower()


limiter = Limiter(key_func=client_address)
