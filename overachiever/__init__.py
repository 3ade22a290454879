"""Over Achiever: a self-hostable, multi-user service for goals that nest arbitrarily deep."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# The one place the version is written: pyproject.toml reads it from here.
__version__ = "2.0.0"

if TYPE_CHECKING:
    from apiflask import APIFlask


def create_app(config: Any = None) -> APIFlask:
    """Build the application (see overachiever.app.create_app)."""
    from .app import create_app as _create_app

    return _create_app(config)


__all__ = ["__version__", "create_app"]
