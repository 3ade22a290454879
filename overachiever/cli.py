"""The `overachiever` command line: serve, migrate, manage users and tokens, demo data."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import click
from flask import current_app
from flask.cli import ScriptInfo, with_appcontext
from werkzeug.exceptions import HTTPException

from .config import SettingsError
from .core.db import db
from .core.errors import DomainError


def _create_app() -> Any:
    """The app of a command, from the environment; a junk setting is a plain error message."""
    from . import create_app

    try:
        return create_app()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


# A plain click group rather than Flask's FlaskGroup: an installed service has no use for
# --app, --env-file or --debug, nor for the commands extensions add (APIFlask's `spec` repeats
# `openapi`), and it reads no .env file.
@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Over Achiever: goals that nest arbitrarily deep."""
    # Each command that needs the app (with_appcontext) builds it from the environment.
    ctx.obj = ScriptInfo(create_app=_create_app, set_debug_flag=False, load_dotenv_defaults=False)


def _fail(error: DomainError) -> None:
    raise click.ClickException(error.detail)


@main.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for all)."
)
@click.option(
    "--port",
    type=int,
    # Read through click's int check: a bad $PORT is a usage error; an empty one is unset.
    envvar="PORT",
    default=5000,
    show_default="$PORT or 5000",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes [default: 2 x cores + 1, max 8].",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Threads per worker.",
)
@with_appcontext
def serve(host: str, port: int, workers: int | None, threads: int) -> None:
    """Apply pending migrations, then run the production server (gunicorn)."""
    from .server import default_workers
    from .server import serve as run_server

    # One line about the schema instead of Alembic's progress (it logs some on import).
    with _alembic_warnings_only():
        from .migrations import current_revision, upgrade

        steps = upgrade()
        revision = current_revision()
    click.echo(_schema_line(steps, revision), err=True)
    # The workers open their own connections; none of the master's may cross the fork.
    db.engine.dispose()
    click.echo(f"Over Achiever on http://{host}:{port}/ (API docs at /docs)", err=True)
    run_server(host, port, workers or default_workers(), threads)


@contextmanager
def _alembic_warnings_only() -> Iterator[None]:
    """Alembic logs warnings and errors only, not its progress, for a while."""
    logger = logging.getLogger("alembic")
    before = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(before)


def _schema_line(steps: list[tuple[str, str]], revision: str | None) -> str:
    """'Running upgrade  -> 0001 -> 0002; database at 0002' (in Alembic's notation, nothing
    before the first arrow is an empty database), or 'database at 0002' when nothing ran."""
    if not steps:
        return f"database at {revision}"
    chain = " -> ".join([steps[0][0], *(to for _, to in steps)])
    return f"Running upgrade {chain}; database at {revision}"


@main.group("db")
def migrations_group() -> None:
    """Database migrations (Alembic)."""


@migrations_group.command()
@click.argument("revision", default="head")
@with_appcontext
def upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    from .migrations import current_revision
    from .migrations import upgrade as do_upgrade

    do_upgrade(revision)
    click.echo(f"database at {current_revision()}")


@migrations_group.command()
@click.argument("revision", default="-1")
@with_appcontext
def downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (default: one step)."""
    from .migrations import current_revision
    from .migrations import downgrade as do_downgrade

    do_downgrade(revision)
    click.echo(f"database at {current_revision() or 'base (empty)'}")


@migrations_group.command()
@with_appcontext
def current() -> None:
    """Show the database's revision and the newest one known."""
    from .migrations import current_revision, head_revision

    now, head = current_revision(), head_revision()
    click.echo(f"current: {now or 'none (empty database)'}")
    click.echo(f"head:    {head}{'' if now == head else '  (run: overachiever db upgrade)'}")


@main.group()
def users() -> None:
    """Manage user accounts."""


