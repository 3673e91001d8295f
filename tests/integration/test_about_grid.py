"""« À propos de la grille »: what the grid is for and how to fill it, with the levels and
their definitions read from the grid in force, in French and in English, for anyone signed in."""
import html

import pytest

from pin_grid.context import current_grid

from .conftest import add_user, sign_in

URL = "/a-propos-de-la-grille"
OBJECTIVES = {
    "fr": ["pratique réflexive", "pratiques locales",
           "l'écart entre les pratiques actuelles et les pratiques souhaitées", "pistes d'action concrètes"],
    "en": ["reflective practice", "local practices",
           "the gap between current practices and desired practices", "concrete paths for action"],
}
HOW = {
    "fr": ["consensus", "parents-partenaires", "unité territoriale", "RLS", "CLSC", "MRC", "une fois par année",
           "pied d'égalité", "structures de soutien", "le score est"],
    "en": ["consensus", "parent partners", "territorial unit", "RLS", "CLSC", "MRC", "once a year",
           "equal footing", "support structures", "the score is"],
}


def _page(client, language):
    client.set_cookie("lang", language)
    response = client.get(URL)
    return response.status_code, html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_page_tells_the_objectives_how_to_fill_it_and_the_levels(web_app, client, language):
    status, text = _page(client, language)
    assert status == 200, text
    for words in OBJECTIVES[language] + HOW[language]:
        assert words in text, words
    with web_app.app_context():
        grid = current_grid()
    assert len(grid.levels) == 5
    for level in grid.levels:
        assert level.definition is not None, level.code
        assert level.label.get(language) in text, level.code
        assert level.definition.get(language) in text, level.code
        other = "en" if language == "fr" else "fr"
        assert level.definition.get(other) not in text, level.code
    for theme in grid.themes:
        assert theme.name.get(language) in text, theme.id


def test_any_signed_in_person_may_read_it(web_app):
    add_user(web_app, "membre@organisme.example", "membre")
    status, text = _page(sign_in(web_app.test_client(), "membre@organisme.example"), "fr")
    assert status == 200 and "À propos de la grille" in text


def test_it_asks_to_sign_in_first(web_app):
    response = web_app.test_client().get(URL)
    assert response.status_code == 302
    assert "/connexion" in response.location
