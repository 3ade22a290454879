"""Text search that ignores case across all of Unicode, in time linear in the text searched.

`lower(column) LIKE '%' || lower(text) || '%'` backtracks: 200 characters of "aaa...ab"
against 10 000 of "aaa..." cost millions of comparisons a row. On PostgreSQL a regular
expression made a literal by the `***=` director is matched by its DFA engine in one pass;
on SQLite instr() compares with one memcmp per position, and text beyond ASCII is folded by
a registered Python function (SQLite's lower() folds ASCII only).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, LargeBinary, case, cast, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

# The SQL name of contains_casefolded on SQLite connections (core.db registers it).
CONTAINS_FOLDED = "oa_contains_folded"


def contains_casefolded(text: str | None, folded: str) -> bool | None:
    """Whether text, case-folded in full (SQLite's lower() and LIKE fold ASCII only), contains
    the already folded `folded`."""
    return None if text is None else folded in text.casefold()


def register_sqlite_functions(dbapi_conn: Any) -> None:
    """Make CONTAINS_FOLDED callable in the SQL of one SQLite connection."""
    dbapi_conn.create_function(CONTAINS_FOLDED, 2, contains_casefolded, deterministic=True)


class _ContainsFolded(FunctionElement[bool]):
    """contains_folded's SQL: its clauses are the column, the text, and the text case-folded."""

    type = Boolean()
    inherit_cache = True
    name = "contains_folded"


def contains_folded(column: Any, text: str) -> ColumnElement[bool]:
    """Whether the column's text contains `text`, ignoring case (É and é alike)."""
    return _ContainsFolded(column, literal(text), literal(text.casefold()))


@compiles(_ContainsFolded)
def _compile(element: _ContainsFolded, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL's lower() folds all of Unicode by the database's collation.
    column, text, _folded = element.clauses
    column_sql, text_sql = compiler.process(column, **kw), compiler.process(text, **kw)
    return f"lower({column_sql}) ~ ('***=' || lower({text_sql}))"


@compiles(_ContainsFolded, "sqlite")
def _compile_sqlite(element: _ContainsFolded, compiler: SQLCompiler, **kw: Any) -> str:
    # Only text beyond ASCII pays for a call into Python (about half a microsecond): for ASCII
    # text, SQLite's lower() is the full folding.
    column, _text, folded = element.clauses
    ascii_only = func.length(column) == func.length(cast(column, LargeBinary))
    native = func.instr(func.lower(column), folded) > 0
    return compiler.process(
        case((ascii_only, native), else_=getattr(func, CONTAINS_FOLDED)(column, folded)), **kw
    )
