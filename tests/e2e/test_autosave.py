"""Statements saved as people go, on a slow network: quick changes by one person are never taken
for someone else's, a real conflict between two browsers still is, and what the screen shows is
what the server holds.

The latency is real: a WSGI middleware makes the server answer each statement save 0.3 s late,
while the threaded server keeps answering the others (so saves really overlap).
"""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from .conftest import sign_in
from .grid_page import level, statement, status

pytestmark = pytest.mark.browser

ITEMS = ("ECO-1", "ECO-2", "ECO-3")
SAVED = "Enregistré"
CONFLICT = "Une autre personne a enregistré"
NOT_SAVED = "Non enregistré : cliquez « Enregistrer »."
SAVED_PAGE = "Réponses enregistrées. Vous pouvez quitter et reprendre plus tard."
PAUSE_MS = 150  # between two quick changes, as a person pressing → twice

# Every text a statement's status showed since the page loaded (a conflict shown for a moment counts).
RECORD_STATUSES = """
window.__statuses = new Set();
document.addEventListener("DOMContentLoaded", () => {
  const record = () => document.querySelectorAll("[data-status]").forEach(el => {
    if (el.textContent) { window.__statuses.add(el.textContent); }
  });
  new MutationObserver(record).observe(document.body, {subtree: true, childList: true, characterData: true});
});
"""

# What a person sees in a statement: the level chosen, each box ticked or not, each text typed.
SCREEN = """
ids => ids.map(id => {
  const shown = {};
  document.getElementById("item-" + id).querySelectorAll("input, textarea, select").forEach(f => {
    if (f.type === "hidden") { return; }
    if (f.type === "radio") { if (f.checked) { shown[f.name] = f.value; } }
    else if (f.type === "checkbox") { shown[f.name] = f.checked; }
    else { shown[f.name] = f.value; }
  });
  return shown;
})
"""


def slow_statement_saves(live_app, seconds: float = 0.3) -> None:
    """Every statement save is answered `seconds` late (the others are not held up)."""
    inner = live_app.app.wsgi_app

    def middleware(environ, start_response):
        if environ.get("REQUEST_METHOD") == "POST" and "/enonces/" in environ.get("PATH_INFO", ""):
            time.sleep(seconds)
        return inner(environ, start_response)

    live_app.app.wsgi_app = middleware


def open_grid(page: Page, live_app, assessment_id: int) -> str:
    sign_in(page, live_app.url)
    url = f"{live_app.url}/evaluations/{assessment_id}/grille"
    page.goto(url)
    expect(page.get_by_text(re.compile("énoncés répondus"))).to_be_visible()
    return url


def watch_saves(page: Page) -> dict:
    """The statement saves sent so far, those still on their way, and the HTTP codes of their answers."""
    saves = {"sent": 0, "on_the_way": set(), "codes": []}

    def sent(request):
        if "/enonces/" in request.url:
            saves["sent"] += 1
            saves["on_the_way"].add(request)

    def done(request):
        saves["on_the_way"].discard(request)

    page.on("request", sent)
    page.on("requestfinished", done)
    page.on("requestfailed", done)
    page.on("response", lambda r: "/enonces/" in r.url and saves["codes"].append(r.status))
    return saves


