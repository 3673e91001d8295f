"""What a person types after their session ended comes back after signing in again, in a real
browser with JavaScript on: whether it left through the autosave only, through the autosave and
then « Enregistrer ». It comes back to that person only, not yet saved, and is saved by
« Enregistrer ». After « Se déconnecter » on purpose, nothing is kept for later.

The session is ended as the server measures inactivity: every session is made to look last used
longer ago than SESSION_IDLE_MINUTES (as tests/integration/test_sessions.py's idle_for does).
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from .conftest import PASSWORD
from .grid_page import comment, level, status

pytestmark = pytest.mark.browser

ADMIN = "admin@cisss.example"
MEMBRE = "membre@cisss.example"
SAVED = "Enregistré"
NOT_SAVED = "Non enregistré : cliquez « Enregistrer »."
SESSION_ENDED = "Votre session a pris fin"
KEPT = "Ce que vous veniez de saisir est conservé"
RESTORED = "Ce que vous aviez saisi avant la fin de votre session est rétabli"
SAVED_PAGE = "Réponses enregistrées. Vous pouvez quitter et reprendre plus tard."


# --- the server's side ---------------------------------------------------------------------------

def idle_for(app, minutes: float) -> None:
    """Pretend every session was last used `minutes` ago (inactivity is measured on the server)."""
    from pin_grid.extensions import db
    from pin_grid.models import UserSession

    with app.app_context():
        db.session.execute(update(UserSession).values(
            last_seen_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes)))
        db.session.commit()
        db.session.remove()


def expire_sessions(live_app) -> None:
    idle_for(live_app.app, live_app.app.config["SESSION_IDLE_MINUTES"] + 1)


def stored_answers(live_app, assessment_id: int) -> dict:
    """What the server holds: {item: (level, comment)} for each statement with a level."""
    from pin_grid.extensions import db
    from pin_grid.models import Answer

    with live_app.app.app_context():
        found = {a.item_id: (a.level, a.comment) for a in db.session.scalars(
            select(Answer).where(Answer.assessment_id == assessment_id)) if a.level}
        db.session.remove()
    return found


def add_membre(live_app) -> None:
    from pin_grid import accounts
    from pin_grid.extensions import db

    with live_app.app.app_context():
        accounts.create_user(MEMBRE, PASSWORD, "membre", territories=["MTL-NORD"])
        db.session.remove()


# --- the browser's side --------------------------------------------------------------------------

class Watch:
    """Every 5xx answer and every script error of the pages of a browser context, and every
    dialog (« Quitter le site ? ») they opened, which is accepted as a person leaving would."""

    def __init__(self, page: Page):
        self.server_errors: list[str] = []
        self.script_errors: list[str] = []
        self.dialogs: list[str] = []
        self.statement_codes: list[int] = []
        page.context.on("response", self._response)
        self.page(page)

    def page(self, page: Page) -> Page:
        page.on("pageerror", lambda exc: self.script_errors.append(f"{page.url}: {exc}"))
        page.on("dialog", self._dialog)
        return page

    def _response(self, response) -> None:
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.request.method} {response.url}")
        if "/enonces/" in response.url:
            self.statement_codes.append(response.status)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.type)
        dialog.accept()

    def assert_clean(self) -> None:
        assert self.server_errors == [], self.server_errors
        assert self.script_errors == [], self.script_errors


def pending_forms(live_app) -> int:
    from pin_grid.extensions import db
    from pin_grid.models import PendingForm

    with live_app.app.app_context():
        count = len(db.session.scalars(select(PendingForm)).all())
        db.session.remove()
    return count


def banner(page: Page):
    return page.locator("[data-session-banner]")


def sign_in_here(page: Page, email: str = ADMIN) -> None:
    """Sign in on the sign-in page the browser is on (its `next` is followed)."""
    expect(page).to_have_url(re.compile(r"/connexion"))
    page.get_by_label("Adresse courriel").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda u: "/connexion" not in u)


def open_grid(page: Page, live_app, assessment_id: int, email: str = ADMIN) -> str:
    page.goto(live_app.url + "/connexion")
    sign_in_here(page, email)
    url = f"{live_app.url}/evaluations/{assessment_id}/grille"
    page.goto(url)
    expect(page.get_by_text(re.compile("énoncés répondus"))).to_be_visible()
    return url


def answer_after_expiry(page: Page, item_id: str, level_name: str, text: str) -> None:
    """Choose a level (the autosave leaves at once and meets the ended session), then type a
    comment: the page says at once that the session ended, and keeps both on screen."""
    level(page, item_id, level_name).click()
    expect(banner(page)).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text=SESSION_ENDED)).to_be_visible()
    expect(status(page, item_id)).to_have_text(NOT_SAVED)
    comment(page, item_id).fill(text)
    comment(page, item_id).blur()
    expect(level(page, item_id, level_name)).to_be_checked()
    expect(comment(page, item_id)).to_have_value(text)


def save_page(page: Page) -> None:
    page.get_by_role("button", name="Enregistrer").first.click()


def restored_message(page: Page):
    return page.get_by_role("status").filter(has_text=RESTORED)


# --- the tests -----------------------------------------------------------------------------------

def test_after_the_autosave_meets_an_ended_session_signing_in_again_brings_back_what_was_typed(
        live_app, page: Page, screenshot):
    """Path 1, the autosave only: the person follows the banner's « Se reconnecter » link."""
    assessment_id = live_app.seed()
    watch = Watch(page)
    url = open_grid(page, live_app, assessment_id)
    expect(banner(page)).to_be_hidden()
    expire_sessions(live_app)

    answer_after_expiry(page, "ECO-1", "Partiellement implanté", "Tapé pendant la pause café")
    assert 401 in watch.statement_codes, watch.statement_codes
    assert stored_answers(live_app, assessment_id) == {}

    banner(page).get_by_role("link", name="Se reconnecter").click()
    expect(page.get_by_text("Votre session a pris fin après une période d'inactivité.")).to_be_visible()
    expect(page.get_by_text(KEPT)).to_be_visible()
    sign_in_here(page)
    expect(page).to_have_url(url)

    expect(restored_message(page)).to_be_visible()
    expect(level(page, "ECO-1", "Partiellement implanté")).to_be_checked()
    expect(comment(page, "ECO-1")).to_have_value("Tapé pendant la pause café")
    screenshot(page, "restored", full_page=False)
    assert stored_answers(live_app, assessment_id) == {}  # back on screen, not yet saved

    save_page(page)
    expect(page.get_by_role("status").filter(has_text=SAVED_PAGE)).to_be_visible()
    assert stored_answers(live_app, assessment_id) == {"ECO-1": ("partiel", "Tapé pendant la pause café")}
    page.reload()
    expect(level(page, "ECO-1", "Partiellement implanté")).to_be_checked()
    expect(comment(page, "ECO-1")).to_have_value("Tapé pendant la pause café")
    expect(restored_message(page)).to_have_count(0)  # restored once only
    watch.assert_clean()


