"""The journal (audit trail) speaks people's language: a sentence per event, labels instead of
codes, oui/non, names of fields in words, times on a Montréal clock, French or English.

Everything is done through the real screens and commands (Flask test client, CSRF on); only the
time of an event is moved in the database, to know which hour the page must show.
"""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import update

from pin_grid.extensions import db
from pin_grid.models import AuditEvent

from .conftest import ADMIN, import_document
from .test_revisions import COORD, _coordinator, _details_data, _revise, _start, _territory, _token
from .test_web import grid_post, page, visible

# Codes the services store, which the page must never show.
CODES = ("implante", "non_implante", "ne_sais_pas", "parent_partenaire", "cisss", "communautaire",
         "action_due", "action_owner", "carry_over", "finalize", "supersede",
         "true", "false", "null", "assessments[", "revision 1", "of assessment")


def journal_rows(response):
    """The body rows of the journal as a person reads them: [when, who, what, statement, before, after]."""
    assert response.status_code == 200
    text = page(response)
    body = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[visible(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def table_text(rows):
    return " | ".join(" · ".join(cells) for cells in rows)


def assert_no_codes(rows):
    shown = table_text([r[2:] for r in rows])  # not who (an address may contain anything)
    assert "{" not in shown and "[" not in shown, shown
    for code in CODES:
        assert code not in shown, (code, shown)


def row(rows, what, statement=None):
    """The one row whose sentence is `what` (and whose statement starts with `statement`)."""
    found = [r for r in rows if r[2] == what and (statement is None or r[3].startswith(statement))]
    assert len(found) == 1, (what, statement, table_text(rows))
    return found[0]


def _all_implemented(grid, **overrides):
    return {**{i: {"level": "implante"} for i in grid.items}, **overrides}


def finalise(who, assessment_id, answers):
    """Finalise through the screens: the grid's « Finaliser », then the confirmation if there is one."""
    response = grid_post(who, assessment_id, answers, intent="finalize")
    assert response.status_code == 302, page(response)
    if "/finaliser" in response.location:
        response = who.post(response.location, data={"csrf_token": _token(who)})
    assert response.status_code == 302 and response.location.endswith("/resultats"), page(response)


def test_every_change_reads_as_a_sentence_with_labels_in_words(web_app, client, grid):
    _territory(client)
    aid = _start(client)
    assert grid_post(client, aid, {"ECO-1": {"level": "implante", "comment": "Portrait commun"}}).status_code == 302
    assert grid_post(client, aid, {"ECO-1": {"level": "non_implante", "priority": "y", "action": "Former l'équipe",
                                             "action_owner": "Coordination", "action_due": "2025-06-30",
                                             "target": "partiel"}}).status_code == 302
    response = client.post(f"/evaluations/{aid}/details", data=_details_data(
        client, participants=(("Ana", "intervenante", "cisss"), ("", "parent", "parent_partenaire")),
        organizations=(("Maison de la Famille", "communautaire"), ("École Saint-Rémi", "scolaire"))))
    assert response.status_code == 302, page(response)
    coordinator = _coordinator(web_app)
    finalise(coordinator, aid, _all_implemented(grid, **{"ECO-1": {"level": "non_implante"}}))
    response = _revise(coordinator, aid, "Oubli de Chantal")
    revision_id = int(response.location.split("/")[2])

    rows = journal_rows(client.get(f"/evaluations/{aid}/journal"))
    assert_no_codes(rows)

    created = row(rows, "Évaluation créée.")
    assert created[1] == ADMIN
    assert created[5] == ("Territoire : MTL-NORD Date de la rencontre : 2024-03-14 "
                          "Point de vue : Vue collective du territoire "
                          "Personnes participantes : Ana — intervenante, CISSS / CIUSSS "
                          "Organismes présents : Maison de la Famille")

    # The level: its label in the grid, before (none) and after, each time it changed.
    first = [r for r in rows if r[2] == "Réponse modifiée : niveau." and r[3].startswith("ECO-1")]
    assert [(r[4], r[5]) for r in first] == [("sans réponse", "Implanté"), ("Implanté", "Non implanté")]
    assert first[0][3].startswith("ECO-1 Les besoins de l'enfant")  # the statement's text beside its id
    assert row(rows, "Réponse modifiée : commentaire.", "ECO-1")[4:] == ["—", "Portrait commun"]
    assert row(rows, "Réponse modifiée : priorité.", "ECO-1")[4:] == ["non", "oui"]
    assert row(rows, "Réponse modifiée : piste d'action.", "ECO-1")[4:] == ["—", "Former l'équipe"]
    assert row(rows, "Réponse modifiée : responsable de l'action.", "ECO-1")[4:] == ["—", "Coordination"]
    assert row(rows, "Réponse modifiée : échéance.", "ECO-1")[4:] == ["—", "2025-06-30"]
    assert row(rows, "Réponse modifiée : cible.", "ECO-1")[4:] == ["Pas de cible", "Partiellement implanté"]

    # The details: each list item readable, the sector by its name, an unnamed participant without a dash.
    people = row(rows, "Renseignements modifiés : personnes participantes.")
    assert people[4:] == ["Ana — intervenante, CISSS / CIUSSS",
                          "Ana — intervenante, CISSS / CIUSSS parent, Parent-partenaire"]
    organizations = row(rows, "Renseignements modifiés : organismes présents.")
    assert organizations[4] == "Maison de la Famille"
    assert organizations[5] in ("Maison de la Famille École Saint-Rémi", "École Saint-Rémi Maison de la Famille")

    finalised = row(rows, "Évaluation finalisée (révision 1) : ses réponses sont verrouillées.")
    assert finalised[1] == COORD
    revised = row(rows, f"Révision ouverte pour corriger cette évaluation (nouvelle version : évaluation "
                        f"nº {revision_id}). Raison : « Oubli de Chantal »")
    assert revised[1] == COORD and revised[4:] == ["—", "—"]
    whats = [r[2] for r in rows]
    assert whats[0] == "Évaluation créée." and whats[-1] == revised[2]

    # The revision's own journal says where it comes from; once finalised, the first one says it was replaced.
    revision_rows = journal_rows(coordinator.get(f"/evaluations/{revision_id}/journal"))
    assert_no_codes(revision_rows)
    row(revision_rows, f"Révision 2 créée pour corriger l'évaluation nº {aid}. Raison : « Oubli de Chantal »")
    finalise(coordinator, revision_id, {"ECO-2": {"level": "partiel"}})
    rows = journal_rows(client.get(f"/evaluations/{aid}/journal"))
    row(rows, f"Version remplacée par la révision finalisée (évaluation nº {revision_id}) ; elle reste consultable.")
    assert_no_codes(rows)


def _set_time(web_app, assessment_id, action, at):
    with web_app.app_context():
        db.session.execute(update(AuditEvent).where(AuditEvent.assessment_id == assessment_id,
                                                    AuditEvent.action == action).values(at=at))
        db.session.commit()
        db.session.remove()


def test_times_are_those_of_a_clock_in_montreal(web_app, client, grid):
    _territory(client)
    aid = _start(client)
    grid_post(client, aid, {"ECO-1": {"level": "partiel"}})
    _set_time(web_app, aid, "create", dt.datetime(2025, 1, 15, 18, 30, tzinfo=dt.timezone.utc))  # EST: UTC−5
    _set_time(web_app, aid, "answer", dt.datetime(2025, 7, 1, 3, 5, tzinfo=dt.timezone.utc))  # EDT: UTC−4, day before

    rows = journal_rows(client.get(f"/evaluations/{aid}/journal"))
    assert row(rows, "Évaluation créée.")[0] == "15 janvier 2025 à 13:30"
    assert row(rows, "Réponse modifiée : niveau.", "ECO-1")[0] == "30 juin 2025 à 23:05"
    assert "18:30" not in table_text(rows)
    assert "Les heures sont celles de Montréal." in visible(page(client.get(f"/evaluations/{aid}/journal")))


def test_the_journal_in_english(web_app, client, grid):
    _territory(client)
    aid = _start(client)
    grid_post(client, aid, {"ECO-1": {"level": "implante", "priority": "y"}})
    _set_time(web_app, aid, "create", dt.datetime(2025, 1, 15, 18, 30, tzinfo=dt.timezone.utc))
    client.set_cookie("lang", "en")

    rows = journal_rows(client.get(f"/evaluations/{aid}/journal"))
    assert_no_codes(rows)
    created = row(rows, "Assessment created.")
    assert created[0] == "January 15, 2025 at 13:30"
    assert "Participants: Ana — intervenante, CISSS / CIUSSS" in created[5]
    assert "Point of view: Territory's collective view" in created[5]
    level = row(rows, "Answer changed: level.", "ECO-1")
    assert level[3].startswith("ECO-1 The needs of the child") and level[4:] == ["no answer", "Implemented"]
    assert row(rows, "Answer changed: priority.", "ECO-1")[4:] == ["no", "yes"]


def _record(grid, date, level, comment):
    return {"territory": {"code": "MTL-NORD", "name": "Montréal-Nord", "region": "Montréal"}, "date": date,
            "perspective": None, "status": "draft", "grid_version": grid.version,
            "participants": [{"name": None, "role": "intervenante", "sector": "cisss"}], "organizations": [],
            "answers": {i: {"level": level, "comment": comment if i == "ECO-1" else "", "priority": False,
                            "action": "", "action_owner": "", "action_due": None} for i in grid.items}}


def test_an_import_that_replaces_a_draft_says_so_with_the_answers_in_words(web_app, client, grid, tmp_path):
    import_document(web_app, tmp_path / "first.json", [_record(grid, "2025-02-01", "partiel", "")])
    path = tmp_path / "second.json"
    import_document(web_app, path, [_record(grid, "2025-02-01", "non_implante", "Vu en comité")])  # skipped
    with web_app.app_context():
        result = web_app.test_cli_runner().invoke(args=["import-assessments", "--replace", str(path)])
        db.session.remove()
    assert result.exit_code == 0, result.output

    assert client.get("/evaluations/1/journal").status_code == 404  # the replaced draft is gone
    rows = journal_rows(client.get("/evaluations/2/journal"))
    assert_no_codes(rows)
    imported = row(rows, "Importée d'un fichier d'échange (MTL-NORD 2025-02-01). Elle remplace l'évaluation nº 1.")
    assert imported[1] == "système (ligne de commande)"
    assert imported[5].startswith("ECO-1 : Non implanté — « Vu en comité » ECO-2 : Non implanté ECO-3 : Non implanté")
    assert imported[5].count(" : Non implanté") == len(grid.items)


def test_carried_over_answers_and_their_confirmation(web_app, client, grid):
    _territory(client)
    first = _start(client)
    finalise(client, first, _all_implemented(grid))
    data = _details_data(client, date="2025-03-14")
    data["carry_over"] = "y"
    response = client.post("/evaluations/nouvelle", data=data)
    assert response.status_code == 302, page(response)
    second = int(response.location.split("/")[2])
    assert grid_post(client, second, {"ECO-1": {"confirm": "y"}}).status_code == 302

    rows = journal_rows(client.get(f"/evaluations/{second}/journal"))
    assert_no_codes(rows)
    row(rows, f"Réponses reprises de l'évaluation précédente (nº {first}) : chacune est à confirmer ou à modifier.")
    assert row(rows, "Réponse reprise de l'évaluation précédente, confirmée telle quelle.", "ECO-1")[4:] == [
        "—", "Implanté"]


def test_a_deleted_draft_and_unknown_events_stay_readable(web_app, client, grid):
    """A draft deleted through its page leaves a `delete` event with all it held; read back, it is
    in words. (Its journal page is gone with it: the event is read here as the page would.)"""
    from pin_grid import services
    from pin_grid.views.journal import entries

    _territory(client)
    aid = _start(client, participants=(("", "parent", "parent_partenaire"),), organizations=())
    grid_post(client, aid, {"ECO-1": {"level": "partiel", "comment": "À revoir", "priority": "y",
                                      "action": "Former l'équipe", "action_due": "2025-06-30"}})
    response = client.post(f"/evaluations/{aid}/supprimer", data={"csrf_token": _token(client)})
    assert response.status_code == 302, page(response)
    assert client.get(f"/evaluations/{aid}/resultats").status_code == 404
    _set_time(web_app, aid, "delete", dt.datetime(2025, 1, 15, 18, 30, tzinfo=dt.timezone.utc))

    with web_app.test_request_context("/"):
        [deleted] = [e for e in entries(services.audit_trail(aid)) if e.sentence.startswith("Brouillon")]
        [other] = entries([AuditEvent(at=dt.datetime(2025, 7, 1, 16, 0), actor=ADMIN, action="something_new",
                                      assessment_id=aid, new_value='["a", "b"]')])
    assert deleted.sentence == "Brouillon supprimé."
    assert deleted.when == "15 janvier 2025 à 13:30"
    assert deleted.before == [
        "Territoire : MTL-NORD", "Date de la rencontre : 2024-03-14", "Point de vue : Vue collective du territoire",
        "Personnes participantes : parent, Parent-partenaire", "Organismes présents : —",
        "ECO-1 : Partiellement implanté — « À revoir » — priorité : oui — piste d'action : Former l'équipe"
        " — échéance : 2025-06-30"]
    assert other.sentence == "Autre modification." and other.after == ["a", "b"] and other.when.endswith("12:00")
