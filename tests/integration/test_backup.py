"""`flask backup` / `flask restore` through the real commands, on SQLite and PostgreSQL.

The source database holds varied data (demo territories over two years, drafts, a finalised
revision and the version it superseded, a revision still in draft, carried-over answers, a
partner's point of view, accounts of every role, the audit trail); it is backed up, restored
into an empty database of the same kind, and everything is compared.
"""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from pin_grid import accounts, backups, services
from pin_grid.extensions import db
from pin_grid.models import Assessment, AuditEvent, User
from pin_grid.services import AnswerData, AssessmentDetails, OrganizationData, ParticipantData

from .conftest import PASSWORD, make_app, sign_in

YEAR = dt.date.today().year  # `flask demo` ends with the current year
ADMIN = "admin@cisss.example"
COORD = "coord@cisss.example"
GEST = "gest@cisss.example"
MEMBRE = "membre@cisss.example"
NOPASS = "sans-mot-de-passe@cisss.example"
GONE = "parti@cisss.example"
NOT_RESTORED = "Rien n'a été restauré"


# --- Helpers ------------------------------------------------------------------------------

def _cli(app, *args, input=None):
    with app.app_context():
        result = app.test_cli_runner().invoke(args=[str(a) for a in args], input=input)
        db.session.remove()
    return result


def _within(app, function):
    with app.app_context():
        try:
            return function()
        finally:
            db.session.remove()


def _empty_app(new_database):
    return make_app(new_database())


def _dispose(*apps):
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def _details(territory_id, date, perspective=None, participants=(), organizations=()):
    return AssessmentDetails(territory_id=territory_id, date=date, perspective=perspective,
                             participants=[ParticipantData(role, sector, name) for name, role, sector in participants],
                             organizations=[OrganizationData(name, sector) for name, sector in organizations])


def _collective(territory, year):
    return next(a for a in territory.assessments if a.date.year == year and a.perspective_id is None)


def build(app, grid, grids):
    """Varied data in the app's database, through the demo command and the services."""
    result = _cli(app, "demo", "--territories", 4, "--years", 2)
    assert result.exit_code == 0, result.output
    t0, t1, t2, t3 = services.all_territories()

    accounts.create_user(ADMIN, PASSWORD, "admin")
    accounts.create_user(COORD, PASSWORD, "coordonnateur", territories=[t0.code, t1.code], actor=ADMIN)
    accounts.create_user(GEST, PASSWORD, "gestionnaire", regions=[t2.region, "Estrie"], actor=ADMIN)
    accounts.create_user(MEMBRE, PASSWORD, "membre", territories=[t2.code], actor=ADMIN)
    accounts.create_user(NOPASS, None, "membre", territories=[t3.code], actor=ADMIN)
    gone = accounts.create_user(GONE, PASSWORD, "coordonnateur", territories=[t3.code], actor=ADMIN)
    accounts.set_active(gone.id, False, actor=ADMIN)

    # A finalised revision: the version it corrects is superseded and stays readable.
    t0 = services.get_territory(t0.id)
    original = _collective(t0, YEAR - 1)
    revision = services.open_revision(original.id, "ECO-1 et PAR-2 mal saisis", actor=COORD)
    services.save_answers(revision.id, {"ECO-1": AnswerData(level="non_implante", comment="Corrigé"),
                                        "PAR-2": AnswerData(level="ne_sais_pas")}, actor=COORD)
    services.finalize(revision.id, grid, actor=COORD)
    # A revision still in draft: the finalised version stays the one in force.
    pending = services.open_revision(_collective(services.get_territory(t1.id), YEAR).id, "À vérifier", actor=COORD)
    services.save_answers(pending.id, {"PRT-1": AnswerData(level="partiel", comment="À confirmer")}, actor=COORD)
    # A partner's point of view, in draft, with an action plan.
    view = services.start_assessment(_details(
        t2.id, dt.date(YEAR, 7, 2), perspective="Maison des Parents Unis",
        participants=[("Ana", "intervenante", "cisss"), (None, "parent-partenaire", "parent_partenaire")],
        organizations=[("Maison des Parents Unis", "communautaire"), ("École Des Pins", "scolaire")]),
        grids, actor=MEMBRE)
    services.save_answers(view.id, {
        "ECO-1": AnswerData(level="implante", comment="Très « bien » ; ça va", priority=True, action="Former",
                            action_owner="Coordination", action_due=dt.date(YEAR, 12, 15)),
        "ENF-2": AnswerData(level=None, comment="à discuter"),
    }, actor=MEMBRE)
    services.update_details(view.id, _details(
        t2.id, dt.date(YEAR, 7, 2), perspective="Maison des Parents Unis",
        participants=[("Ana", "intervenante", "cisss"), ("Zoé", "enseignante", "scolaire")],
        organizations=[("Maison des Parents Unis", "communautaire")]), actor=MEMBRE)
    # Next year's assessment started from this year's: carried-over answers, two confirmed.
    carried = services.start_assessment(
        _details(t3.id, dt.date(YEAR, 12, 20), participants=[("Hugo", "directeur", "autre")]),
        grids, carry_over=True, actor=ADMIN)
    services.save_answers(carried.id, {"ECO-2": AnswerData(level="partiel")}, confirmed=["ECO-1"], actor=ADMIN)
    stored = services.get_assessment(carried.id)
    services.save_answers(carried.id, {"ECO-1": AnswerData.of(stored.answers_by_item["ECO-1"])},
                          confirmed=["ECO-1"], actor=ADMIN)
    services.record_event("inconnu@example.org", "login_failed", detail="from 10.0.0.9")
    db.session.remove()


