"""Hostile or clumsy input never breaks, leaks or overwrites (issue 8): ids out of range, bodies
that are not forms, control characters, typed text quoted back in messages, probing ids."""
from __future__ import annotations

import json
import re

import pytest

from pin_grid import services
from pin_grid.extensions import db

from .conftest import ADMIN, add_user, sign_in
from .test_web import assessment_id, form_fields, grid_post, page, token, visible  # noqa: F401 (fixture)

OTHER = "coord.laval@cisss.example"


# --- D2: ids beyond what the database holds -----------------------------------------------

@pytest.mark.parametrize("number", ["2147483648", "9223372036854775808", "99999999999999999999999"])
@pytest.mark.parametrize("route", ["/evaluations/{}/resultats", "/evaluations/{}/grille", "/evaluations/{}/journal",
                                   "/evaluations/{}/details", "/admin/comptes/{}"])
def test_an_id_past_the_database_range_is_not_found(client, route, number):
    response = client.get(route.format(number))
    assert response.status_code == 404
    assert "Page introuvable" in page(response)


def test_the_largest_id_postgresql_holds_is_an_ordinary_not_found(client):
    assert client.get("/evaluations/2147483647/resultats").status_code == 404


# --- D3: bodies that are not the form encoding the route expects --------------------------

JSON_BODIES = [{"email": 5, "password": "x"}, {"email": True, "password": None}, {"email": {"a": 1}},
               [1, 2, 3], "texte", None]