@users.command("create")
@click.argument("name")
@click.option("--email", required=True)
@click.option("--password", default=None, help="Prompted for when left out.")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@with_appcontext
def users_create(name: str, email: str, password: str | None, admin: bool) -> None:
    """Create a user (the first user is always an administrator)."""
    from pydantic import ValidationError

    from .users import service
    from .users.schemas import SignUp

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        data = SignUp(name=name, email=email, password=password)
        user = service.create_user(
            data.name, str(data.email), data.password, is_admin=admin, via_cli=True
        )
    except ValidationError as exc:
        raise click.ClickException(
            "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        ) from exc
    except DomainError as exc:
        _fail(exc)
    click.echo(f"created user {user.id} {user.name!r}{' (admin)' if user.is_admin else ''}")


@users.command("list")
@with_appcontext
def users_list() -> None:
    """List every user."""
    from sqlalchemy import select

    from .users.models import User

    rows = db.session.execute(select(User).order_by(User.id)).scalars().all()
    click.echo(f"{'ID':>6}  {'NAME':<24} {'EMAIL':<32} ADMIN")
    for u in rows:
        click.echo(f"{u.id:>6}  {u.name:<24} {u.email:<32} {'yes' if u.is_admin else ''}")


@users.command("set-password")
@click.argument("name")
@click.option("--password", default=None, help="Prompted for when left out.")
@with_appcontext
def users_set_password(name: str, password: str | None) -> None:
    """Set a user's password; their tokens are revoked (they sign in again with it)."""
    from .users import service

    if password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    if not 8 <= len(password) <= 1024:
        raise click.ClickException("a password has 8 to 1024 characters")
    try:
        revoked = service.set_password(service.find_by_name(name), password)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"password of {name!r} changed; {revoked} of their tokens revoked")


@main.group()
def tokens() -> None:
    """Manage personal access tokens."""


@tokens.command("create")
@click.argument("user")
@click.option("--name", default="cli", show_default=True, help="A label for the token.")
@click.option(
    "--expires-in", type=click.IntRange(1, 3650), default=None, help="Days until it expires."
)
@with_appcontext
def tokens_create(user: str, name: str, expires_in: int | None) -> None:
    """Create a token for USER (name); the token is printed alone on the last line."""
    from .tokens import service as token_service
    from .users import service as user_service

    try:
        owner = user_service.find_by_name(user)
    except DomainError as exc:
        _fail(exc)
    token, secret = token_service.issue(owner, name, token_service.expiry_from_days(expires_in))
    expiry = token.expires_at.isoformat() if token.expires_at else "never"
    click.echo(f"token {token.id} for {owner.name!r}, expires {expiry}:", err=True)
    click.echo(secret)


@main.command()
@click.option(
    "--goals",
    "count",
    type=click.IntRange(1, 10_000_000),
    default=None,
    help="Generate this many goals instead.",
)
@click.option(
    "--user", "user_name", default="demo", show_default=True, help="Owner of generated goals."
)
@with_appcontext
def demo(count: int | None, user_name: str) -> None:
    """Load the article's users and goals, or generate COUNT goals; prints a token to try."""
    from . import demo as demo_data

    try:
        owner = demo_data.generate(user_name, count) if count else demo_data.load_article()
    except DomainError as exc:
        _fail(exc)
    from .tokens import service as token_service

    _, secret = token_service.issue(owner, "demo")
    hint = "curl -H 'Authorization: Bearer <token>' http://127.0.0.1:5000/api/v2/goals/tree"
    click.echo(f"a token for {owner.name}; try: {hint}", err=True)
    click.echo(secret)


@main.command("history")
@click.argument("user_name", metavar="USER")
@click.option("--goal", "goal_id", type=click.IntRange(1), default=None, help="One goal's events.")
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True)
@with_appcontext
def history(user_name: str, goal_id: int | None, limit: int) -> None:
    """Show a user's latest operations, or one goal's events, newest first."""
    from .history import service as history_service
    from .history.words import event_words, operation_words
    from .users import service as user_service

    try:
        owner = user_service.find_by_name(user_name)
        if goal_id is None:
            ops, total = history_service.list_operations(owner=owner, offset=0, limit=limit)
            lines = [operation_words(op) for op in ops]
        else:
            events, total = history_service.goal_history(
                caller=owner, goal_id=goal_id, offset=0, limit=limit
            )
            lines = [f"{e['at']:%Y-%m-%d %H:%M}  {event_words(e)}" for e in events]
    except DomainError as exc:
        _fail(exc)
    for line in lines:
        click.echo(line)
    if total > len(lines):
        click.echo(f"({total - len(lines)} older not shown; --limit to see more)", err=True)


