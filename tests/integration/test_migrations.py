"""The schema is built by the migrations only, and they agree with the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from pin_grid.extensions import db


def _differences():
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(context, db.metadata)


def test_models_and_migrations_agree(app):
    assert _differences() == []


def test_the_migrations_go_down_and_up_again(app):
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert {"territory", "organization", "assessment", "participant", "answer", "assessment_organization"} <= set(
        inspect(db.engine).get_table_names()
    )
    assert _differences() == []


def test_upgrading_keeps_the_data_already_there(app):
    """Migrations that rebuild a table (SQLite batch mode) must not cascade-delete its children."""
    from sqlalchemy import text

    downgrade(revision="0002")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO territory (id, code, name, region) VALUES (1, 'T1', 'Un', 'Estrie')"))
        conn.execute(text(
            "INSERT INTO assessment (id, territory_id, date, status, grid_version, created_at, updated_at, version) "
            "VALUES (1, 1, '2024-03-14', 'finalized', '2026.1', '2024-03-14 10:00:00', '2024-03-14 10:00:00', 1)"))
        conn.execute(text(
            "INSERT INTO answer (assessment_id, item_id, level, comment, priority, action, action_owner, carried_over) "
            "VALUES (1, 'ECO-1', 'implante', 'gardé', false, '', '', false)"))
        conn.execute(text("INSERT INTO participant (assessment_id, position, role, sector) VALUES (1, 0, 'membre', 'autre')"))
    upgrade()
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT comment FROM answer")).scalars().all() == ["gardé"]
        assert conn.execute(text("SELECT count(*) FROM participant")).scalar() == 1
        assert conn.execute(text("SELECT revision FROM assessment")).scalar() == 1
