"""A team fills the whole grid in French, answering with the keyboard only, and reads its results.

The levels chosen below follow a fixed pattern so that the results page can be checked against
values worked out by hand (score = 100 × points ÷ (2 × answered), « Ne sais pas » excluded;
ensemble = mean of the five component scores; the support structures are not in the ensemble).
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

LEVELS = ("implante", "partiel", "non_implante", "ne_sais_pas", "sans_objet")  # order of the radios in a statement
LABELS = {
    "implante": "Implanté",
    "partiel": "Partiellement implanté",
    "non_implante": "Non implanté",
    "ne_sais_pas": "On ne sait pas",
    "sans_objet": "Sans objet",
}
I, P, N, X, S = LEVELS

# The team's answers, statement by statement, in the order of the page.
ANSWERS = {
    # A — Approche écosystémique: 2 I + 2 P → (2+2+1+1) / (2×4) = 75,0 · partially implemented
    "ECO-1": I, "ECO-2": I, "ECO-3": P, "ECO-5": P,
    # B — Approche participative: 4 I → 8 / 8 = 100,0 · implemented
    "PAR-1": I, "PAR-2": I, "PAR-5": I, "PAR-4": I,
    # C — Partenariat: P, N, X, I → (1+0+2) / (2×3) = 50,0 · partially implemented (X not scored)
    "PRT-1": P, "PRT-2": N, "PRT-3": X, "PRT-5": I,
    # D — Actions directes auprès des enfants: 3 N → 0 / 6 = 0,0 · not implemented
    "ENF-1": N, "ENF-2": N, "ENF-3": N,
    # E — Actions directes auprès des parents: P, P, X, I → (1+1+2) / (2×3) = 66,7 · partially implemented
    "PRN-5": P, "PRN-6": P, "PRN-2": X, "PRN-3": I,
    # S — Structures de soutien: 2 X + 1 S + 2 I → 2 answered of 5, fewer than half → no score
    "STR-1": X, "STR-2": I, "STR-3": X, "STR-4": I, "STR-6": S,
}
FIRST_HALF = list(ANSWERS)[:12]   # ECO, PAR, PRT: saved, reloaded, checked
SECOND_HALF = list(ANSWERS)[12:]  # ENF, PRN, STR: answered after resuming
COMMENTS = {
    "ECO-1": "Portrait complet fait avec l'outil d'analyse ; à revoir pour les pères.",
    "PRT-3": "Personne de l'école n'était présente : on ne sait pas.",
}
ACTION = ("ENF-1", "Ouvrir des places réservées en service de garde")
HESITATION = "PRN-2"  # the team goes back to this one (Shift+Tab) and changes its mind twice

# (theme name, counts I/P/N/X/S, answered, score, status) as the results page must show them.
COLUMNS = [*LABELS.values(), "Cotés", "Score", "Statut"]
EXPECTED_COMPONENTS = [
    ("Approche écosystémique", ["2", "2", "0", "0", "0"], "4 / 4", "75,0", "Partiellement implanté"),
    ("Approche participative", ["4", "0", "0", "0", "0"], "4 / 4", "100,0", "Implanté"),
    ("Partenariat", ["1", "1", "1", "1", "0"], "3 / 4", "50,0", "Partiellement implanté"),
    ("Actions directes auprès des enfants", ["0", "0", "3", "0", "0"], "3 / 3", "0,0", "Non implanté"),
    ("Actions directes auprès des parents", ["1", "2", "0", "1", "0"], "3 / 4", "66,7", "Partiellement implanté"),
]
EXPECTED_STRUCTURES = ("Structures de soutien", ["2", "0", "0", "2", "1"], "2 / 5", "—", "Données insuffisantes")
# (75 + 100 + 50 + 0 + 66,67) ÷ 5 = 58,33; the structures (no score) are not part of it.
EXPECTED_ENSEMBLE = "58,3"


# --- Keyboard helpers -----------------------------------------------------------------------

def focused(page: Page, prop: str):
    return page.evaluate("p => document.activeElement ? document.activeElement[p] ?? null : null", prop)


def tab_until(page: Page, predicate: str, arg=None, *, limit: int = 250, key: str = "Tab") -> None:
    """Press Tab until `predicate(document.activeElement, arg)` holds, as a keyboard user would."""
    check = f"arg => {{ const el = document.activeElement; return !!el && ({predicate}); }}"
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate(check, arg):
            return
    raise AssertionError(f"{limit} × {key} never reached an element where {predicate} (arg={arg!r})")


def tab_to_statement(page: Page, item_id: str) -> None:
    tab_until(page, "el.name === arg && el.type === 'radio'", f"{item_id}-level")


def tab_to_button(page: Page, intent: str) -> None:
    """The bottom « Enregistrer » / « Finaliser l'évaluation » button (name="intent")."""
    tab_until(page, "el.tagName === 'BUTTON' && el.name === 'intent' && el.value === arg "
                    "&& !!el.closest('.final-actions')", intent)