@main.command("burnup")
@click.argument("user_name", metavar="USER")
@click.option("--goal", "goal_id", type=click.IntRange(1), default=None, help="One goal's subtree.")
@click.option("--bucket", type=click.Choice(["day", "week"]), default="day", show_default=True)
@with_appcontext
def burnup(user_name: str, goal_id: int | None, bucket: Literal["day", "week"]) -> None:
    """Show the burn-up of a user's forest, or of one goal, and when it will be done."""
    from .core.types import utcnow
    from .progress import service as progress_service
    from .progress.words import forecast_words
    from .users import service as user_service

    now = utcnow()
    try:
        owner = user_service.find_by_name(user_name)
        if goal_id is None:
            chart = progress_service.forest_burnup(owner=owner, bucket=bucket, now=now)
        else:
            chart = progress_service.goal_burnup(
                caller=owner, goal_id=goal_id, bucket=bucket, now=now
            )
    except DomainError as exc:
        _fail(exc)
    click.echo(f"{'at':<17}  {'leaves':>7}  {'done':>7}  {'%':>5}")
    for p in chart.series:
        share = f"{100 * p.done / p.leaves:.0f}" if p.leaves else "-"
        click.echo(f"{p.at:%Y-%m-%d %H:%M}  {p.leaves:>7}  {p.done:>7}  {share:>5}")
    rate = chart.forecast.rate
    click.echo(f"{forecast_words(chart.forecast, now=now)}; {rate:.2f} leaves a day lately")


# -o FILE of the commands that print a document.
output_option = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write here instead of stdout.",
)


def _emit(text: str, output: Path | None) -> None:
    """Print a document, or write it to `output` and say so on stderr."""
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


# File extensions the import command reads each format from, when --format is left out.
_FORMAT_OF_SUFFIX = {
    ".json": "json",
    ".md": "markdown",
    ".markdown": "markdown",
    ".opml": "opml",
    ".xml": "opml",
    ".csv": "csv",
}
_IMPORT_FORMATS = ("json", "markdown", "opml", "csv")


def _progress() -> Any:
    """A progress bar on stderr, shown only when stderr is a terminal."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(stderr=True)
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    )


@main.command("export")
@click.argument("user_name", metavar="USER")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "markdown", "opml", "csv", "ics"]),
    default="json",
    show_default=True,
)
@click.option("--root", "root_id", type=click.IntRange(1), default=None, help="One goal's subtree.")
@output_option
@with_appcontext
def export(user_name: str, fmt: str, root_id: int | None, output: Path | None) -> None:
    """Export a user's forest, or one goal's subtree, as a document (stdout or -o FILE)."""
    from .exchange.export import export_document
    from .users import service as user_service

    try:
        owner = user_service.find_by_name(user_name)
        document = export_document(caller=owner, fmt=fmt, root_id=root_id)
        if output is None:
            stream = sys.stdout.buffer
            for chunk in document.chunks:
                stream.write(chunk)
            stream.flush()
            return
        written = 0
        with _progress() as progress, output.open("wb") as file:
            task = progress.add_task(f"exporting {fmt}", total=None)
            for chunk in document.chunks:
                file.write(chunk)
                written += len(chunk)
                progress.update(task, completed=written)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"wrote {output} ({written} bytes)", err=True)


@main.command("import")
@click.argument("user_name", metavar="USER")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(_IMPORT_FORMATS),
    default=None,
    help="The file's format [default: from its extension].",
)
@click.option(
    "--parent", "parent_id", type=click.IntRange(1), default=None, help="Import under this goal."
)
@with_appcontext
def import_command(user_name: str, file: Path, fmt: str | None, parent_id: int | None) -> None:
    """Import a document (the JSON export or nodes, Markdown, OPML, CSV) into a user's goals."""
    from .exchange import deepjson
    from .exchange.importers import parse_document, parse_json
    from .goals.importing import import_trees
    from .users import service as user_service
    from .web.limits import max_goals

    if fmt is None:
        fmt = _FORMAT_OF_SUFFIX.get(file.suffix.lower())
        if fmt is None:
            raise click.UsageError(
                f"cannot tell the format of {file.name} from its extension: give --format"
            )
    media_type = {"markdown": "text/markdown", "opml": "text/x-opml", "csv": "text/csv"}
    size = file.stat().st_size
    parts: list[bytes] = []
    try:
        with _progress() as progress:
            task = progress.add_task(f"reading {file.name}", total=size)
            with file.open("rb") as stream:
                while part := stream.read(1 << 20):
                    parts.append(part)
                    progress.advance(task, len(part))
            body = b"".join(parts)
            progress.update(task, description=f"checking {fmt}")
            if fmt == "json":
                nodes = parse_json(deepjson.loads(body))
            else:
                nodes = parse_document(media_type[fmt], body)
            progress.update(task, description=f"creating {len(nodes)} goals")
            owner = user_service.find_by_name(user_name)
            ids = import_trees(
                caller=owner, nodes=nodes, parent_id=parent_id, max_goals=max_goals()
            )
    except DomainError as exc:
        _fail(exc)
    except HTTPException as exc:  # a JSON body that does not parse
        raise click.ClickException(str(exc.description)) from exc
    click.echo(f"imported {len(ids)} goals", err=True)


