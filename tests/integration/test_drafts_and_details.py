"""Starting, correcting and deleting drafts; what the team is offered and told along the way
(Flask test client, real SQLite file, CSRF on)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from pin_grid.extensions import db
from pin_grid.models import Assessment, AuditEvent, Organization

from .conftest import ADMIN, add_user, sign_in
from .test_web import assessment_id, confirm_finalize, form_fields, grid_post, page, token, visible  # noqa: F401 (fixture)

COORD = "coord@cisss.example"
MEMBRE = "membre@cisss.example"


def _territory(client, code, name, region):
    client.post("/territoires/nouveau", data={"csrf_token": token(client), "code": code, "name": name,
                                              "region": region})


def _start(client, territory="1", date="2024-03-14", **fields):
    return client.post("/evaluations/nouvelle", data={"csrf_token": token(client), "territory": territory,
                                                      "date": date, **fields})


def test_a_date_after_today_is_refused_with_a_message_and_the_rest_kept(client):
    _territory(client, "MTL-NORD", "Montréal-Nord", "Montréal")
    today = dt.datetime.now(ZoneInfo("America/Montreal")).date()  # the day in Québec, whatever the machine's clock
    tomorrow = (today + dt.timedelta(days=2)).isoformat()
    response = _start(client, date=tomorrow, **{"participants-0-role": "Intervenante PIN",
                                                "participants-0-sector": "cisss"})
    assert response.status_code == 422
    text = visible(page(response))
    assert "La date de la rencontre ne peut pas être après aujourd'hui" in text
    assert 'value="Intervenante PIN"' in page(response)
    assert _start(client, date=today.isoformat()).status_code == 302


def test_the_same_meeting_twice_links_to_the_existing_draft(client):
    _territory(client, "MTL-NORD", "Montréal-Nord", "Montréal")
    first = _start(client)
    assert first.status_code == 302
    again = _start(client)
    assert again.status_code == 409
    text = page(again)
    assert "Une évaluation existe déjà" in text
    assert f'href="{first.location}"' in text and "Ouvrir le brouillon existant du 2024-03-14" in text


def test_an_organisation_written_differently_is_matched_to_the_existing_one(client, web_app):
    _territory(client, "MTL-NORD", "Montréal-Nord", "Montréal")
    _start(client, **{"organizations-0-name": "Maison de la Famille Saint-Michel", "organizations-0-sector": "communautaire"})
    response = _start(client, date="2024-04-01", **{"organizations-0-name": "  maison de la famille  SAINT-MICHEL",
                                                    "organizations-0-sector": "communautaire"})
    assert response.status_code == 302
    response = _start(client, date="2024-05-01", perspective="Maison de la famille Saint-Michél")
    assert response.status_code == 302
    with web_app.app_context():
        names = list(db.session.scalars(select(Organization.name)))
        db.session.remove()
    assert names == ["Maison de la Famille Saint-Michel"]


def test_organisation_suggestions_show_only_what_the_person_may_see(client, web_app):
    _territory(client, "MTL-NORD", "Montréal-Nord", "Montréal")
    _territory(client, "LAV-01", "Laval-des-Rapides", "Laval")
    _start(client, territory="1", **{"organizations-0-name": "Maison de quartier Montréal-Nord",
                                     "organizations-0-sector": "communautaire"})
    _start(client, territory="2", **{"organizations-0-name": "Carrefour familial de Laval",
                                     "organizations-0-sector": "communautaire"})
    assert "Carrefour familial de Laval" in page(client.get("/evaluations/nouvelle"))  # an administrator sees all
    add_user(web_app, COORD, "coordonnateur", territories=["MTL-NORD"])
    coordinator = sign_in(web_app.test_client(), COORD)
    offered = page(coordinator.get("/evaluations/nouvelle"))
    assert '<option value="Maison de quartier Montréal-Nord">' in offered
    assert "Carrefour familial de Laval" not in offered


def test_a_coordinator_without_territory_is_told_whom_to_ask(client, web_app):
    _territory(client, "MTL-NORD", "Montréal-Nord", "Montréal")
    add_user(web_app, COORD, "coordonnateur")
    coordinator = sign_in(web_app.test_client(), COORD)
    response = coordinator.get("/evaluations/nouvelle")
    assert response.status_code == 403
    text = visible(page(response))
    assert "Aucun territoire attribué" in text and ADMIN in text and "Forbidden" not in text


def test_a_draft_started_by_mistake_is_deleted_and_the_deletion_recorded(client, web_app, grid):
    _territory(client, "MTL-NORD", "Montréal-Nord", "Montréal")
    draft = int(_start(client).location.split("/")[2])
    grid_post(client, draft, {"ECO-1": {"level": "partiel", "comment": "Commencé par erreur"}})
    assert "Supprimer ce brouillon commencé par erreur" in page(client.get(f"/evaluations/{draft}/grille"))
    confirmation = client.get(f"/evaluations/{draft}/supprimer")
    assert confirmation.status_code == 200 and "Ce brouillon contient 1 réponse." in visible(page(confirmation))
    assert client.post(f"/evaluations/{draft}/supprimer", data={}).status_code == 400  # CSRF
    response = client.post(f"/evaluations/{draft}/supprimer", data={"csrf_token": form_fields(page(confirmation))["csrf_token"]})
    assert response.status_code == 302
    assert "Le brouillon du 2024-03-14 de Montréal-Nord est supprimé." in page(client.get(response.location))
    assert client.get(f"/evaluations/{draft}/resultats").status_code == 404
    with web_app.app_context():
        assert db.session.get(Assessment, draft) is None
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "delete")).one()
        assert event.actor == ADMIN and event.assessment_id == draft and "Commencé par erreur" in event.old_value
        db.session.remove()


def test_a_finalised_assessment_is_never_deleted(client, web_app, grid):
    _territory(client, "MTL-NORD", "Montréal-Nord", "Montréal")
    aid = int(_start(client).location.split("/")[2])
    grid_post(client, aid, {i: {"level": "implante"} for i in grid.items}, intent="finalize")
    assert client.get(f"/evaluations/{aid}/supprimer").status_code == 409
    response = client.post(f"/evaluations/{aid}/supprimer", data={"csrf_token": token(client)})
    assert response.status_code == 409 and "ne se supprime pas" in page(response)
    assert "Supprimer ce brouillon" not in page(client.get(f"/evaluations/{aid}/resultats"))
    with web_app.app_context():
        assert db.session.get(Assessment, aid).status == "finalized"
        db.session.remove()


def test_a_membre_may_not_delete_a_draft(client, web_app):
    _territory(client, "MTL-NORD", "Montréal-Nord", "Montréal")
    draft = int(_start(client).location.split("/")[2])
    add_user(web_app, MEMBRE, "membre", territories=["MTL-NORD"])
    membre = sign_in(web_app.test_client(), MEMBRE)
    assert "Supprimer ce brouillon" not in page(membre.get(f"/evaluations/{draft}/grille"))
    assert membre.post(f"/evaluations/{draft}/supprimer",
                       data={"csrf_token": token(membre, f"/evaluations/{draft}/grille")}).status_code == 403


def test_finalising_asks_for_confirmation_on_a_page_that_sums_up_what_is_locked(client, web_app, grid):
    _territory(client, "MTL-NORD", "Montréal-Nord", "Montréal")
    aid = int(_start(client).location.split("/")[2])
    answers = {i: {"level": "implante"} for i in grid.items}
    answers.update({"ECO-1": {"level": "ne_sais_pas"}, "ECO-2": {"level": "partiel", "priority": "y"},
                    "ECO-3": {"level": "non_implante", "priority": "y", "action": "Former l'équipe"}})
    response = grid_post(client, aid, answers, intent="finalize", confirm=False)
    assert response.status_code == 302 and response.location == f"/evaluations/{aid}/finaliser"
    summary = page(client.get(response.location))
    assert "<script" not in summary.replace('<script src="/static/app.js" defer></script>', "")
    text = visible(summary)
    assert "Implanté 21" in text and "Partiellement implanté 1" in text and "Non implanté 1" in text
    assert "1 énoncé coté « On ne sait pas »" in text and "2 priorités" in text and "1 piste d'action" in text
    with web_app.app_context():
        assert db.session.get(Assessment, aid).status == "draft"  # nothing locked before confirming
        db.session.remove()


def test_the_summary_says_zero_in_the_singular_as_french_does(client, grid):
    _territory(client, "MTL-NORD", "Montréal-Nord", "Montréal")
    aid = int(_start(client).location.split("/")[2])
    response = grid_post(client, aid, {i: {"level": "implante"} for i in grid.items}, intent="finalize", confirm=False)
    text = visible(page(client.get(response.location)))
    assert "0 énoncé coté « On ne sait pas » : une connaissance à aller chercher." in text
    assert "0 priorité" in text and "0 priorités" not in text
    assert "0 piste d'action" in text and "0 pistes d'action" not in text
    response = confirm_finalize(client, aid)
    assert response.status_code == 302 and response.location.endswith("/resultats")


def test_saving_the_page_comes_back_to_the_statement_the_person_was_on(client, assessment_id):
    data = form_fields(page(client.get(f"/evaluations/{assessment_id}/grille")))
    response = client.post(f"/evaluations/{assessment_id}/grille",
                           data={**data, "PRT-2-level": "partiel", "at": "PRT-2", "intent": "save"})
    assert response.status_code == 302 and response.location == f"/evaluations/{assessment_id}/grille#item-PRT-2"
    data = form_fields(page(client.get(response.location)))
    forged = client.post(f"/evaluations/{assessment_id}/grille", data={**data, "at": "x\" onload=", "intent": "save"})
    assert forged.location == f"/evaluations/{assessment_id}/grille"


def test_a_too_long_comment_saved_as_people_go_says_why(client, assessment_id):
    response = client.post(f"/evaluations/{assessment_id}/enonces/ECO-1",
                           data={"csrf_token": token(client), "ECO-1-level": "implante", "ECO-1-comment": "x" * 5001},
                           headers={"Accept": "application/json"})
    assert response.status_code == 422
    assert response.get_json()["error"] == "Non enregistré : Le commentaire dépasse 5000 caractères : raccourcissez-le."


def test_accounts_have_a_display_name(client, web_app):
    t = token(client, "/admin/comptes")
    response = client.post("/admin/comptes", data={
        "csrf_token": t, "email": "marie@cisss.example", "display_name": "Marie Gagnon", "role": "gestionnaire",
        "regions": [], "password": "Trois pommes vertes au marché!", "confirm": "Trois pommes vertes au marché!"})
    assert response.status_code == 302, page(response)
    assert "Marie Gagnon" in visible(page(client.get("/admin/comptes")))
    marie = sign_in(web_app.test_client(), "marie@cisss.example")
    assert "Marie Gagnon" in visible(page(marie.get("/")))


def test_the_sign_in_page_says_whom_to_ask_for_a_forgotten_password(web_app):
    text = visible(page(web_app.test_client().get("/connexion")))
    assert "Mot de passe oublié ? Demandez à une personne qui administre Grille PIN" in text


def test_a_page_save_reads_every_statement_sent_otherwise_than_shown(client, assessment_id):
    """The page sends all 24 statements; those sent exactly as shown are left as stored, and any
    difference, even one a browser would not send (« false » for a ticked box), is read."""
    grid_post(client, assessment_id, {"ECO-1": {"level": "implante", "priority": "y", "comment": "Garder ceci"},
                                      "ECO-3": {"level": "partiel"}})
    data = form_fields(page(client.get(f"/evaluations/{assessment_id}/grille")))
    assert data["ECO-1-priority"] == "y"
    response = client.post(f"/evaluations/{assessment_id}/grille",
                           data={**data, "ECO-1-priority": "false", "ECO-2-level": "implante", "intent": "save"})
    assert response.status_code == 302
    text = page(client.get(f"/evaluations/{assessment_id}/grille"))
    assert '<input checked id="ECO-1-priority"' not in text and 'id="ECO-1-priority"' in text
    assert "Garder ceci" in text
    assert 'name="ECO-2-level" value="implante" checked' in text and 'name="ECO-3-level" value="partiel" checked' in text
