"""The results page holds the whole record of the meeting: who was there, each statement with
its level, comment, priority and action, then the action plan; for every role that may read it.

Through real HTTP (Flask test client, CSRF on), on a real SQLite file.
"""
from __future__ import annotations

import re

import pytest

from .conftest import add_user, sign_in
from .test_journal import finalise
from .test_revisions import _start, _territory, _token
from .test_web import page, visible

PARTICIPANTS = (("Ana", "intervenante", "cisss"), ("", "mère", "parent_partenaire"),
                ("Luc", "directeur d'école", "scolaire"))
ORGANIZATIONS = (("Maison de la Famille", "communautaire"), ("CPE Les Lucioles", "garde_educative"))

# ECO: two dated actions (the later one first in the grid), a priority without date, an action
# without date; PAR-5: another theme's action; STR-6 "ne sais pas" with a comment only.
SPECIAL = {
    "ECO-1": {"level": "partiel", "comment": "Portrait commun incomplet", "priority": "y", "target": "implante",
              "action": "Compléter le portrait", "action_owner": "Coordination", "action_due": "2025-09-30"},
    "ECO-2": {"level": "non_implante", "comment": "Rien d'établi", "action": "Cartographier les services",
              "action_owner": "CISSS", "action_due": "2025-04-15"},
    "ECO-3": {"level": "partiel", "priority": "y"},
    "ECO-5": {"level": "implante", "action": "Garder le rythme", "action_owner": "Table de concertation"},
    "PAR-5": {"level": "non_implante", "action": "Inviter les parents au comité", "action_owner": "Maison de la Famille",
              "action_due": "2025-05-01"},
    "STR-6": {"level": "ne_sais_pas", "comment": "À vérifier auprès du CISSS"},
    "STR-1": {"level": "implante", "target": "partiel"},  # a target already passed: reached, not in the plan's way
}