def fingerprint(app, grid):
    """What must come back identical: results of every assessment (superseded ones included),
    the comparison of each year, the export, the audit trail, the accounts."""
    def collect():
        assessments = list(db.session.scalars(select(Assessment).order_by(Assessment.id)))
        results = {}
        for a in assessments:
            r = services.results_of(a, grid)
            results[a.id] = (a.status, a.revision, a.supersedes_id, a.revision_reason, r.ensemble,
                             [(t.theme.id, t.score.score, t.score.status, dict(t.score.counts), t.score.answered)
                              for t in r.themes],
                             sorted((x.item_id, x.level, x.comment, x.priority, x.action, x.action_owner,
                                     x.action_due, x.carried_over) for x in a.answers),
                             [(p.position, p.name, p.role, p.sector) for p in a.participants],
                             [o.name for o in a.organizations], a.perspective.name if a.perspective else None)
        audit = [(e.id, e.at.replace(tzinfo=e.at.tzinfo or dt.timezone.utc).astimezone(dt.timezone.utc), e.actor,
                  e.action, e.assessment_id, e.item_id, e.field, e.old_value, e.new_value, e.detail)
                 for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        users = [(u.id, u.email, u.role, u.active, sorted(t.code for t in u.territories), sorted(u.region_names))
                 for u in db.session.scalars(select(User).order_by(User.id))]
        return results, audit, users

    results, audit, users = _within(app, collect)
    compare = {}
    for year in (YEAR - 1, YEAR):
        result = _cli(app, "compare", "--year", year, "--json")
        assert result.exit_code == 0, result.output
        compare[year] = result.output
    export = _cli(app, "export-assessments")
    assert export.exit_code == 0, export.output
    return {"results": results, "audit": audit, "users": users, "compare": compare, "export": export.output}


def _backup(app, path, *options):
    result = _cli(app, "backup", "-o", path, *options)
    assert result.exit_code == 0, result.output
    return json.loads(path.read_text(encoding="utf-8"))


def _everything(app):
    return _within(app, lambda: backups.dump(with_credentials=True)["tables"])


def _is_empty(app):
    """Nothing but what the migrations put there (the list of regions)."""
    return not any(rows for name, rows in _everything(app).items() if name not in backups.SEEDED)


@pytest.fixture
def source(app, grid, grids):
    build(app, grid, grids)
    return app


# --- The file -----------------------------------------------------------------------------

def test_the_backup_holds_everything_but_the_password_hashes_unless_asked(source, tmp_path):
    document = _backup(source, tmp_path / "backup.json")
    raw = (tmp_path / "backup.json").read_text(encoding="utf-8")
    assert document["format"] == "pin-backup/1" and document["with_credentials"] is False
    tables = document["tables"]
    assert len(tables["user_account"]) == 6
    assert all(row["password_hash"] is None for row in tables["user_account"])
    assert "scrypt" not in raw
    statuses = sorted(row["status"] for row in tables["assessment"])
    assert statuses.count("superseded") == 1 and statuses.count("draft") == 3
    assert len(tables["territory"]) == 4 and tables["audit_event"] and tables["user_territory"]
    assert tables["user_region"] and tables["participant"] and tables["assessment_organization"]
    assert any(row["carried_over"] for row in tables["answer"])
    for transient in ("login_throttle", "pending_form", "alembic_version"):
        assert transient not in tables

    hashes = _within(source, lambda: {u.email: u.password_hash for u in db.session.scalars(select(User))})
    document = _backup(source, tmp_path / "with.json", "--with-credentials")
    assert document["with_credentials"] is True
    assert {row["email"]: row["password_hash"] for row in document["tables"]["user_account"]} == hashes
    assert hashes[NOPASS] is None and hashes[ADMIN].startswith("scrypt:")


def test_the_backup_holds_no_session_and_a_restore_signs_nobody_in(source, tmp_path, new_database):
    """Sessions are transient, like the sign-in throttle: a browser signed in on the old server is
    not signed in on the restored one, even from a backup with the credentials."""
    browser = sign_in(source.test_client(), ADMIN)
    assert browser.get("/").status_code == 200
    for options in ((), ("--with-credentials",)):
        document = _backup(source, tmp_path / "backup.json", *options)
        assert "user_session" not in document["tables"]
    target = _empty_app(new_database)
    assert _cli(target, "restore", tmp_path / "backup.json").exit_code == 0
    same_browser = target.test_client()
    same_browser.set_cookie("session", browser.get_cookie("session").value)
    response = same_browser.get("/")
    assert response.status_code == 302 and "/connexion" in response.location
    assert sign_in(target.test_client(), ADMIN).get("/").status_code == 200
    _dispose(target)


# --- The round trip -----------------------------------------------------------------------

def test_a_round_trip_gives_back_every_result_version_account_and_audit_line(source, grid, tmp_path, new_database):
    sign_in(source.test_client(), ADMIN)  # sign-ins are in the audit trail too
    before = fingerprint(source, grid)
    assert len(before["results"]) == 4 * 2 + 4
    assert any(r[0] == "superseded" for r in before["results"].values())
    assert json.loads(before["compare"][YEAR - 1])["rows"] and json.loads(before["compare"][YEAR])["rows"]
    assert {e[3] for e in before["audit"]} >= {"import", "create", "answer", "details", "finalize", "revise",
                                                "supersede", "carry_over", "confirm", "user_create", "login",
                                                "login_failed", "user_disable"}

    _backup(source, tmp_path / "backup.json", "--with-credentials")
    target = _empty_app(new_database)
    result = _cli(target, "restore", tmp_path / "backup.json")
    assert result.exit_code == 0, result.output
    assert "Restauré :" in result.output and "assessment 12" in result.output

    after = fingerprint(target, grid)
    for key in before:
        assert after[key] == before[key], key
    # Table by table, row by row.
    original, restored = _everything(source), _everything(target)
    assert restored.keys() == original.keys()
    for table in original:
        assert restored[table] == original[table], table

    # The restored database serves the same pages, to the same people with their old passwords.
    client = sign_in(target.test_client(), COORD)
    superseded = next(i for i, r in before["results"].items() if r[0] == "superseded")
    response = client.get(f"/evaluations/{superseded}/resultats")
    assert response.status_code == 200 and "Version remplacée" in response.get_data(as_text=True)
    assert client.get(f"/evaluations/{superseded}/journal").status_code == 200
    response = sign_in(target.test_client(), GEST).get(f"/evaluations/{superseded}/journal")
    assert response.status_code in (403, 404)  # the roles and scopes came back too
    refused = target.test_client()
    page = refused.get("/connexion").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    response = refused.post("/connexion", data={"csrf_token": token, "email": GONE, "password": PASSWORD})
    assert response.status_code == 401  # still disabled
    _dispose(target)


def test_without_credentials_people_are_given_a_new_password(source, grid, tmp_path, new_database):
    _backup(source, tmp_path / "backup.json")
    target = _empty_app(new_database)
    assert _cli(target, "restore", tmp_path / "backup.json").exit_code == 0
    assert fingerprint(target, grid) == fingerprint(source, grid)
    client = target.test_client()
    page = client.get("/connexion").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    response = client.post("/connexion", data={"csrf_token": token, "email": ADMIN, "password": PASSWORD})
    assert response.status_code == 401
    new_password = "Quatre poires jaunes au verger?"
    result = _cli(target, "users", "set-password", "--email", ADMIN, "--password-stdin", input=new_password + "\n")
    assert result.exit_code == 0, result.output
    sign_in(target.test_client(), ADMIN, new_password)
    _dispose(target)


def test_new_rows_go_in_after_a_restore(source, grid, grids, tmp_path, new_database):
    _backup(source, tmp_path / "backup.json", "--with-credentials")
    target = _empty_app(new_database)
    assert _cli(target, "restore", tmp_path / "backup.json").exit_code == 0
    restored = _everything(target)
    largest = {table: max(row["id"] for row in rows) for table, rows in restored.items() if rows and "id" in rows[0]}

    def write():
        territory = services.create_territory("NOUV-1", "Nouveau territoire", "Estrie")
        assessment = services.start_assessment(_details(
            territory.id, dt.date(YEAR, 5, 5), participants=[("Nadia", "coordonnatrice", "cisss")],
            organizations=[("Organisme tout neuf", "communautaire")]), grids, actor=ADMIN)
        services.save_answers(assessment.id, {i: AnswerData(level="partiel") for i in grid.items}, actor=ADMIN)
        services.finalize(assessment.id, grid, actor=ADMIN)
        revision = services.open_revision(assessment.id, "après restauration", actor=ADMIN)
        user = accounts.create_user("nouveau@cisss.example", PASSWORD, "membre", territories=["NOUV-1"])
        db.session.rollback()
        return {"territory": territory.id, "assessment": revision.id,
                "participant": max(p.id for p in services.get_assessment(revision.id).participants),
                "organization": services.organization_named("Organisme tout neuf").id,
                "answer": max(a.id for a in services.get_assessment(revision.id).answers),
                "user_account": user.id,
                "audit_event": db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))}

    new = _within(target, write)
    for table, new_id in new.items():
        assert new_id > largest[table], table
    result = _cli(target, "compare", "--year", YEAR, "--json")
    assert "NOUV-1" in result.output
    _dispose(target)


