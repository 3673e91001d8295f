"""The dashboards in the real browser: every chart drawn by the plotly.js the app serves, under the
strict Content-Security-Policy (`script-src 'self'`, no inline script or style) without a single
violation or console error, in French and in English; axe-core finds no WCAG violation; and on
paper each chart's table is there.
"""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from pin_grid.context import grid_catalog
from pin_grid.extensions import db

from ..integration.test_dashboard import ASSESSMENTS, GEST, record
from .conftest import PASSWORD, sign_in
from .test_accessibility import axe_violations

pytestmark = pytest.mark.browser

ADMIN = "admin@cisss.example"
# Reported to the console by the page itself, where the test listens (CSP violations raise no error).
LISTEN = """document.addEventListener("securitypolicyviolation", (e) =>
  console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));"""
ALL_DRAWN = """() => { const charts = [...document.querySelectorAll('.chart')];
  return charts.length > 0 && charts.every(c => c.classList.contains('drawn')); }"""


def seed(live, folder) -> None:
    """The integration tests' world (six territories, two years, partners' points of view),
    imported by the real command."""
    from pin_grid import accounts

    with live.app.app_context():
        accounts.create_user(ADMIN, PASSWORD, "admin")
        accounts.create_user(GEST, PASSWORD, "gestionnaire", regions=["Montréal"])
        document = {"format": "pin-grid/1", "assessments": [record(grid_catalog(), *a) for a in ASSESSMENTS]}
        path = folder / "world.json"
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        result = live.app.test_cli_runner().invoke(args=["import-assessments", str(path)])
        assert result.exit_code == 0, result.output
        db.session.remove()


# Numbers as the page's language writes them: plotly's French locale (static/plotly-locale-fr.js).
SEPARATORS = {"fr": ",\u00a0", "en": ".,"}


def drawn(page: Page, where: str, language: str) -> list[str]:
    """Wait until every chart of the page is drawn; what is missing or in the wrong language."""
    page.wait_for_function(ALL_DRAWN)
    found = page.evaluate("""() => [...document.querySelectorAll('.chart')].map(c => [c.id,
        c.querySelectorAll('svg.main-svg').length, c.querySelectorAll('.plot-container .svg-container').length,
        c._fullLayout.separators])""")
    problems = [f"{where}: chart {key} has no plotly SVG" for key, svgs, containers, _s in found
                if not svgs or not containers]
    problems += [f"{where}: chart {key} writes numbers with {separators!r}" for key, _svgs, _c, separators in found
                 if separators != SEPARATORS[language]]
    return problems


@pytest.mark.parametrize("email, pages", [
    (ADMIN, ["/territoires/MTL-NORD/tableau-de-bord", "/tableau-de-bord?annee=2025",
             "/tableau-de-bord?annee=2025&perspective=partner&tri=territoire"]),
    (GEST, ["/territoires/MTL-NORD/tableau-de-bord", "/tableau-de-bord?annee=2024"]),
])
def test_every_chart_draws_under_the_strict_csp_in_both_languages_and_axe_finds_nothing(
        live_app, page: Page, screenshot, tmp_path, email, pages):
    seed(live_app, tmp_path)
    problems = []
    page.add_init_script(LISTEN)
    page.on("console", lambda message: message.type == "error" and problems.append(f"console: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    sign_in(page, live_app.url, email, PASSWORD)
    for language in ("fr", "en"):
        page.goto(f"{live_app.url}/langue/{language}?next=/")
        for path in pages:
            response = page.goto(live_app.url + path)
            assert response.status == 200, path
            expect(page.locator("html")).to_have_attribute("lang", language)
            # Served by the app itself: no other origin.
            scripts = page.evaluate("() => [...document.scripts].map(s => s.src).filter(Boolean)")
            assert scripts and all(src.startswith(live_app.url) for src in scripts), scripts
            problems += drawn(page, f"{path} ({language})", language)
            problems += axe_violations(page, f"{path} ({language})")
            if language == "fr" and email == ADMIN:
                screenshot(page, path.strip("/").split("?")[0].replace("/", "-") or "dashboard")
    assert not problems, "\n".join(problems)


def test_printed_dashboards_show_each_chart_s_table(live_app, page: Page, tmp_path):
    seed(live_app, tmp_path)
    sign_in(page, live_app.url, ADMIN, PASSWORD)
    page.goto(f"{live_app.url}/tableau-de-bord?annee=2025")
    page.wait_for_function(ALL_DRAWN)
    tables = page.locator("details.chart-data table")
    expect(tables).to_have_count(4)
    expect(tables.first).to_be_hidden()  # collapsed on screen
    page.emulate_media(media="print")
    for n in range(4):
        expect(tables.nth(n)).to_be_visible()
    expect(page.locator("form.dashboard-filters")).to_be_hidden()
    expect(page.locator("details.chart-data summary").first).to_be_hidden()
    expect(page.get_by_role("heading", name="Carte de chaleur : le score de chaque thème, territoire par territoire")
           ).to_be_visible()
