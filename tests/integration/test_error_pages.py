"""Every error page speaks the person's language, French by default, English when chosen."""
from __future__ import annotations

import pytest

from pin_grid.extensions import db

from .conftest import ADMIN, add_user, make_app, sign_in
from .test_web import TOKEN, page, visible

MEMBRE = "membre@cisss.example"
FRENCH = {
    403: "Accès non autorisé",
    404: "Page introuvable",
    405: "Action non permise",
    413: "Envoi trop volumineux",
    429: "Trop de tentatives de connexion",
    500: "Erreur du serveur",
}
ENGLISH = {
    403: "Access not allowed",
    404: "Page not found",
    405: "Action not allowed",
    413: "Submission too large",
    429: "Too many sign-in attempts",
    500: "Server error",
}


@pytest.fixture
def small_app(sqlite_url):
    """The app with a small request limit, sign-in throttling after 2 failures, and a route that fails."""
    app = make_app(sqlite_url, MAX_CONTENT_LENGTH=2000, MAX_FORM_MEMORY_SIZE=2000, LOGIN_MAX_FAILURES_PER_ACCOUNT=2,
                   PROPAGATE_EXCEPTIONS=False)

    def broken():
        raise RuntimeError("a bug")

    app.add_url_rule("/casse", "broken", broken)
    add_user(app, ADMIN, "admin")
    add_user(app, MEMBRE, "membre")
    yield app
    with app.app_context():
        db.engine.dispose()


def _responses(app, lang):
    admin, membre = sign_in(app.test_client(), ADMIN), sign_in(app.test_client(), MEMBRE)
    stranger = app.test_client()
    for client in (admin, membre, stranger):
        client.set_cookie("lang", lang)
    attempt = {"csrf_token": TOKEN.search(page(stranger.get("/connexion"))).group(1),
               "email": "personne@cisss.example", "password": "faux"}
    for _ in range(2):
        assert stranger.post("/connexion", data=attempt).status_code == 401
    return {
        403: membre.get("/admin/comptes"),
        404: admin.get("/nulle-part"),
        405: admin.get("/deconnexion"),
        413: admin.post("/territoires/nouveau", data={"name": "x" * 5000}),
        429: stranger.post("/connexion", data=attempt),
        500: admin.get("/casse"),
    }


@pytest.mark.parametrize("lang, expected", [("fr", FRENCH), ("en", ENGLISH)])
def test_error_pages_in_the_person_s_language(small_app, lang, expected):
    for status, response in _responses(small_app, lang).items():
        assert response.status_code == status
        text = visible(page(response))
        assert expected[status] in text, (status, text[:300])
        other = ENGLISH if lang == "fr" else FRENCH
        assert other[status] not in text, status
        assert "Forbidden" not in text and "Internal Server Error" not in text