# --- Refusals: nothing written ------------------------------------------------------------

def test_restore_refuses_a_database_that_is_not_empty(source, grid, tmp_path, new_database):
    _backup(source, tmp_path / "backup.json", "--with-credentials")
    before = _everything(source)
    result = _cli(source, "restore", tmp_path / "backup.json")
    assert result.exit_code != 0
    assert NOT_RESTORED in result.output and "la base de données n'est pas vide" in result.output
    assert _everything(source) == before

    almost = _empty_app(new_database)
    try:
        _within(almost, lambda: services.create_territory("SEUL", "Seul territoire", "Laval"))
        holding = _everything(almost)
        result = _cli(almost, "restore", tmp_path / "backup.json")
        # (adding the territory wrote a line of the audit trail too: either table is named)
        assert result.exit_code != 0 and NOT_RESTORED in result.output
        assert re.search(r"n'est pas vide \(table (territory|audit_event)\)", result.output), result.output
        assert _everything(almost) == holding
    finally:  # a connection left open would be collected in some later test, and fail it
        _dispose(almost)


def _broken_files(source, grid, tmp_path):
    document = _backup(source, tmp_path / "backup.json", "--with-credentials")
    files = {}

    def write(name, content):
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
        files[name] = path

    export = _cli(source, "export-assessments")
    write("export.json", export.output)  # a pin-grid/1 file, not a backup
    write("truncated.json", (tmp_path / "backup.json").read_text(encoding="utf-8")[:5000])
    write("list.json", [document])
    write("latin1.json", "é".encode("latin-1"))
    write("old-schema.json", {**document, "schema": "0002"})
    write("unknown-table.json", {**document, "tables": {**document["tables"], "secrets": [{"id": 1}]}})
    # Correct up to the last table, where one row breaks a NOT NULL constraint.
    audit = [dict(row) for row in document["tables"]["audit_event"]]
    audit[-1]["actor"] = None
    write("bad-row.json", {**document, "tables": {**document["tables"], "audit_event": audit}})
    # An answer pointing at an assessment that is not in the file.
    answers = [dict(row) for row in document["tables"]["answer"]]
    answers[0]["assessment_id"] = 9999
    write("dangling.json", {**document, "tables": {**document["tables"], "answer": answers}})
    return files


