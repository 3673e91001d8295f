"""One way to write: write_transaction() commits or rolls back, never drops pending changes
silently; retrying() runs again only what is safe to run again (SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from pin_grid.extensions import db
from pin_grid.models import Territory
from pin_grid.transactions import PendingChanges, retrying, write_transaction


def _territories() -> int:
    return db.session.scalar(select(func.count(Territory.id)))


def test_a_write_commits_when_the_block_ends_and_rolls_back_when_it_raises(app):
    with write_transaction():
        db.session.add(Territory(code="MTL-NORD", name="Montréal-Nord", region="Montréal"))
    with pytest.raises(RuntimeError):
        with write_transaction():
            db.session.add(Territory(code="LAV-01", name="Laval", region="Laval"))
            raise RuntimeError("refused")
    db.session.rollback()
    assert _territories() == 1


def test_changes_made_outside_a_write_are_refused_not_rolled_back_silently(app):
    db.session.add(Territory(code="MTL-NORD", name="Montréal-Nord", region="Montréal"))
    with pytest.raises(PendingChanges):
        with write_transaction():
            pass
    assert db.session.new  # still there for the caller to see
    db.session.rollback()


def test_a_nested_write_joins_the_one_already_open(app):
    with write_transaction():
        db.session.add(Territory(code="MTL-NORD", name="Montréal-Nord", region="Montréal"))
        with write_transaction():
            db.session.add(Territory(code="LAV-01", name="Laval", region="Laval"))
        assert db.session().in_transaction()
    assert _territories() == 2


def test_only_what_is_safe_is_retried(app):
    calls = []

    def stale():
        calls.append("stale")
        if len(calls) < 3:
            raise StaleDataError("a concurrent write changed the row")
        db.session.add(Territory(code="MTL-NORD", name="Montréal-Nord", region="Montréal"))

    retrying(stale)
    assert calls == ["stale"] * 3 and _territories() == 1

    def duplicate():
        calls.append("duplicate")
        db.session.add(Territory(code="MTL-NORD", name="Encore", region="Montréal"))
        db.session.flush()

    with pytest.raises(IntegrityError):
        retrying(duplicate)
    # A duplicate runs once more (its own checks then see the row someone else wrote); a
    # second failure is an answer, not an accident.
    assert calls.count("duplicate") == 2
    db.session.rollback()
    assert _territories() == 1
