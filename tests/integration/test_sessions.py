"""Sessions, sign-in and the web layer's safety, through real HTTP on a real SQLite file.

Cookies and headers, no inline script, a new session at each sign-in, signing out, the
inactivity timeout that keeps what was typed, throttled sign-ins that never tell whether an
account exists, the first administrator, passwords, disabling accounts, and the refusal to run
in production without a secret or with debug on.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import select, update

from pin_grid.config import Config
from pin_grid.extensions import db
from pin_grid.models import Answer, AuditEvent, LoginThrottle, PendingForm, User, UserSession
from pin_grid.security import ConfigurationError

from .conftest import ADMIN, PASSWORD, add_user, make_app, sign_in
from .test_web import form_fields, page, visible

ROOT = Path(__file__).resolve().parents[2]
ANY_TOKEN = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
WRONG = "Ce n'est pas le bon mot de passe!"
NEW_PASSWORD = "Quatre poires mûres au verger?"
MEMBRE = "membre@cisss.example"
BAD_CREDENTIALS = "Adresse courriel ou mot de passe incorrect."
THROTTLED = "Trop de tentatives de connexion"


def csrf(client, url="/") -> str:
    return ANY_TOKEN.search(client.get(url).get_data(as_text=True)).group(1)


def attempt(client, email, password, url="/connexion"):
    """One sign-in attempt from this browser, CSRF token included."""
    token = csrf(client, "/connexion")
    return client.post(url, data={"csrf_token": token, "email": email, "password": password})


def cookie_flags(response, name="session") -> set[str]:
    """The attributes of a cookie the response sets, lowercased: {"httponly", "samesite=lax", …}."""
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            flags = set()
            for part in header.split(";")[1:]:
                key, _, value = part.strip().partition("=")
                flags.add(f"{key.lower()}={value.lower()}" if key.lower() == "samesite" else key.lower())
            return flags
    raise AssertionError(f"no {name} cookie set: {response.headers.getlist('Set-Cookie')}")


def session_data(app, client) -> dict:
    cookie = client.get_cookie("session")
    return app.session_interface.get_signing_serializer(app).loads(cookie.value) if cookie else {}


def rows(app, model, *where):
    with app.app_context():
        found = list(db.session.scalars(select(model).where(*where)))
        db.session.expunge_all()
        db.session.remove()
    return found


def user_id(app, email):
    return rows(app, User, User.email == email)[0].id


def new_assessment(client, date: str = "2024-03-14", new_territory: bool = True) -> int:
    token = csrf(client)
    if new_territory:
        response = client.post("/territoires/nouveau", data={"csrf_token": token, "code": "MTL-NORD",
                                                             "name": "Montréal-Nord", "region": "Montréal"})
        assert response.status_code == 302, page(response)
    response = client.post("/evaluations/nouvelle", data={"csrf_token": token, "territory": "1", "date": date})
    assert response.status_code == 302, page(response)
    return int(response.location.split("/")[2])


def from_address(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def signed_in(client) -> bool:
    response = client.get("/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


@pytest.fixture(scope="module")
def admin_template(sqlite_template, tmp_path_factory):
    """A database with the administrator, and a cookie of theirs already signed in, made once:
    hashing a password with scrypt takes a while, and most tests start from there."""
    path = tmp_path_factory.mktemp("sessions") / "admin.sqlite"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    add_user(app, ADMIN, "admin")
    cookie = sign_in(app.test_client(), ADMIN).get_cookie("session").value
    with app.app_context():
        db.engine.dispose()
    return path, cookie


@pytest.fixture
def web_app(admin_template, tmp_path):
    """Overrides conftest's web_app with a copy of the template (same content: the administrator)."""
    path = tmp_path / "pin_grid.sqlite"
    for suffix in ("", "-wal", "-shm"):  # the whole database, should SQLite have kept its log
        if Path(f"{admin_template[0]}{suffix}").exists():
            shutil.copy(f"{admin_template[0]}{suffix}", f"{path}{suffix}")
    app = make_app(f"sqlite:///{path}")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(web_app, admin_template):
    """A browser signed in as the administrator (its session is in the copied database)."""
    browser = web_app.test_client()
    browser.set_cookie("session", admin_template[1])
    assert signed_in(browser)
    return browser


@pytest.fixture
def empty_app(sqlite_template, tmp_path):
    """An install with no account at all."""
    path = tmp_path / "empty.sqlite"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def production_app(web_app):
    """The same database served as in production (PIN_ENV=production, a secret set)."""
    app = make_app(web_app.config["SQLALCHEMY_DATABASE_URI"], PIN_ENV="production", SECRET_KEY="prod-secret")
    yield app
    with app.app_context():
        db.engine.dispose()


# --- cookies ---------------------------------------------------------------------------------

def test_session_cookie_is_httponly_and_samesite_lax_but_not_secure_in_development(web_app):
    client = web_app.test_client()
    flags = cookie_flags(client.get("/connexion"))
    assert {"httponly", "samesite=lax"} <= flags and "secure" not in flags
    response = attempt(client, ADMIN, PASSWORD)
    assert response.status_code == 302
    flags = cookie_flags(response)
    assert {"httponly", "samesite=lax"} <= flags and "secure" not in flags


