"""The SQLite writers' queue: a kernel lock that lines up this service's writers."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import IO

from sqlalchemy.engine import URL, Connection, Engine


class WriterQueue:
    """The line SQLite's writers wait in, so that each starts the moment the one before commits.

    SQLite lets one writer at a time hold a database's write lock and makes the others poll
    for it, sleeping 1, 2, 5, 10 ms and more between tries (busy_timeout): under concurrent
    writes, most of a write's time went on sleeping while nobody held the lock.
    Here a writer first takes an exclusive flock on a file beside the database; the kernel wakes
    the next writer as soon as it is released, after the commit.

    It only orders this service's own writers: SQLite's lock still decides, and any other
    process writing to the database is waited for under busy_timeout as before. A holder keeps
    its place only for one transaction, which ends in a commit or an error, so the line moves.
    flock excludes open files, not processes: each thread of each process opens its own.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        # Every thread's file, closed together when the queue goes (with its engine).
        self._files: list[IO[bytes]] = []
        weakref.finalize(self, _close_all, self._files)

    def _file(self) -> IO[bytes] | None:
        """This thread's open lock file (reopened after a fork), or None if it cannot be made."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.pid, local.depth = os.getpid(), 0
            try:
                local.file = open(self.path, "ab")  # noqa: SIM115  (closed by _close_all)
                self._files.append(local.file)
            except OSError as exc:
                # A read-only folder, say: writers then wait under busy_timeout alone.
                logging.getLogger(__name__).warning("no writer queue at %s: %s", self.path, exc)
                local.file = None
        file: IO[bytes] | None = local.file
        return file

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this writer's turn, and hold it for the block (a nested block keeps it)."""
        file = self._file()
        if file is None or self._local.depth:
            yield
            return
        fcntl.flock(file, fcntl.LOCK_EX)
        self._local.depth = 1
        try:
            yield
        finally:
            self._local.depth = 0
            fcntl.flock(file, fcntl.LOCK_UN)

    @contextmanager
    def turn_if_free(self) -> Iterator[bool]:
        """Take this writer's turn only if no writer holds it now; yields whether it did."""
        file = self._file()
        if file is None or self._local.depth:
            yield True
            return
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        self._local.depth = 1
        try:
            yield True
        finally:
            self._local.depth = 0
            fcntl.flock(file, fcntl.LOCK_UN)


def _close_all(files: list[IO[bytes]]) -> None:
    for file in files:
        file.close()


# The writer queue of each SQLite engine whose database is a file (configure_engine).
_writer_queues: weakref.WeakKeyDictionary[Engine, WriterQueue] = weakref.WeakKeyDictionary()


def writer_turn(bind: Engine | Connection) -> AbstractContextManager[None]:
    queue = _writer_queues.get(bind) if isinstance(bind, Engine) else None
    return queue.turn() if queue is not None else nullcontext()


def writer_turn_if_free(bind: Engine | Connection) -> AbstractContextManager[bool]:
    queue = _writer_queues.get(bind) if isinstance(bind, Engine) else None
    return queue.turn_if_free() if queue is not None else nullcontext(True)


def database_file(url: URL) -> str | None:
    """The path of an SQLite URL's database file; None for an in-memory database."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    # A relative path is from the working directory, as SQLite takes it.
    return os.path.abspath(database)


def install(engine: Engine) -> None:
    """Give an SQLite engine whose database is a file its writers' queue."""
    path = database_file(engine.url)
    if path is not None:
        _writer_queues[engine] = WriterQueue(path + "-writers")
