"""Accessibility in the real browser: axe-core (WCAG 2.1 A/AA) on every page each role can reach,
a keyboard focus ring that stands out from what is behind it, and the grid's ARIA wiring.

To check a new page, add a `Visit` row to PAGES: its path (with the `{ids}` of the seeded
assessments), the roles that reach it, the HTTP status expected and, if the page needs a step
before it shows what must be checked (a form sent empty to show its errors), an `act`.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Callable

import pytest
from playwright.sync_api import Page, expect

from .conftest import PASSWORD, sign_in

pytestmark = pytest.mark.browser

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# The accounts pages are checked with: one per role, and a membre not yet tied to a territory.
ACCOUNTS = {  # key: (role, territories, regions)
    "admin": ("admin", [], []),
    "gestionnaire": ("gestionnaire", [], ["Montréal"]),
    "coordonnateur": ("coordonnateur", ["MTL-NORD"], []),
    "membre": ("membre", ["MTL-NORD"], []),
    "membre_sans_territoire": ("membre", [], []),
}
ROLES = tuple(ACCOUNTS)
EMAILS = {key: key.replace("_", "-") + "@cisss.example" for key in ROLES}
EVERYONE = ROLES
READERS = ("admin", "gestionnaire", "coordonnateur", "membre")  # may read MTL-NORD's assessments
EDITORS = ("admin", "coordonnateur", "membre")  # may start and fill assessments
LEADS = ("admin", "coordonnateur")  # may finalise, revise, read the journal
COMPARERS = ("admin", "gestionnaire", "coordonnateur")
ADMIN = ("admin",)
NO_ROLE = ()  # pages checked signed out (see test_signed_out_pages_have_no_wcag_violation)

I, P, N, X = "implante", "partiel", "non_implante", "ne_sais_pas"


# --- Steps some pages need before they show what is checked -----------------------------------

def _submit(name: str) -> Callable[[Page], None]:
    """Send the page's form as it is (usually empty): the page comes back with its errors."""
    def act(page: Page) -> None:
        with page.expect_navigation():
            page.locator("main").get_by_role("button", name=name, exact=True).first.click()
        expect(page.locator("#problems")).to_be_visible()
    return act


def _grid_with_invalid_level(page: Page) -> None:
    """A level the grid does not know (as a tampered or outdated page would send) is refused."""
    page.evaluate("""() => {
        const radio = document.querySelector("input[name='ECO-2-level']");
        radio.value = 'inconnu';
        radio.checked = true;
    }""")
    with page.expect_navigation():
        page.locator(".progress-bar").get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#problems")).to_be_visible()
    expect(page.locator("#item-ECO-2 .error")).to_be_visible()


def _wrong_password(page: Page) -> None:
    page.get_by_label("Adresse courriel").fill(EMAILS["membre"])
    page.get_by_label("Mot de passe").fill("pas le bon mot de passe")
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("#problems")).to_be_visible()


@dataclass(frozen=True)
class Visit:
    name: str
    path: str  # may name the seeded ids: {empty}, {partial}, {invalid}, {carried}, {complete}, {final}, {membre_id}
    roles: tuple[str, ...]
    status: int = 200
    act: Callable[[Page], None] | None = None
    then: str | None = None  # a path to go to afterwards (e.g. back to French)