def test_restore_refuses_a_wrong_or_foreign_file_and_writes_nothing(source, grid, tmp_path, new_database):
    target = _empty_app(new_database)
    for name, path in _broken_files(source, grid, tmp_path).items():
        result = _cli(target, "restore", path)
        assert result.exit_code != 0, (name, result.output)
        assert NOT_RESTORED in result.output, (name, result.output, result.exception)
        assert _is_empty(target), name
    # Each refusal says why, in French like the rest of the command.
    messages = {name: _cli(target, "restore", tmp_path / name).output
                for name in ("export.json", "old-schema.json", "unknown-table.json", "latin1.json", "truncated.json",
                             "bad-row.json")}
    assert "ce fichier n'est pas une sauvegarde « pin-backup/1 »" in messages["export.json"]
    assert "la sauvegarde est au schéma 0002" in messages["old-schema.json"]
    assert "tables inconnues : secrets" in messages["unknown-table.json"]
    assert "JSON invalide" in messages["latin1.json"] and "JSON invalide" in messages["truncated.json"]
    assert "la base de données a refusé une ligne" in messages["bad-row.json"]
    # Nothing was left behind: the good file still goes in whole, even saved again by Notepad
    # (which begins it with a byte-order mark).
    notepad = tmp_path / "notepad.json"
    notepad.write_bytes("\ufeff".encode() + (tmp_path / "backup.json").read_bytes())
    result = _cli(target, "restore", notepad)
    assert result.exit_code == 0, result.output
    assert fingerprint(target, grid) == fingerprint(source, grid)
    _dispose(target)