def choose_level(page: Page, item_id: str, level: str) -> None:
    """Tab into the statement's radio group, then arrow to the level (Space for the first one)."""
    tab_to_statement(page, item_id)
    # Tabbing into a group with nothing chosen lands on its first radio and chooses nothing.
    assert focused(page, "value") == LEVELS[0], f"{item_id}: Tab should land on the first level"
    assert focused(page, "checked") is False
    steps = LEVELS.index(level)
    if steps == 0:
        page.keyboard.press("Space")
    for _ in range(steps):
        page.keyboard.press("ArrowRight")  # moves and chooses, as in any radio group
    expect(radio(page, item_id, level)).to_be_checked()


def statement(page: Page, item_id: str):
    return page.get_by_role("group", name=re.compile(rf"^{re.escape(item_id)}\b"))


def radio(page: Page, item_id: str, level: str):
    return statement(page, item_id).get_by_role("radio", name=LABELS[level], exact=True)


def progress(page: Page):
    return page.get_by_text(re.compile(r"énoncés répondus"))


def cells_by_header(page: Page, row) -> dict[str, str]:
    """The cells of a table row keyed by their column header (other columns may come and go)."""
    expect(row).to_have_count(1)
    table = page.locator("table").filter(has=row)
    squash = " ".join
    headers = [squash(t.split()) for t in table.locator("thead").get_by_role("columnheader").all_text_contents()]
    first = row.get_by_role("rowheader").count()  # the theme's name is a row header, not a cell
    cells = [squash(t.split()) for t in row.get_by_role("cell").all_text_contents()]
    return dict(zip(headers[first:], cells))


def answer(page: Page, item_id: str) -> None:
    choose_level(page, item_id, ANSWERS[item_id])
    if item_id in COMMENTS:
        page.keyboard.press("Tab")
        assert focused(page, "id") == f"{item_id}-comment"
        page.keyboard.type(COMMENTS[item_id])
    if item_id == ACTION[0]:
        page.keyboard.press("Tab")  # the comment
        page.keyboard.press("Tab")  # « Priorité et piste d'action » (a <details> summary)
        assert focused(page, "tagName") == "SUMMARY"
        page.keyboard.press("Enter")  # opens it
        page.keyboard.press("Tab")
        assert focused(page, "id") == f"{item_id}-priority"
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        assert focused(page, "id") == f"{item_id}-action"
        page.keyboard.type(ACTION[1])
    if item_id == HESITATION:
        page.keyboard.press("Tab")  # on to the comment…
        page.keyboard.press("Shift+Tab")  # …and back: the focus returns to the chosen radio
        assert (focused(page, "name"), focused(page, "value")) == (f"{item_id}-level", ANSWERS[item_id])
        page.keyboard.press("ArrowRight")
        expect(radio(page, item_id, LEVELS[LEVELS.index(ANSWERS[item_id]) + 1])).to_be_checked()
        page.keyboard.press("ArrowLeft")
        expect(radio(page, item_id, ANSWERS[item_id])).to_be_checked()


# --- The test ------------------------------------------------------------------------------

