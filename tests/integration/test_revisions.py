"""Finalised means final; revisions; the audit trail.

Through real HTTP (Flask test client on a real SQLite file, CSRF on) and the real commands
(`app.test_cli_runner()`), plus the services on SQLite and PostgreSQL. A finalised assessment
is attacked through every route and command that changes something: each attack gets a 4xx
with a message, the stored assessment stays exactly as it was, and an HTML page gives back
what was typed.
"""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import func, select

from pin_grid import exchange, services
from pin_grid.extensions import db
from pin_grid.models import Assessment, AuditEvent
from pin_grid.services import AnswerData, AssessmentDetails, OrganizationData, ParticipantData

from .conftest import ADMIN, add_user, sign_in
from .test_exchange import _run, _write
from .test_web import form_fields, grid_post, page, visible

COORD = "coord@cisss.example"
DATE = "2024-03-14"
LOCKED = "Cette évaluation est finalisée : elle ne peut plus être modifiée."
ONLY_CURRENT = "Seule la version finalisée en vigueur d'une évaluation peut être révisée."


# --- Helpers ------------------------------------------------------------------------------

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _token(client, url="/mot-de-passe"):
    """The session's CSRF token, from a page every signed-in person may open."""
    return _TOKEN.search(client.get(url).get_data(as_text=True)).group(1)


def _territory(client, code="MTL-NORD", name="Montréal-Nord", region="Montréal"):
    response = client.post("/territoires/nouveau", data={"csrf_token": _token(client), "code": code, "name": name,
                                                         "region": region})
    assert response.status_code == 302, page(response)


def _details_data(client, territory_id=1, date=DATE, participants=(("Ana", "intervenante", "cisss"),),
                  organizations=(("Maison de la Famille", "communautaire"),), perspective=""):
    data = {"csrf_token": _token(client), "territory": str(territory_id), "date": date, "perspective": perspective}
    for i, (name, role, sector) in enumerate(participants):
        data.update({f"participants-{i}-name": name, f"participants-{i}-role": role,
                     f"participants-{i}-sector": sector})
    for i, (name, sector) in enumerate(organizations):
        data.update({f"organizations-{i}-name": name, f"organizations-{i}-sector": sector})
    return data


def _start(client, **details):
    response = client.post("/evaluations/nouvelle", data=_details_data(client, **details))
    assert response.status_code == 302, page(response)
    return int(response.location.split("/")[2])


def _all_answers(grid, **overrides):
    answers = {item_id: {"level": "implante"} for item_id in grid.items}
    answers["ECO-1"] = {"level": "implante", "comment": "Portrait commun complet"}
    answers["PAR-2"] = {"level": "partiel", "priority": "y", "action": "Inviter les parents",
                        "action_owner": "Coordination", "action_due": "2024-09-30"}
    answers["STR-6"] = {"level": "ne_sais_pas"}
    for item_id, fields in overrides.items():
        answers[item_id] = fields
    return answers


def _finalised(client, grid, territory=True, **details):
    """A territory (MTL-NORD) and an assessment of it filled and finalised through the screens."""
    if territory:
        _territory(client)
    assessment_id = _start(client, **details)
    response = grid_post(client, assessment_id, _all_answers(grid), intent="finalize")
    assert response.status_code == 302 and response.location.endswith("/resultats"), page(response)
    return assessment_id


def body(response):
    """The page as shown, without its <head> (whose <title> must not count as shown text)."""
    return page(response).split("</head>", 1)[1]


def _revise(who, assessment_id, reason):
    return who.post(f"/evaluations/{assessment_id}/revision", data={"csrf_token": _token(who), "reason": reason})


def _coordinator(web_app, codes=("MTL-NORD",), email=COORD):
    add_user(web_app, email, "coordonnateur", territories=codes)
    return sign_in(web_app.test_client(), email)


def snapshot(web_app, assessment_id):
    """Everything stored about one assessment, plus its audit trail: equal before and after a
    refused change means nothing at all was written."""
    with web_app.app_context():
        a = db.session.get(Assessment, assessment_id)
        state = {
            "status": a.status, "revision": a.revision, "version": a.version, "updated_at": a.updated_at,
            "territory": a.territory_id, "date": a.date, "perspective": a.perspective_id,
            "supersedes": a.supersedes_id, "reason": a.revision_reason,
            "participants": [(p.position, p.name, p.role, p.sector) for p in a.participants],
            "organizations": [o.name for o in a.organizations],
            "answers": {x.item_id: (AnswerData.of(x), x.carried_over) for x in a.answers},
            "audit": [(e.id, e.action, e.item_id, e.field, e.old_value, e.new_value, e.actor)
                      for e in services.audit_trail(assessment_id)],
            "assessments": db.session.scalar(select(func.count(Assessment.id))),
        }
        db.session.remove()
    return state