def wait_until_all_saved(page: Page, saves: dict, items=ITEMS) -> None:
    """Until each statement says « Enregistré » and no save is on its way (a deadline, not a timing check)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = [status(page, item_id).text_content() for item_id in items]
        if not saves["on_the_way"] and all(text == SAVED for text in shown):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never all saved: {shown}, {len(saves['on_the_way'])} save(s) on their way")


def open_action(page: Page, item_id: str) -> None:
    details = statement(page, item_id).locator("details")
    if details.get_attribute("open") is None:
        details.locator("summary").click()


def test_quick_changes_by_one_person_are_saved_in_order_and_never_shown_as_a_conflict(live_app, page: Page, screenshot):
    assessment_id = live_app.seed()
    slow_statement_saves(live_app)
    page.add_init_script(RECORD_STATUSES)
    script_errors = []
    page.on("pageerror", lambda exc: script_errors.append(str(exc)))
    open_grid(page, live_app, assessment_id)
    saves = watch_saves(page)
    pause = lambda: page.wait_for_timeout(PAUSE_MS)  # noqa: E731
    eco1, eco2, eco3 = (statement(page, item_id) for item_id in ITEMS)

    # 20 quick changes over three statements: levels with the arrow keys, comments, priorities, actions.
    level(page, "ECO-1", "Implanté").focus()
    page.keyboard.press("Space")                                   # 1  ECO-1 implanté
    pause()
    page.keyboard.press("ArrowRight")                              # 2  ECO-1 partiellement
    pause()
    page.keyboard.press("ArrowRight")                              # 3  ECO-1 non implanté
    open_action(page, "ECO-1")
    eco1.get_by_label("Cet énoncé est une priorité pour l'équipe").check()  # 4 ECO-1 priority, at once
    pause()
    level(page, "ECO-2", "Partiellement implanté").click()         # 5  ECO-2 level…
    open_action(page, "ECO-2")
    eco2.get_by_label("Cet énoncé est une priorité pour l'équipe").check()  # 6 …and priority at once
    pause()
    eco1.get_by_label("Commentaire").click()
    page.keyboard.type("Portrait à revoir avec les pères")         # 7  ECO-1 comment
    level(page, "ECO-1", "Non implanté").focus()
    page.keyboard.press("ArrowLeft")                               # 8  ECO-1 back to partiellement
    pause()
    level(page, "ECO-3", "Non implanté").click()                   # 9  ECO-3 non implanté
    pause()
    page.keyboard.press("ArrowRight")                              # 10 ECO-3 ne sais pas
    pause()
    page.keyboard.press("ArrowLeft")                               # 11 ECO-3 non implanté again
    eco2.get_by_label("Piste d'action").click()
    page.keyboard.type("Rencontrer la direction de l'école")       # 12 ECO-2 action
    level(page, "ECO-2", "Partiellement implanté").focus()
    page.keyboard.press("ArrowRight")                              # 13 ECO-2 non implanté
    pause()
    eco3.get_by_label("Commentaire").click()
    page.keyboard.type("Personne du milieu scolaire présente")     # 14 ECO-3 comment
    open_action(page, "ECO-3")
    eco3.get_by_label("Cet énoncé est une priorité pour l'équipe").check()  # 15 ECO-3 priority
    pause()
    eco3.get_by_label("Qui", exact=True).click()
    page.keyboard.type("Sophie")                                   # 16 ECO-3 who
    eco1.get_by_label("Cet énoncé est une priorité pour l'équipe").uncheck()  # 17 ECO-1 not a priority after all
    pause()
    level(page, "ECO-1", "Partiellement implanté").focus()
    page.keyboard.press("ArrowRight")                              # 18 ECO-1 non implanté
    pause()
    eco2.get_by_label("Commentaire").click()
    page.keyboard.type("Les partenaires ne voient pas la même chose")  # 19 ECO-2 comment
    level(page, "ECO-2", "Non implanté").focus()
    page.keyboard.press("ArrowLeft")                               # 20 ECO-2 partiellement, at once
    screenshot(page, "saving", full_page=False)

    wait_until_all_saved(page, saves)
    screenshot(page, "all-saved", full_page=False)
    assert saves["sent"] >= 3
    shown = page.evaluate("[...window.__statuses]")
    assert not [text for text in shown if CONFLICT in text or "Non enregistré" in text], shown
    assert 409 not in saves["codes"], saves["codes"]
    before = page.evaluate(SCREEN, list(ITEMS))
    assert [b[f"{i}-level"] for i, b in zip(ITEMS, before)] == ["non_implante", "partiel", "non_implante"]  # the last
    assert [b[f"{i}-priority"] for i, b in zip(ITEMS, before)] == [False, True, True]

    page.reload()  # no warning before leaving: nothing is left to save
    expect(level(page, "ECO-1", "Non implanté")).to_be_checked()
    after = page.evaluate(SCREEN, list(ITEMS))
    assert after == before
    assert script_errors == []


def test_a_real_conflict_between_two_browsers_is_shown_and_keep_mine_saves_mine(live_app, browser, page: Page):
    assessment_id = live_app.seed()
    page.add_init_script(RECORD_STATUSES)
    url = open_grid(page, live_app, assessment_id)
    other_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-CA")
    other_context.set_default_timeout(10_000)
    try:
        other = other_context.new_page()
        open_grid(other, live_app, assessment_id)

        # Someone else, in another browser, answers ECO-1 first…
        level(other, "ECO-1", "Implanté").click()
        expect(status(other, "ECO-1")).to_have_text(SAVED)
        other.get_by_role("group", name=re.compile(r"^ECO-1\b")).get_by_label("Commentaire").fill("Tout est en place")
        other.get_by_role("group", name=re.compile(r"^ECO-1\b")).get_by_label("Commentaire").blur()
        expect(status(other, "ECO-1")).to_have_text(SAVED)

        # …and this page, loaded before, answers it differently: both answers are shown.
        level(page, "ECO-1", "Non implanté").click()
        expect(status(page, "ECO-1")).to_contain_text(f"{CONFLICT} : Implanté « Tout est en place »")
        expect(level(page, "ECO-1", "Non implanté")).to_be_checked()  # mine is still in the form
        page.get_by_role("button", name="Garder ma réponse").click()
        expect(status(page, "ECO-1")).to_have_text(SAVED)

        other.reload()
        expect(level(other, "ECO-1", "Non implanté")).to_be_checked()
        expect(other.get_by_role("group", name=re.compile(r"^ECO-1\b")).get_by_label("Commentaire")).to_have_value("")
    finally:
        other_context.close()
    page.goto(url)
    expect(level(page, "ECO-1", "Non implanté")).to_be_checked()


def test_a_comment_too_long_says_why_it_was_not_saved(live_app, page: Page):
    assessment_id = live_app.seed()
    url = open_grid(page, live_app, assessment_id)
    comment = statement(page, "ECO-2").get_by_label("Commentaire")
    # maxlength stops typing at 5,000 in this browser; a browser that ignores it sends more.
    comment.evaluate("el => el.removeAttribute('maxlength')")
    comment.fill("x" * 5001)
    comment.blur()
    too_long = re.compile(r"Le commentaire dépasse 5\s?000 caractères : raccourcissez-le\.")
    expect(status(page, "ECO-2")).to_have_text(too_long)
    expect(comment).to_have_attribute("aria-invalid", "true")
    expect(comment).to_have_value("x" * 5001)  # nothing typed is lost

    comment.fill("x" * 5000)
    comment.blur()
    expect(status(page, "ECO-2")).to_have_text(SAVED)
    expect(comment).not_to_have_attribute("aria-invalid", "true")
    page.goto(url)
    expect(statement(page, "ECO-2").get_by_label("Commentaire")).to_have_value("x" * 5000)


def test_after_the_session_ends_values_stay_on_the_page_and_leaving_warns(live_app, page: Page):
    assessment_id = live_app.seed()
    open_grid(page, live_app, assessment_id)
    saves = watch_saves(page)
    banner = page.get_by_role("alert").filter(has_text="Votre session a pris fin")
    expect(banner).to_be_hidden()

    page.context.clear_cookies()  # the session ends (signed out elsewhere, or timed out)
    level(page, "ECO-1", "Partiellement implanté").click()
    expect(banner).to_be_visible()
    expect(status(page, "ECO-1")).to_have_text(NOT_SAVED)
    expect(level(page, "ECO-1", "Partiellement implanté")).to_be_checked()
    sent = saves["sent"]
    assert sent == 1

    # Later changes stay on the page, marked not saved; they are still sent, for the server to
    # keep them until the person signs in again (tests/e2e/test_session_expiry.py).
    level(page, "ECO-2", "Implanté").click()
    expect(status(page, "ECO-2")).to_have_text(NOT_SAVED)
    statement(page, "ECO-2").get_by_label("Commentaire").fill("À garder")
    level(page, "ECO-2", "Non implanté").click()
    expect(status(page, "ECO-2")).to_have_text(NOT_SAVED)
    assert saves["sent"] > sent
    expect(statement(page, "ECO-2").get_by_label("Commentaire")).to_have_value("À garder")

    # Leaving now would lose them: the browser asks first.
    with page.expect_event("dialog") as dialog:
        page.close(run_before_unload=True)
    assert dialog.value.type == "beforeunload"
    dialog.value.accept()  # leave: the page closes cleanly


def test_leaving_warns_while_a_save_is_on_its_way(live_app, page: Page):
    assessment_id = live_app.seed()
    open_grid(page, live_app, assessment_id)
    held = []
    page.route("**/enonces/**", lambda route: held.append(route))  # the answer does not come yet
    level(page, "ECO-1", "Implanté").click()
    expect(status(page, "ECO-1")).to_have_text("Enregistrement…")
    while not held:
        page.wait_for_timeout(50)
    with page.expect_event("dialog") as dialog:
        page.close(run_before_unload=True)
    assert dialog.value.type == "beforeunload"
    dialog.value.dismiss()  # stay
    held[0].continue_()
    expect(status(page, "ECO-1")).to_have_text(SAVED)
    page.reload()  # saved: leaving no longer asks
    expect(level(page, "ECO-1", "Implanté")).to_be_checked()


@pytest.mark.parametrize("how", ["enter", "button"])
def test_the_whole_page_save_comes_back_at_the_statement_with_the_focus_there(live_app, page: Page, how):
    assessment_id = live_app.seed()
    open_grid(page, live_app, assessment_id)
    level(page, "PRT-2", "Implanté").click()
    open_action(page, "PRT-2")
    who = statement(page, "PRT-2").get_by_label("Qui", exact=True)
    who.fill("Comité de parents")
    if how == "enter":
        page.keyboard.press("Enter")
    else:
        page.get_by_role("button", name="Enregistrer").first.click()
    expect(page.get_by_role("status")).to_have_text(SAVED_PAGE)
    expect(page).to_have_url(re.compile(r"/grille#item-PRT-2$"))
    assert page.evaluate("document.activeElement.closest('fieldset.item')?.id") == "item-PRT-2"
    assert page.evaluate("[document.activeElement.type, document.activeElement.value]") == ["radio", "implante"]
    expect(statement(page, "PRT-2").get_by_label("Qui", exact=True)).to_have_value("Comité de parents")


def carried_over_assessment(live_app) -> int:
    """Last year's assessment finalised with every statement answered, and this year's started from it."""
    import datetime as dt

    from pin_grid import services
    from pin_grid.context import current_grid, grid_catalog
    from pin_grid.extensions import db

    last_year = live_app.seed(date="2025-03-14")
    with live_app.app.app_context():
        grid = current_grid()
        services.save_answers(last_year, {i: services.AnswerData(level="partiel") for i in grid.items})
        services.finalize(last_year, grid)
        territory_id = services.get_assessment(last_year).territory_id
        this_year = services.start_assessment(
            services.AssessmentDetails(territory_id=territory_id, date=dt.date(2026, 3, 13), perspective=None,
                                       participants=[services.ParticipantData("Intervenante PIN", "cisss", "Sophie")]),
            grid_catalog(), carry_over=True).id
        db.session.remove()
    return this_year


def confirm_elsewhere(live_app, assessment_id: int, item_ids) -> None:
    """Someone else on the team confirms these carried-over answers from their own browser."""
    from pin_grid import services
    from pin_grid.extensions import db

    with live_app.app.app_context():
        stored = services.get_assessment(assessment_id).answers_by_item
        services.save_answers(assessment_id, {i: services.AnswerData.of(stored[i]) for i in item_ids},
                              confirmed=set(item_ids))
        db.session.remove()


def test_the_count_of_carried_over_answers_to_confirm_follows_each_save(live_app, page: Page):
    from pin_grid.context import current_grid

    assessment_id = carried_over_assessment(live_app)
    with live_app.app.app_context():
        all_items = list(current_grid().items)
    open_grid(page, live_app, assessment_id)
    box = page.locator("[data-to-confirm-box]")
    following = page.get_by_role("link", name="Prochain énoncé à confirmer")
    expect(box).to_contain_text("À confirmer : 24")
    expect(following).to_have_attribute("href", "#item-ECO-1")

    statement(page, "ECO-1").get_by_label("Confirmer cette réponse reprise").check()
    expect(status(page, "ECO-1")).to_have_text(SAVED)
    expect(box).to_contain_text("À confirmer : 23")
    expect(following).to_have_attribute("href", "#item-ECO-2")

    following.click()  # the keyboard goes on from that statement
    expect(page).to_have_url(re.compile(r"#item-ECO-2$"))
    page.wait_for_function("document.activeElement.closest('fieldset.item')?.id === 'item-ECO-2'")

    confirm_elsewhere(live_app, assessment_id, [i for i in all_items if i not in ("ECO-1", "ECO-2", "PRT-1")])
    page.keyboard.press("ArrowRight")  # changing a carried answer confirms it
    expect(level(page, "ECO-2", "Non implanté")).to_be_checked()
    expect(status(page, "ECO-2")).to_have_text(SAVED)
    expect(box).to_contain_text("À confirmer : 1")
    expect(following).to_have_attribute("href", "#item-PRT-1")

    statement(page, "PRT-1").get_by_label("Confirmer cette réponse reprise").check()
    expect(status(page, "PRT-1")).to_have_text(SAVED)
    expect(box).to_be_hidden()


def test_saving_the_whole_page_while_a_statement_save_is_on_its_way_is_no_conflict(live_app, page: Page):
    """The page is saved with Enter just after a level was chosen: the statement save lands first, and
    the page must not then be taken for someone else's older version of it."""
    assessment_id = live_app.seed()
    open_grid(page, live_app, assessment_id)
    answered = []  # the statement saves the server has carried out
    inner = live_app.app.wsgi_app

    def middleware(environ, start_response):
        response = inner(environ, start_response)
        if "/enonces/" in environ.get("PATH_INFO", ""):
            answered.append(environ["PATH_INFO"])
        return response

    live_app.app.wsgi_app = middleware
    held_saves, held_pages = [], []
    page.route("**/enonces/**", lambda route: held_saves.append(route))
    page.route(re.compile(r"/grille$"),
               lambda route: held_pages.append(route) if route.request.method == "POST" else route.continue_())

    def wait_for(condition, what):
        deadline = time.monotonic() + 15
        while not condition():
            assert time.monotonic() < deadline, f"waited in vain for {what}"
            page.wait_for_timeout(50)

    level(page, "PRT-2", "Implanté").click()
    wait_for(lambda: held_saves, "the statement save")
    open_action(page, "PRT-2")
    statement(page, "PRT-2").get_by_label("Qui", exact=True).fill("Comité de parents")
    page.keyboard.press("Enter")
    held_saves.pop().continue_()                 # the statement save reaches the server first…
    wait_for(lambda: answered, "the server to save the statement")
    wait_for(lambda: held_pages, "the whole page's save")
    held_pages.pop().continue_()                 # …then the whole page
    expect(page.get_by_role("status")).to_have_text(SAVED_PAGE)
    expect(page.get_by_text("Quelqu'un d'autre a modifié")).to_have_count(0)
    expect(level(page, "PRT-2", "Implanté")).to_be_checked()
    expect(statement(page, "PRT-2").get_by_label("Qui", exact=True)).to_have_value("Comité de parents")