def test_restore_refuses_a_missing_file(app, tmp_path):
    result = _cli(app, "restore", tmp_path / "nowhere.json")
    assert result.exit_code != 0 and "does not exist" in result.output


def test_restore_into_a_database_without_the_schema_says_so(source, tmp_path, backend, request):
    _backup(source, tmp_path / "backup.json")
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'blank.sqlite'}"
    else:
        from .conftest import _pg_admin

        server = request.getfixturevalue("postgres_server")
        _pg_admin(server, "CREATE DATABASE pin_blank_restore")
        url = f"{server}/pin_blank_restore"
    blank = make_app(url)
    try:
        result = _cli(blank, "restore", tmp_path / "backup.json")
        assert result.exit_code != 0
        assert NOT_RESTORED in result.output and "flask db upgrade" in result.output, (result.output, result.exception)
    finally:
        _dispose(blank)
        if backend != "sqlite":
            _pg_admin(server, "DROP DATABASE pin_blank_restore")


@pytest.mark.parametrize("tables", [[{"territory": []}], None])
def test_restore_refuses_a_backup_whose_tables_are_not_an_object(app, tmp_path, tables):
    schema = _backup(app, tmp_path / "empty.json")["schema"]
    path = tmp_path / "odd.json"
    path.write_text(json.dumps({"format": "pin-backup/1", "schema": schema, "tables": tables}), encoding="utf-8")
    result = _cli(app, "restore", path)
    assert result.exit_code != 0
    assert NOT_RESTORED in result.output, (result.output, result.exception)
    assert _is_empty(app)


def test_a_refused_restore_says_why_in_english_too(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        with pytest.raises(backups.BackupError) as refused:
            backups.load(b'{"format": "pin-grid/1"}')
        assert str(refused.value) == "this file is not a “pin-backup/1” backup"
