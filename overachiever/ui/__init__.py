"""The browser UI: one page of plain HTML, CSS and JavaScript modules over the public v2 API."""

from .docs import secure_docs
from .views import bp

__all__ = ["bp", "secure_docs"]