def test_session_cookie_is_secure_in_production(production_app):
    assert production_app.config["PIN_ENV"] == "production" and not production_app.debug
    client = production_app.test_client()
    assert {"secure", "httponly", "samesite=lax"} <= cookie_flags(client.get("/connexion"))
    # Signing in over HTTPS (as behind the production proxy) sets a secure cookie too.
    https = production_app.test_client()
    page_ = https.get("/connexion", base_url="https://localhost").get_data(as_text=True)
    response = https.post("/connexion", base_url="https://localhost", data={
        "csrf_token": ANY_TOKEN.search(page_).group(1), "email": ADMIN, "password": PASSWORD})
    assert response.status_code == 302
    assert {"secure", "httponly", "samesite=lax"} <= cookie_flags(response)


def test_language_cookie_is_secure_in_production(production_app):
    response = production_app.test_client().get("/langue/en?next=/connexion")
    assert response.status_code == 302
    assert {"secure", "httponly", "samesite=lax"} <= cookie_flags(response, "lang")


# --- headers and inline scripts --------------------------------------------------------------

def assert_safe_headers(response):
    csp = {part.strip().split(" ")[0]: part.strip() for part in response.headers["Content-Security-Policy"].split(";")}
    assert csp["script-src"] == "script-src 'self'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin",
                                                   "strict-origin")
    assert "no-store" in response.headers["Cache-Control"]


def test_pages_with_assessment_data_carry_the_security_headers(client):
    assessment = new_assessment(client)
    token = csrf(client)
    for response in [
        client.get(f"/evaluations/{assessment}/grille"),
        client.get(f"/evaluations/{assessment}/resultats"),
        client.get(f"/evaluations/{assessment}/details"),
        client.get("/"),
        client.post(f"/evaluations/{assessment}/enonces/ECO-1", data={"csrf_token": token, "ECO-1-level": "partiel"}),
        client.get("/evaluations/999/resultats"),
    ]:
        assert_safe_headers(response)
    assert client.get(f"/evaluations/{assessment}/resultats").status_code == 200


