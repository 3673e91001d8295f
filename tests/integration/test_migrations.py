"""The schema is built by the migrations only, and they agree with the models."""
import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from pin_grid.extensions import bind_migrations, db


@pytest.fixture(autouse=True)
def _migrations(app):
    bind_migrations(app)


def _differences():
    with db.engine.connect() as conn, warnings.catch_warnings():
        # SQLite's reflection cannot read an index on an expression (uq_assessment_meeting);
        # test_the_database_refuses_a_second_assessment_of_a_meeting checks that it is there.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
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


def test_the_database_refuses_a_second_assessment_of_a_meeting(app):
    """uq_assessment_meeting: the collective view (no perspective) of one territory on one date,
    revision 1, exists once; a revision of it, or another date, is another row."""
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    row = ("INSERT INTO assessment (territory_id, date, status, grid_version, created_at, updated_at, version, "
           "revision, revision_reason) VALUES (1, :date, 'draft', '2026.1', '2024-03-14 10:00:00', "
           "'2024-03-14 10:00:00', 1, :revision, '')")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO territory (id, code, name, region) VALUES (1, 'T1', 'Un', 'Estrie')"))
        conn.execute(text(row), {"date": "2024-03-14", "revision": 1})
        conn.execute(text(row), {"date": "2024-03-14", "revision": 2})
        conn.execute(text(row), {"date": "2024-03-15", "revision": 1})
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(text(row), {"date": "2024-03-14", "revision": 1})


def test_an_installed_database_keeps_its_set_up_page_closed_after_upgrading(app):
    from sqlalchemy import text

    downgrade(revision="0004")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO user_account (id, email, role, active, created_at) "
                          "VALUES (7, 'a@b.example', 'admin', true, '2024-03-14 10:00:00')"))
        conn.execute(text("INSERT INTO organization (id, name, sector) VALUES (1, 'Maison de la Famille', 'autre')"))
    upgrade()
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT id, first_admin_id FROM installation")).all() == [(1, 7)]
        assert conn.execute(text("SELECT name_key FROM organization")).scalar() == "maison de la famille"


def test_upgrading_to_0006_keeps_the_data_of_0005_and_lists_every_region_already_used(app):
    """Data as the previous version wrote it (regions typed by hand, a 2026.1 assessment): after
    the upgrade nothing is lost, the 17 regions and the hand-typed ones are in the managed list,
    no territory gets a unit and no answer a target."""
    from sqlalchemy import text

    downgrade(revision="0005")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO territory (id, code, name, region) VALUES "
                          "(1, 'MTL-NORD', 'Montréal-Nord', 'Montréal'), "
                          "(2, 'MAU-01', 'Trois-Rivières', 'Mauricie-et-Centre-du-Québec')"))
        conn.execute(text(
            "INSERT INTO assessment (id, territory_id, date, status, grid_version, created_at, updated_at, version, "
            "revision, revision_reason) VALUES (1, 2, '2024-03-14', 'finalized', '2026.1', '2024-03-14 10:00:00', "
            "'2024-03-14 10:00:00', 1, 1, '')"))
        conn.execute(text(
            "INSERT INTO answer (assessment_id, item_id, level, comment, priority, action, action_owner, carried_over) "
            "VALUES (1, 'ECO-4', 'ne_sais_pas', 'Outil commun à choisir', false, '', '', false)"))
        conn.execute(text(
            "INSERT INTO user_account (id, email, display_name, password_hash, role, active, created_at) VALUES "
            "(1, 'gest@cisss.example', '', NULL, 'gestionnaire', true, '2024-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO user_region (user_id, region) VALUES (1, 'Région du Nord inventée'), "
                          "(1, 'Estrie')"))
    upgrade()
    with db.engine.connect() as conn:
        regions = dict(conn.execute(text("SELECT name, code FROM region")).all())
        assert len(regions) == 19
        assert regions["Estrie"] == "05" and regions["Montréal"] == "06" and regions["Centre-du-Québec"] == "17"
        assert regions["Mauricie-et-Centre-du-Québec"] is None and regions["Région du Nord inventée"] is None
        assert conn.execute(text("SELECT code, name, region, territorial_unit FROM territory ORDER BY id")).all() == [
            ("MTL-NORD", "Montréal-Nord", "Montréal", ""), ("MAU-01", "Trois-Rivières", "Mauricie-et-Centre-du-Québec", "")]
        assert conn.execute(text("SELECT item_id, level, comment, target FROM answer")).all() == [
            ("ECO-4", "ne_sais_pas", "Outil commun à choisir", None)]
        assert conn.execute(text("SELECT grid_version FROM assessment")).scalar() == "2026.1"
        assert sorted(conn.execute(text("SELECT region FROM user_region")).scalars()) == ["Estrie", "Région du Nord inventée"]