# Every page a role can reach. Not listed yet because it does not exist yet: the dashboard.
PAGES = [
    Visit("home", "/", EVERYONE),
    Visit("home after switching to English", "/langue/en?next=/", EVERYONE, then="/langue/fr?next=/"),
    Visit("home, searched and filtered by region", "/?q=saint&region=Montréal", READERS),
    Visit("home, a search without result", "/?q=introuvable", READERS),
    Visit("territory page", "/territoires/MTL-NORD", READERS),
    Visit("territory page after switching to English", "/langue/en?next=/territoires/MTL-NORD", READERS,
          then="/langue/fr?next=/"),
    Visit("results after switching to English", "/langue/en?next=/evaluations/{final}/resultats", READERS,
          then="/langue/fr?next=/"),
    Visit("new territory", "/territoires/nouveau", ADMIN),
    Visit("new territory with errors", "/territoires/nouveau", ADMIN, act=_submit("Créer")),
    Visit("new assessment", "/evaluations/nouvelle", EDITORS),
    Visit("new assessment with errors", "/evaluations/nouvelle", EDITORS, act=_submit("Commencer la grille")),
    Visit("assessment details", "/evaluations/{partial}/details", EDITORS),
    Visit("grid, empty", "/evaluations/{empty}/grille", EDITORS),
    Visit("grid, partly answered", "/evaluations/{partial}/grille", EDITORS),
    Visit("grid with a validation error", "/evaluations/{invalid}/grille", EDITORS, act=_grid_with_invalid_level),
    Visit("grid with carried-over answers", "/evaluations/{carried}/grille", EDITORS),
    Visit("finalise confirmation", "/evaluations/{complete}/finaliser", LEADS),
    Visit("finalise confirmation, statements missing", "/evaluations/{partial}/finaliser", LEADS, status=422),
    Visit("delete draft confirmation", "/evaluations/{empty}/supprimer", LEADS),
    Visit("delete page of a finalised assessment", "/evaluations/{final}/supprimer", LEADS, status=409),
    Visit("results, draft", "/evaluations/{partial}/resultats", READERS),
    Visit("results, finalised, with follow-up", "/evaluations/{final}/resultats", READERS),
    Visit("results with a revision error", "/evaluations/{final}/resultats", LEADS,
          act=_submit("Corriger cette évaluation (nouvelle révision)")),
    Visit("journal", "/evaluations/{final}/journal", LEADS),
    Visit("comparison", "/comparaison/", COMPARERS),
    Visit("comparison sorted by ensemble", "/comparaison/?annee=2025&tri=ensemble&ordre=desc", COMPARERS),
    Visit("accounts", "/admin/comptes", ADMIN),
    Visit("accounts with errors", "/admin/comptes", ADMIN, act=_submit("Créer le compte")),
    Visit("account edit", "/admin/comptes/{membre_id}", ADMIN),
    Visit("about the grid", "/a-propos-de-la-grille", EVERYONE),
    Visit("admin: territories", "/admin/territoires", ADMIN),
    Visit("admin: territory edit", "/admin/territoires/MTL-NORD/modifier", ADMIN),
    Visit("admin: organisations", "/admin/organisations", ADMIN),
    Visit("admin: organisation edit", "/admin/organisations/{organization}/modifier", ADMIN),
    Visit("admin: organisation merge", "/admin/organisations/{organization}/fusionner", ADMIN),
    Visit("admin: organisation merge with errors", "/admin/organisations/{organization}/fusionner", ADMIN,
          act=_submit("Fusionner")),
    Visit("password change", "/mot-de-passe", EVERYONE),
    Visit("password change with errors", "/mot-de-passe", EVERYONE, act=_submit("Changer")),
    Visit("not found (404)", "/page-qui-n-existe-pas", EVERYONE, status=404),
    Visit("forbidden (403): new assessment", "/evaluations/nouvelle", ("gestionnaire",), status=403),
    Visit("no territory yet (403)", "/evaluations/nouvelle", ("membre_sans_territoire",), status=403),
    Visit("forbidden (403): new territory", "/territoires/nouveau", ("coordonnateur", "membre"), status=403),
    Visit("forbidden (403): comparison", "/comparaison/", ("membre",), status=403),
    Visit("forbidden (403): journal", "/evaluations/{final}/journal", ("membre",), status=403),
    Visit("forbidden (403): delete draft", "/evaluations/{empty}/supprimer", ("membre",), status=403),
    Visit("not found (404): another territory's results", "/evaluations/{final}/resultats",
          ("membre_sans_territoire",), status=404),
    Visit("not found (404): another territory's page", "/territoires/LAV-CHOM", ("coordonnateur", "membre"),
          status=404),
    Visit("sign-in", "/connexion", NO_ROLE),
    Visit("sign-in with an error", "/connexion", NO_ROLE, status=200, act=_wrong_password),
]
# Checked before any account exists (the first visit of a fresh install).
FIRST_RUN_PAGES = [
    Visit("first administrator", "/installation", NO_ROLE),
    Visit("first administrator with errors", "/installation", NO_ROLE, act=_submit("Créer le compte")),
]


