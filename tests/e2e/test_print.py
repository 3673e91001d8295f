"""Printing the results: the record on paper, without what only works on a screen.

Debian's Chromium with the print media emulated (what the browser applies when printing).
"""
from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from pin_grid.context import current_grid
from pin_grid.extensions import db

from .conftest import sign_in

COMMENT = "Le portrait commun couvre l'enfant, ses parents et le quartier"


def _finalised(live_app) -> int:
    """The seeded draft (participant Sophie), answered in full and finalised."""
    from pin_grid import services

    assessment_id = live_app.seed()
    with live_app.app.app_context():
        grid = current_grid()
        answers = {i: services.AnswerData(level="implante") for i in grid.items}
        answers["ECO-1"] = services.AnswerData(level="partiel", comment=COMMENT, priority=True,
                                               action="Former l'équipe", action_owner="Coordination",
                                               action_due=dt.date(2025, 9, 30))
        services.save_answers(assessment_id, answers)
        services.finalize(assessment_id, grid)
        db.session.remove()
    return assessment_id


def test_printed_results_keep_the_record_and_drop_navigation_and_forms(live_app, page, screenshot):
    assessment_id = _finalised(live_app)
    sign_in(page, live_app.url)
    page.goto(f"{live_app.url}/evaluations/{assessment_id}/resultats")

    navigation = [page.locator("header.site nav").first, page.locator("header.site .account"),
                  page.get_by_role("link", name="English"), page.get_by_role("button", name="Se déconnecter")]
    revision = page.get_by_role("button", name="Corriger cette évaluation (nouvelle révision)")
    participants = page.get_by_text("Sophie — Intervenante PIN, CISSS / CIUSSS")
    statement = page.locator("table.record").get_by_role("row").filter(has_text="ECO-1")
    # On screen, all of it is there.
    for element in [*navigation, revision, participants, statement]:
        expect(element).to_be_visible()

    page.emulate_media(media="print")
    screenshot(page, "results-print")
    for element in [*navigation, revision, page.get_by_label("Raison de la correction"),
                    page.get_by_role("link", name="Journal des modifications de cette évaluation")]:
        expect(element).to_be_hidden()
    expect(page.locator("a.skip")).to_be_hidden()
    expect(page.locator("main button:visible, main form:visible, main input:visible, main textarea:visible")).to_have_count(0)
    expect(participants).to_be_visible()
    expect(page.get_by_role("heading", name="Réponses, énoncé par énoncé")).to_be_visible()
    expect(page.locator("table.record tbody tr")).to_have_count(24)
    expect(statement).to_contain_text(COMMENT)
    expect(statement).to_be_visible()
    expect(page.get_by_role("heading", name="Plan d'action")).to_be_visible()
    expect(page.locator("table.plan").get_by_text("Former l'équipe")).to_be_visible()

    # Black on white, each theme kept together where it fits, tables not cut at the right edge.
    style = page.evaluate("""() => {
        const css = (el, p) => getComputedStyle(el).getPropertyValue(p);
        const theme = document.querySelector('section.theme-record');
        const cell = document.querySelector('table.record td');
        return {body: [css(document.body, 'color'), css(document.body, 'background-color')],
                cell: [css(cell, 'color'), css(cell, 'background-color')],
                letter: [css(theme.querySelector('.letter'), 'color'), css(theme.querySelector('.letter'), 'background-color')],
                themeBreak: css(theme, 'break-inside'),
                scroll: css(document.querySelector('.table-scroll'), 'overflow-x')};
    }""")
    black, white = "rgb(0, 0, 0)", "rgb(255, 255, 255)"
    assert style == {"body": [black, white], "cell": [black, white], "letter": [black, white],
                     "themeBreak": "avoid", "scroll": "visible"}, style

    page.emulate_media(media="screen")
    expect(revision).to_be_visible()
    assert re.search(r"/evaluations/\d+/resultats$", page.url)