def test_saving_the_page_after_the_autosave_met_an_ended_session_keeps_everything(live_app, page: Page, screenshot):
    """Path 2, the autosave first, then « Enregistrer »: it goes through signing in again."""
    assessment_id = live_app.seed()
    watch = Watch(page)
    url = open_grid(page, live_app, assessment_id)
    # Answered before the session ended: already stored.
    level(page, "ECO-5", "Implanté").click()
    expect(status(page, "ECO-5")).to_have_text(SAVED)
    comment(page, "ECO-5").fill("Déjà là")
    comment(page, "ECO-5").blur()
    expect(status(page, "ECO-5")).to_have_text(SAVED)
    assert stored_answers(live_app, assessment_id) == {"ECO-5": ("implante", "Déjà là")}
    expire_sessions(live_app)

    answer_after_expiry(page, "ECO-1", "Partiellement implanté", "Tapé après la fin de la session")
    level(page, "ECO-2", "Non implanté").click()
    expect(status(page, "ECO-2")).to_have_text(NOT_SAVED)
    save_page(page)

    expect(page).to_have_url(re.compile(r"/connexion\?"))
    expect(page.get_by_text(KEPT)).to_be_visible()
    assert stored_answers(live_app, assessment_id) == {"ECO-5": ("implante", "Déjà là")}
    sign_in_here(page)
    expect(page).to_have_url(url)

    expect(restored_message(page)).to_be_visible()
    expect(level(page, "ECO-1", "Partiellement implanté")).to_be_checked()
    expect(comment(page, "ECO-1")).to_have_value("Tapé après la fin de la session")
    expect(level(page, "ECO-2", "Non implanté")).to_be_checked()
    expect(level(page, "ECO-5", "Implanté")).to_be_checked()  # as it was
    expect(comment(page, "ECO-5")).to_have_value("Déjà là")
    screenshot(page, "restored", full_page=False)
    assert stored_answers(live_app, assessment_id) == {"ECO-5": ("implante", "Déjà là")}  # not yet saved

    save_page(page)
    expect(page.get_by_role("status").filter(has_text=SAVED_PAGE)).to_be_visible()
    page.reload()
    expect(level(page, "ECO-1", "Partiellement implanté")).to_be_checked()
    expect(comment(page, "ECO-1")).to_have_value("Tapé après la fin de la session")
    expect(level(page, "ECO-2", "Non implanté")).to_be_checked()
    expect(level(page, "ECO-5", "Implanté")).to_be_checked()
    assert stored_answers(live_app, assessment_id) == {"ECO-1": ("partiel", "Tapé après la fin de la session"),
                                                       "ECO-2": ("non_implante", ""),
                                                       "ECO-5": ("implante", "Déjà là")}
    watch.assert_clean()


