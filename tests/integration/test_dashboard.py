"""The dashboards through real HTTP on a real database (issue 11): what each chart shows, read
back from the figure the page carries and compared with scores computed here from the levels
imported; who may open them; the filters; a fixed number of SQL statements per request.

The world: six territories in two regions, finalised collective assessments in 2024 (three
territories, rated on grid 2026.1: too few for a cohort, so the absolute bands) and 2025 (all
six, one on 2026.1, the others on 2026.2; Montréal-Nord twice), drafts, and partners' points of
view.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import random
import re
import shutil
from collections import Counter

import pytest
from sqlalchemy import select

from pin_grid import access, scoring
from pin_grid.extensions import db
from pin_grid.models import Organization, Territory
from pin_grid.services.results import score_levels

from .conftest import ADMIN, add_user, import_document, make_app, sign_in
from .test_statement_counts import counted
from .test_web import page, visible

GEST, COORD, MEMBRE = "gestion@cisss.example", "coord@cisss.example", "membre@cisss.example"
I, P, N, X, S = "implante", "partiel", "non_implante", "ne_sais_pas", "sans_objet"
TERRITORIES = {  # code: (name, region)
    "MTL-NORD": ("Montréal-Nord", "Montréal"), "MTL-STMI": ("Saint-Michel", "Montréal"),
    "MTL-VERD": ("Verdun", "Montréal"), "LAV-01": ("Laval-des-Rapides", "Laval"),
    "LAV-02": ("Chomedey", "Laval"), "LAV-03": ("Sainte-Rose", "Laval"), "LAV-04": ("Auteuil", "Laval"),
}
LAVAL_NAMES = [name for code, (name, _region) in TERRITORIES.items() if code.startswith("LAV")]
NORD_ORG, LAVAL_ORG = "Maison de la famille Nord", "Organisme lavallois"
# (code, date, grid version, status, perspective): the assessments imported.
ASSESSMENTS = [
    ("MTL-NORD", "2024-03-12", "2026.1", "finalized", None),
    ("MTL-STMI", "2024-04-02", "2026.1", "finalized", None),
    ("LAV-01", "2024-05-20", "2026.1", "finalized", None),
    ("MTL-NORD", "2024-06-01", "2026.1", "finalized", NORD_ORG),
    ("MTL-NORD", "2025-03-14", "2026.2", "finalized", None),
    ("MTL-NORD", "2025-11-20", "2026.2", "finalized", None),
    ("MTL-STMI", "2025-04-02", "2026.2", "finalized", None),
    ("MTL-VERD", "2025-04-09", "2026.2", "finalized", None),
    ("LAV-01", "2025-05-20", "2026.2", "finalized", None),
    ("LAV-02", "2025-05-21", "2026.1", "finalized", None),
    ("LAV-03", "2025-06-02", "2026.2", "finalized", None),
    ("MTL-NORD", "2025-06-01", "2026.2", "finalized", NORD_ORG),
    ("LAV-01", "2025-06-03", "2026.2", "finalized", LAVAL_ORG),
    ("MTL-NORD", "2026-02-01", "2026.2", "draft", None),
    ("LAV-04", "2025-09-01", "2026.2", "draft", None),
]
PRESENT = {("MTL-NORD", "2025-11-20"): [NORD_ORG], ("MTL-STMI", "2025-04-02"): [NORD_ORG],
           ("LAV-01", "2025-05-20"): [LAVAL_ORG]}
OVERDUE, UPCOMING = "2020-01-01", "2099-06-30"
FIGURE = re.compile(r'<script type="application/json" id="([a-z-]+)-figure">(.*?)</script>', re.S)


def drawn_levels(grid, code: str, date: str) -> dict[str, str]:
    """The levels of one assessment: drawn, the same on every run."""
    rng = random.Random(f"{code} {date}")
    choices = [I, I, P, P, N, X] + ([S] if S in grid.level else [])
    return {item_id: rng.choice(choices) for item_id in grid.items}


def record(grids, code, date, version, status, perspective):
    grid = grids[version]
    name, region = TERRITORIES[code]
    answers = {item_id: {"level": level, "comment": "", "priority": False, "action": "", "action_owner": "",
                         "action_due": None, "target": None}
               for item_id, level in drawn_levels(grid, code, date).items()}
    if (code, date) == ("MTL-NORD", "2025-11-20"):
        answers["ECO-1"].update(priority=True, target=I, action="Former l'équipe", action_owner="Coordination",
                                action_due=OVERDUE)
        answers["PAR-1"].update(action="Comité de parents", action_due=UPCOMING)
        answers["STR-1"].update(target=P)
    return {"territory": {"code": code, "name": name, "region": region}, "date": date,
            "perspective": {"organization": perspective} if perspective else None, "status": status,
            "grid_version": version, "participants": [{"name": None, "role": "intervenante", "sector": "cisss"}],
            "organizations": [{"name": o, "sector": "communautaire"} for o in PRESENT.get((code, date), [])],
            "answers": answers}


def expected(grids, code, date, version):
    return score_levels(drawn_levels(grids[version], code, date), grids[version])


def members(year: int, perspective=None):
    """The latest finalised assessment of each territory (and organisation) in `year`."""
    latest = {}
    for code, date, version, status, seen_by in sorted(ASSESSMENTS, key=lambda a: a[1]):
        if status == "finalized" and seen_by == perspective and date.startswith(str(year)):
            latest[code] = (code, date, version)
    return list(latest.values())


def cohort(grids, year):
    results = {code: expected(grids, code, date, version) for code, date, version in members(year)}
    sheets = [{t.theme.id: t.score.score for t in r.components} for r in results.values()]
    statistics = scoring.cohort_statistics(sheets)
    return results, statistics, scoring.reference_for(statistics.size, grids.current.comparison.min_cohort,
                                                      grids.current.comparison.absolute_bands)


def figures(response) -> dict[str, dict]:
    assert response.status_code == 200, response.status_code
    return {key: json.loads(text) for key, text in FIGURE.findall(response.get_data(as_text=True))}


def rounded(values):
    return [None if v is None else round(v, 2) for v in values]


@pytest.fixture(scope="module")
def world(sqlite_template, tmp_path_factory, grids):
    """The world, made once (hashing passwords takes time); these tests only read it."""
    path = tmp_path_factory.mktemp("dashboard") / "world.sqlite"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    add_user(app, ADMIN, "admin")
    import_document(app, path.parent / "world.json", [record(grids, *a) for a in ASSESSMENTS])
    add_user(app, GEST, "gestionnaire", regions=["Montréal"])
    add_user(app, COORD, "coordonnateur", territories=["MTL-NORD"])
    add_user(app, MEMBRE, "membre", territories=["MTL-NORD"])
    with app.app_context():
        ids = dict(db.session.execute(select(Territory.code, Territory.id)).all())
        organisations = dict(db.session.execute(select(Organization.name, Organization.id)).all())
        db.session.remove()
    cookies = {email: sign_in(app.test_client(), email).get_cookie("session").value
               for email in (ADMIN, GEST, COORD, MEMBRE)}

    def browser(email=None, language=None):
        client = app.test_client()
        if email:
            client.set_cookie("session", cookies[email])
        if language:
            client.set_cookie("lang", language)
        return client

    yield app, browser, ids, organisations
    with app.app_context():
        db.engine.dispose()


# --- a territory ------------------------------------------------------------------------------

def test_the_territory_dashboard_draws_its_finalised_collective_assessments(world, grids):
    _app, browser, _ids, _orgs = world
    response = browser(MEMBRE).get("/territoires/MTL-NORD/tableau-de-bord")
    shown = figures(response)
    assert list(shown) == ["scores-by-year", "levels-latest", "ensemble-by-year", "standing", "actions"]
    history = [("2024-03-12", "2026.1"), ("2025-03-14", "2026.2"), ("2025-11-20", "2026.2")]  # no draft, no partner
    results = [expected(grids, "MTL-NORD", date, version) for date, version in history]

    lines = shown["scores-by-year"]["data"]
    assert [trace["x"] for trace in lines] == [["2024", "2025-03-14", "2025-11-20"]] * 6  # a date when a year has two
    for trace, theme in zip(lines, grids.current.themes):
        assert trace["y"] == rounded([next(t.score.score for t in r.themes if t.theme.id == theme.id) for r in results])
        assert trace["line"]["dash"] == ("dash" if theme.kind == "structures" else "solid")

    # The latest assessment's counts per level, in its version's levels (2026.2 has « Sans objet »).
    bars = shown["levels-latest"]["data"]
    assert [trace["name"] for trace in bars] == [lv.label.fr for lv in grids.current.levels]
    for trace, level in zip(bars, grids.current.levels):
        assert trace["x"] == [t.score.counts[level.code] for t in results[-1].themes]
        assert trace.get("xaxis", "x") == ("x" if level.is_scored else "x2")

    # The ensemble each year, with its symbol and profile letter: 2024 against the bands, 2025 the cohort.
    (ensemble,) = shown["ensemble-by-year"]["data"]
    assert ensemble["y"] == rounded([r.ensemble for r in results])
    _results, statistics, reference = cohort(grids, 2025)
    assert reference.kind == "cohort" and statistics.size == 6
    standing = scoring.standing({t.theme.id: t.score.score for t in results[-1].components}, statistics, reference)
    assert ensemble["text"][-1] == f"{standing.ensemble_symbol} · {standing.profile.letter}"
    text = page(response)
    assert "cohorte 2025, 6 territoires" in text
    assert "seuils absolus (++ ≥ 90, + ≥ 75, - < 40, -- < 15), la cohorte 2024 ne comptant que 3 territoires" \
        in text
    text = visible(text)

    # Against the 2025 cohort: the territory's scores and symbols, the cohort's means and spread.
    mine, means = shown["standing"]["data"]
    assert mine["x"] == rounded([t.score.score for t in results[-1].components] + [results[-1].ensemble])
    assert mine["text"] == [*(standing.symbols[t.theme.id] or "" for t in results[-1].components),
                            standing.ensemble_symbol]
    assert means["x"] == rounded([statistics.components[t.id].mean for t in grids.current.components]
                                 + [statistics.ensemble.mean])
    deviations = [statistics.components[t.id].deviation for t in grids.current.components]
    assert means["error_x"]["array"] == rounded(deviations + [statistics.ensemble.deviation])

    # The action plan: one action overdue and one to come, two targets set by the team.
    plan = {trace["name"]: trace["x"] for trace in shown["actions"]["data"]}
    assert plan["En retard"] == [1, 0, 0, 0, 0, 0] and plan["À venir"] == [0, 1, 0, 0, 0, 0]
    assert plan["Cibles fixées par l'équipe"] == [1, 0, 0, 0, 0, 1]
    assert "2 pistes d'action, dont 1 en retard, 1 à venir et 0 sans échéance" in text
    assert re.search(r"ECO-1 .*? Former l'équipe Coordination 2020-01-01 En retard", text)


def test_each_chart_has_a_title_a_summary_and_its_table(world):
    _app, browser, _ids, _orgs = world
    for url in ("/territoires/MTL-NORD/tableau-de-bord", "/tableau-de-bord"):
        text = page(browser(ADMIN).get(url))
        keys = [key for key, _figure in FIGURE.findall(text)]
        assert len(keys) >= 4
        for key in keys:
            block = re.search(rf'<section class="chart-block" aria-labelledby="{key}-title">(.*?)</section>', text,
                              re.S)
            assert block, key
            part = block.group(1)
            assert re.search(rf'<h2 id="{key}-title">[^<]+</h2>', part)
            assert re.search(rf'<p class="chart-summary" id="{key}-summary">[^<]{{20,}}</p>', part)
            assert re.search(r'<details class="chart-data">\s*<summary>Les données du graphique, en tableau</summary>',
                             part)
            assert part.count("<tr>") >= 2, key  # headers and at least one row


def test_an_assessment_rated_on_an_earlier_grid_shows_that_grid_s_levels(world, grids):
    _app, browser, _ids, _orgs = world
    bars = figures(browser(ADMIN).get("/territoires/LAV-02/tableau-de-bord"))["levels-latest"]["data"]
    old = grids["2026.1"]
    assert [trace["name"] for trace in bars] == [lv.label.fr for lv in old.levels]  # no « Sans objet »
    results = expected(grids, "LAV-02", "2025-05-21", "2026.1")
    assert [trace["x"] for trace in bars] == [[t.score.counts[lv.code] for t in results.themes] for lv in old.levels]


def test_a_territory_without_a_finalised_assessment_says_so_and_loads_no_chart(world):
    _app, browser, _ids, _orgs = world
    response = browser(ADMIN).get("/territoires/LAV-04/tableau-de-bord")
    assert response.status_code == 200
    assert "Aucune évaluation collective finalisée pour ce territoire" in page(response)
    assert "plotly" not in page(response) and not FIGURE.findall(page(response))


@pytest.mark.parametrize("email, statuses", [
    (ADMIN, {"MTL-NORD": 200, "LAV-01": 200, "NULLE-PART": 404}),
    (GEST, {"MTL-NORD": 200, "LAV-01": 404, "NULLE-PART": 404}),
    (COORD, {"MTL-NORD": 200, "LAV-01": 404, "NULLE-PART": 404}),
    (MEMBRE, {"MTL-NORD": 200, "LAV-01": 404, "NULLE-PART": 404}),
])
def test_a_territory_dashboard_is_for_whoever_may_read_the_territory(world, email, statuses):
    _app, browser, _ids, _orgs = world
    client = browser(email)
    for code, status in statuses.items():
        response = client.get(f"/territoires/{code}/tableau-de-bord")
        assert response.status_code == status, (email, code)
        if status == 404:
            assert not [name for name in LAVAL_NAMES if name in page(response)]
    assert browser().get("/territoires/MTL-NORD/tableau-de-bord").status_code == 302  # signed out: sign in first


def test_the_territory_and_results_pages_link_to_the_dashboard(world):
    app, browser, _ids, _orgs = world
    client = browser(MEMBRE)
    assert 'href="/territoires/MTL-NORD/tableau-de-bord"' in page(client.get("/territoires/MTL-NORD"))
    results = re.search(r'href="(/evaluations/\d+/resultats)"', page(client.get("/territoires/MTL-NORD"))).group(1)
    assert 'href="/territoires/MTL-NORD/tableau-de-bord"' in page(client.get(results))


def test_the_dashboards_link_to_their_pdf_with_the_same_view(world):
    """The territory's dashboard to the profile of its latest assessment; the regional one to the
    report of the view on screen, filters included, and that report opens."""
    _app, browser, _ids, organisations = world
    territory = page(browser(MEMBRE).get("/territoires/MTL-NORD/tableau-de-bord"))
    latest = re.search(r'href="/evaluations/(\d+)/resultats"', territory).group(1)
    assert f'href="/evaluations/{latest}/profil.pdf"' in territory
    organisation = organisations[NORD_ORG]
    client = browser(ADMIN)
    regional = page(client.get(f"/tableau-de-bord?annee=2025&region=Montr%C3%A9al&organisation={organisation}"))
    link = re.search(r'href="(/tableau-de-bord/rapport\.pdf\?[^"]+)"', regional).group(1).replace("&amp;", "&")
    assert {"annee=2025", "region=Montr%C3%A9al", "perspective=collective", f"organisation={organisation}"} \
        <= set(link.split("?")[1].split("&"))
    response = client.get(link)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


# --- the region -------------------------------------------------------------------------------

@pytest.mark.parametrize("email, status", [(ADMIN, 200), (GEST, 200), (COORD, 403), (MEMBRE, 403)])
def test_the_regional_dashboard_is_for_administrators_and_gestionnaires(world, email, status):
    _app, browser, _ids, _orgs = world
    client = browser(email)
    assert client.get("/tableau-de-bord").status_code == status
    assert client.get("/tableau-de-bord?annee=2025&perspective=partner").status_code == status
    assert ('href="/tableau-de-bord"' in page(client.get("/"))) == (status == 200)  # in the menu of those who may


def heat_rows(response) -> list[str]:
    (trace,) = figures(response)["heatmap"]["data"]
    return [html.unescape(label) for label in trace["y"]]


def test_the_heat_map_names_what_one_may_see_and_labels_the_rest_as_the_comparison_does(world, grids):
    app, browser, ids, _orgs = world
    client = browser(GEST)
    response = client.get("/tableau-de-bord?annee=2025")
    rows = heat_rows(response)
    secret = app.config["SECRET_KEY"]
    laval = {f"Territoire {access.anonymous_label(ids[code], secret)}" for code in ("LAV-01", "LAV-02", "LAV-03")}
    assert set(rows) == {"Montréal-Nord", "Saint-Michel", "Verdun"} | laval
    assert not [name for name in LAVAL_NAMES if name in page(response)]
    comparison = visible(page(client.get("/comparaison/?annee=2025")))
    assert all(label in comparison for label in laval)  # the same labels as in the comparison
    # Highest ensemble first (the default), or by territory as in the comparison.
    results, _statistics, _reference = cohort(grids, 2025)
    (trace,) = figures(response)["heatmap"]["data"]
    ensembles = [row[-1] for row in trace["z"]]
    assert ensembles == sorted(ensembles, key=lambda e: (e is None, -(e or 0)))
    assert sorted(e for e in ensembles if e is not None) == sorted(round(r.ensemble, 2) for r in results.values()
                                                                   if r.ensemble is not None)
    by_name = heat_rows(client.get("/tableau-de-bord?annee=2025&tri=territoire"))
    assert by_name[:3] == ["Montréal-Nord", "Saint-Michel", "Verdun"] and set(by_name[3:]) == laval


def test_the_administrator_sees_every_name_and_the_scores_of_each_theme(world, grids):
    _app, browser, _ids, _orgs = world
    response = browser(ADMIN).get("/tableau-de-bord?annee=2025&tri=territoire")
    (trace,) = figures(response)["heatmap"]["data"]
    names = {name: code for code, (name, _region) in TERRITORIES.items()}
    results, _statistics, _reference = cohort(grids, 2025)
    assert set(trace["y"]) == {TERRITORIES[code][0] for code in results}
    for label, row in zip(trace["y"], trace["z"]):
        r = results[names[label]]
        assert row == rounded([*(t.score.score for t in r.themes), r.ensemble])


def test_profiles_hard_statements_and_movement_are_those_of_the_group(world, grids):
    _app, browser, _ids, _orgs = world
    shown = figures(browser(ADMIN).get("/tableau-de-bord?annee=2025"))
    results, statistics, reference = cohort(grids, 2025)
    before, statistics_2024, reference_2024 = cohort(grids, 2024)

    def profiles(sheets, stats, ref):
        found = Counter()
        for r in sheets.values():
            p = scoring.standing({t.theme.id: t.score.score for t in r.components}, stats, ref).profile
            found[(p.letter, p.subprofile) if p else None] += 1
        return found

    keys = [(letter, slug) for letter, profile in grids.current.profiles.items() for slug in profile.subprofiles]
    now, then = profiles(results, statistics, reference), profiles(before, statistics_2024, reference_2024)
    previous_year, this_year = shown["profiles"]["data"]
    assert previous_year["name"] == "2024" and this_year["name"] == "2025"
    assert this_year["x"][:6] == [now[k] for k in keys] and previous_year["x"][:6] == [then[k] for k in keys]

    # « Non implanté » and « On ne sait pas », counted per statement of each grid version.
    tallies = Counter()
    for code, date, version in members(2025):
        for item_id, level in drawn_levels(grids[version], code, date).items():
            if level in (N, X):
                tallies[(item_id, version, level)] += 1
    statements = {(i, v) for i, v, _level in tallies}
    top = sorted(statements, key=lambda s: (-(tallies[(*s, N)] + tallies[(*s, X)]), -tallies[(*s, N)], s[1], s[0]))[:10]
    non, unknown = shown["hard-statements"]["data"]
    # Two versions this year: each statement says its own.
    assert [label.split(" · ")[0] for label in non["y"]] == [f"{i} ({v})" for i, v in top]
    assert non["x"] == [tallies[(i, v, N)] for i, v in top] and unknown["x"] == [tallies[(i, v, X)] for i, v in top]

    # Since 2024: the three territories rated both years, theme by theme.
    moved = Counter()
    for code, r in before.items():
        old, new = ({t.theme.id: t.score.score for t in x.themes} for x in (r, results[code]))
        for n, theme in enumerate(grids.current.themes):
            a, b = old[theme.id], new[theme.id]
            state = "none" if a is None or b is None else "up" if round(b, 1) > round(a, 1) else \
                "down" if round(b, 1) < round(a, 1) else "same"
            moved[(state, n)] += 1
    movement = {trace["name"]: trace["x"] for trace in shown["movement"]["data"]}
    for state, name in (("up", "En hausse"), ("same", "Stable"), ("down", "En baisse")):
        assert movement[name][:6] == [moved[(state, n)] for n in range(6)], name
    assert sum(movement["En hausse"][:1] + movement["Stable"][:1] + movement["En baisse"][:1]
               + movement.get("Sans score à comparer", [0])[:1]) == 3


def test_filters_region_organisation_and_partners_points_of_view(world, grids):
    app, browser, ids, organisations = world
    client = browser(GEST)
    assert heat_rows(client.get("/tableau-de-bord?annee=2025&region=Montréal&tri=territoire")) == [
        "Montréal-Nord", "Saint-Michel", "Verdun"]
    # The organisations one may filter by: those met in one's own territories.
    text = page(client.get("/tableau-de-bord?annee=2025"))
    assert f'<option value="{organisations[NORD_ORG]}">{NORD_ORG}</option>' in text and LAVAL_ORG not in text
    with_org = client.get(f"/tableau-de-bord?annee=2025&organisation={organisations[NORD_ORG]}&tri=territoire")
    assert heat_rows(with_org) == ["Montréal-Nord", "Saint-Michel"]
    assert f"Organisme : {NORD_ORG} — les territoires dont l'évaluation l'a compté" in visible(page(with_org))

    # Partners' points of view: the group and the reference of its symbols said in words.
    partners = client.get("/tableau-de-bord?annee=2025&perspective=partner&tri=territoire")
    lav = access.anonymous_label(ids["LAV-01"], app.config["SECRET_KEY"])
    assert heat_rows(partners) == [f"Montréal-Nord — {NORD_ORG}", f"Territoire {lav}, point de vue d'un partenaire"]
    said = visible(page(partners))
    assert "Groupe : les points de vue de partenaires finalisés en 2025" in said and "(2 points de vue)" in said
    assert "mesurés par rapport à la cohorte collective de l'année" in said
    assert "Référence des symboles : la cohorte 2025, 6 territoires" in said
    assert LAVAL_ORG not in said and "Laval-des-Rapides" not in said
    (trace,) = figures(partners)["heatmap"]["data"]
    mine = expected(grids, "MTL-NORD", "2025-06-01", "2026.2")
    assert trace["z"][0] == rounded([*(t.score.score for t in mine.themes), mine.ensemble])
    movement = figures(partners)["movement"]["data"]
    assert sum(trace["x"][0] for trace in movement) == 1  # only Montréal-Nord's partner was there in 2024


def test_filters_that_name_nothing_there_is_are_named_and_not_applied(world):
    app, browser, _ids, organisations = world
    bad = (f"/tableau-de-bord?annee=abc&region=Nulle-part&perspective=tous&organisation={organisations[LAVAL_ORG]}"
           "&tri=hasard")
    response = browser(GEST).get(bad)
    assert response.status_code == 200
    said = visible(page(response))
    for notice in ("Année « abc » : aucune évaluation finalisée de ce point de vue cette année-là ; "
                   "la page montre 2025.",
                   "Point de vue « tous » inconnu : la page montre la vue collective des territoires.",
                   "Région « Nulle-part » : aucun territoire évalué en 2025 ; "
                   "le filtre de région n'est pas appliqué.",
                   "le filtre d'organisme n'est pas appliqué",
                   "Tri « hasard » inconnu : la carte de chaleur est triée par ensemble."):
        assert notice in said, notice
    assert len(heat_rows(response)) == 6  # the whole cohort of 2025, as without filters
    unknown_year = visible(page(browser(ADMIN).get("/tableau-de-bord?annee=1850")))
    assert "Année « 1850 » : aucune évaluation finalisée" in unknown_year
    english = visible(page(browser(GEST, "en").get(bad)))
    assert "Unknown order “hasard”: the heat map is sorted by overall score." in english
    assert "Region “Nulle-part”: no territory assessed in 2025" in english


def test_the_dashboards_speak_english(world):
    _app, browser, _ids, _orgs = world
    client = browser(ADMIN, "en")
    territory = client.get("/territoires/MTL-NORD/tableau-de-bord")
    text = page(territory)
    assert '<html lang="en">' in text and 'data-locale="en"' in text
    assert "Score of the six themes, assessment after assessment" in text and "Territory dashboard" not in text
    summary = re.search(r'id="scores-by-year-summary">([^<]+)<', text).group(1)
    assert summary.startswith("Score from 2024 to 2025-11-20: ") and re.search(r"\d+\.\d → \d+\.\d", summary)
    assert "Heat map: the score of each theme, territory by territory" in page(client.get("/tableau-de-bord"))


# --- scale -----------------------------------------------------------------------------------

# The statements of each dashboard request, as the app makes them today (SQLite, each BEGIN
# counted). A change here is a change of how the dashboards read: say why in the commit.
EXPECTED = {
    # BEGIN; session and account; the territory; its finalised collective assessments with their
    # answers; the state of each of its years' cohorts (their scores are kept): two years here.
    "territory": 6,
    # BEGIN; session and account; the years; this year's cohort and its state; the organisations
    # to filter by; the previous year's cohort and its state; the statements rated « non
    # implanté » or « on ne sait pas », counted by the database.
    "region": 9,
    # … and the assessments at which the organisation was present.
    "region, organisation": 10,
    # BEGIN; session and account; the years; for each year: the collective cohort's state, the
    # partners' points of view, their answers; the organisations; the statements' counts.
    "region, partners": 11,
}


@pytest.fixture(scope="module", params=[22, 200], ids=lambda n: f"{n} territories")
def province(request, sqlite_template, tmp_path_factory, grids):
    """The demo's territories over two years, with two partners' points of view."""
    path = tmp_path_factory.mktemp("province") / "province.sqlite"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    add_user(app, ADMIN, "admin")
    add_user(app, GEST, "gestionnaire", regions=["Montréal"])
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["demo", "--territories", str(request.param), "--years", "2"])
        assert result.exit_code == 0, result.output
        territory = db.session.execute(select(Territory.code, Territory.name, Territory.region)
                                       .order_by(Territory.id)).first()
        db.session.remove()
    year = dt.date.today().year
    partners = []
    for date in (f"{year - 1}-12-01", f"{year}-01-01"):
        one = record(grids, "MTL-NORD", date, grids.current.version, "finalized", NORD_ORG)
        one["territory"] = {"code": territory.code, "name": territory.name, "region": territory.region}
        partners.append(one)
    import_document(app, path.parent / "partners.json", partners)
    with app.app_context():
        organisation = db.session.scalar(select(Organization.id).order_by(Organization.id))
        db.session.remove()
    clients = {email: sign_in(app.test_client(), email) for email in (ADMIN, GEST)}
    yield app, clients, territory.code, organisation, request.param
    with app.app_context():
        db.engine.dispose()


def _statements(app, client, url) -> int:
    assert client.get(url).status_code == 200  # once before, uncounted: the cohorts' scores are then kept
    with counted(app) as seen:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(seen["statements"])


def test_each_dashboard_request_makes_a_fixed_number_of_statements(province):
    app, clients, code, organisation, _size = province
    admin = clients[ADMIN]
    counts = {
        "territory": _statements(app, admin, f"/territoires/{code}/tableau-de-bord"),
        "region": _statements(app, admin, "/tableau-de-bord"),
        "region, organisation": _statements(app, admin, f"/tableau-de-bord?organisation={organisation}"),
        "region, partners": _statements(app, admin, "/tableau-de-bord?perspective=partner"),
    }
    assert counts == EXPECTED
    applied = admin.get(f"/tableau-de-bord?organisation={organisation}").get_data(as_text=True)
    assert f'<option value="{organisation}" selected>' in applied  # the filter was applied, not ignored
    # A gestionnaire's regions are read once per request, not once per territory.
    assert _statements(app, clients[GEST], "/tableau-de-bord") == EXPECTED["region"] + 1


def test_the_regional_figures_stay_small(province):
    """Under 1 MB at 1,000 territories: here, in proportion, at the demo's size."""
    _app, clients, _code, _organisation, size = province
    text = clients[ADMIN].get("/tableau-de-bord").get_data(as_text=True)
    found = FIGURE.findall(text)
    assert {key for key, _figure in found} == {"heatmap", "profiles", "hard-statements", "movement"}
    total = sum(len(figure.encode()) for _key, figure in found)
    assert total < 1_000_000 * size / 1000, total