# --- Seeding, through the app's own services ---------------------------------------------------

def _answers(pattern: list[str]):
    from pin_grid.services import AnswerData

    def build(grid) -> dict:
        return {item_id: AnswerData(level=pattern[n % len(pattern)],
                                    comment="Discuté en équipe." if n % 5 == 0 else "")
                for n, item_id in enumerate(grid.items)}
    return build


def seed(live) -> dict[str, int]:
    """Three territories (two in Montréal), one account per role, finalised assessments in 2024
    and 2025 (so that 2025 has a follow-up and a comparison), and drafts in every state."""
    from pin_grid import accounts, services
    from pin_grid.context import current_grid, grid_catalog
    from pin_grid.extensions import db
    from pin_grid.services import AnswerData, AssessmentDetails, OrganizationData, ParticipantData

    with live.app.app_context():
        grid = current_grid()
        territories = {
            code: services.create_territory(code, name, region)
            for code, name, region in [("MTL-NORD", "Montréal-Nord", "Montréal"),
                                       ("MTL-STMI", "Saint-Michel", "Montréal"),
                                       ("LAV-CHOM", "Chomedey", "Laval")]
        }
        users = {key: accounts.create_user(EMAILS[key], PASSWORD, role, territories=codes, regions=regions)
                 for key, (role, codes, regions) in ACCOUNTS.items()}

        def start(code: str, date: str, *, carry_over: bool = False):
            details = AssessmentDetails(
                territory_id=territories[code].id, date=dt.date.fromisoformat(date), perspective=None,
                participants=[ParticipantData("Intervenante PIN", "cisss", "Sophie"),
                              ParticipantData("Parent-partenaire", "parent_partenaire")],
                organizations=[OrganizationData("Maison de la famille", "communautaire")])
            return services.start_assessment(details, grid_catalog(), carry_over=carry_over).id

        def finalised(code: str, date: str, pattern: list[str]) -> int:
            assessment_id = start(code, date)
            services.save_answers(assessment_id, _answers(pattern)(grid))
            services.finalize(assessment_id, grid)
            return assessment_id

        finalised("MTL-NORD", "2024-03-12", [P, N, P, X])
        ids = {
            "final": finalised("MTL-NORD", "2025-03-14", [I, P, I, N]),
            "membre_id": users["membre"].id,
        }
        finalised("MTL-STMI", "2025-04-02", [P, P, I, N])
        finalised("LAV-CHOM", "2025-05-20", [I, I, P, X])
        ids["empty"] = start("MTL-NORD", "2025-09-10")
        ids["partial"] = start("MTL-NORD", "2025-10-08")
        first_half = list(grid.items)[:10]
        services.save_answers(ids["partial"], {
            item_id: AnswerData(level=[I, P, N, X][n % 4], priority=n == 2,
                                action="Former l'équipe" if n == 2 else "", target=I if n == 2 else None)
            for n, item_id in enumerate(first_half)})
        ids["invalid"] = start("MTL-NORD", "2025-11-05")
        ids["carried"] = start("MTL-NORD", "2026-03-10", carry_over=True)
        ids["complete"] = start("MTL-NORD", "2025-12-03")
        services.save_answers(ids["complete"], _answers([I, P, X])(grid))
        ids["organization"] = services.organization_named("Maison de la famille").id
        db.session.remove()
    return ids


# --- axe-core ----------------------------------------------------------------------------------