def type_and_save_after_the_session_ended(page: Page, live_app, assessment_id: int) -> None:
    """This tab answers a statement (the page says the session ended and keeps it on screen),
    then presses « Enregistrer »: on to the sign-in page, nothing stored."""
    page.bring_to_front()
    answer_after_expiry(page, "ECO-3", "Implanté", "Tapé dans l'autre onglet")
    save_page(page)
    expect(page).to_have_url(re.compile(r"/connexion\?"))
    assert stored_answers(live_app, assessment_id) == {}


def test_after_signing_out_in_another_tab_the_page_says_so_and_nothing_is_kept_for_later(
        live_app, page: Page, screenshot):
    """Path 3: « Se déconnecter » on purpose in another tab, then this tab types and saves. The
    page says at once that the session ended and keeps what was typed on screen; the server
    keeps nothing of it for later (signing out forgets what was typed, issue 8)."""
    assessment_id = live_app.seed()
    watch = Watch(page)
    url = open_grid(page, live_app, assessment_id)
    other = watch.page(page.context.new_page())
    other.goto(live_app.url + "/")
    other.get_by_role("button", name="Se déconnecter").click()
    expect(other.get_by_text("Déconnexion réussie.")).to_be_visible()
    other.close()

    type_and_save_after_the_session_ended(page, live_app, assessment_id)
    expect(page.get_by_text(KEPT)).to_have_count(0)
    assert pending_forms(live_app) == 0
    sign_in_here(page)
    expect(page).to_have_url(url)
    expect(restored_message(page)).to_have_count(0)
    expect(level(page, "ECO-3", "Implanté")).not_to_be_checked()
    screenshot(page, "signed-out", full_page=False)
    watch.assert_clean()


def test_what_a_tab_sends_after_its_session_timed_out_is_not_shown_to_someone_else_signing_in_on_that_browser(
        live_app, page: Page, screenshot):
    """Someone else: a membre of the territory signs in next on that browser and sees nothing
    of it; the person who typed it still gets it back afterwards."""
    assessment_id = live_app.seed()
    add_membre(live_app)
    watch = Watch(page)
    url = open_grid(page, live_app, assessment_id)
    expire_sessions(live_app)
    type_and_save_after_the_session_ended(page, live_app, assessment_id)
    expect(page.get_by_text(KEPT)).to_be_visible()

    sign_in_here(page, MEMBRE)
    expect(page).to_have_url(url)  # a membre of the territory edits its drafts: the same grid
    expect(page.get_by_text(re.compile("énoncés répondus"))).to_be_visible()
    expect(restored_message(page)).to_have_count(0)
    expect(level(page, "ECO-3", "Implanté")).not_to_be_checked()
    expect(comment(page, "ECO-3")).to_have_value("")
    assert "Tapé dans l'autre onglet" not in page.content()
    screenshot(page, "someone-else", full_page=False)

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_text("Déconnexion réussie.")).to_be_visible()
    sign_in_here(page)
    page.goto(url)
    expect(restored_message(page)).to_be_visible()
    expect(level(page, "ECO-3", "Implanté")).to_be_checked()
    expect(comment(page, "ECO-3")).to_have_value("Tapé dans l'autre onglet")
    screenshot(page, "restored", full_page=False)
    assert stored_answers(live_app, assessment_id) == {}
    save_page(page)
    expect(page.get_by_role("status").filter(has_text=SAVED_PAGE)).to_be_visible()
    assert stored_answers(live_app, assessment_id) == {"ECO-3": ("implante", "Tapé dans l'autre onglet")}
    watch.assert_clean()
