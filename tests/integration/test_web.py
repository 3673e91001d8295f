"""The screens through real HTTP (Flask test client, real SQLite file, CSRF on).

Each bad input gets a clear message in the user's language and a 4xx, and whatever was
typed in that form is still there in the page that comes back.
"""
import html
import re
from html.parser import HTMLParser

import pytest

from pin_grid import services
from pin_grid.extensions import db

from .conftest import ADMIN, sign_in

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def token(client, url="/territoires/nouveau"):
    return TOKEN.search(client.get(url).get_data(as_text=True)).group(1)


def page(response):
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def assessment_id(client):
    t = token(client)
    client.post("/territoires/nouveau", data={"csrf_token": t, "code": "MTL-NORD", "name": "Montréal-Nord",
                                              "region": "Montréal"})
    response = client.post("/evaluations/nouvelle", data={
        "csrf_token": t, "territory": "1", "date": "2024-03-14",
        "participants-0-name": "Ana", "participants-0-role": "intervenante", "participants-0-sector": "cisss",
        "organizations-0-name": "Maison de la Famille", "organizations-0-sector": "communautaire",
    })
    assert response.status_code == 302, page(response)
    return int(response.location.split("/")[2])


class _FormFields(HTMLParser):
    """What a browser would submit from a page's form: inputs, checked boxes, textareas, the
    option chosen in each list (the first one when none is)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.data, self._textarea, self._select = {}, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select:
            if self._select not in self.data or "selected" in a:
                self.data[self._select] = a.get("value", "")
        elif tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("radio", "checkbox"):
                if "checked" in a:
                    self.data[a["name"]] = a.get("value", "y")
            else:
                self.data[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.data[self._textarea] = ""

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if tag == "textarea":
            if self._textarea:  # a browser drops the newline that follows <textarea>
                self.data[self._textarea] = self.data[self._textarea].removeprefix("\n")
            self._textarea = None


def form_fields(text):
    parser = _FormFields()
    parser.feed(text)
    return parser.data


def grid_post(client, assessment_id, answers, intent="save", csrf=True, confirm=True):
    """Post the grid form as a browser does: everything shown, plus what the person changed.
    Finalising goes through the page that sums up what will be locked; with `confirm`, the
    person confirms there."""
    data = form_fields(client.get(f"/evaluations/{assessment_id}/grille").get_data(as_text=True))
    if not csrf:
        data.pop("csrf_token")
    for item_id, fields in answers.items():
        for name, value in fields.items():
            data[f"{item_id}-{name}"] = value
    data["intent"] = intent
    response = client.post(f"/evaluations/{assessment_id}/grille", data=data)
    if intent == "finalize" and confirm and response.status_code == 302 and response.location.endswith("/finaliser"):
        return confirm_finalize(client, assessment_id)
    return response


def confirm_finalize(client, assessment_id):
    """Press « Oui, finaliser » on the confirmation page."""
    url = f"/evaluations/{assessment_id}/finaliser"
    return client.post(url, data={"csrf_token": form_fields(client.get(url).get_data(as_text=True))["csrf_token"]})


def visible(text):
    """The text a person reads, without the markup."""
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())


def stored(web_app, assessment_id):
    with web_app.app_context():
        answers = {a.item_id: (a.level, a.comment) for a in services.get_assessment(assessment_id).answers}
        db.session.remove()
    return answers


def test_home_is_french_by_default_and_english_is_remembered(client):
    assert "Territoires et évaluations" in page(client.get("/"))
    response = client.get("/langue/en?next=/")
    assert response.status_code == 302 and response.location == "/"
    assert "Territories and assessments" in page(client.get("/"))
    assert "Territoires et évaluations" in page(client.get("/langue/fr?next=/", follow_redirects=True))


def test_language_switch_does_not_redirect_elsewhere(client):
    assert client.get("/langue/en?next=//evil.example").location == "/"


def test_the_grid_form_shows_24_statements_with_levels_and_progress(client, assessment_id, grid):
    text = page(client.get(f"/evaluations/{assessment_id}/grille"))
    assert text.count('type="radio"') == 24 * len(grid.levels)
    assert "0 / 24 énoncés répondus" in visible(text)
    assert "On ne sait pas" in text and "Sans objet" in text
    grid_post(client, assessment_id, {"ECO-1": {"level": "implante"}, "ECO-2": {"level": "ne_sais_pas"}})
    assert "2 / 24 énoncés répondus" in visible(page(client.get(f"/evaluations/{assessment_id}/grille")))


def test_save_leave_and_resume(client, web_app, assessment_id):
    response = grid_post(client, assessment_id, {"ECO-1": {"level": "partiel", "comment": "On y travaille"}})
    assert response.status_code == 302
    text = page(client.get(response.location))
    assert "Réponses enregistrées" in text
    assert 'name="ECO-1-level" value="partiel" checked' in text
    assert "On y travaille" in text
    assert stored(web_app, assessment_id)["ECO-1"] == ("partiel", "On y travaille")


def test_unknown_level_code(client, web_app, assessment_id):
    response = grid_post(client, assessment_id, {"ECO-1": {"level": "presque"}, "ECO-2": {"level": "implante", "comment": "gardé"}})
    assert response.status_code == 422
    text = page(response)
    assert "Niveau inconnu : « presque »" in text
    assert "gardé" in text
    assert stored(web_app, assessment_id) == {"ECO-2": ("implante", "gardé")}  # the valid answer is saved


def test_item_id_not_in_the_grid(client, web_app, assessment_id):
    response = grid_post(client, assessment_id, {"XYZ-9": {"level": "implante"}, "ECO-1": {"level": "partiel", "comment": "à garder"}})
    assert response.status_code == 422
    text = page(response)
    assert "ne font pas partie de la grille" in text and "XYZ-9" in text
    assert "à garder" in text
    assert stored(web_app, assessment_id)["ECO-1"] == ("partiel", "à garder")


@pytest.mark.parametrize("typed", ["14/03/2024", "2024-02-30"])
def test_wrong_dates_on_the_start_form(client, typed):
    t = token(client)
    client.post("/territoires/nouveau", data={"csrf_token": t, "code": "LAV", "name": "Laval", "region": "Laval"})
    response = client.post("/evaluations/nouvelle", data={
        "csrf_token": t, "territory": "1", "date": typed,
        "participants-0-name": "Béatrice", "participants-0-role": "coordonnatrice", "participants-0-sector": "cisss",
    })
    assert response.status_code == 422
    text = page(response)
    assert f"« {typed} » n'est pas une date valide" in text
    assert 'value="Béatrice"' in text and 'value="coordonnatrice"' in text and f'value="{typed}"' in text


@pytest.mark.parametrize("typed", ["14/03/2024", "2024-02-30"])
def test_wrong_action_due_date_keeps_the_rest(client, assessment_id, typed):
    response = grid_post(client, assessment_id, {"ECO-1": {"level": "implante", "action": "Former", "action_due": typed},
                                                 "ECO-2": {"level": "partiel"}})
    assert response.status_code == 422
    text = page(response)
    assert "n'est pas une date valide" in text and f'value="{typed}"' in text and "Former" in text


def test_a_10_mb_comment(client, web_app, assessment_id):
    huge = "é" * (5 * 1024 * 1024)  # 10 MB of UTF-8
    response = grid_post(client, assessment_id, {"ECO-1": {"level": "implante", "comment": huge},
                                                 "ECO-2": {"level": "partiel", "comment": "court"}})
    assert response.status_code == 422
    text = page(response)
    assert "Le commentaire dépasse 5000 caractères" in text
    assert huge in text  # handed back for the person to shorten, not thrown away
    assert stored(web_app, assessment_id) == {"ECO-2": ("partiel", "court")}


def test_500_participants(client):
    t = token(client)
    client.post("/territoires/nouveau", data={"csrf_token": t, "code": "LAV", "name": "Laval", "region": "Laval"})
    data = {"csrf_token": t, "territory": "1", "date": "2024-03-14"}
    for i in range(500):
        data.update({f"participants-{i}-name": f"Personne {i}", f"participants-{i}-role": "membre",
                     f"participants-{i}-sector": "communautaire"})
    response = client.post("/evaluations/nouvelle", data=data)
    assert response.status_code == 422
    text = page(response)
    assert "Au plus 100 personnes participantes par évaluation (500 reçues)" in text
    assert 'value="Personne 499"' in text


@pytest.mark.parametrize("code", ["MTL NORD", "MTL-NÖRD", "Montréal"])
def test_territory_code_with_spaces_or_accents(client, code):
    response = client.post("/territoires/nouveau", data={"csrf_token": token(client), "code": code,
                                                         "name": "Montréal-Nord", "region": "Montréal"})
    assert response.status_code == 422
    text = page(response)
    assert "lettres sans accent" in text and 'value="Montréal-Nord"' in text


def test_duplicate_territory_code(client):
    data = {"csrf_token": token(client), "code": "mtl-nord", "name": "Montréal-Nord", "region": "Montréal"}
    assert client.post("/territoires/nouveau", data=data).status_code == 302
    response = client.post("/territoires/nouveau", data=data)
    assert response.status_code == 422 and "déjà utilisé" in page(response)


def test_finalising_with_unanswered_statements(client, web_app, assessment_id):
    response = grid_post(client, assessment_id, {"ECO-1": {"level": "implante", "comment": "oui"}}, intent="finalize")
    assert response.status_code == 422
    text = page(response)
    assert "Impossible de finaliser : 23 énoncés sont sans réponse" in text
    assert 'name="ECO-1-level" value="implante" checked' in text
    assert stored(web_app, assessment_id)["ECO-1"] == ("implante", "oui")


def test_finalising_then_results_and_lock(client, web_app, grid, assessment_id):
    answers = {item_id: {"level": "implante"} for item_id in grid.items}
    answers.update({"ECO-3": {"level": "partiel"}, "ECO-5": {"level": "partiel"}, "STR-1": {"level": "ne_sais_pas"}})
    response = grid_post(client, assessment_id, answers, intent="finalize")
    assert response.status_code == 302 and response.location.endswith("/resultats")
    text = page(client.get(response.location))
    assert "75,0" in text and "Partiellement implanté" in text and "95,0" in text  # ensemble (75+100×4)/5
    assert "Résultats provisoires" not in text
    assert client.get(f"/evaluations/{assessment_id}/grille").status_code == 302
    response = grid_post_raw(client, assessment_id, {"ECO-1-level": "non_implante", "ECO-1-comment": "tardif"})
    assert response.status_code == 409
    assert "finalisée" in page(response) and "tardif" in page(response)
    assert stored(web_app, assessment_id)["ECO-1"][0] == "implante"


def grid_post_raw(client, assessment_id, data):
    return client.post(f"/evaluations/{assessment_id}/grille", data={"csrf_token": token(client), **data, "intent": "save"})


def test_draft_results_are_marked_provisional(client, assessment_id):
    grid_post(client, assessment_id, {"ECO-1": {"level": "implante"}, "ECO-2": {"level": "implante"}})
    text = page(client.get(f"/evaluations/{assessment_id}/resultats"))
    assert "Résultats provisoires" in text and "100,0" in text and "Données insuffisantes" in text


@pytest.mark.parametrize("csrf", ["missing", "wrong"])
def test_missing_or_wrong_csrf_token_saves_nothing_and_keeps_the_answers(client, web_app, assessment_id, csrf):
    data = {"ECO-1-level": "implante", "ECO-1-comment": "Texte précieux", "intent": "save"}
    if csrf == "wrong":
        data["csrf_token"] = "forged"
    response = client.post(f"/evaluations/{assessment_id}/grille", data=data)
    assert response.status_code == 400
    text = page(response)
    assert "Le formulaire a expiré" in text and "Texte précieux" in text
    assert 'name="ECO-1-level" value="implante" checked' in text
    assert stored(web_app, assessment_id) == {}
    # the page carries a fresh token: saving again from it works
    fresh = TOKEN.search(text).group(1)
    assert client.post(f"/evaluations/{assessment_id}/grille", data={**data, "csrf_token": fresh}).status_code == 302


def test_every_post_route_refuses_a_missing_token(client, web_app, assessment_id):
    routes = [r for r in web_app.url_map.iter_rules() if "POST" in r.methods]
    assert routes
    for rule in routes:
        url = rule.build({"assessment_id": assessment_id, "user_id": 1, "change": "desactiver", "item_id": "ECO-1",
                          "code": "MTL-NORD", "organization_id": 1})[1]
        response = client.post(url, data={})
        expected = 404 if rule.rule == "/installation" else 400  # the set-up page is gone once an account exists
        assert response.status_code == expected, (rule.rule, response.status_code)


@pytest.mark.parametrize("url", ["/evaluations/999/grille", "/evaluations/999/resultats", "/evaluations/999/details"])
def test_an_assessment_id_that_does_not_exist(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "Page introuvable" in page(response)  # the same page as for an assessment that is not theirs


def test_posting_to_an_assessment_that_does_not_exist(client):
    response = client.post("/evaluations/999/grille", data={"csrf_token": token(client), "ECO-1-level": "implante"})
    assert response.status_code == 404


def test_an_unknown_page_in_english(client):
    client.get("/langue/en?next=/")
    response = client.get("/nulle-part")
    assert response.status_code == 404
    assert "Page not found" in page(response)


def test_two_people_on_one_draft_see_each_others_change_instead_of_overwriting(web_app, assessment_id, client):
    other = sign_in(web_app.test_client(), ADMIN)
    mine = page(client.get(f"/evaluations/{assessment_id}/grille"))
    theirs = page(other.get(f"/evaluations/{assessment_id}/grille"))

    def form_of(text, changes):
        return {**form_fields(text), **changes, "intent": "save"}

    assert other.post(f"/evaluations/{assessment_id}/grille",
                      data=form_of(theirs, {"ECO-1-level": "implante", "ECO-1-comment": "Leur avis"})).status_code == 302
    response = client.post(f"/evaluations/{assessment_id}/grille",
                           data=form_of(mine, {"ECO-1-level": "non_implante", "ECO-1-comment": "Mon avis",
                                               "ECO-2-level": "partiel"}))
    assert response.status_code == 409
    text = page(response)
    assert "Quelqu'un d'autre a modifié" in text and "Leur avis" in text and "Mon avis" in text
    assert stored(web_app, assessment_id) == {"ECO-1": ("implante", "Leur avis"), "ECO-2": ("partiel", "")}


def test_a_statement_saved_without_its_version_never_overwrites_an_answer(client, web_app, assessment_id):
    csrf = token(client, f"/evaluations/{assessment_id}/grille")
    url = f"/evaluations/{assessment_id}/enonces/ECO-1"
    first = client.post(url, data={"csrf_token": csrf, "ECO-1-level": "implante", "ECO-1-comment": "la nôtre"})
    assert first.status_code == 200 and first.get_json()["saved"]
    blind = client.post(url, data={"csrf_token": csrf, "ECO-1-level": "non_implante"})
    assert blind.status_code == 409
    assert blind.get_json()["theirs"]["comment"] == "la nôtre"
    assert stored(web_app, assessment_id)["ECO-1"] == ("implante", "la nôtre")
    based = client.post(url, data={"csrf_token": csrf, "ECO-1-level": "non_implante", "ECO-1-base": first.get_json()["base"]})
    assert based.status_code == 200
    assert stored(web_app, assessment_id)["ECO-1"] == ("non_implante", "")