def axe_violations(page: Page, where: str) -> list[str]:
    """One line per element in violation: rule id, impact, target, page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS},
                                       "resultTypes": ["violations"]})
    return [
        f"{v['id']} ({v['impact']}) — target {' '.join(map(str, node['target']))} — page {where}: {v['help']}"
        for v in results.response["violations"] for node in v["nodes"]
    ]


def check_pages(page: Page, base: str, visits: list[Visit], role: str | None, ids: dict[str, int]) -> list[str]:
    problems = []
    for visit in visits:
        path = visit.path.format(**ids)
        where = f"« {visit.name} » ({path}, {role or 'signed out'})"
        response = page.goto(base + path)
        if response is None or response.status != visit.status:
            problems.append(f"status {response.status if response else None} instead of {visit.status} — page {where}")
        else:
            if visit.act:
                visit.act(page)
            problems += axe_violations(page, where)
        if visit.then:
            page.goto(base + visit.then)
    return problems


def report(problems: list[str]) -> str:
    return f"{len(problems)} accessibility violation(s):\n" + "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_reaches_has_no_wcag_violation(live_app, page: Page, role):
    ids = seed(live_app)
    sign_in(page, live_app.url, EMAILS[role], PASSWORD)
    problems = check_pages(page, live_app.url, [v for v in PAGES if role in v.roles], role, ids)
    assert not problems, report(problems)


def test_signed_out_pages_have_no_wcag_violation(live_app, page: Page):
    problems = check_pages(page, live_app.url, FIRST_RUN_PAGES, None, {})
    ids = seed(live_app)
    problems += check_pages(page, live_app.url, [v for v in PAGES if not v.roles], None, ids)
    assert not problems, report(problems)


def test_the_page_list_names_every_role_and_existing_ids():
    for visit in PAGES + FIRST_RUN_PAGES:
        assert set(visit.roles) <= set(ROLES), visit
        visit.path.format(empty=1, partial=1, invalid=1, carried=1, complete=1, final=1, membre_id=1, organization=1)


# --- The keyboard focus ring ------------------------------------------------------------------

# (page, element to focus, element that draws the ring if not the focused one)
FOCUS_TARGETS = [
    ("/evaluations/{partial}/grille", "a.skip", None),
    ("/evaluations/{partial}/grille", "header.site a.brand", None),
    ("/evaluations/{partial}/grille", "header.site nav a", None),
    ("/evaluations/{partial}/grille", "header.site .account a", None),
    ("/evaluations/{partial}/grille", "header.site button.link", None),
    ("/evaluations/{partial}/grille", "header.site .lang a", None),
    ("/evaluations/{partial}/grille", "p.meta a", None),
    ("/evaluations/{partial}/grille", ".progress-bar a.next", None),
    ("/evaluations/{partial}/grille", ".progress-bar nav a", None),
    ("/evaluations/{partial}/grille", ".progress-bar button", None),
    ("/evaluations/{partial}/grille", "#item-ECO-1 input[type=radio]:checked", ".level"),
    ("/evaluations/{partial}/grille", "#item-ECO-1 input[type=radio]:not(:checked)", ".level"),
    ("/evaluations/{partial}/grille", "#item-STR-6 input[type=radio]", ".level"),
    ("/evaluations/{partial}/grille", "#ECO-1-comment", None),
    ("/evaluations/{partial}/grille", "#item-ECO-1 details.action summary", None),
    ("/evaluations/{partial}/grille", "#item-ECO-3 details.action input[type=checkbox]", None),
    ("/evaluations/{partial}/grille", "#item-ECO-3 details.action input[type=date]", None),
    ("/evaluations/{partial}/grille", ".final-actions button.primary", None),
    ("/evaluations/{partial}/grille", ".final-actions button[value=finalize]", None),
    ("/evaluations/{carried}/grille", ".carried input[type=checkbox]", None),
    ("/evaluations/{partial}/details", "select", None),
    ("/evaluations/{partial}/details", "table input", None),
    ("/evaluations/{partial}/details", "button[data-add-row]", None),
    ("/", "a.button.primary", None),
    ("/", "a.button:not(.primary)", None),
    ("/", "main table a", None),
    ("/", "#q", None),
    ("/", "#region", None),
    ("/", "form[role=search] button", None),
    ("/territoires/MTL-NORD", "a.button.primary", None),
    ("/territoires/MTL-NORD", "main table a", None),
    ("/comparaison/", "th a.sort", None),
    ("/comparaison/", "#annee", None),
    ("/admin/comptes", "main table button", None),
    ("/evaluations/{complete}/finaliser", ".final-actions button.primary", None),
    ("/evaluations/{complete}/finaliser", ".final-actions a", None),
    ("/evaluations/{empty}/supprimer", "button.danger", None),
]

_RING = """([selector, ringSelector]) => {
  const el = document.querySelector(selector);
  if (!el) return null;
  const details = el.closest('details');
  if (details) details.open = true;
  el.scrollIntoView({block: 'center'});
  el.focus();
  const ring = ringSelector ? el.closest(ringSelector) : el;
  const style = getComputedStyle(ring);
  const width = parseFloat(style.outlineWidth) || 0;
  const offset = parseFloat(style.outlineOffset) || 0;
  const box = ring.getBoundingClientRect();
  const d = offset + width / 2;  // the middle of the ring: outside the border box, or inside (inset ring)
  const points = [[box.left - d, box.top + box.height / 2], [box.right + d, box.top + box.height / 2],
                  [box.left + box.width / 2, box.top - d], [box.left + box.width / 2, box.bottom + d]];
  const behind = points
    .filter(([x, y]) => x >= 0 && y >= 0 && x < innerWidth && y < innerHeight)
    .map(([x, y]) => {
      const layers = [];  // background colours from the top down to the first opaque one
      for (const under of document.elementsFromPoint(x, y)) {
        if (d > 0 && (under === ring || ring.contains(under))) continue;
        const colour = getComputedStyle(under).backgroundColor;
        layers.push(colour);
        const alpha = colour.match(/rgba\\(.*,\\s*([\\d.]+)\\)/);
        if (!alpha || parseFloat(alpha[1]) >= 1) break;
      }
      return layers;
    });
  return {focusVisible: el.matches(':focus-visible'), active: document.activeElement === el,
          style: style.outlineStyle, width, colour: style.outlineColor, behind};
}"""


def _rgba(css: str) -> tuple[float, float, float, float]:
    numbers = [float(n) for n in re.findall(r"[\d.]+", css)]
    return (*numbers[:3], numbers[3] if len(numbers) > 3 else 1.0)


def _flatten(layers: list[str]) -> tuple[float, float, float]:
    """The colour seen through the layers (top first) over a white page."""
    colour = (255.0, 255.0, 255.0)
    for css in reversed(layers):
        r, g, b, a = _rgba(css)
        colour = tuple(a * top + (1 - a) * below for top, below in zip((r, g, b), colour))
    return colour


def _luminance(rgb) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_formula():
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21)
    assert contrast((118, 118, 118), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)
    assert _flatten(["rgba(0, 0, 0, 0)", "rgb(11, 79, 138)"]) == (11, 79, 138)


def test_keyboard_focus_ring_contrasts_with_what_is_behind_it(live_app, page: Page):
    ids = seed(live_app)
    sign_in(page, live_app.url, EMAILS["admin"], PASSWORD)
    problems, current = [], None
    for path, selector, ring in FOCUS_TARGETS:
        path = path.format(**ids)
        if path != current:
            page.goto(live_app.url + path)
            page.keyboard.press("Tab")  # from now on the page shows focus as for a keyboard user
            current = path
        found = page.evaluate(_RING, [selector, ring])
        where = f"{selector} on {path}"
        if found is None:
            problems.append(f"{where}: no such element")
            continue
        if not (found["active"] and found["focusVisible"]):
            problems.append(f"{where}: not focused as with the keyboard ({found})")
            continue
        if found["style"] in ("none", "hidden") or found["width"] < 2:
            problems.append(f"{where}: no visible focus ring ({found['style']} {found['width']}px)")
            continue
        ring_colour = _rgba(found["colour"])
        if ring_colour[3] < 1:
            problems.append(f"{where}: translucent focus ring {found['colour']}")
        if not found["behind"]:
            problems.append(f"{where}: ring not on screen")
        worst = min(((contrast(ring_colour, _flatten(layers)), _flatten(layers)) for layers in found["behind"]),
                    default=None)
        if worst and worst[0] < 3:
            problems.append(f"{where}: focus ring {found['colour']} on rgb{worst[1]} contrasts {worst[0]:.2f}:1 < 3:1")
    assert not problems, "\n".join(problems)


# --- ARIA wiring of the grid and the comparison table ---------------------------------------

def test_each_statement_is_described_by_its_help_text(live_app, page: Page):
    ids = seed(live_app)
    with live_app.app.app_context():
        from pin_grid.context import current_grid

        helps = {item_id: " ".join(item.help.fr.split()) for item_id, item in current_grid().items.items()}
    sign_in(page, live_app.url, EMAILS["membre"], PASSWORD)
    page.goto(f"{live_app.url}/evaluations/{ids['empty']}/grille")
    items = page.locator("fieldset.item")
    expect(items).to_have_count(len(helps))
    wiring = page.evaluate("""() => [...document.querySelectorAll('fieldset.item')].map(f => ({
        id: f.id, describedby: (f.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean),
        help: f.querySelector('p.help') && f.querySelector('p.help').id}))""")
    for item in wiring:
        assert item["help"] and item["describedby"] == [item["help"]], item
    for item_id in ("ECO-1", "PAR-5", "STR-6"):
        group = page.get_by_role("group", name=re.compile(rf"^{item_id}\b"))
        expect(group).to_have_accessible_description(helps[item_id])

    # With an error, the group's description also gives the error.
    _grid_with_invalid_level(page)
    group = page.get_by_role("group", name=re.compile(r"^ECO-2\b"))
    expect(group).to_have_accessible_description(re.compile(re.escape(helps["ECO-2"]) + r".*Niveau inconnu"))


def test_sorted_column_header_carries_aria_sort(live_app, page: Page):
    seed(live_app)
    sign_in(page, live_app.url, EMAILS["gestionnaire"], PASSWORD)
    page.goto(f"{live_app.url}/comparaison/?annee=2025&tri=ensemble&ordre=desc")
    headers = page.locator("table.comparison thead th")
    expect(headers.filter(has_text="Ensemble")).to_have_attribute("aria-sort", "descending")
    expect(page.locator("table.comparison thead th[aria-sort]")).to_have_count(1)
    expect(page.locator("table.comparison [aria-sort]:not(th)")).to_have_count(0)
    expect(page.get_by_role("columnheader", name=re.compile("^Ensemble"))).to_have_attribute("aria-sort", "descending")

    headers.first.get_by_role("link").click()
    expect(headers.first).to_have_attribute("aria-sort", "ascending")
    expect(page.locator("table.comparison thead th[aria-sort]")).to_have_count(1)
    headers.first.get_by_role("link").click()
    expect(headers.first).to_have_attribute("aria-sort", "descending")


# --- The home page of a whole province: territories a page at a time --------------------------

# The seed has too few territories to need pages: these are visited once more are added.
PAGED_HOME_PAGES = [
    Visit("home, page 2", "/?page=2", ("admin", "gestionnaire")),
    Visit("home, searched, page 2", "/?q=quartier&region=Montréal&page=2", ("admin", "gestionnaire")),
    Visit("home, last page asked beyond the end", "/?page=999", ("admin",)),
]


@pytest.mark.parametrize("role", ["admin", "gestionnaire"])
def test_a_paged_home_page_has_no_wcag_violation(live_app, page: Page, role):
    from pin_grid import services
    from pin_grid.extensions import db

    ids = seed(live_app)
    with live_app.app.app_context():
        for n in range(1, 41):
            services.create_territory(f"MTL-Q{n:02d}", f"Quartier {n:02d}", "Montréal")
        db.session.remove()
    sign_in(page, live_app.url, EMAILS[role], PASSWORD)
    problems = check_pages(page, live_app.url, [v for v in PAGED_HOME_PAGES if role in v.roles], role, ids)
    assert not problems, report(problems)
    page.goto(live_app.url + "/?page=2")
    pages = page.get_by_role("navigation", name="Pages de la liste des territoires")
    expect(pages.locator("[aria-current=page]")).to_have_text("Page 2")
    expect(pages.get_by_role("link", name="Page précédente")).to_have_attribute("href", "/")