def record_rows(text):
    """The statement-by-statement table: {item id: [text, level, target, comment, priority, action, who, when]}."""
    rows = {}
    for body in re.findall(r'<table class="record">.*?<tbody>(.*?)</tbody>', text, re.S):
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
            item_id = visible(re.search(r"<th[^>]*>(.*?)</th>", row, re.S).group(1))
            rows[item_id] = [visible(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    return rows


def plan(text):
    """The action plan: [(theme heading, [(item id, level, target, priority, action, who, when)])]."""
    section = text.split('id="plan"', 1)[1]
    themes = []
    for heading, body in re.findall(r'<section class="theme-plan"[^>]*>\s*<h3[^>]*>(.*?)</h3>.*?<tbody>(.*?)</tbody>',
                                    section, re.S):
        rows = []
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
            cells = [visible(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            rows.append((cells[0].split()[0], *cells[1:]))
        themes.append((visible(heading), rows))
    return themes


@pytest.fixture
def finalised(web_app, client, grid):
    """MTL-NORD's assessment, filled and finalised by the administrator through the screens."""
    _territory(client)
    aid = _start(client, participants=PARTICIPANTS, organizations=ORGANIZATIONS)
    finalise(client, aid, {**{i: {"level": "implante"} for i in grid.items}, **SPECIAL})
    return aid


def readers(web_app, client):
    add_user(web_app, "gest@cisss.example", "gestionnaire", regions=["Montréal"])
    add_user(web_app, "coord@cisss.example", "coordonnateur", territories=["MTL-NORD"])
    add_user(web_app, "membre@cisss.example", "membre", territories=["MTL-NORD"])
    return {"admin": client,
            **{role: sign_in(web_app.test_client(), f"{email}@cisss.example")
               for role, email in (("gestionnaire", "gest"), ("coordonnateur", "coord"), ("membre", "membre"))}}


@pytest.mark.parametrize("role", ["admin", "gestionnaire", "coordonnateur", "membre"])
def test_every_reader_sees_the_whole_record(web_app, client, grid, finalised, role):
    who = readers(web_app, client)[role]
    response = who.get(f"/evaluations/{finalised}/resultats")
    assert response.status_code == 200
    text = page(response)
    shown = visible(text)

    # Who was there: role, sector by its name, the name when it was given.
    assert "Participantes et participants Ana — intervenante, CISSS / CIUSSS mère, Parent-partenaire " \
           "Luc — directeur d'école, Milieu scolaire" in shown
    assert "Organismes partenaires présents CPE Les Lucioles — Service de garde éducatif " \
           "Maison de la Famille — Organisme communautaire" in shown

    # Every statement, theme by theme, with all that was typed.
    rows = record_rows(text)
    assert list(rows) == list(grid.items)
    assert rows["ECO-1"] == [grid.items["ECO-1"].text.fr, "Partiellement implanté", "Implanté (encore 1 niveau)",
                             "Portrait commun incomplet", "oui",
                             "Compléter le portrait", "Coordination", "2025-09-30"]
    assert rows["ECO-3"][1:] == ["Partiellement implanté", "", "", "oui", "", "", ""]
    assert rows["STR-6"][1:] == ["On ne sait pas", "", "À vérifier auprès du CISSS", "non", "", "", ""]
    assert rows["PRN-5"][1:] == ["Implanté", "", "", "non", "", "", ""]
    headings = re.findall(r'<section class="theme-record"[^>]*>\s*<h3[^>]*>(.*?)</h3>', text, re.S)
    assert [visible(h) for h in headings] == [f"{t.letter} {t.name.fr}" for t in grid.themes]

    # The action plan: per theme, by due date, undated last; statements without any left out.
    assert plan(text) == [
        ("A Approche écosystémique", [
            ("ECO-2", "Non implanté", "", "non", "Cartographier les services", "CISSS", "2025-04-15"),
            ("ECO-1", "Partiellement implanté", "Implanté (encore 1 niveau)", "oui", "Compléter le portrait",
             "Coordination", "2025-09-30"),
            ("ECO-3", "Partiellement implanté", "", "oui", "", "", ""),
            ("ECO-5", "Implanté", "", "non", "Garder le rythme", "Table de concertation", ""),
        ]),
        (f"B {grid.theme('participative').name.fr}", [
            ("PAR-5", "Non implanté", "", "non", "Inviter les parents au comité", "Maison de la Famille", "2025-05-01"),
        ]),
        (f"S {grid.theme('structures').name.fr}", [
            ("STR-1", "Implanté", "Partiellement implanté (atteinte)", "non", "", "", ""),
        ]),
    ]
    # What the team does not know yet is listed apart, a gap to close.
    assert re.search(r'<ul class="knowledge-gaps"><li><strong>STR-6</strong>', text)

    # What results showed before is still there.
    for kept in ("Les cinq composantes", "Ensemble des cinq composantes", "Structures de soutien", "Profil"):
        assert kept in shown, kept
    assert ('action="/evaluations/%d/revision"' % finalised in text) == (role in ("admin", "coordonnateur"))


def test_a_finalised_assessment_shows_every_comment(web_app, client, grid):
    _territory(client)
    aid = _start(client)
    answers = {i: {"level": "partiel", "comment": f"Commentaire de l'équipe sur {i} : « {n} »"}
               for n, i in enumerate(grid.items)}
    finalise(client, aid, answers)
    assert client.get(f"/evaluations/{aid}/grille").status_code == 302  # locked: the grid is gone

    text = page(client.get(f"/evaluations/{aid}/resultats"))
    assert "Finalisée" in text
    rows = record_rows(text)
    assert {i: rows[i][3] for i in grid.items} == {i: a["comment"] for i, a in answers.items()}
    assert "Aucune priorité, cible ni piste d'action n'a été inscrite." in visible(text)


def test_a_draft_shows_unanswered_statements_as_such(client, grid):
    _territory(client)
    aid = _start(client, participants=(("", "intervenante", "cisss"),), organizations=())
    response = client.post(f"/evaluations/{aid}/enonces/ECO-2", data={
        "csrf_token": _token(client), "ECO-2-level": "partiel", "ECO-2-priority": "y"})
    assert response.status_code == 200, response.get_data(as_text=True)
    text = page(client.get(f"/evaluations/{aid}/resultats"))
    rows = record_rows(text)
    assert rows["ECO-1"][1:] == ["sans réponse", "", "", "non", "", "", ""]
    assert rows["ECO-2"][1:] == ["Partiellement implanté", "", "", "oui", "", "", ""]
    assert "Participantes et participants intervenante, CISSS / CIUSSS Organismes partenaires présents —" in visible(text)


def test_the_record_in_english(web_app, client, grid, finalised):
    client.set_cookie("lang", "en")
    text = page(client.get(f"/evaluations/{finalised}/resultats"))
    rows = record_rows(text)
    assert rows["ECO-1"][:2] == [grid.items["ECO-1"].text.en, "Partially implemented"] and rows["ECO-1"][4] == "yes"
    assert rows["ECO-2"][4] == "no"
    shown = visible(text)
    assert "Answers, statement by statement" in shown and "Action plan" in shown
    assert "Ana — intervenante, CISSS / CIUSSS" in shown