def test_team_fills_the_whole_grid_with_the_keyboard(live_server, page: Page, screenshot):
    server_errors, script_errors = [], []
    page.on("response", lambda r: r.status >= 500 and server_errors.append(f"{r.status} {r.request.method} {r.url}"))
    page.on("pageerror", lambda exc: script_errors.append(str(exc)))

    # A fresh install has no account: the first visit offers to create the administrator.
    page.goto(live_server + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer le compte administrateur")
    page.get_by_label("Adresse courriel de l'administratrice ou de l'administrateur").fill("coordo@cisss.example")
    page.get_by_label("Nouveau mot de passe (12 caractères ou plus)").fill("Trois pommes vertes au marché!")
    page.get_by_label("Le même mot de passe, une deuxième fois").fill("Trois pommes vertes au marché!")
    page.get_by_role("button", name="Créer le compte").click()

    # Home page, in French by default; the team creates its territory.
    expect(page.get_by_role("heading", level=1)).to_have_text("Territoires et évaluations")
    page.get_by_role("link", name="Créer un territoire").click()
    page.get_by_label("Code", exact=True).fill("MTL-NORD")
    page.get_by_label("Nom", exact=True).fill("Montréal-Nord")
    page.get_by_label("Région", exact=True).select_option("Montréal")
    screenshot(page, "territory-form")
    page.get_by_role("button", name="Créer").click()
    expect(page.get_by_role("status")).to_have_text("Territoire « Montréal-Nord » créé.")
    expect(page.get_by_role("row", name=re.compile("Montréal-Nord"))).to_contain_text("MTL-NORD")
    screenshot(page, "territories")

    # It starts an assessment: date, two participants, one partner organisation present.
    page.get_by_role("link", name="Commencer une évaluation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Commencer une évaluation")
    page.get_by_label("Territoire", exact=True).select_option(label="Montréal-Nord (MTL-NORD)")
    page.get_by_label("Date de la rencontre").fill("2025-03-14")
    people = page.get_by_role("group", name="Participantes et participants")
    people.get_by_label("Nom (facultatif)").nth(0).fill("Sophie Tremblay")
    people.get_by_label("Rôle").nth(0).fill("Intervenante PIN")
    people.get_by_label("Secteur").nth(0).select_option(label="CISSS / CIUSSS")
    people.get_by_label("Rôle").nth(1).fill("Parent-partenaire du comité")
    people.get_by_label("Secteur").nth(1).select_option(label="Parent-partenaire")
    organisations = page.get_by_role("group", name="Organismes partenaires présents")
    organisations.get_by_label("Organisme").nth(0).fill("Maison de la famille de Montréal-Nord")
    organisations.get_by_label("Secteur").nth(0).select_option(label="Organisme communautaire")
    screenshot(page, "assessment-form")
    page.get_by_role("button", name="Commencer la grille").click()

    # The grid form, empty.
    expect(page).to_have_url(re.compile(r"/evaluations/\d+/grille$"))
    grid_url = page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("Montréal-Nord — 2025-03-14")
    expect(page.get_by_text("2 personnes participantes")).to_be_visible()
    expect(progress(page)).to_contain_text("0 / 24")
    expect(page.locator("input[type=radio]")).to_have_count(24 * len(LEVELS))
    expect(page.locator("#grid-form input[name=csrf_token]")).to_have_value(re.compile(r".{20,}"))  # CSRF is on

    # First half, keyboard only, from the top of the page.
    for item_id in FIRST_HALF:
        answer(page, item_id)
        if item_id == "ECO-2":
            screenshot(page, "grid-keyboard-focus", full_page=False)
    expect(progress(page)).to_contain_text("12 / 24")
    tab_to_button(page, "save")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text(
        "Réponses enregistrées. Vous pouvez quitter et reprendre plus tard.")
    expect(progress(page)).to_contain_text("12 / 24")
    screenshot(page, "grid-saved-half", full_page=False)

    # Reload: what was saved is still there, and nothing else.
    page.reload()
    expect(progress(page)).to_contain_text("12 / 24")
    for item_id in FIRST_HALF:
        expect(radio(page, item_id, ANSWERS[item_id])).to_be_checked()
    for item_id in SECOND_HALF:
        expect(statement(page, item_id).locator("input[type=radio]:checked")).to_have_count(0)
    for item_id, text in COMMENTS.items():
        expect(statement(page, item_id).get_by_label("Commentaire")).to_have_value(text)

    # Resume (keyboard only again, from the top) and answer the other 12.
    for item_id in SECOND_HALF:
        answer(page, item_id)
    expect(progress(page)).to_contain_text("24 / 24")
    expect(page.locator("input[type=radio]:checked")).to_have_count(24)
    screenshot(page, "grid-complete")

    # Finalise: a page sums up what will be locked, then the team confirms.
    tab_to_button(page, "finalize")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/evaluations/\d+/finaliser$"))
    summary = page.get_by_role("table")
    for label, count in (("Implanté", "10"), ("Partiellement implanté", "5"), ("Non implanté", "4")):
        expect(summary.get_by_role("row", name=re.compile(rf"^{label} ")).get_by_role("cell")).to_have_text(count)
    expect(page.get_by_text("4 énoncés cotés « On ne sait pas »")).to_be_visible()
    expect(page.get_by_text("1 priorité", exact=True)).to_be_visible()
    screenshot(page, "finalize-confirmation")
    page.get_by_role("button", name="Oui, finaliser l'évaluation").click()
    expect(page).to_have_url(re.compile(r"/evaluations/\d+/resultats$"))
    expect(page.get_by_role("status")).to_have_text("Évaluation finalisée.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Résultats — Montréal-Nord, 2025-03-14")
    expect(page.get_by_text("Finalisée", exact=True)).to_be_visible()
    expect(page.get_by_text("Résultats provisoires :")).to_have_count(0)
    screenshot(page, "results")

    # Theme by theme: counts (implanté, partiel, non implanté, on ne sait pas, sans objet), answered, score, status.
    for name, counts, answered, score, status in [*EXPECTED_COMPONENTS, EXPECTED_STRUCTURES]:
        row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
        shown = cells_by_header(page, row)
        assert {c: shown.get(c) for c in COLUMNS} == dict(zip(COLUMNS, [*counts, answered, score, status])), name
    ensemble = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Ensemble des cinq composantes"))
    expect(ensemble.locator("td.score")).to_have_text(EXPECTED_ENSEMBLE)

    # The priority and action typed for ENF-1 are listed.
    action_row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=re.compile(rf"^{ACTION[0]} ")))
    shown = cells_by_header(page, action_row)
    assert shown["Énoncé"].startswith(f"{ACTION[0]} ")  # the id, then the statement's text
    assert {c: shown.get(c) for c in ("Niveau", "Priorité", "Piste d'action")} == {
        "Niveau": "Non implanté", "Priorité": "oui", "Piste d'action": ACTION[1]}

    # A finalised assessment is locked: its grid sends to the results.
    page.goto(grid_url)
    expect(page).to_have_url(re.compile(r"/evaluations/\d+/resultats$"))
    expect(page.get_by_role("status")).to_have_text("Cette évaluation est finalisée : voici ses résultats.")
    expect(page.locator("input[type=radio]")).to_have_count(0)

    assert server_errors == [], server_errors
    assert script_errors == [], script_errors