def _audit_rows(web_app, assessment_id=None):
    with web_app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if assessment_id is not None:
            query = query.where(AuditEvent.assessment_id == assessment_id)
        rows = [(e.id, e.actor, e.action, e.assessment_id, e.item_id, e.field, e.old_value, e.new_value, e.detail)
                for e in db.session.scalars(query)]
        db.session.remove()
    return rows


def _document(grid, date=DATE, status="finalized", level="non_implante", code="MTL-NORD"):
    """A pin-grid/1 document with one assessment of MTL-NORD (same key as the finalised one)."""
    answers = {i: {"level": level, "comment": "importé", "priority": False, "action": "", "action_owner": "",
                   "action_due": None} for i in grid.items}
    return {"format": "pin-grid/1", "assessments": [{
        "territory": {"code": code, "name": "Montréal-Nord", "region": "Montréal"}, "date": date,
        "perspective": None, "status": status, "grid_version": grid.version,
        "participants": [{"name": "Importée", "role": "intervenante", "sector": "cisss"}],
        "organizations": [], "answers": answers}]}


def _compare(web_app, year=2024):
    result = _run(web_app, "compare", "--year", str(year), "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _export(web_app):
    result = _run(web_app, "export-assessments")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["assessments"]


def _table_rows(text):
    """The cells of each body row of the page's table, as a person reads them."""
    body = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[visible(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


# --- Finalised means final: every route and every command -----------------------------------

def _grid_save(client, aid, grid):
    return client.post(f"/evaluations/{aid}/grille", data={
        "csrf_token": _token(client), "intent": "save",
        "ECO-1-level": "non_implante", "ECO-1-comment": "Texte tapé trop tard"})


def _grid_finalize(client, aid, grid):
    data = {"csrf_token": _token(client), "intent": "finalize"}
    for item_id in grid.items:
        data[f"{item_id}-level"] = "partiel"
    data["PRN-6-comment"] = "Texte tapé trop tard"
    return client.post(f"/evaluations/{aid}/grille", data=data)


def _grid_finalize_unchanged(client, aid, grid):
    """Asking again to finalise, with exactly the stored answers."""
    data = {"csrf_token": _token(client), "intent": "finalize"}
    for item_id, fields in _all_answers(grid).items():
        for name, value in fields.items():
            data[f"{item_id}-{name}"] = value
    data["ECO-1-comment"] = "Portrait commun complet"
    return client.post(f"/evaluations/{aid}/grille", data=data)


def _details(client, aid, grid):
    return client.post(f"/evaluations/{aid}/details", data=_details_data(
        client, participants=(("Ana", "intervenante", "cisss"),
                              ("Texte tapé trop tard", "parent", "parent_partenaire"))))


HTML_ATTACKS = {"grid-save": _grid_save, "grid-finalize": _grid_finalize,
                "grid-finalize-unchanged": _grid_finalize_unchanged, "details": _details}
TYPED = {"grid-finalize-unchanged": "Portrait commun complet"}  # else: « Texte tapé trop tard »


@pytest.mark.parametrize("role", ["admin", "coordonnateur"])
@pytest.mark.parametrize("attack", list(HTML_ATTACKS))
def test_a_finalised_assessment_refuses_html_changes_and_keeps_what_was_typed(web_app, client, grid, role, attack):
    aid = _finalised(client, grid)
    who = client if role == "admin" else _coordinator(web_app)
    before = snapshot(web_app, aid)
    response = HTML_ATTACKS[attack](who, aid, grid)
    assert response.status_code == 409, (attack, response.status_code)
    text = body(response)
    assert LOCKED in text
    assert TYPED.get(attack, "Texte tapé trop tard") in text  # handed back, not thrown away
    assert snapshot(web_app, aid) == before


@pytest.mark.parametrize("role", ["admin", "coordonnateur"])
def test_a_finalised_assessment_refuses_every_statement_saved_as_people_go(web_app, client, grid, role):
    aid = _finalised(client, grid)
    who = client if role == "admin" else _coordinator(web_app)
    before = snapshot(web_app, aid)
    t = _token(who)
    for item_id, fields in [("ECO-1", {"level": "non_implante", "comment": "tardif"}),
                            ("PAR-2", {"level": "partiel", "action": "Autre piste", "action_due": "2025-01-31"}),
                            ("STR-6", {"level": "implante"}),
                            ("ENF-3", {"level": "implante", "confirm": "y"}),  # the same level: still refused
                            ("PRN-6", {"level": "", "comment": ""})]:
        data = {"csrf_token": t, **{f"{item_id}-{name}": value for name, value in fields.items()}}
        response = who.post(f"/evaluations/{aid}/enonces/{item_id}", data=data)
        assert response.status_code == 409, (item_id, response.get_data(as_text=True))
        assert response.is_json and response.get_json()["error"] == LOCKED
    assert snapshot(web_app, aid) == before


def test_a_page_loaded_while_still_a_draft_cannot_change_it_once_finalised(web_app, client, grid):
    """Someone keeps the grid open while a coordinator finalises; their later save is refused
    with their text shown back, and nothing of it is stored."""
    _territory(client)
    aid = _start(client)
    grid_post(client, aid, _all_answers(grid))
    stale = form_fields(client.get(f"/evaluations/{aid}/grille").get_data(as_text=True))
    coordinator = _coordinator(web_app)
    assert grid_post(coordinator, aid, {}, intent="finalize").status_code == 302
    before = snapshot(web_app, aid)
    response = client.post(f"/evaluations/{aid}/grille", data={
        **stale, "ECO-3-level": "non_implante", "ECO-3-comment": "Changement tardif", "intent": "save"})
    assert response.status_code == 409
    assert LOCKED in body(response) and "Changement tardif" in body(response)
    response = client.post(f"/evaluations/{aid}/enonces/ECO-3", data={
        "csrf_token": stale["csrf_token"], "ECO-3-level": "non_implante", "ECO-3-base": stale["ECO-3-base"]})
    assert response.status_code == 409 and response.get_json()["error"] == LOCKED
    assert snapshot(web_app, aid) == before


def test_a_second_assessment_of_the_same_meeting_is_refused(web_app, client, grid):
    aid = _finalised(client, grid)
    before = snapshot(web_app, aid)
    response = client.post("/evaluations/nouvelle", data=_details_data(
        client, participants=(("Texte tapé trop tard", "intervenante", "cisss"),)))
    assert response.status_code == 409
    assert "Une évaluation existe déjà pour ce territoire" in body(response)
    assert "Texte tapé trop tard" in body(response)
    assert snapshot(web_app, aid) == before


def test_opening_a_revision_twice_is_refused_and_leaves_both_versions_alone(web_app, client, grid):
    aid = _finalised(client, grid)
    coordinator = _coordinator(web_app)
    first = _revise(coordinator, aid, "Erreur sur ECO-1")
    assert first.status_code == 302
    revision_id = int(first.location.split("/")[2])
    before, revision_before = snapshot(web_app, aid), snapshot(web_app, revision_id)
    for who in (coordinator, client):
        response = _revise(who, aid, "Deuxième correction tapée")
        assert response.status_code == 409
        text = body(response)
        assert "Une révision de cette évaluation est déjà en cours." in text
        assert "Deuxième correction tapée" in text
    assert snapshot(web_app, aid) == before
    assert snapshot(web_app, revision_id) == revision_before


def test_a_draft_cannot_be_revised(web_app, client, grid):
    _territory(client)
    aid = _start(client)
    before = snapshot(web_app, aid)
    response = _revise(client, aid, "Pourquoi pas")
    assert response.status_code == 409
    assert snapshot(web_app, aid) == before


def test_importing_the_same_meeting_without_replace_skips_it(web_app, client, grid, tmp_path):
    aid = _finalised(client, grid)
    before = snapshot(web_app, aid)
    for status in ("finalized", "draft"):
        path = _write(tmp_path / f"{status}.json", _document(grid, status=status))
        result = _run(web_app, "import-assessments", path)
        assert result.exit_code == 0, result.output
        assert "créées : 0, remplacées : 0, ignorées : 1" in result.output
        assert ("déjà présente, ignorée (--replace pour la remplacer) : assessments[0] MTL-NORD 2024-03-14"
                in result.output)
    assert snapshot(web_app, aid) == before


def test_import_replace_does_not_overwrite_a_finalised_assessment(web_app, client, grid, tmp_path):
    aid = _finalised(client, grid)
    coordinator = _coordinator(web_app)
    first = _revise(coordinator, aid, "ECO-1")
    revision_id = int(first.location.split("/")[2])
    assert grid_post(coordinator, revision_id, {"ECO-1": {"level": "partiel"}}, intent="finalize").status_code == 302
    before, revision_before = snapshot(web_app, aid), snapshot(web_app, revision_id)
    result = _run(web_app, "import-assessments", "--replace", _write(tmp_path / "doc.json", _document(grid)))
    # The product rule: finalised means final, for commands too; a correction is a revision.
    assert result.exit_code != 0
    assert "finalisée" in result.output
    assert snapshot(web_app, aid) == before
    assert snapshot(web_app, revision_id) == revision_before


def test_import_replace_still_replaces_a_draft(web_app, client, grid, tmp_path):
    _territory(client)
    aid = _start(client)
    grid_post(client, aid, {"ECO-1": {"level": "partiel"}})
    result = _run(web_app, "import-assessments", "--replace", _write(tmp_path / "doc.json", _document(grid)))
    assert result.exit_code == 0 and "remplacées : 1" in result.output, result.output
    [exported] = _export(web_app)
    assert exported["answers"]["ECO-1"]["level"] == "non_implante" and exported["status"] == "finalized"


def test_a_superseded_version_refuses_every_change(web_app, client, grid):
    aid = _finalised(client, grid)
    response = _revise(client, aid, "ECO-1")
    revision_id = int(response.location.split("/")[2])
    assert grid_post(client, revision_id, {"ECO-1": {"level": "partiel"}}, intent="finalize").status_code == 302
    before = snapshot(web_app, aid)
    assert before["status"] == "superseded"
    for name, attack in HTML_ATTACKS.items():
        response = attack(client, aid, grid)
        assert response.status_code == 409 and LOCKED in body(response), name
        assert TYPED.get(name, "Texte tapé trop tard") in body(response), name
    response = client.post(f"/evaluations/{aid}/enonces/ECO-1", data={"csrf_token": _token(client),
                                                                       "ECO-1-level": "non_implante"})
    assert response.status_code == 409 and response.get_json()["error"] == LOCKED
    response = _revise(client, aid, "Encore")
    assert response.status_code == 409
    assert snapshot(web_app, aid) == before


# --- Revisions ----------------------------------------------------------------------------

def test_a_revision_replaces_the_finalised_version_only_once_finalised(web_app, client, grid):
    aid = _finalised(client, grid)
    coordinator = _coordinator(web_app)
    original = snapshot(web_app, aid)
    # An empty reason is refused, with the message, and opens nothing.
    response = _revise(coordinator, aid, "  ")
    assert response.status_code == 422
    assert "Indiquez pourquoi l'évaluation est corrigée." in body(response)
    assert 'name="reason"' in body(response)
    assert snapshot(web_app, aid) == original

    response = _revise(coordinator, aid, "ECO-1 mal saisi")
    assert response.status_code == 302
    revision_id = int(response.location.split("/")[2])
    assert response.location == f"/evaluations/{revision_id}/grille"
    revision = snapshot(web_app, revision_id)
    assert (revision["status"], revision["revision"], revision["supersedes"], revision["reason"]) == (
        "draft", 2, aid, "ECO-1 mal saisi")
    for key in ("territory", "date", "perspective", "participants", "organizations"):
        assert revision[key] == original[key], key
    assert {i: a for i, (a, _) in revision["answers"].items()} == {i: a for i, (a, _) in original["answers"].items()}
    assert snapshot(web_app, aid)["status"] == "finalized"
    assert "Portrait commun complet" in body(coordinator.get(f"/evaluations/{revision_id}/grille"))

    # Until the revision is finalised, the original is the version in force.
    text = body(coordinator.get(f"/evaluations/{aid}/resultats"))
    assert "Version remplacée" not in text and "100,0" in text
    [row] = _compare(web_app)["rows"]
    assert row["themes"]["ecosystemique"]["score"] == 100.0
    [exported] = _export(web_app)
    assert exported["answers"]["ECO-1"]["level"] == "implante" and exported["status"] == "finalized"

    response = grid_post(coordinator, revision_id, {"ECO-1": {"level": "non_implante", "comment": "Corrigé"}},
                         intent="finalize")
    assert response.status_code == 302 and response.location == f"/evaluations/{revision_id}/resultats"
    assert snapshot(web_app, aid)["status"] == "superseded"
    assert snapshot(web_app, revision_id)["status"] == "finalized"
    assert {i: a for i, (a, _) in snapshot(web_app, aid)["answers"].items()} == {
        i: a for i, (a, _) in original["answers"].items()}

    # The replaced version stays readable with its own results, and says it was replaced.
    response = coordinator.get(f"/evaluations/{aid}/resultats")
    assert response.status_code == 200
    text = visible(body(response))
    assert "Version remplacée" in text
    assert "A Approche écosystémique 4 0 0 0 0 4 / 4 100,0" in text  # its own results, not the revision's
    assert "A Approche écosystémique 3 0 1 0 0 4 / 4 75,0" in visible(
        body(coordinator.get(f"/evaluations/{revision_id}/resultats")))
    assert "Version remplacée" not in body(coordinator.get(f"/evaluations/{revision_id}/resultats"))
    assert coordinator.get(f"/evaluations/{aid}/grille").status_code == 302

    # The comparison and the export now use the revision.
    [row] = _compare(web_app)["rows"]
    assert row["themes"]["ecosystemique"]["score"] == 75.0
    assert row["ensemble"]["score"] == pytest.approx((75.0 + 100.0 * 3 + 87.5) / 5)
    [exported] = _export(web_app)
    eco1 = exported["answers"]["ECO-1"]
    assert (eco1["level"], eco1["comment"]) == ("non_implante", "Corrigé")

    # A superseded version cannot be revised again; the current one can.
    response = _revise(coordinator, aid, "Encore une fois")
    assert response.status_code == 409
    assert snapshot(web_app, aid)["assessments"] == 2
    response = _revise(coordinator, revision_id, "Troisième")
    assert response.status_code == 302
    assert snapshot(web_app, int(response.location.split("/")[2]))["revision"] == 3


def test_revising_a_superseded_version_says_why(web_app, client, grid):
    aid = _finalised(client, grid)
    response = _revise(client, aid, "ECO-1")
    revision_id = int(response.location.split("/")[2])
    assert grid_post(client, revision_id, {"ECO-1": {"level": "partiel"}}, intent="finalize").status_code == 302
    response = _revise(client, aid, "Raison tapée pour rien")
    assert response.status_code == 409
    assert ONLY_CURRENT in body(response) and "Raison tapée pour rien" in body(response)


def test_the_versions_navigation_lists_every_version(web_app, client, grid):
    aid = _finalised(client, grid)
    response = _revise(client, aid, "Participants oubliés")
    revision_id = int(response.location.split("/")[2])
    for current, other in ((aid, revision_id), (revision_id, aid)):
        text = body(client.get(f"/evaluations/{current}/resultats"))
        nav = visible(text.split('class="versions"', 1)[1].split("</nav>", 1)[0])
        assert "Versions : révision 1 · révision 2 (Participants oubliés)" in nav
        assert f'href="/evaluations/{other}/resultats"' in text
    assert grid_post(client, revision_id, {}, intent="finalize").status_code == 302
    text = body(client.get(f"/evaluations/{aid}/resultats"))
    assert "révision 2 (Participants oubliés)" in visible(text)
    assert f'href="/evaluations/{revision_id}/resultats"' in text


def test_the_results_page_title_is_plain_text(web_app, client, grid):
    aid = _finalised(client, grid)
    title = page(client.get(f"/evaluations/{aid}/resultats")).split("<title>", 1)[1].split("</title>", 1)[0]
    assert " ".join(title.split()) == "Résultats — Montréal-Nord — Grille PIN"


def test_the_membre_role_may_not_revise(web_app, client, grid):
    aid = _finalised(client, grid)
    add_user(web_app, "membre@cisss.example", "membre", territories=["MTL-NORD"])
    member = sign_in(web_app.test_client(), "membre@cisss.example")
    before = snapshot(web_app, aid)
    response = _revise(member, aid, "Moi aussi")
    assert response.status_code == 403
    assert snapshot(web_app, aid)["assessments"] == before["assessments"]


# --- The audit trail through the screens ----------------------------------------------------

def test_the_journal_shows_every_change_with_who_and_the_old_and_new_values(web_app, client, grid, tmp_path):
    _territory(client)
    aid = _start(client)
    assert grid_post(client, aid, {"ECO-1": {"level": "implante"}}).status_code == 302
    assert grid_post(client, aid, {"ECO-1": {"comment": "Premier avis"}}).status_code == 302
    assert grid_post(client, aid, {"ECO-1": {"comment": "Deuxième avis"}}).status_code == 302
    response = client.post(f"/evaluations/{aid}/enonces/ECO-2", data={
        "csrf_token": _token(client), "ECO-2-level": "partiel", "ECO-2-action": "Former l'équipe"})
    assert response.status_code == 200, response.get_data(as_text=True)
    response = client.post(f"/evaluations/{aid}/details", data=_details_data(
        client, participants=(("Ana", "intervenante", "cisss"), ("Béatrice", "parent", "parent_partenaire"))))
    assert response.status_code == 302, page(response)
    early = _audit_rows(web_app)
    coordinator = _coordinator(web_app)
    rest = {i: {"level": "implante"} for i in grid.items if i not in ("ECO-1", "ECO-2")}
    assert grid_post(coordinator, aid, rest, intent="finalize").status_code == 302
    response = _revise(coordinator, aid, "Oubli de Chantal")
    revision_id = int(response.location.split("/")[2])
    other = _document(grid, date="2025-02-01")
    assert _run(web_app, "import-assessments", _write(tmp_path / "doc.json", other)).exit_code == 0
    assert _run(web_app, "import-assessments", _write(tmp_path / "doc.json", other)).exit_code == 0  # skipped

    # Nothing recorded earlier was changed or removed along the way.
    assert _audit_rows(web_app)[:len(early)] == early

    rows = {(actor, action, item, field, old, new)
            for _, actor, action, _, item, field, old, new, _ in _audit_rows(web_app, aid)}
    expected = {
        (ADMIN, "answer", "ECO-1", "level", None, "implante"),
        (ADMIN, "answer", "ECO-1", "comment", "", "Premier avis"),
        (ADMIN, "answer", "ECO-1", "comment", "Premier avis", "Deuxième avis"),
        (ADMIN, "answer", "ECO-2", "level", None, "partiel"),
        (ADMIN, "answer", "ECO-2", "action", "", "Former l'équipe"),
        (ADMIN, "details", None, "participants", '["Ana (intervenante, cisss)"]',
         '["Ana (intervenante, cisss)", "Béatrice (parent, parent_partenaire)"]'),
        (COORD, "answer", "PRN-6", "level", None, "implante"),
        (COORD, "finalize", None, None, None, None),
        (COORD, "revise", None, None, None, str(revision_id)),
    }
    assert expected <= rows, expected - rows
    [create] = [r for r in _audit_rows(web_app, aid) if r[2] == "create"]
    assert create[1] == ADMIN and "Ana (intervenante, cisss)" in create[7] and '"MTL-NORD"' in create[7]
    [revise] = [r for r in _audit_rows(web_app, aid) if r[2] == "revise"]
    assert revise[8] == "Oubli de Chantal"
    [imported] = [r for r in _audit_rows(web_app) if r[2] == "import"]  # the skipped one left no trace
    assert imported[1] == services.SYSTEM and imported[3] not in (aid, revision_id)

    # The journal page shows the same, in the order things happened.
    response = client.get(f"/evaluations/{aid}/journal")
    assert response.status_code == 200
    text = page(response)
    assert "Ce journal ne peut être ni modifié ni effacé" in text
    assert "<title>Journal des modifications — Grille PIN</title>" in text
    # Each row: who, what happened (a sentence), the statement's id, before, after — in words (test_journal.py).
    table = [[cells[1], cells[2], cells[3].split(" ")[0], cells[4], cells[5]] for cells in _table_rows(text)]
    for wanted in (
        [ADMIN, "Réponse modifiée : niveau.", "ECO-1", "sans réponse", "Implanté"],
        [ADMIN, "Réponse modifiée : commentaire.", "ECO-1", "Premier avis", "Deuxième avis"],
        [ADMIN, "Réponse modifiée : piste d'action.", "ECO-2", "—", "Former l'équipe"],
        [ADMIN, "Renseignements modifiés : personnes participantes.", "", "Ana — intervenante, CISSS / CIUSSS",
         "Ana — intervenante, CISSS / CIUSSS Béatrice — parent, Parent-partenaire"],
        [COORD, "Évaluation finalisée (révision 1) : ses réponses sont verrouillées.", "", "—", "—"],
        [COORD, f"Révision ouverte pour corriger cette évaluation (nouvelle version : évaluation nº {revision_id}). "
                "Raison : « Oubli de Chantal »", "", "—", "—"],
    ):
        assert wanted in table, (wanted, table)
    actions = [cells[1].split()[0] for cells in table]
    assert actions[0] == "Évaluation" and actions[-1] == "Révision"
    assert actions.index("Évaluation", 1) < len(actions) - 1  # finalised before the revision was opened
    assert all(re.fullmatch(r"\d{1,2} \w+ \d{4} à \d\d:\d\d", cells[0]) for cells in _table_rows(text))

    revision_page = visible(page(coordinator.get(f"/evaluations/{revision_id}/journal")))
    assert f"Révision 2 créée pour corriger l'évaluation nº {aid}. Raison : « Oubli de Chantal »" in revision_page
    import_page = visible(page(client.get(f"/evaluations/{imported[3]}/journal")))
    assert "système (ligne de commande) Importée d'un fichier d'échange (MTL-NORD 2025-02-01)." in import_page


def test_who_may_read_the_journal(web_app, client, grid):
    aid = _finalised(client, grid)
    _territory(client, "LAV", "Laval", "Laval")
    add_user(web_app, "membre@cisss.example", "membre", territories=["MTL-NORD"])
    add_user(web_app, "gest@cisss.example", "gestionnaire", regions=["Montréal"])
    assert _coordinator(web_app).get(f"/evaluations/{aid}/journal").status_code == 200
    assert client.get(f"/evaluations/{aid}/journal").status_code == 200
    assert sign_in(web_app.test_client(), "membre@cisss.example").get(f"/evaluations/{aid}/journal").status_code == 403
    assert sign_in(web_app.test_client(), "gest@cisss.example").get(f"/evaluations/{aid}/journal").status_code == 403
    elsewhere = _coordinator(web_app, codes=("LAV",), email="coord-laval@cisss.example")
    assert elsewhere.get(f"/evaluations/{aid}/journal").status_code == 404
    assert web_app.test_client().get(f"/evaluations/{aid}/journal").status_code in (302, 401)


def test_no_route_edits_or_deletes_the_audit_trail(web_app, client, grid):
    readonly = {"GET", "HEAD", "OPTIONS"}
    audit_rules = [r for r in web_app.url_map.iter_rules()
                   if any(word in (r.rule + " " + r.endpoint).lower() for word in ("journal", "audit"))]
    assert audit_rules, "the journal route was not found"
    for rule in audit_rules:
        assert rule.methods <= readonly, (rule.rule, rule.methods)
    for rule in web_app.url_map.iter_rules():
        assert not rule.methods & {"DELETE", "PUT", "PATCH"}, (rule.rule, rule.methods)
    aid = _finalised(client, grid)
    before = _audit_rows(web_app)
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(f"/evaluations/{aid}/journal", data={"csrf_token": _token(client)})
        assert response.status_code == 405, method
    assert _audit_rows(web_app)[:len(before)] == before


def test_sign_ins_failed_sign_ins_and_refused_accesses_are_recorded(web_app, client, grid):
    aid = _finalised(client, grid)
    add_user(web_app, "membre@cisss.example", "membre", territories=["MTL-NORD"])
    before = len(_audit_rows(web_app))
    anonymous = web_app.test_client()
    response = anonymous.post("/connexion", data={"csrf_token": _token(anonymous, "/connexion"),
                                                  "email": "membre@cisss.example", "password": "pas le bon"})
    assert response.status_code == 401
    member = sign_in(web_app.test_client(), "membre@cisss.example")
    assert member.get(f"/evaluations/{aid}/journal").status_code == 403
    events = [(actor, action, detail) for _, actor, action, _, _, _, _, _, detail in _audit_rows(web_app)[before:]]
    assert [a for _, a, _ in events] == ["login_failed", "login", "access_denied"], events
    assert all(actor == "membre@cisss.example" for actor, _, _ in events)
    assert f"GET /evaluations/{aid}/journal -> 403" in events[2][2]


# --- The audit trail of the services, on SQLite and PostgreSQL -------------------------------

ACTOR = "x@y"


def _details_of(territory_id, participants=(("Ana", "intervenante", "cisss"),), organizations=(),
                date=dt.date(2024, 3, 14)):
    return AssessmentDetails(territory_id=territory_id, date=date, perspective=None,
                             participants=[ParticipantData(role, sector, name) for name, role, sector in participants],
                             organizations=[OrganizationData(n, s) for n, s in organizations])


def _rows(assessment_id):
    db.session.rollback()
    return [(e.actor, e.action, e.item_id, e.field, e.old_value, e.new_value, e.detail)
            for e in services.audit_trail(assessment_id)]


def test_services_record_each_change_with_its_actor_old_and_new_value(grids, app, grid):
    territory = services.create_territory("MTL-NORD", "Montréal-Nord", "Montréal")
    aid = services.start_assessment(_details_of(territory.id), grids, actor=ACTOR).id
    [create] = _rows(aid)
    assert create[:2] == (ACTOR, "create") and json.loads(create[5])["participants"] == ["Ana (intervenante, cisss)"]

    services.save_answers(aid, {"ECO-1": AnswerData(level="implante", comment="Oui", priority=True, action="Former",
                                                    action_owner="Coord", action_due=dt.date(2024, 9, 30))},
                          actor=ACTOR)
    services.save_answers(aid, {"ECO-1": AnswerData(level="partiel", comment="Plutôt partiel", priority=True,
                                                    action="Former", action_owner="Coord",
                                                    action_due=dt.date(2024, 9, 30))}, actor=ACTOR)
    rows = _rows(aid)[1:]
    answers = [(r[2], r[3], r[4], r[5]) for r in rows if r[1] == "answer"]
    assert ("ECO-1", "level", None, "implante") in answers
    assert ("ECO-1", "comment", "", "Oui") in answers
    assert ("ECO-1", "action", "", "Former") in answers
    assert ("ECO-1", "action_owner", "", "Coord") in answers
    assert ("ECO-1", "priority", "false", "true") in answers
    assert any(r[:3] == ("ECO-1", "action_due", None) and "2024-09-30" in r[3] for r in answers)
    assert ("ECO-1", "level", "implante", "partiel") in answers
    assert ("ECO-1", "comment", "Oui", "Plutôt partiel") in answers
    assert len(answers) == 8  # the unchanged fields of the second save are not recorded
    assert all(r[0] == ACTOR for r in rows)

    services.update_details(aid, _details_of(territory.id, participants=(("Ana", "intervenante", "cisss"),
                                                                         ("Béatrice", "parent", "parent_partenaire")),
                                             organizations=(("Maison de la Famille", "communautaire"),)), actor=ACTOR)
    details = {r[3]: (json.loads(r[4]), json.loads(r[5])) for r in _rows(aid) if r[1] == "details"}
    assert details == {
        "participants": (["Ana (intervenante, cisss)"],
                         ["Ana (intervenante, cisss)", "Béatrice (parent, parent_partenaire)"]),
        "organizations": ([], ["Maison de la Famille"]),
    }

    services.save_answers(aid, {i: AnswerData(level="implante") for i in grid.items if i != "ECO-1"}, actor=ACTOR)
    services.finalize(aid, grid, actor=ACTOR)
    assert _rows(aid)[-1] == (ACTOR, "finalize", None, None, None, None, "revision 1")

    revision = services.open_revision(aid, "Erreur de saisie", actor=ACTOR)
    assert _rows(aid)[-1] == (ACTOR, "revise", None, None, None, str(revision.id), "Erreur de saisie")
    assert _rows(revision.id) == [(ACTOR, "create", None, None, None, None,
                                   f"revision 2 of assessment {aid}: Erreur de saisie")]
    services.save_answers(revision.id, {"ECO-1": AnswerData(level="implante", comment="Plutôt partiel", priority=True,
                                                            action="Former", action_owner="Coord",
                                                            action_due=dt.date(2024, 9, 30))}, actor="z@y")
    services.finalize(revision.id, grid, actor="z@y")
    assert _rows(revision.id)[1:] == [("z@y", "answer", "ECO-1", "level", "partiel", "implante", ""),
                                      ("z@y", "finalize", None, None, None, None, "revision 2")]
    assert _rows(aid)[-1] == ("z@y", "supersede", None, None, None, None, f"by assessment {revision.id}")

    document = exchange.parse_document(json.dumps(_document(grid, date="2025-02-01")), grids)
    services.import_assessments(document.assessments, actor=ACTOR)
    [imported] = [a for a in services.find_assessments(territory.id, dt.date(2025, 2, 1), None)]
    imported_rows = _rows(imported.id)
    assert [row[:5] + row[6:] for row in imported_rows] == [
        (ACTOR, "import", None, None, None, "assessments[0] MTL-NORD 2025-02-01")]
    # the new value names what was imported, statement by statement
    assert json.loads(imported_rows[0][5]) == {
        item_id: {"level": a.level, "comment": a.comment} for item_id, a in document.assessments[0].answers.items()}
    report = services.import_assessments(document.assessments, actor=ACTOR)
    assert report.skipped and _rows(imported.id) == imported_rows


def test_refused_changes_write_no_audit_row(grids, app, grid):
    territory = services.create_territory("MTL-NORD", "Montréal-Nord", "Montréal")
    aid = services.start_assessment(_details_of(territory.id), grids, actor=ACTOR).id
    services.save_answers(aid, {i: AnswerData(level="implante") for i in grid.items}, actor=ACTOR)
    with pytest.raises(services.Locked):
        services.open_revision(aid, "trop tôt", actor=ACTOR)  # a draft is not revised
    services.finalize(aid, grid, actor=ACTOR)
    before = _rows(aid)
    total = db.session.scalar(select(func.count(AuditEvent.id)))
    attempts = [
        lambda: services.save_answers(aid, {"ECO-1": AnswerData(level="partiel")}, actor=ACTOR),
        lambda: services.update_details(aid, _details_of(territory.id, participants=()), actor=ACTOR),
        lambda: services.finalize(aid, grid, actor=ACTOR),
    ]
    for attempt in attempts:
        with pytest.raises(services.Locked):
            attempt()
    revision = services.open_revision(aid, "correction", actor=ACTOR)
    with pytest.raises(services.Conflict):
        services.open_revision(aid, "encore", actor=ACTOR)
    services.finalize(revision.id, grid, actor=ACTOR)
    with pytest.raises(services.Locked):
        services.open_revision(aid, "version remplacée", actor=ACTOR)
    for attempt in attempts:
        with pytest.raises(services.Locked):
            attempt()
    db.session.rollback()
    # Only the successful revision wrote lines: revise + supersede on the original, create + finalize on it.
    assert db.session.scalar(select(func.count(AuditEvent.id))) == total + 4
    assert [r[1] for r in _rows(aid)] == [r[1] for r in before] + ["revise", "supersede"]
    answers = {a.item_id: a.level for a in services.get_assessment(aid).answers}
    assert answers == {i: "implante" for i in grid.items}


def test_a_replacing_import_records_what_it_replaced(grids, app, grid):
    territory = services.create_territory("MTL-NORD", "Montréal-Nord", "Montréal")
    old = services.start_assessment(_details_of(territory.id), grids, actor=ACTOR).id
    services.save_answers(old, {"ECO-1": AnswerData(level="partiel", comment="à garder")}, actor=ACTOR)
    services.start_assessment(_details_of(territory.id, date=dt.date(2024, 4, 1)), grids, actor=ACTOR)
    document = exchange.parse_document(json.dumps(_document(grid, status="draft")), grids)
    report = services.import_assessments(document.assessments, replace=True, actor=ACTOR)
    assert report.replaced
    db.session.rollback()
    lines = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action.notin_(("create", "answer")))))
    assert any(e.assessment_id == old for e in lines) or any(
        e.action == "import" and e.old_value is not None and str(old) in e.old_value for e in lines
    ), [(e.action, e.assessment_id, e.old_value, e.detail) for e in lines]


def test_a_new_assessment_never_inherits_the_trail_of_a_deleted_one(grids, app, grid, request, backend):
    territory = services.create_territory("MTL-NORD", "Montréal-Nord", "Montréal")
    old = services.start_assessment(_details_of(territory.id), grids, actor=ACTOR).id
    services.save_answers(old, {"ECO-1": AnswerData(level="partiel", comment="brouillon")}, actor=ACTOR)
    document = exchange.parse_document(json.dumps(_document(grid, status="draft")), grids)
    services.import_assessments(document.assessments, replace=True, actor=ACTOR)
    [new] = services.find_assessments(territory.id, dt.date(2024, 3, 14), None)
    assert [r[1] for r in _rows(new.id)] == ["import"]