@main.group()
def shares() -> None:
    """Share goals with other users, as their owner would over the API."""


@shares.command("add")
@click.argument("user_name", metavar="USER")
@click.argument("goal_id", type=click.IntRange(1))
@click.argument("recipient", metavar="WITH")
@click.option(
    "--role", type=click.Choice(["viewer", "editor"]), default="viewer", show_default=True
)
@with_appcontext
def shares_add(user_name: str, goal_id: int, recipient: str, role: str) -> None:
    """Share USER's goal GOAL_ID and its subtree with WITH (name or e-mail), or change the role."""
    from .sharing import service as sharing
    from .users import service as user_service

    try:
        owner = user_service.find_by_name(user_name)
        share, created = sharing.share_goal(
            caller=owner, goal_id=goal_id, login=recipient, role=role
        )
    except DomainError as exc:
        _fail(exc)
    done = "shared" if created else "now"
    click.echo(f"share {share['id']}: goal {goal_id} {done} with {share['user']['name']} as {role}")


@shares.command("list")
@click.argument("user_name", metavar="USER")
@click.option("--goal", "goal_id", type=click.IntRange(1), default=None, help="One goal's shares.")
@with_appcontext
def shares_list(user_name: str, goal_id: int | None) -> None:
    """The goals shared with USER, or who one of USER's goals is shared with."""
    from .sharing import service as sharing
    from .users import service as user_service

    try:
        user = user_service.find_by_name(user_name)
        if goal_id is None:
            for item in sharing.shared_with(caller=user):
                goal, owner = item["goal"], item["owner"]["name"]
                click.echo(f"{goal['id']:>8}  {item['role']:<6}  {owner}: {goal['name']}")
        else:
            for share in sharing.list_shares(caller=user, goal_id=goal_id):
                click.echo(f"{share['id']:>8}  {share['role']:<6}  {share['user']['name']}")
    except DomainError as exc:
        _fail(exc)


@shares.command("remove")
@click.argument("user_name", metavar="USER")
@click.argument("goal_id", type=click.IntRange(1))
@click.argument("share_id", type=click.IntRange(1))
@with_appcontext
def shares_remove(user_name: str, goal_id: int, share_id: int) -> None:
    """Revoke a share of USER's goal, or, as its recipient, leave it."""
    from .sharing import service as sharing
    from .users import service as user_service

    try:
        user = user_service.find_by_name(user_name)
        sharing.revoke(caller=user, goal_id=goal_id, share_id=share_id)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"share {share_id} of goal {goal_id} removed")


@main.command()
@output_option
@with_appcontext
def openapi(output: Path | None) -> None:
    """Print the OpenAPI 3.1 document."""
    text = json.dumps(current_app.spec, indent=2, sort_keys=False)  # type: ignore[attr-defined]
    _emit(text + "\n", output)


@main.command()
@output_option
@click.option(
    "--base-url",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="Default of the collection's baseUrl variable.",
)
@with_appcontext
def postman(output: Path | None, base_url: str) -> None:
    """Print a Postman collection (v2.1) of every v2, v1.0 and user directory call."""
    from .contrib.postman import build_collection, dumps

    _emit(dumps(build_collection(current_app.spec, base_url)), output)  # type: ignore[attr-defined]


@main.command("purge-trash")
@with_appcontext
def purge_trash() -> None:
    """Purge goals that have been in the trash longer than the retention period (cron)."""
    from datetime import timedelta

    from .goals.trash import purge_expired

    retention = timedelta(days=int(current_app.config["TRASH_RETENTION_DAYS"]))
    click.echo(f"purged {purge_expired(retention=retention)} goals")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