@pytest.mark.parametrize("body", JSON_BODIES, ids=lambda b: type(b).__name__)
def test_a_json_body_is_refused_before_any_form_reads_it(web_app, body):
    anonymous = web_app.test_client()
    response = anonymous.post("/connexion", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 415
    assert "n'accepte que les formulaires" in page(response)


def test_a_json_body_on_a_signed_in_form_route_is_refused_too(client, assessment_id):
    for url in ("/territoires/nouveau", "/evaluations/nouvelle", f"/evaluations/{assessment_id}/grille",
                f"/evaluations/{assessment_id}/enonces/ECO-1", "/mot-de-passe"):
        response = client.post(url, data=json.dumps({"csrf_token": 1, "ECO-1-level": ["x"]}),
                               content_type="application/json")
        assert response.status_code == 415, url
    assert client.post("/territoires/nouveau", data="<x/>", content_type="text/xml").status_code == 415


def test_the_refusal_speaks_english_when_chosen(web_app):
    anonymous = web_app.test_client()
    anonymous.set_cookie("lang", "en")
    response = anonymous.post("/connexion", data="{}", content_type="application/json")
    assert response.status_code == 415 and "only accepts the forms" in page(response)


# --- D4: control characters, on both databases ---------------------------------------------

@pytest.fixture
def any_app(web_app_on_each_database):
    return web_app_on_each_database


def test_a_nul_byte_in_any_text_field_is_removed_and_nothing_else_is_lost(any_app):
    anonymous = any_app.test_client()
    refused = anonymous.post("/connexion", data={"csrf_token": token(anonymous, "/connexion"), "email": "a\x00@b.c",
                                                 "password": "x\x00y"})
    assert refused.status_code in (200, 401, 422)  # an ordinary failed sign-in, not a 500
    client = sign_in(any_app.test_client(), ADMIN)
    t = token(client)
    created = client.post("/territoires/nouveau", data={"csrf_token": t, "code": "MTL-NORD", "name": "Mont\x00réal-Nord",
                                                        "region": "Mont\x00réal"})
    assert created.status_code == 302, page(created)
    response = client.post("/evaluations/nouvelle", data={
        "csrf_token": t, "territory": "1", "date": "2024-03-14",
        "participants-0-name": "A\x00na", "participants-0-role": "interv\x00enante", "participants-0-sector": "cisss",
        "organizations-0-name": "Maison\x00 de la famille", "organizations-0-sector": "communautaire",
    })
    assert response.status_code == 302, page(response)
    new_id = int(response.location.split("/")[2])
    saved = grid_post(client, new_id, {"ECO-1": {"level": "implante", "comment": "Ligne 1\x0bligne 2\x00 fin\x07"}})
    assert saved.status_code == 302, page(saved)
    with any_app.app_context():
        stored = services.get_assessment(new_id)
        assert (stored.territory.name, stored.territory.region) == ("Montréal-Nord", "Montréal")
        assert [(p.name, p.role) for p in stored.participants] == [("Ana", "intervenante")]
        assert [o.name for o in stored.organizations] == ["Maison de la famille"]
        # A word processor's line break stays a line break; the rest of the noise goes.
        assert stored.answers_by_item["ECO-1"].comment == "Ligne 1\nligne 2 fin"
        db.session.remove()


def test_control_characters_in_the_address_are_refused_with_a_message(client):
    for url in ("/comparaison?region=Mont%00real", "/connexion?next=/%00", "/evaluations/1/enonces/ECO%00-1"):
        response = client.get(url) if "enonces" not in url else client.post(url, data={})
        assert response.status_code == 400, url
        assert "caractères invisibles" in page(response)


# --- D10: what was typed, quoted in a message, is escaped ----------------------------------

def test_a_typed_value_quoted_in_a_validation_message_is_escaped(client, assessment_id):
    response = grid_post(client, assessment_id, {"ECO-1": {"level": "<b id=x>y</b>"},
                                                 "ECO-2": {"level": "implante", "action_due": "<i id=d>14</i>"}})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "<b id=x>" not in text and "<i id=d>" not in text
    assert "&lt;b id=x&gt;y&lt;/b&gt;" in text
    details = form_fields(client.get(f"/evaluations/{assessment_id}/details").get_data(as_text=True))
    details["participants-0-sector"] = "<em id=s>z</em>"
    refused = client.post(f"/evaluations/{assessment_id}/details", data=details)
    assert refused.status_code == 422 and "<em id=s>" not in refused.get_data(as_text=True)
    assert "Secteur inconnu" in page(refused)


# --- D11: « not yours » and « not found » are the same answer ------------------------------

def _same_page(text: str) -> str:
    """A page without its CSRF tokens: they are signed with the second they were made in, so two
    pages made a moment apart differ there (and say nothing about the assessment)."""
    return re.sub(r'(name="csrf_token" value=")[^"]*', r"\1", text)


def test_another_territory_s_assessment_and_a_missing_one_get_the_same_404(web_app, client, assessment_id):
    t = token(client)
    client.post("/territoires/nouveau", data={"csrf_token": t, "code": "LAVAL", "name": "Laval", "region": "Laval"})
    add_user(web_app, OTHER, "coordonnateur", territories=["LAVAL"])
    other = sign_in(web_app.test_client(), OTHER)
    for suffix in ("resultats", "grille", "journal", "details", "finaliser", "supprimer"):
        theirs = other.get(f"/evaluations/{assessment_id}/{suffix}")
        missing = other.get(f"/evaluations/{assessment_id + 1000}/{suffix}")
        assert theirs.status_code == missing.status_code == 404, suffix
        # Only the address differs (in the language links): the page itself is the same.
        assert _same_page(page(missing)).replace(str(assessment_id + 1000), str(assessment_id)) == _same_page(page(theirs)), suffix
    theirs = other.post(f"/evaluations/{assessment_id}/enonces/ECO-1", data={"csrf_token": token(other, "/mot-de-passe")})
    missing = other.post(f"/evaluations/{assessment_id + 1000}/enonces/ECO-1", data={"csrf_token": token(other, "/mot-de-passe")})
    assert theirs.status_code == missing.status_code == 404
    assert _same_page(page(missing)).replace(str(assessment_id + 1000), str(assessment_id)) == _same_page(page(theirs))


# --- D12: the last active administrator stays one ------------------------------------------

LAST_ADMIN = "Ce compte est le seul compte administrateur actif : Grille PIN doit en garder au moins un."


def _user_id(app, email):
    from sqlalchemy import select

    from pin_grid.models import User

    with app.app_context():
        found = db.session.scalar(select(User.id).where(User.email == email))
        db.session.remove()
    return found


def _role_and_activity(app, email):
    from pin_grid import accounts

    with app.app_context():
        user = accounts.get_user(_user_id(app, email))
        found = (user.role, user.active)
        db.session.remove()
    return found


def test_the_only_administrator_cannot_remove_their_own_admin_role(web_app, client):
    url = f"/admin/comptes/{_user_id(web_app, ADMIN)}"
    fields = form_fields(client.get(url).get_data(as_text=True))
    response = client.post(url, data={**fields, "role": "membre"})
    assert response.status_code == 422
    assert LAST_ADMIN in visible(page(response))
    assert _role_and_activity(web_app, ADMIN) == ("admin", True)


def test_the_last_active_administrator_cannot_be_disabled_nor_demoted(web_app, client):
    from pin_grid import accounts, services

    second = "deuxieme.admin@cisss.example"
    add_user(web_app, second, "admin")
    # With two, one may go; then the one left stays.
    assert client.post(f"/admin/comptes/{_user_id(web_app, second)}/desactiver",
                       data={"csrf_token": token(client)}).status_code == 302
    with web_app.app_context():
        with pytest.raises(services.Conflict) as refused:
            accounts.set_active(_user_id(web_app, ADMIN), False, actor="cli")
        assert str(refused.value.message).startswith(LAST_ADMIN)
        with pytest.raises(services.Conflict):
            accounts.update_user(_user_id(web_app, ADMIN), "gestionnaire", regions=["Montréal"], actor="cli")
        db.session.remove()
    assert _role_and_activity(web_app, ADMIN) == ("admin", True)
    # Once the other is active again, either may be demoted.
    client.post(f"/admin/comptes/{_user_id(web_app, second)}/activer", data={"csrf_token": token(client)})
    url = f"/admin/comptes/{_user_id(web_app, second)}"
    response = client.post(url, data={**form_fields(client.get(url).get_data(as_text=True)), "role": "membre"})
    assert response.status_code == 302
    assert _role_and_activity(web_app, second) == ("membre", True)


def test_an_organisation_name_whose_key_expands_past_its_column_is_stored(any_app):
    """« ﷺ » decomposes into 18 characters: 12 of them made a 216-character key, which
    PostgreSQL refused (a 500)."""
    client = sign_in(any_app.test_client(), ADMIN)
    t = token(client)
    client.post("/territoires/nouveau", data={"csrf_token": t, "code": "MTL-NORD", "name": "Nord", "region": "Montréal"})
    response = client.post("/evaluations/nouvelle", data={"csrf_token": t, "territory": "1", "date": "2024-03-14",
                                                          "perspective": "ﷺ" * 12})
    assert response.status_code == 302, page(response)
    with any_app.app_context():
        assert services.get_assessment(int(response.location.split("/")[2])).perspective.name == "ﷺ" * 12
        db.session.remove()


@pytest.mark.parametrize("body", [
    b'--x\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--x--\r\n',  # a part without a name
    b'--x\r\nContent-Disposition: form-data; name="email"; filename="a.txt"\r\n\r\nfichier\r\n--x--\r\n',
], ids=["nameless-part", "file-part"])
def test_multipart_parts_no_page_sends_are_refused_or_dropped(web_app, body):
    response = web_app.test_client().post("/connexion", data=body, content_type="multipart/form-data; boundary=x")
    assert response.status_code in (302, 400, 415)


def test_a_territory_sent_twice_for_an_account_is_kept_once(web_app, client):
    """A hand-made form with the same territory twice was a 500 (the link existed twice)."""
    t = token(client)
    client.post("/territoires/nouveau", data={"csrf_token": t, "code": "MTL-NORD", "name": "Nord", "region": "Montréal"})
    with web_app.app_context():
        from pin_grid import accounts
        user_id = accounts.create_user("coord2@cisss.example", "Trois pommes vertes au marché!", "coordonnateur",
                                       territories=["MTL-NORD"]).id
        db.session.remove()
    response = client.post(f"/admin/comptes/{user_id}", data={
        "csrf_token": t, "role": "coordonnateur", "territories": ["MTL-NORD", "MTL-NORD"]})
    assert response.status_code == 302, page(response)
    with web_app.app_context():
        assert [t.code for t in accounts.get_user(user_id).territories] == ["MTL-NORD"]
        db.session.remove()
