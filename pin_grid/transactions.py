"""One way to write. Every change to the database goes through `write_transaction()`: it begins
with the write lock, commits when the block ends, rolls back when it raises; `retrying()` runs a
write again only when that is safe (the database was locked, a concurrent transaction won)."""
from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .extensions import db

T = TypeVar("T")
_WRITING = "pin_grid.writing"
_BEGUN_FOR_WRITING = "pin_grid.begun_for_writing"
# PostgreSQL's serialisation failure and deadlock: the transaction can simply be run again.
_RETRYABLE_SQLSTATES = {"40001", "40P01"}


class PendingChanges(RuntimeError):
    """Changes were made outside a write transaction: a programming error, never rolled back silently."""


@contextmanager
def write_transaction() -> Iterator[None]:
    """A transaction that writes. On SQLite it takes the write lock at once (BEGIN IMMEDIATE), so
    that a concurrent writer in another process waits its turn instead of failing; on PostgreSQL
    the services lock the rows they change (SELECT … FOR UPDATE). Inside another write
    transaction it simply joins it."""
    session = db.session()
    if session.info.get(_WRITING):
        yield
        return
    if session.new or session.dirty or session.deleted:
        raise PendingChanges("changes were made before the write transaction began")
    begun = session.info.pop(_BEGUN_FOR_WRITING, None)
    if begun is None or begun is not session.get_transaction():
        session.rollback()  # ends the read-only transaction of earlier reads (nothing pending: checked above)
        session.connection(execution_options={"sqlite_immediate": True})
    # else the transaction was begun for writing (`begin_writing`): what was read in it goes on.
    session.info[_WRITING] = True
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(_WRITING, None)


def begin_writing() -> None:
    """Begin the session's transaction as a write transaction now, before anything is read, so
    that what a request reads first (who is asking, what they may change) and what it then
    writes are one transaction: on SQLite the write lock is held from the first statement, so
    nothing read can be overtaken. The next `write_transaction()` goes on in it."""
    session = db.session()
    if session.in_transaction():
        return  # something was read already: the write transaction will begin on its own
    session.connection(execution_options={"sqlite_immediate": True})
    session.info[_BEGUN_FOR_WRITING] = session.get_transaction()


def writes_in_one_transaction(view):
    """Mark a view whose whole request is one write transaction (see `begin_writing`): for the
    small writes people make all the time, such as saving one statement."""
    view.one_write_transaction = True
    return view


def _safe_to_retry(exc: Exception) -> bool:
    if isinstance(exc, StaleDataError):
        return True  # a row changed since it was read: the operation reads it again
    if isinstance(exc, DBAPIError) and not exc.connection_invalidated:
        sqlstate = getattr(exc.orig, "sqlstate", None)
        if sqlstate in _RETRYABLE_SQLSTATES:
            return True
        return "database is locked" in str(exc.orig)
    return False  # integrity errors and everything else are answers, not accidents


def retrying(operation: Callable[[], T], attempts: int = 4) -> T:
    """Run `operation` (which reads what it needs, then writes) in a write transaction, again
    when a concurrent write made it fail in a way that is safe to retry.

    A unique constraint that fails means someone else wrote the same row meanwhile (two people
    sent the same form at once): the operation runs once more, and its own checks now see that
    row and answer as they do for any duplicate (or use the row, e.g. an organisation)."""
    if db.session.info.get(_WRITING):
        return operation()  # the enclosing transaction decides
    seen_duplicate = False
    for attempt in range(attempts):
        try:
            with write_transaction():
                return operation()
        except IntegrityError:
            if seen_duplicate or attempt == attempts - 1:
                raise
            seen_duplicate = True
        except (StaleDataError, DBAPIError) as exc:
            if attempt == attempts - 1 or not _safe_to_retry(exc):
                raise
    raise AssertionError("unreachable")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers go on while a team saves; the busy timeout makes writers wait their turn.
    if isinstance(dbapi_connection, sqlite3.Connection):
        # SQLAlchemy, not the driver, says when a transaction begins (see _sqlite_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:
    # A write that first reads must hold the write lock from the start (BEGIN IMMEDIATE), or a
    # concurrent writer in another process makes it fail instead of wait.
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_immediate") else "BEGIN")
