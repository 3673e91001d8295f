"""The exports (issue 11, item 6), through real HTTP and the command line: each file read back
(openpyxl for XLSX, csv for CSV) and compared with the results service; who may export what;
bad parameters; the audit trail; a fixed number of SQL statements per export.

The world is test_access.py's (MTL-NORD in Montréal, LAV-01 in Laval, each with a finalised
assessment in 2024 and a draft in 2025; an administrator, a gestionnaire of Montréal, a
coordonnateur and a membre of MTL-NORD), plus three assessments that say more: a partner's
point of view with every level, comments, priorities and actions; one rated on grid 2026.1;
and one corrected by a revision, whose superseded version only `pin-grid/1` carries.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import openpyxl
import pytest
from sqlalchemy import select

from pin_grid import services
from pin_grid.extensions import db
from pin_grid.models import AuditEvent, Organization

from .conftest import ADMIN, add_user, app_with_admin, import_document, make_app, sign_in
from .test_access import (COORD, GEST, LAV_NAME, LAV_WORDS, MEMBRE, MTL_NAME, PEOPLE, ROW_LABEL, _copy_database,
                          build_world)
from .test_statement_counts import counted
from .test_web import page, visible

PARTNER = "Maison de la Famille Nord"
FORMULA = '=HYPERLINK("https://evil.example","clic")'
TRICKY = 'Virgule, point-virgule ; « guillemets " »\net une deuxième ligne'
SUPERSEDED_NOTE = "Note de la version remplacée"
STATUS_LABELS = {"implante": "Implanté", "partiel": "Partiellement implanté", "non_implante": "Non implanté",
                 "insuffisant": "Données insuffisantes"}
BOM = "\ufeff".encode()
NBSP = "\u00a0"  # before « : » in French


def _answers(grid, note=""):
    """Every level of the grid in turn, with the comments and plans a team writes."""
    codes = [lv.code for lv in grid.levels]
    answers = {}
    for n, item_id in enumerate(grid.items):
        answers[item_id] = {"level": codes[n % len(codes)], "comment": "", "priority": False, "action": "",
                            "action_owner": "", "action_due": None}
    first, second, third = list(grid.items)[:3]
    answers[first].update(comment=FORMULA, priority=True, action="Former l'équipe", action_owner="Coordination PIN",
                          action_due="2025-06-30", target="implante")
    answers[second].update(comment=TRICKY + note)
    answers[third].update(level=None)
    return answers


def _record(code, name, region, date, grid, answers, perspective=None, **more):
    return {"territory": {"code": code, "name": name, "region": region}, "date": date,
            "perspective": {"organization": perspective} if perspective else None, "status": "finalized",
            "grid_version": grid.version,
            "participants": [{"name": f"Personne-{code}", "role": "intervenante", "sector": "cisss"}],
            "organizations": [{"name": f"Organisme-{code}", "sector": "communautaire"}]
            + ([{"name": perspective, "sector": "communautaire"}] if perspective else []),
            "answers": answers, **more}


def _more_assessments(grids):
    current, older = grids.current, grids["2026.1"]
    full = {i: {**a, "level": a["level"] or "partiel"} for i, a in _answers(current).items()}
    full_older = {i: {**a, "level": a["level"] or "partiel"} for i, a in _answers(older).items()}
    superseded = {i: {**a, "comment": SUPERSEDED_NOTE} for i, a in full.items()}
    return [
        _record("MTL-NORD", MTL_NAME, "Montréal", "2024-09-20", current, full, perspective=PARTNER),
        _record("LAV-01", LAV_NAME, "Laval", "2023-05-01", older, full_older),
        _record("MTL-NORD", MTL_NAME, "Montréal", "2023-06-01", current, full, revision=2,
                revision_reason="Une coquille",
                versions=[{**_record("MTL-NORD", MTL_NAME, "Montréal", "2023-06-01", current, superseded),
                           "status": "superseded", "revision": 1}]),
    ]


@pytest.fixture(scope="module")
def world(sqlite_template, tmp_path_factory, grid, grids):
    """The database, made once; every person signed in once. The exports only read (and add
    lines to the audit trail), so the tests share it."""
    folder = tmp_path_factory.mktemp("exports")
    path = folder / "world.sqlite"
    _copy_database(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    add_user(app, ADMIN, "admin")
    ids = build_world(app, folder, grid)
    import_document(app, folder / "more.json", _more_assessments(grids))
    with app.app_context():
        ids["partner"] = db.session.scalar(select(Organization.id).where(Organization.name == PARTNER))
        ids["lav_organization"] = db.session.scalar(
            select(Organization.id).where(Organization.name == "Organisme-LAV-01"))
        db.session.remove()
    cookies = {email: sign_in(app.test_client(), email).get_cookie("session").value
               for email in (ADMIN, GEST, COORD, MEMBRE)}
    yield app, ids, cookies
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def app(world):
    return world[0]


@pytest.fixture(scope="module")
def ids(world):
    return world[1]


@pytest.fixture
def browser(world):
    def open_as(email):
        client = world[0].test_client()
        client.set_cookie("session", world[2][email])
        return client
    return open_as


def xlsx(response):
    assert response.status_code == 200, page(response)[:500]
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return openpyxl.load_workbook(io.BytesIO(response.data))


def table(worksheet) -> list[dict]:
    rows = list(worksheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def csv_rows(response, dialect="excel") -> list[dict]:
    assert response.status_code == 200, page(response)[:500]
    assert response.mimetype == "text/csv"
    data = response.data
    if dialect == "excel":
        assert data.startswith(BOM)
        data = data[len(BOM):]
    else:
        assert not data.startswith(BOM)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""),
                               delimiter=";" if dialect == "excel" else ","))
    # What Excel shows: a symbol is written as the formula of a text constant (="=").
    return [{k: as_excel_shows(v) for k, v in row.items()} for row in rows] if dialect == "excel" else rows


def as_excel_shows(value: str) -> str:
    return value[2:-1] if value.startswith('="') and value.endswith('"') else value


def number(text: str) -> float | None:
    """A score as either CSV writes it (« 62,5 » or « 62.5 »)."""
    return float(text.replace(",", ".")) if text else None


# --- what the files hold -------------------------------------------------------------------

def expected_results(app) -> dict[tuple[int, str], dict]:
    """Each assessment in force × theme, as the results service scores it."""
    with app.app_context():
        grids = app.extensions["pin_grid"]
        expected = {}
        for a in services.current_assessments():
            grid = grids.of(a.grid_version)
            results = services.results_of(a, grid)
            standing, _reference = services.standing_of(a, results, grids)
            for t in results.themes:
                expected[(a.id, t.theme.letter)] = {
                    "territory": a.territory.code, "counts": t.score.counts, "answered": t.score.answered,
                    "total": t.score.total, "score": t.score.score, "status": STATUS_LABELS[t.score.status],
                    "symbol": standing.symbols.get(t.theme.id), "version": a.grid_version}
        db.session.remove()
    return expected


def test_the_results_export_agrees_with_the_results_service(app, browser):
    expected = expected_results(app)
    admin = browser(ADMIN)
    response = admin.get("/exports/resultats?format=xlsx")
    assert response.headers["Content-Disposition"] == "attachment; filename=resultats.xlsx"
    rows = table(xlsx(response)["Résultats"])
    assert len(rows) == len(expected) == 7 * 6  # seven assessments in force (the superseded one left out), six themes
    for row in rows:
        want = expected[(row["No de l'évaluation"], row["Thème"])]
        assert row["Code du territoire"] == want["territory"] and row["Version de la grille"] == want["version"]
        assert [row[label] for label in ("Implanté", "Partiellement implanté", "Non implanté", "On ne sait pas")] == [
            want["counts"][code] for code in ("implante", "partiel", "non_implante", "ne_sais_pas")]
        # « Sans objet » is counted where the version has it, empty where it does not (2026.1).
        assert row["Sans objet"] == want["counts"].get("sans_objet")
        assert (row["Énoncés"], row["Énoncés répondus"]) == (want["total"], want["answered"])
        assert row["Score"] == (pytest.approx(want["score"]) if want["score"] is not None else None)
        assert (row["Statut du thème"], row["Symbole"]) == (want["status"], want["symbol"])
    assert {row["Sans objet"] for row in rows if row["Version de la grille"] == "2026.1"} == {None}
    assert any(row["Sans objet"] for row in rows) and any(row["On ne sait pas"] for row in rows)
    assert {row["Symbole"] for row in rows if row["Thème"] == "S"} == {None}  # structures have no symbol

    for dialect, query in (("excel", ""), ("rfc4180", "&dialect=rfc4180")):
        response = admin.get(f"/exports/resultats?format=csv{query}")
        assert response.is_streamed  # sent as it is written, never whole in memory
        assert response.headers["Content-Disposition"] == "attachment; filename=resultats.csv"
        rows = csv_rows(response, dialect)
        assert len(rows) == len(expected)
        for row in rows:
            want = expected[(int(row["No de l'évaluation"]), row["Thème"])]
            score = row["Score"]
            if dialect == "excel":
                assert "." not in score
            else:
                assert "," not in score
            assert number(score) == (round(want["score"], 1) if want["score"] is not None else None)
            assert (int(row["Implanté"]), int(row["Énoncés répondus"]), row["Symbole"]) == (
                want["counts"]["implante"], want["answered"], want["symbol"] or "")


def test_the_answers_export_words_each_statement_as_its_version_did(app, browser, grids):
    with app.app_context():
        in_force = {a.id: (a.grid_version, {x.item_id: x for x in a.answers}, a.territory.code)
                    for a in services.current_assessments()}
        db.session.remove()
    book = xlsx(browser(ADMIN).get("/exports/reponses?format=xlsx"))
    sheet = book["Réponses"]
    rows = table(sheet)
    assert len(rows) == sum(len(grids[version].items) for version, _answers, _code in in_force.values())
    for row in rows:
        version, answers, code = in_force[row["No de l'évaluation"]]
        grid = grids[version]
        item = row["Énoncé"]
        assert row["Texte de l'énoncé"] == grid.items[item].text.fr
        answer = answers.get(item)
        assert row["Niveau (code)"] == (answer.level if answer else None)
        assert row["Niveau"] == (grid.level[answer.level].label.fr if answer and answer.level else None)
        assert row["Commentaire"] == (answer.comment or None if answer else None)
    older = next(r for r in rows if r["Version de la grille"] == "2026.1" and r["Énoncé"] == "ECO-1")
    assert older["Texte de l'énoncé"] == grids["2026.1"].items["ECO-1"].text.fr != grids.current.items["ECO-1"].text.fr
    assert not [r for r in rows if r["Commentaire"] == SUPERSEDED_NOTE]  # the version in force only
    planned = next(r for r in rows if r["Commentaire"] == FORMULA and r["Point de vue"] == PARTNER)
    assert (planned["Priorité"], planned["Piste d'action"], planned["Responsable"], planned["Cible"]) == (
        True, "Former l'équipe", "Coordination PIN", "Implanté")
    assert planned["Échéance"] == dt.datetime(2025, 6, 30) and planned["Date"] == dt.datetime(2024, 9, 20)
    # A comment that looks like a formula stays a text; the date cells are dates.
    cell = next(c for c in sheet["N"] if c.value == FORMULA)
    assert cell.data_type == "s"
    assert sheet["E2"].is_date and sheet["E2"].number_format == "yyyy-mm-dd"
    assert any(r["Commentaire"] == TRICKY for r in rows)

    excel = csv_rows(browser(ADMIN).get("/exports/reponses?format=csv"))
    scripts = csv_rows(browser(ADMIN).get("/exports/reponses?format=csv&dialect=rfc4180"), "rfc4180")
    assert len(excel) == len(scripts) == len(rows)
    assert {r["Commentaire"] for r in excel} >= {"'" + FORMULA, TRICKY}  # Excel shows it, never runs it
    assert {r["Commentaire"] for r in scripts} >= {FORMULA, TRICKY}
    assert {r["Priorité"] for r in excel} == {"oui", "non", ""}
    assert {r["Priorité"] for r in scripts} == {"true", "false", ""}
    assert {r["Échéance"] for r in scripts} == {"2025-06-30", ""}


def test_the_about_sheet_says_what_when_by_whom_and_with_which_filters(app, browser, ids):
    before = dt.datetime.now()
    response = browser(GEST).get(f"/exports/reponses?annee=2024&region=Montréal&organisation={ids['partner']}")
    assert response.headers["Content-Disposition"] == "attachment; filename=reponses-2024-montreal.xlsx"
    book = xlsx(response)
    assert book.sheetnames == ["Réponses", "À propos"]
    about = dict(list(book["À propos"].iter_rows(values_only=True))[1:])
    assert about["Export"] == "Réponses à tous les énoncés" and about["Format"] == "XLSX" and about["Par"] == GEST
    assert about["Portée"] == f"les territoires de vos régions{NBSP}: Montréal"
    filters = [about[key] for key in ("Année", "Région", "Point de vue", "Organisme")]
    assert filters == ["2024", "Montréal", "tous", PARTNER]
    assert about["Lignes"] == 24 == len(table(book["Réponses"]))  # the partner's view only: where it took part
    moment = about["Exporté le (heure du Québec)"]
    assert isinstance(moment, dt.datetime) and abs(moment - before) < dt.timedelta(days=1)
    sheet = book["Réponses"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:R25"
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.actor == GEST, AuditEvent.action == "export")
                                   .order_by(AuditEvent.id.desc())).first()
        db.session.remove()
    assert event.detail == f"answers xlsx annee=2024 region=Montréal organisation={ids['partner']}"


def test_filters_by_point_of_view(browser):
    admin = browser(ADMIN)
    partners = table(xlsx(admin.get("/exports/resultats?perspective=partner"))["Résultats"])
    assert {r["Point de vue"] for r in partners} == {PARTNER} and len(partners) == 6
    collective = table(xlsx(admin.get("/exports/resultats?perspective=collective&annee=2024"))["Résultats"])
    assert {r["Point de vue"] for r in collective} == {"Vue collective du territoire"}
    assert {r["Territoire"] for r in collective} == {MTL_NAME, LAV_NAME} and len(collective) == 12


# --- the comparison: as the comparison page shows it -----------------------------------------

def comparison_page_labels(client):
    return ROW_LABEL.findall(visible(page(client.get("/comparaison/?annee=2024"))))


@pytest.mark.parametrize("email", [ADMIN, GEST, COORD])
def test_the_comparison_export_shows_what_the_comparison_page_shows(app, browser, email):
    client = browser(email)
    with app.app_context():
        grids = app.extensions["pin_grid"]
        rows = {r.assessment.territory.code: r for r in services.compare_year(2024, grids).rows}
        components = [t for t in grids.current.components]
        db.session.remove()
    response = client.get("/exports/comparaison?annee=2024&format=xlsx")
    assert response.headers["Content-Disposition"] == "attachment; filename=comparaison-2024.xlsx"
    exported = table(xlsx(response)["Comparaison 2024"])
    labels = [r["Territoire"].removeprefix("Territoire ") for r in exported if r["Code du territoire"] is None]
    assert labels == comparison_page_labels(client)
    assert ([r["Territoire"] for r in exported if r["Code du territoire"]] ==
            ([LAV_NAME, MTL_NAME] if email == ADMIN else [MTL_NAME]))
    for r in exported:
        code = r["Code du territoire"] or "LAV-01"  # the only one anyone here sees under a label
        want = rows[code]
        for t in components:
            assert r[f"{t.letter}{NBSP}: symbole"] == want.standing.symbols[t.id]
            assert r[f"{t.letter}{NBSP}: score"] == pytest.approx(want.score(t.id))
        assert r[f"Ensemble{NBSP}: symbole"] == want.standing.ensemble_symbol
        assert r["Profil"] == want.standing.profile.letter
        assert r[f"Ensemble{NBSP}: score"] == pytest.approx(want.standing.ensemble)
        if r["Code du territoire"] is None:
            assert r["Région"] is None and r["Date"] is None  # nothing the page does not show
    text = csv_rows(client.get("/exports/comparaison?annee=2024&format=csv"))
    assert [r["Territoire"] for r in text] == [r["Territoire"] for r in exported]
    if email != ADMIN:
        raw = client.get("/exports/comparaison?annee=2024&format=csv&dialect=rfc4180").get_data(as_text=True)
        assert not [w for w in LAV_WORDS if w in raw]


def test_the_comparison_page_offers_its_export(browser):
    text = page(browser(COORD).get("/comparaison/?annee=2024&region=Montréal"))
    assert "/exports/comparaison?annee=2024&region=Montr%C3%A9al&format=xlsx" in text
    export = table(xlsx(browser(COORD).get("/exports/comparaison?annee=2024&region=Montréal"))["Comparaison 2024"])
    assert [r["Territoire"] for r in export] == [MTL_NAME]


# --- who may export what ---------------------------------------------------------------------

def territories_in(response) -> set[str]:
    return {r["Code du territoire"] for r in csv_rows(response, "rfc4180")}


@pytest.mark.parametrize("email, codes", [(ADMIN, {"MTL-NORD", "LAV-01"}), (GEST, {"MTL-NORD"}),
                                          (COORD, {"MTL-NORD"}), (MEMBRE, {"MTL-NORD"})])
def test_each_person_exports_the_assessments_they_may_read(browser, email, codes):
    client = browser(email)
    for what in ("resultats", "reponses"):
        response = client.get(f"/exports/{what}?format=csv&dialect=rfc4180")
        text = response.get_data(as_text=True)
        assert territories_in(response) == codes
        if "LAV-01" not in codes:
            assert not [w for w in (*LAV_WORDS, *PEOPLE["other"]) if w in text]


def test_the_exchange_export_is_the_command_s_for_the_assessments_in_scope(app, browser, tmp_path):
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["export-assessments", "-o", str(tmp_path / "all.json")])
        db.session.remove()
    assert result.exit_code == 0, result.output
    everything = json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))
    response = browser(ADMIN).get("/exports/evaluations")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == "attachment; filename=evaluations.json"
    assert response.get_json() == everything
    mine = browser(COORD).get("/exports/evaluations").get_json()
    assert mine["assessments"] == [a for a in everything["assessments"] if a["territory"]["code"] == "MTL-NORD"]
    assert SUPERSEDED_NOTE in json.dumps(mine, ensure_ascii=False)  # with every version
    collective_2024 = browser(COORD).get("/exports/evaluations?annee=2024&perspective=collective").get_json()
    assert [(a["date"], a["perspective"]) for a in collective_2024["assessments"]] == [("2024-03-14", None)]
    for email in (GEST, MEMBRE):
        assert browser(email).get("/exports/evaluations").status_code == 403


def test_roles_without_the_comparison_or_the_exchange_format_are_refused_and_not_offered(browser):
    membre = browser(MEMBRE)
    assert membre.get("/exports/comparaison?annee=2024").status_code == 403
    assert membre.get("/exports/evaluations").status_code == 403
    text = page(membre.get("/exports/"))
    assert "/exports/resultats?format=xlsx" in text and "/exports/reponses?format=csv&dialect=rfc4180" in text
    assert "/exports/comparaison" not in text and "/exports/evaluations" not in text
    admin = page(browser(ADMIN).get("/exports/"))
    assert "/exports/comparaison?format=xlsx" in admin and "/exports/evaluations" in admin
    assert 'href="/exports/"' in admin  # in the navigation of every page


def test_signed_out_people_are_sent_to_sign_in(app):
    for url in ("/exports/", "/exports/reponses?format=csv", "/exports/evaluations"):
        response = app.test_client().get(url)
        assert response.status_code == 302 and "/connexion" in response.location


def test_the_export_page_carries_its_filters_to_every_link(browser, ids):
    partner = ids["partner"]
    text = page(browser(ADMIN).get(f"/exports/?annee=2024&region=Montréal&perspective=partner&organisation={partner}"))
    query = f"annee=2024&region=Montr%C3%A9al&perspective=partner&organisation={partner}"
    assert f"/exports/reponses?format=csv&{query}" in text
    # The comparison is of collective views: the point of view is not passed to it.
    assert f"/exports/comparaison?format=xlsx&annee=2024&region=Montr%C3%A9al&organisation={ids['partner']}" in text
    assert re.search(rf'<option value="{ids["partner"]}" selected>{PARTNER}</option>', text)
    # A coordonnateur is offered the organisations of their territory only.
    coord = page(browser(COORD).get("/exports/"))
    assert "Organisme-MTL-NORD" in coord and "Organisme-LAV-01" not in coord


# --- bad parameters ---------------------------------------------------------------------------

@pytest.mark.parametrize("url, message", [
    ("/exports/reponses?annee=deux-mille", "Année invalide : « deux-mille »"),
    ("/exports/reponses?annee=20245", "Année invalide"),
    ("/exports/resultats?annee=1850", "Année invalide"),
    ("/exports/resultats?region=Atlantide", "Région inconnue : « Atlantide »"),
    ("/exports/resultats?perspective=tous", "Point de vue inconnu : « tous »"),
    ("/exports/resultats?organisation=maison", "Organisme invalide : « maison »"),
    ("/exports/resultats?format=pdf", "Format inconnu : « pdf »"),
    ("/exports/resultats?format=csv&dialect=excel", "Dialecte inconnu : « excel »"),
    ("/exports/resultats?format=xlsx&dialect=rfc4180", "Seul le CSV a un autre dialecte"),
    ("/exports/resultats?year=2024", "Paramètre inconnu : « year »"),
    ("/exports/resultats?annee=2024&annee=2025", "Le paramètre « annee » est donné plusieurs fois"),
    ("/exports/comparaison?perspective=partner", "La comparaison porte sur la vue collective"),
    ("/exports/evaluations?format=xlsx", "Format inconnu : « xlsx »"),
    ("/exports/?annee=MMXXIV", "Année invalide"),
])
def test_bad_parameters_get_a_400_that_says_why(browser, url, message):
    response = browser(ADMIN).get(url)
    assert response.status_code == 400, response.status_code
    assert message in visible(page(response))


def test_the_message_is_in_the_person_s_language(browser):
    client = browser(COORD)
    client.set_cookie("lang", "en")
    response = client.get("/exports/reponses?annee=deux-mille")
    assert response.status_code == 400 and "Invalid year: “deux-mille”" in visible(page(response))


def test_an_organisation_outside_one_s_scope_is_not_found(browser, ids):
    coord = browser(COORD)
    for organization in (ids["lav_organization"], 999_999, 2**31, 10**25):
        assert coord.get(f"/exports/reponses?organisation={organization}").status_code == 404, organization
    assert coord.get(f"/exports/reponses?organisation={ids['partner']}").status_code == 200
    assert browser(ADMIN).get(f"/exports/reponses?organisation={ids['lav_organization']}").status_code == 200


# --- the command line ---------------------------------------------------------------------------

def test_the_command_line_exports_what_the_web_does_for_an_administrator(app, browser, tmp_path):
    runner = app.test_cli_runner()
    target = tmp_path / "reponses.xlsx"
    with app.app_context():
        result = runner.invoke(args=["export", "--what", "answers", "--format", "xlsx", "--year", "2024",
                                     "-o", str(target)])
        db.session.remove()
    assert result.exit_code == 0, result.output
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")
                                   .order_by(AuditEvent.id.desc())).first()
        db.session.remove()
    assert (event.actor, event.detail) == ("cli", "answers xlsx annee=2024")
    book = openpyxl.load_workbook(target)
    web = xlsx(browser(ADMIN).get("/exports/reponses?annee=2024"))
    assert table(book["Réponses"]) == table(web["Réponses"])
    about = dict(list(book["À propos"].iter_rows(values_only=True))[1:])
    assert about["Par"] == "cli" and about["Année"] == "2024"

    for what, fmt, extra in (("comparison", "csv", ["--dialect", "rfc4180", "--year", "2024"]),
                             ("results", "csv", ["--region", "Laval"]), ("json", "json", [])):
        target = tmp_path / f"{what}.{fmt}"
        with app.app_context():
            result = runner.invoke(args=["export", "--what", what, "--format", fmt, *extra, "-o", str(target)])
            db.session.remove()
        assert result.exit_code == 0, result.output
    assert [r["Territoire"] for r in csv.DictReader(io.StringIO((tmp_path / "comparison.csv").read_text("utf-8")))] == [
        LAV_NAME, MTL_NAME]
    laval = (tmp_path / "results.csv").read_bytes()
    assert laval.startswith(BOM) and b";" in laval and MTL_NAME.encode() not in laval
    assert json.loads((tmp_path / "json.json").read_text("utf-8"))["format"] == "pin-grid/1"


@pytest.mark.parametrize("args, message", [
    (["--what", "results", "--region", "Atlantide"], "Région inconnue"),
    (["--what", "results", "--format", "json"], "--format json va avec --what json"),
    (["--what", "answers", "--dialect", "rfc4180"], "--dialect ne s'applique qu'au format CSV"),
    (["--what", "results", "--organisation", "Nulle part"], "Aucun organisme de ce nom"),
])
def test_the_command_line_refuses_what_it_cannot_do(app, tmp_path, args, message):
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["export", *args, "-o", str(tmp_path / "x")])
        db.session.remove()
    assert result.exit_code == 1 and message in result.output
    assert not (tmp_path / "x").exists()


# --- PostgreSQL too ----------------------------------------------------------------------------------

def test_the_exports_read_the_same_on_each_database(web_app_on_each_database, tmp_path, grids):
    """A server-side cursor on PostgreSQL streams the rows while the cohort is read beside it."""
    app = web_app_on_each_database
    import_document(app, tmp_path / "more.json", _more_assessments(grids))
    client = sign_in(app.test_client(), ADMIN)
    results = csv_rows(client.get("/exports/resultats?format=csv&dialect=rfc4180"), "rfc4180")
    expected = expected_results(app)
    assert len(results) == len(expected) == 3 * 6
    for row in results:
        want = expected[(int(row["No de l'évaluation"]), row["Thème"])]
        assert (number(row["Score"]), row["Symbole"] or None) == (
            round(want["score"], 1) if want["score"] is not None else None, want["symbol"])
    answers = table(xlsx(client.get("/exports/reponses"))["Réponses"])
    assert len(answers) == 3 * 24 and {r["Commentaire"] for r in answers} >= {FORMULA, TRICKY}
    assert client.get("/exports/evaluations").get_json()["assessments"][0]["territory"]["code"] == "LAV-01"


# --- SQL statements per export ------------------------------------------------------------------

# The statements of each export, as the app makes them today: the same whatever the number of
# assessments. A change here is a change of how the exports read: say why in the commit.
EXPECTED = {
    # BEGIN; session and account; the cohort's members; the state of the cohort (its scores are
    # kept); the export recorded (BEGIN IMMEDIATE, INSERT: its commit is no statement).
    "comparison xlsx": 6,
    "comparison csv": 6,
    # BEGIN; session and account; the export recorded; BEGIN; the assessments with their levels
    # (one statement, read a batch at a time); the state of the year's cohort, for the symbols.
    "results xlsx": 7,
    "results csv": 7,
    # The same without the cohort: the assessments with their answers, one statement.
    "answers xlsx": 6,
    "answers csv": 6,
    # BEGIN; session and account; the assessments of the scope, then their organisations,
    # participants, territories and answers, each in one statement (and their points of view
    # when one of them has one); the export recorded.
    "json": 9,
    # BEGIN; session and account; the territories in scope, the years, the organisations.
    "page": 5,
}


@pytest.fixture(params=[6, 30], ids=lambda n: f"{n} territories")
def province(request, sqlite_url):
    for app in app_with_admin(sqlite_url):
        with app.app_context():
            result = app.test_cli_runner().invoke(args=["demo", "--territories", str(request.param), "--years", "2"])
            assert result.exit_code == 0, result.output
            year = services.comparison_years()[0]
            db.session.remove()
        yield app, sign_in(app.test_client(), ADMIN), year


def test_each_export_makes_a_fixed_number_of_statements(province):
    app, client, year = province
    urls = {"json": f"/exports/evaluations?annee={year}", "page": "/exports/"}
    for what, path in (("comparison", "comparaison"), ("results", "resultats"), ("answers", "reponses")):
        urls[f"{what} xlsx"] = f"/exports/{path}?annee={year}"
        urls[f"{what} csv"] = f"/exports/{path}?annee={year}&format=csv"
    counts = {}
    for name, url in urls.items():
        client.get(url).get_data()  # once before, uncounted: the session was just touched, the cohort's scores kept
        with counted(app) as seen:
            response = client.get(url)
            response.get_data()  # a streamed answer reads as it is sent
        assert response.status_code == 200, (url, response.status_code)
        counts[name] = len(seen["statements"])
    assert counts == EXPECTED