class _InlineCode(HTMLParser):
    """Whatever a CSP without 'unsafe-inline' would block: inline scripts, on* handlers,
    javascript: URLs, inline styles."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems, self._in_script = [], False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            if not a.get("src"):
                self.problems.append("<script> without src")
            self._in_script = True
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name.lower() == "style":
                self.problems.append(f"<{tag} style=…>")
            if value and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append(f"inline script code: {data.strip()[:40]}")


def inline_code(response) -> list[str]:
    parser = _InlineCode()
    parser.feed(response.get_data(as_text=True))
    return parser.problems


def test_no_template_holds_inline_script_or_event_handler():
    for template in sorted((ROOT / "templates").glob("*.html")):
        text = template.read_text(encoding="utf-8")
        # A data block (`type="application/json"`: the dashboards' figures) is not run.
        assert not re.search(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", text), template.name
        assert not re.search(r"\son[a-z]+\s*=", text, re.IGNORECASE), template.name
        assert "javascript:" not in text.lower(), template.name


def test_no_rendered_page_of_the_main_flows_holds_inline_code(web_app, empty_app, client, grid):
    responses = {"setup": empty_app.test_client().get("/installation"),
                 "login": web_app.test_client().get("/connexion")}
    assessment = new_assessment(client)
    token = csrf(client)
    urls = ["/", "/territoires/nouveau", "/evaluations/nouvelle", f"/evaluations/{assessment}/details",
            f"/evaluations/{assessment}/grille", f"/evaluations/{assessment}/resultats",
            f"/evaluations/{assessment}/journal", "/comparaison/", "/admin/comptes", "/mot-de-passe", "/nulle-part",
            "/langue/en?next=/"]
    for url in urls:
        responses[url] = client.get(url, follow_redirects=True)
    client.get("/langue/fr?next=/")
    responses["422 grid"] = client.post(f"/evaluations/{assessment}/grille",
                                        data={"csrf_token": token, "ECO-1-level": "presque", "intent": "save"})
    responses["400 grid"] = client.post(f"/evaluations/{assessment}/grille", data={"ECO-1-level": "implante"})
    responses["400 logout"] = client.post("/deconnexion", data={})
    answers = {f"{item}-level": "implante" for item in grid.items}
    responses["finalize confirmation"] = client.post(f"/evaluations/{assessment}/grille", data={
        "csrf_token": token, **answers, "intent": "finalize"}, follow_redirects=True)
    assert "Oui, finaliser l'évaluation" in page(responses["finalize confirmation"])
    responses["delete confirmation"] = client.get(f"/evaluations/{assessment}/supprimer")
    finalised = client.post(f"/evaluations/{assessment}/finaliser", data={"csrf_token": token}, follow_redirects=True)
    assert "Évaluation finalisée" in page(finalised)
    responses["final results"] = finalised
    responses["comparison with data"] = client.get("/comparaison/")
    responses["revision grid"] = client.post(f"/evaluations/{assessment}/revision",
                                             data={"csrf_token": token, "reason": "Coquille"}, follow_redirects=True)
    add_user(web_app, MEMBRE, "membre", territories=["MTL-NORD"])
    membre = sign_in(web_app.test_client(), MEMBRE)
    responses["403"] = membre.get("/comparaison/")
    assert responses["403"].status_code == 403
    for name, response in responses.items():
        assert response.mimetype == "text/html", name
        assert not inline_code(response), (name, inline_code(response))
        assert_safe_headers(response)


# --- a new session at each sign-in, and signing out ------------------------------------------

def test_signing_in_starts_a_new_session(web_app):
    client = web_app.test_client()
    before_page = client.get("/connexion").get_data(as_text=True)
    before = client.get_cookie("session").value
    old_token = ANY_TOKEN.search(before_page).group(1)
    assert "sid" not in session_data(web_app, client)
    response = client.post("/connexion", data={"csrf_token": old_token, "email": ADMIN, "password": PASSWORD})
    assert response.status_code == 302
    after = client.get_cookie("session").value
    assert after != before
    first_sid = session_data(web_app, client)["sid"]
    # The cookie from before signing in is not signed in.
    stale = web_app.test_client()
    stale.set_cookie("session", before)
    assert stale.get("/").status_code == 302
    # Nothing of the old session carries over: its CSRF token no longer works.
    assert client.post("/deconnexion", data={"csrf_token": old_token}).status_code == 400
    assert signed_in(client)
    # Signing in again in the same browser gives another session id and ends the previous one.
    copy = web_app.test_client()
    copy.set_cookie("session", after)
    assert signed_in(copy)
    assert attempt(client, ADMIN, PASSWORD).status_code == 302
    assert session_data(web_app, client)["sid"] != first_sid
    assert signed_in(client) and not signed_in(copy)


def test_signing_out_ends_the_session_even_for_a_copied_cookie(web_app, client):
    admin = user_id(web_app, ADMIN)
    assert len(rows(web_app, UserSession, UserSession.user_id == admin)) == 1
    saved = client.get_cookie("session").value
    assert client.get("/deconnexion").status_code == 405
    assert client.post("/deconnexion", data={}).status_code == 400  # CSRF required
    assert signed_in(client)
    response = client.post("/deconnexion", data={"csrf_token": csrf(client)})
    assert response.status_code == 302 and response.location.startswith("/connexion")
    assert "Déconnexion réussie." in page(client.get(response.location))
    assert not signed_in(client)
    replay = web_app.test_client()
    replay.set_cookie("session", saved)
    response = replay.get("/")
    assert response.status_code == 302 and response.location.startswith("/connexion")
    assert rows(web_app, UserSession, UserSession.user_id == admin) == []


def test_a_forged_or_foreign_session_cookie_is_not_signed_in(web_app, client):
    data = session_data(web_app, client)
    serializer = web_app.session_interface.get_signing_serializer(web_app)
    forged = web_app.test_client()
    forged.set_cookie("session", serializer.dumps({**data, "sid": "guessed-token"}))
    assert not signed_in(forged)
    other_secret = make_app(web_app.config["SQLALCHEMY_DATABASE_URI"], SECRET_KEY="another-secret")
    try:
        foreign = web_app.test_client()
        foreign.set_cookie("session", other_secret.session_interface.get_signing_serializer(other_secret).dumps(data))
        assert not signed_in(foreign)
    finally:
        with other_secret.app_context():
            db.engine.dispose()


# --- inactivity ------------------------------------------------------------------------------

def idle_for(app, minutes):
    """Pretend every session was last used `minutes` ago (inactivity is measured on the server)."""
    with app.app_context():
        db.session.execute(update(UserSession).values(
            last_seen_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes)))
        db.session.commit()
        db.session.remove()


def stored_answers(app, assessment):
    with app.app_context():
        found = {a.item_id: (a.level, a.comment) for a in db.session.scalars(
            select(Answer).where(Answer.assessment_id == assessment)) if a.level}
        db.session.remove()
    return found


def test_inactivity_follows_the_configured_limit(web_app, client):
    assert web_app.config["SESSION_IDLE_MINUTES"] == 30
    idle_for(web_app, 29)
    assert signed_in(client)
    idle_for(web_app, 31)
    response = client.get("/")
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.location).query).get("expiree") == ["1"]
    assert not signed_in(client)
    # The limit is read from the configuration.
    sign_in(client, ADMIN)
    web_app.config["SESSION_IDLE_MINUTES"] = 120
    idle_for(web_app, 90)
    assert signed_in(client)


def test_what_was_typed_when_the_session_expired_is_restored_after_signing_in(web_app, client):
    assessment = new_assessment(client)
    url = f"/evaluations/{assessment}/grille"
    typed = form_fields(client.get(url).get_data(as_text=True))
    typed.update({"ECO-1-level": "partiel", "ECO-1-comment": "Tapé pendant la pause café",
                  "ECO-2-level": "non_implante", "intent": "save"})
    idle_for(web_app, 31)

    response = client.post(url, data=typed)
    assert response.status_code == 302
    login_url = response.location
    assert urlsplit(login_url).path == "/connexion"
    assert parse_qs(urlsplit(login_url).query) == {"next": [url], "expiree": ["1"]}
    assert stored_answers(web_app, assessment) == {}  # nothing saved without a session
    kept = rows(web_app, PendingForm)
    assert len(kept) == 1 and kept[0].path == url

    text = visible(page(client.get(login_url)))
    assert "Votre session a pris fin après une période d'inactivité." in text
    assert "Ce que vous veniez de saisir est conservé" in text

    response = attempt(client, ADMIN, PASSWORD, url=login_url)
    assert response.status_code == 302 and response.location == url
    restored = page(client.get(url))
    assert "Ce que vous aviez saisi avant la fin de votre session est rétabli" in restored
    assert 'name="ECO-1-level" value="partiel" checked' in restored
    assert 'name="ECO-2-level" value="non_implante" checked' in restored
    assert "Tapé pendant la pause café" in restored
    assert stored_answers(web_app, assessment) == {}  # restored, not yet saved
    assert rows(web_app, PendingForm) == []  # kept once only
    assert "est rétabli" not in page(client.get(url))

    response = client.post(url, data={**form_fields(restored), "intent": "save"})
    assert response.status_code == 302, page(response)
    assert stored_answers(web_app, assessment) == {"ECO-1": ("partiel", "Tapé pendant la pause café"),
                                                   "ECO-2": ("non_implante", "")}


def autosave(client, assessment, item, token, **fields):
    """What the page sends when one statement changes (static/app.js)."""
    return client.post(f"/evaluations/{assessment}/enonces/{item}",
                       data={"csrf_token": token, **{f"{item}-{k}": v for k, v in fields.items()}},
                       headers={"Accept": "application/json"})


def test_an_expired_session_answers_the_autosave_with_json_and_keeps_what_it_sent(web_app, client):
    assessment = new_assessment(client)
    url = f"/evaluations/{assessment}/grille"
    token = csrf(client)
    idle_for(web_app, 31)
    response = autosave(client, assessment, "ECO-1", token, level="implante", comment="Dit pendant la pause")
    assert response.status_code == 401
    assert response.get_json()["login"] == f"/connexion?next={url.replace('/', '%2F')}&expiree=1" or \
        parse_qs(urlsplit(response.get_json()["login"]).query) == {"next": [url], "expiree": ["1"]}
    assert "Votre session a pris fin" in response.get_json()["error"]
    # The next statements too: the first 401 does not use up what marks the session as ended.
    assert autosave(client, assessment, "ECO-2", token, level="partiel").status_code == 401
    assert autosave(client, assessment, "ECO-1", token, level="non_implante",
                    comment="Dit pendant la pause, corrigé").status_code == 401
    assert stored_answers(web_app, assessment) == {}
    assert len(rows(web_app, PendingForm)) == 1  # one kept form for the page, that adds up

    assert attempt(client, ADMIN, PASSWORD, url=response.get_json()["login"]).location == url
    restored = page(client.get(url))
    assert "est rétabli" in restored
    assert 'name="ECO-1-level" value="non_implante" checked' in restored
    assert "Dit pendant la pause, corrigé" in restored
    assert 'name="ECO-2-level" value="partiel" checked' in restored
    response = client.post(url, data={**form_fields(restored), "intent": "save"})
    assert response.status_code == 302, page(response)
    assert stored_answers(web_app, assessment) == {"ECO-1": ("non_implante", "Dit pendant la pause, corrigé"),
                                                   "ECO-2": ("partiel", "")}


def test_after_an_autosave_401_the_page_save_still_keeps_everything(web_app, client):
    """The reported loss: with JavaScript on, the autosave's 401 used up the marker, and the
    « Enregistrer » that followed kept nothing."""
    assessment = new_assessment(client)
    url = f"/evaluations/{assessment}/grille"
    typed = form_fields(client.get(url).get_data(as_text=True))
    client.post(url, data={**typed, "ECO-5-level": "implante", "ECO-5-comment": "Déjà là", "intent": "save"})
    typed = form_fields(client.get(url).get_data(as_text=True))
    idle_for(web_app, 31)
    assert autosave(client, assessment, "ECO-1", typed["csrf_token"], level="partiel").status_code == 401
    typed.update({"ECO-1-level": "partiel", "ECO-1-comment": "Tapé après la fin de la session", "intent": "save"})
    response = client.post(url, data=typed)
    assert response.status_code == 302 and urlsplit(response.location).path == "/connexion"
    assert "Ce que vous veniez de saisir est conservé" in visible(page(client.get(response.location)))
    attempt(client, ADMIN, PASSWORD)
    restored = page(client.get(url))
    assert 'name="ECO-1-level" value="partiel" checked' in restored and "Tapé après la fin de la session" in restored
    assert 'name="ECO-5-level" value="implante" checked' in restored and "Déjà là" in restored


def test_what_is_typed_after_an_expiry_comes_back_to_that_person_only(web_app, client):
    assessment = new_assessment(client)
    url = f"/evaluations/{assessment}/grille"
    typed = form_fields(client.get(url).get_data(as_text=True))
    idle_for(web_app, 31)
    typed.update({"ECO-3-level": "implante", "ECO-3-comment": "Tapé avant la pause", "intent": "save"})
    response = client.post(url, data=typed)
    assert response.status_code == 302 and urlsplit(response.location).path == "/connexion"
    assert stored_answers(web_app, assessment) == {}
    # Someone else signing in on this browser does not get it …
    add_user(web_app, MEMBRE, "membre", territories=["MTL-NORD"])
    attempt(client, MEMBRE, PASSWORD)
    assert "Tapé avant la pause" not in page(client.get(url))
    # … (signing in ended the timed-out session: that person's signing out does not purge it) …
    client.post("/deconnexion", data={"csrf_token": csrf(client)})
    # … and the person who typed it does.
    attempt(client, ADMIN, PASSWORD)
    restored = page(client.get(url))
    assert "Tapé avant la pause" in restored and 'name="ECO-3-level" value="implante" checked' in restored


def test_signing_out_keeps_nothing_of_what_another_tab_sends_and_forgets_what_was_kept(web_app, client):
    assessment = new_assessment(client)
    url = f"/evaluations/{assessment}/grille"
    typed = form_fields(client.get(url).get_data(as_text=True))
    idle_for(web_app, 31)
    assert client.post(url, data={**typed, "ECO-1-comment": "Gardé un moment", "intent": "save"}).status_code == 302
    assert len(rows(web_app, PendingForm)) == 1
    attempt(client, ADMIN, PASSWORD, url=f"/connexion?next={url}")
    # « Se déconnecter » on purpose: what was kept is forgotten …
    assert client.post("/deconnexion", data={"csrf_token": csrf(client)}).status_code == 302
    assert rows(web_app, PendingForm) == []
    # … and another tab of the same browser (same cookies) that saves afterwards keeps nothing.
    typed = form_fields(client.get("/connexion").get_data(as_text=True)) | typed
    response = client.post(url, data={**typed, "ECO-3-comment": "Tapé dans l'autre onglet", "intent": "save"})
    assert response.status_code == 302 and urlsplit(response.location).path == "/connexion"
    assert rows(web_app, PendingForm) == [] and stored_answers(web_app, assessment) == {}


def test_a_cookie_from_before_signing_out_replayed_keeps_nothing(web_app, client):
    assessment = new_assessment(client)
    url = f"/evaluations/{assessment}/grille"
    typed = form_fields(client.get(url).get_data(as_text=True))
    old_cookie = client.get_cookie("session").value
    client.post("/deconnexion", data={"csrf_token": typed["csrf_token"]})
    for n in range(20):
        replay = web_app.test_client()
        replay.set_cookie("session", old_cookie)
        response = replay.post(url, data={**typed, "ECO-1-comment": "x" * 100_000 + str(n), "intent": "save"})
        assert response.status_code == 302
    assert rows(web_app, PendingForm) == []


def test_a_disabled_account_gets_nothing_kept_and_loses_what_was(web_app, client):
    assessment = new_assessment(client)
    add_user(web_app, MEMBRE, "membre", territories=["MTL-NORD"])
    url = f"/evaluations/{assessment}/grille"
    member = sign_in(web_app.test_client(), MEMBRE)
    typed = form_fields(member.get(url).get_data(as_text=True))
    idle_for(web_app, 31)
    assert member.post(url, data={**typed, "ECO-1-comment": "Avant", "intent": "save"}).status_code == 302
    assert len(rows(web_app, PendingForm)) == 1
    sign_in(client, ADMIN)
    assert client.post(f"/admin/comptes/{user_id(web_app, MEMBRE)}/desactiver", data={"csrf_token": csrf(client)}).status_code == 302
    assert rows(web_app, PendingForm) == []
    assert member.post(url, data={**typed, "ECO-1-comment": "Après", "intent": "save"}).status_code == 302
    assert rows(web_app, PendingForm) == []


def test_a_few_forms_at_most_are_kept_per_person_the_newest(web_app, client):
    pages = [f"/evaluations/{new_assessment(client, f'2024-03-{day:02d}', new_territory=day == 10)}/grille"
             for day in range(10, 16)]
    typed = {url: form_fields(client.get(url).get_data(as_text=True)) for url in pages}
    idle_for(web_app, 31)
    for url in pages:
        assert client.post(url, data={**typed[url], "ECO-1-comment": f"Sur {url}", "intent": "save"}).status_code == 302
    assert sorted(r.path for r in rows(web_app, PendingForm)) == sorted(pages[-3:])


def test_a_form_posted_by_a_browser_that_was_never_signed_in_is_not_kept(web_app, client):
    assessment = new_assessment(client)
    url = f"/evaluations/{assessment}/grille"
    # What a hostile page's auto-submitted form sends: no cookie (SameSite=Lax), no CSRF token.
    victim = web_app.test_client()
    response = victim.post(url, data={"ECO-1-level": "non_implante", "ECO-1-comment": "Injecté par un tiers",
                                      "intent": "save"})
    assert response.status_code == 302
    assert rows(web_app, PendingForm) == []
    attempt(victim, ADMIN, PASSWORD, url=response.location)
    assert "Injecté par un tiers" not in page(victim.get(url))


# --- where one is sent after signing in or switching language --------------------------------

OFF_SITE = [pytest.param("/\t/evil.example", id="tab"), pytest.param("/\n/evil.example", id="newline")]


def assert_stays_on_site(response):
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc and location.startswith("/") and not location.startswith("//")


@pytest.mark.parametrize("target", [pytest.param("//evil.example", id="two slashes"),
                                    pytest.param("/\\evil.example", id="backslash"),
                                    pytest.param("https://evil.example/", id="absolute")])
def test_signing_in_does_not_send_elsewhere(web_app, target):
    client = web_app.test_client()
    response = attempt(client, ADMIN, PASSWORD, url=f"/connexion?{urlencode({'next': target})}")
    assert_stays_on_site(response)
    assert_stays_on_site(client.get(f"/langue/en?{urlencode({'next': target})}"))


@pytest.mark.parametrize("target", OFF_SITE)
def test_signing_in_never_sends_off_site_with_control_characters(web_app, target):
    web_app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is a 500 page, as in production
    response = attempt(web_app.test_client(), ADMIN, PASSWORD, url=f"/connexion?{urlencode({'next': target})}")
    assert_stays_on_site(response)


@pytest.mark.parametrize("target", OFF_SITE)
def test_language_switch_never_sends_off_site_with_control_characters(web_app, target):
    web_app.config["PROPAGATE_EXCEPTIONS"] = False
    assert_stays_on_site(web_app.test_client().get(f"/langue/en?{urlencode({'next': target})}"))


# --- throttled sign-in that never tells whether an account exists ------------------------------

def login_message(response) -> str:
    """The page a failed attempt gets, without what differs by nature (the typed e-mail, the token)."""
    text = page(response)
    text = re.sub(r'name="csrf_token"[^>]*?value="[^"]+"', "", text)
    return re.sub(r'(name="email"[^>]*?value=")[^"]*"', r'\1"', text)


def test_an_unknown_email_and_a_wrong_password_get_the_same_answer(web_app):
    client = web_app.test_client()
    wrong = attempt(client, ADMIN, WRONG)
    unknown = attempt(client, "personne@nulle-part.example", WRONG)
    assert wrong.status_code == unknown.status_code == 401
    assert BAD_CREDENTIALS in page(wrong) and BAD_CREDENTIALS in page(unknown)
    assert login_message(wrong) == login_message(unknown)
    failed = rows(web_app, AuditEvent, AuditEvent.action == "login_failed")
    assert sorted(e.actor for e in failed) == [ADMIN, "personne@nulle-part.example"]


def test_five_failures_throttle_the_account_even_with_the_right_password(web_app):
    assert web_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] == 5
    assert web_app.config["LOGIN_WINDOW_MINUTES"] == 15
    client = web_app.test_client()
    for _ in range(5):
        assert attempt(client, ADMIN, WRONG).status_code == 401
    response = attempt(client, ADMIN, PASSWORD)
    assert response.status_code == 429
    assert THROTTLED in page(response) and "15 minutes" in page(response)
    assert not signed_in(client)
    # Another address is throttled for this account too (the count is per account).
    elsewhere = from_address(web_app, "198.51.100.9")
    assert attempt(elsewhere, ADMIN, PASSWORD).status_code == 429
    counters = {r.key: r.failures for r in rows(web_app, LoginThrottle) if r.failures}
    assert counters == {f"account:{ADMIN}": 5, "address:127.0.0.1": 5}
    actions = [e.action for e in rows(web_app, AuditEvent, AuditEvent.actor == ADMIN)]
    assert actions.count("login_failed") == 5 and actions.count("login_throttled") == 2
    assert "login" not in actions[actions.index("login_failed"):]
    # Once the window is over, the right password works again and the count starts over.
    with web_app.app_context():
        db.session.execute(update(LoginThrottle).values(
            window_start=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=16)))
        db.session.commit()
        db.session.remove()
    assert attempt(client, ADMIN, PASSWORD).status_code == 302
    assert signed_in(client)
    assert rows(web_app, AuditEvent, AuditEvent.action == "login")[-1].actor == ADMIN


def test_an_unknown_email_is_throttled_the_same_way(web_app):
    client = web_app.test_client()
    known, unknown = [], []
    for _ in range(5):
        known.append(attempt(client, ADMIN, WRONG))
        unknown.append(attempt(client, "inconnu@cisss.example", WRONG))
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [401] * 5
    web_app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 100  # only the account counts here
    throttled_known = attempt(client, ADMIN, PASSWORD)
    throttled_unknown = attempt(client, "inconnu@cisss.example", WRONG)
    assert throttled_known.status_code == throttled_unknown.status_code == 429
    assert login_message(throttled_known) == login_message(throttled_unknown)
    assert rows(web_app, LoginThrottle, LoginThrottle.key == "account:inconnu@cisss.example")[0].failures == 5


def test_failures_from_one_address_throttle_every_account_from_it(web_app):
    assert web_app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] == 20
    web_app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 4  # the same rule, with fewer scrypt checks
    attacker = from_address(web_app, "203.0.113.7")
    for n in range(4):  # one attempt per account: no account reaches its own limit
        assert attempt(attacker, f"cible{n}@cisss.example", WRONG).status_code == 401
    response = attempt(attacker, ADMIN, PASSWORD)
    assert response.status_code == 429 and THROTTLED in page(response)
    assert rows(web_app, LoginThrottle, LoginThrottle.key == "address:203.0.113.7")[0].failures == 4
    assert rows(web_app, AuditEvent, AuditEvent.action == "login_throttled")[0].detail == "address from 203.0.113.7"
    # The same account from another address is not affected.
    colleague = from_address(web_app, "203.0.113.8")
    assert attempt(colleague, ADMIN, PASSWORD).status_code == 302


def test_signing_in_is_recorded(web_app):
    client = web_app.test_client()
    assert attempt(client, ADMIN, PASSWORD).status_code == 302
    event = rows(web_app, AuditEvent, AuditEvent.action == "login")[-1]
    assert event.actor == ADMIN and "127.0.0.1" in event.detail


# --- no default account: the first administrator ---------------------------------------------

def test_without_any_account_every_page_leads_to_the_installation_page(empty_app):
    with empty_app.app_context():
        assert db.session.scalar(select(db.func.count(User.id))) == 0
        db.session.remove()
    client = empty_app.test_client()
    for url in ["/", "/connexion", "/comparaison/", "/evaluations/1/grille", "/admin/comptes", "/mot-de-passe"]:
        response = client.get(url)
        assert response.status_code == 302 and response.location.startswith("/installation"), url
    response = client.post("/evaluations/1/grille", data={"ECO-1-level": "implante"})
    assert response.status_code == 302 and response.location.startswith("/installation")
    assert client.get("/installation").status_code == 200


@pytest.mark.parametrize("weak", ["password1234", "azertyuiop12", "Court!1", "aaaaaaaaaaaaaaaa",
                                  "premier@cisss.example!"])
def test_the_first_administrator_needs_a_strong_password(empty_app, weak):
    client = empty_app.test_client()
    response = client.post("/installation", data={"csrf_token": csrf(client, "/installation"),
                                                  "email": "premier@cisss.example", "password": weak,
                                                  "confirm": weak})
    assert response.status_code == 422
    text = page(response)
    assert "12 caractères" in text or "trop courant" in text or "trop facile" in text
    assert 'value="premier@cisss.example"' in text and weak not in text.replace('value="premier@cisss.example"', "")
    assert rows(empty_app, User) == []


def test_the_first_administrator_page_creates_the_account_then_disappears(empty_app):
    client = empty_app.test_client()
    token = csrf(client, "/installation")
    response = client.post("/installation", data={"csrf_token": token, "email": "premier@cisss.example",
                                                  "password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert response.status_code == 422 and "ne sont pas identiques" in page(response)
    response = client.post("/installation", data={"csrf_token": token, "email": "premier@cisss.example",
                                                  "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.location == "/"
    assert signed_in(client)
    (user,) = rows(empty_app, User)
    assert user.role == "admin" and user.password_hash.startswith("scrypt:")
    assert NEW_PASSWORD not in user.password_hash
    intruder = {"csrf_token": token, "email": "intrus@cisss.example", "password": NEW_PASSWORD,
                "confirm": NEW_PASSWORD}
    for browser in (client, empty_app.test_client()):
        assert browser.get("/installation").status_code == 404
        assert browser.post("/installation", data=intruder).status_code == 404
    assert len(rows(empty_app, User)) == 1
    anonymous = empty_app.test_client()
    assert anonymous.get("/").location.startswith("/connexion")
    assert attempt(anonymous, "premier@cisss.example", NEW_PASSWORD).status_code == 302


def run_cli(app, *args, input=None):
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args), input=input)
        db.session.remove()
    return result


def test_the_command_line_creates_accounts(empty_app):
    result = run_cli(empty_app, "users", "create", "--email", "Chef@CISSS.example", "--role", "admin",
                     "--password-stdin", input=NEW_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    client = empty_app.test_client()
    assert client.get("/installation").status_code == 404
    assert attempt(client, "chef@cisss.example", NEW_PASSWORD).status_code == 302
    territory = {"csrf_token": csrf(client), "code": "MTL-NORD", "name": "Montréal-Nord", "region": "Montréal"}
    assert client.post("/territoires/nouveau", data=territory).status_code == 302
    result = run_cli(empty_app, "users", "create", "--email", "coord@cisss.example", "--role", "coordonnateur",
                     "--territory", "MTL-NORD", "--password-stdin", input=NEW_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    result = run_cli(empty_app, "users", "create", "--email", "gestion@cisss.example", "--role", "gestionnaire",
                     "--region", "Montréal", "--password-stdin", input=NEW_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    users = {u.email: u for u in rows(empty_app, User)}
    assert users["chef@cisss.example"].password_hash.startswith("scrypt:")
    with empty_app.app_context():
        coord = db.session.scalars(select(User).where(User.email == "coord@cisss.example")).one()
        gest = db.session.scalars(select(User).where(User.email == "gestion@cisss.example")).one()
        assert coord.role == "coordonnateur" and [t.code for t in coord.territories] == ["MTL-NORD"]
        assert gest.role == "gestionnaire" and gest.region_names == {"Montréal"}
        db.session.remove()


@pytest.mark.parametrize("args, password", [
    (["--role", "admin"], "password1234"),
    (["--role", "admin"], "azertyuiop12"),
    (["--role", "admin"], "court"),
    (["--role", "coordonnateur", "--territory", "NULLE-PART"], NEW_PASSWORD),
    (["--role", "superhero"], NEW_PASSWORD),
    (["--role", "gestionnaire", "--region", "Atlantide"], NEW_PASSWORD),
])
def test_the_command_line_refuses_weak_passwords_and_unknown_names(empty_app, args, password):
    result = run_cli(empty_app, "users", "create", "--email", "x@cisss.example", *args, "--password-stdin",
                     input=password + "\n")
    assert result.exit_code != 0
    assert rows(empty_app, User) == []


# --- passwords and disabled accounts end sessions ----------------------------------------------

def change_password(client, current, new, confirm=None):
    return client.post("/mot-de-passe", data={"csrf_token": csrf(client, "/mot-de-passe"), "current": current,
                                              "password": new, "confirm": new if confirm is None else confirm})


def test_changing_ones_password_ends_the_other_sessions(web_app):
    add_user(web_app, MEMBRE, "membre")
    here = sign_in(web_app.test_client(), MEMBRE)
    phone = sign_in(web_app.test_client(), MEMBRE)
    response = change_password(here, WRONG, NEW_PASSWORD)
    assert response.status_code == 422 and "Le mot de passe actuel n'est pas le bon" in page(response)
    for weak in ("password1234", "azertyuiop12", "court"):
        assert change_password(here, PASSWORD, weak).status_code == 422, weak
    assert signed_in(phone)
    response = change_password(here, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert signed_in(here)
    response = phone.get("/")
    assert response.status_code == 302 and urlsplit(response.location).path == "/connexion"
    assert len(rows(web_app, UserSession, UserSession.user_id == user_id(web_app, MEMBRE))) == 1
    other = web_app.test_client()
    assert attempt(other, MEMBRE, PASSWORD).status_code == 401
    assert attempt(other, MEMBRE, NEW_PASSWORD).status_code == 302
    assert rows(web_app, User, User.email == MEMBRE)[0].password_hash.startswith("scrypt:")
    assert rows(web_app, AuditEvent, AuditEvent.action == "password_change")[0].detail == MEMBRE


def test_disabling_an_account_ends_its_sessions_at_once(web_app, client):
    add_user(web_app, MEMBRE, "membre")
    membre = sign_in(web_app.test_client(), MEMBRE)
    target = user_id(web_app, MEMBRE)
    url = f"/admin/comptes/{target}/desactiver"
    assert client.post(url, data={}).status_code == 400  # CSRF required
    assert client.get(url).status_code == 405
    assert membre.post(url, data={"csrf_token": csrf(membre)}).status_code == 403  # only an administrator
    assert signed_in(membre)
    response = client.post(url, data={"csrf_token": csrf(client)})
    assert response.status_code == 302
    response = membre.get("/")
    assert response.status_code == 302 and urlsplit(response.location).path == "/connexion"
    assert rows(web_app, UserSession, UserSession.user_id == target) == []
    # Signing in again is refused with the usual words.
    again = attempt(web_app.test_client(), MEMBRE, PASSWORD)
    assert again.status_code == 401 and BAD_CREDENTIALS in page(again)
    # An administrator does not disable their own account.
    admin = user_id(web_app, ADMIN)
    client.post(f"/admin/comptes/{admin}/desactiver", data={"csrf_token": csrf(client)})
    assert signed_in(client) and rows(web_app, User, User.id == admin)[0].active
    # Enabled again, the account signs in.
    assert client.post(f"/admin/comptes/{target}/activer", data={"csrf_token": csrf(client)}).status_code == 302
    assert attempt(web_app.test_client(), MEMBRE, PASSWORD).status_code == 302


# --- production refuses to run without a secret or with debug on --------------------------------

@pytest.mark.parametrize("secret", [None, ""])
def test_production_refuses_to_start_without_a_secret_key(sqlite_url, secret):
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        make_app(sqlite_url, PIN_ENV="production", SECRET_KEY=secret)


def test_production_refuses_debug_mode(sqlite_url):
    with pytest.raises(ConfigurationError, match="[Dd]ebug"):
        make_app(sqlite_url, PIN_ENV="production", SECRET_KEY="prod-secret", DEBUG=True)


def test_the_defaults_are_production_ones(sqlite_url):
    """Without any environment: production, 30 idle minutes, 5/20 failures per 15 minutes, and
    create_app refuses to serve without SECRET_KEY."""
    from pin_grid import create_app
    from pin_grid.config import Config

    names = ["PIN_ENV", "SECRET_KEY", "SESSION_IDLE_MINUTES", "LOGIN_MAX_FAILURES_PER_ACCOUNT",
             "LOGIN_MAX_FAILURES_PER_ADDRESS", "LOGIN_WINDOW_MINUTES", "FLASK_DEBUG"]
    if any(os.environ.get(name) for name in names):
        pytest.skip("the environment of this run sets one of " + ", ".join(names))
    assert Config.PIN_ENV == "production" and Config.SECRET_KEY is None
    assert (Config.SESSION_IDLE_MINUTES, Config.LOGIN_MAX_FAILURES_PER_ACCOUNT, Config.LOGIN_MAX_FAILURES_PER_ADDRESS,
            Config.LOGIN_WINDOW_MINUTES) == (30, 5, 20, 15)
    assert Config.SESSION_COOKIE_HTTPONLY is True and Config.SESSION_COOKIE_SAMESITE == "Lax"
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": sqlite_url})


def test_passwords_are_hashed_at_full_scrypt_cost_outside_the_test_suite(sqlite_url):
    """The suite hashes at a lower cost (TestConfig); an installation keeps scrypt's full cost,
    and a password hashed either way still signs in."""
    app = make_app(sqlite_url, PASSWORD_HASH_METHOD=Config.PASSWORD_HASH_METHOD)
    add_user(app, ADMIN, "admin")
    with app.app_context():
        (user,) = db.session.scalars(select(User)).all()
        assert user.password_hash.startswith("scrypt:32768:8:1$")
    assert signed_in(sign_in(app.test_client(), ADMIN))
