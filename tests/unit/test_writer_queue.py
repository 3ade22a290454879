"""The SQLite writers' queue: one writer at a time, per thread and per process."""

from __future__ import annotations

import fcntl
import multiprocessing
import threading
from pathlib import Path

import pytest

from overachiever.core.writer_queue import WriterQueue


def _taken_elsewhere(path: Path) -> bool:
    """Whether another open file of `path` holds the lock (a try that does not wait)."""
    with path.open("ab") as other:
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(other, fcntl.LOCK_UN)
        return False


def test_a_writer_in_another_thread_waits_until_the_turn_is_left(tmp_path: Path) -> None:
    queue = WriterQueue(str(tmp_path / "db-writers"))
    waiting, entered = threading.Event(), threading.Event()

    def second_writer() -> None:
        waiting.set()
        with queue.turn():
            entered.set()

    with queue.turn():
        thread = threading.Thread(target=second_writer)
        thread.start()
        assert waiting.wait(5)
        assert not entered.wait(0.2), "the second writer got in while the first held the turn"
    assert entered.wait(5), "the second writer was not let in once the turn was left"
    thread.join(5)
    assert not _taken_elsewhere(tmp_path / "db-writers")


def test_a_nested_turn_keeps_the_place_until_the_outer_one_ends(tmp_path: Path) -> None:
    queue = WriterQueue(str(tmp_path / "db-writers"))
    with queue.turn():
        with queue.turn():
            pass
        assert _taken_elsewhere(tmp_path / "db-writers")
    assert not _taken_elsewhere(tmp_path / "db-writers")


def test_an_error_inside_the_turn_gives_it_up(tmp_path: Path) -> None:
    queue = WriterQueue(str(tmp_path / "db-writers"))
    with pytest.raises(RuntimeError), queue.turn():
        raise RuntimeError("the transaction failed")
    assert not _taken_elsewhere(tmp_path / "db-writers")


def _child_tries_its_turn(queue: WriterQueue, result: multiprocessing.Queue[str]) -> None:
    file = queue._file()
    assert file is not None
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        result.put("waits")
    else:
        result.put("got in")


def test_a_forked_worker_opens_its_own_file_instead_of_sharing_its_parents(
    tmp_path: Path,
) -> None:
    # gunicorn forks its workers: a lock file inherited across the fork would be one open file
    # for both processes, and flock would let both in at once.
    queue = WriterQueue(str(tmp_path / "db-writers"))
    fork = multiprocessing.get_context("fork")
    result: multiprocessing.Queue[str] = fork.Queue()
    with queue.turn():
        child = fork.Process(target=_child_tries_its_turn, args=(queue, result))
        child.start()
        child.join(10)
    assert result.get(timeout=5) == "waits"


def test_without_a_writable_folder_writers_go_on_without_a_queue(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    queue = WriterQueue(str(tmp_path / "missing" / "db-writers"))
    ran = False
    with queue.turn():
        ran = True
    assert ran
    assert "no writer queue" in caplog.text


def test_only_a_database_file_gets_a_queue_named_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.engine import make_url

    from overachiever.core.writer_queue import database_file

    monkeypatch.chdir(tmp_path)
    assert database_file(make_url("sqlite://")) is None
    assert database_file(make_url("sqlite:///:memory:")) is None
    assert database_file(make_url("sqlite:///file:mem?mode=memory&uri=true")) is None
    assert database_file(make_url("sqlite:///data/app.db")) == str(tmp_path / "data/app.db")
