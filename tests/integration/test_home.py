"""The home page at the scale of the province (issue 9, point 3): the territories in scope a page
at a time, searched by name or code, filtered by region, each with its latest assessment and its
draft in progress; all of a territory's assessments on its own page. A fixed number of SQL
statements per request, however many territories there are (Flask test client, real SQLite).
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event, select

from pin_grid import services
from pin_grid.extensions import db
from pin_grid.models import Assessment, AuditEvent

from .conftest import ADMIN, add_user, import_document, sign_in
from .test_web import page, visible

GEST = "gestion@cisss.example"
COORD = "coord@cisss.example"
PAGE_SIZE = 25
CODE_LINK = re.compile(r'href="/territoires/([A-Z0-9][A-Z0-9-]*)"')


def _record(grid, code, name, region, date, status="finalized", answered=None, perspective=None):
    items = list(grid.items)
    answered = len(items) if answered is None else answered
    return {
        "territory": {"code": code, "name": name, "region": region}, "date": date, "perspective": perspective,
        "status": status, "grid_version": grid.version, "participants": [], "organizations": [],
        "answers": {i: {"level": "implante", "comment": "", "priority": False, "action": "", "action_owner": "",
                        "action_due": None} for i in items[:answered]},
    }


def _seed(web_app, tmp_path, records, name="seed.json"):
    import_document(web_app, tmp_path / name, records)


def _ids(web_app) -> dict[tuple[str, str], int]:
    """Assessment id by (territory code, date)."""
    with web_app.app_context():
        ids = {(a.territory.code, a.date.isoformat()): a.id for a in db.session.scalars(select(Assessment))}
        db.session.remove()
    return ids


def _many(grid, count, region="Montréal", prefix="T", with_draft=False):
    """`count` territories « Territoire 01 »… with a finalised assessment (and a draft)."""
    records = []
    for n in range(1, count + 1):
        code, name = f"{prefix}{n:03d}", f"Territoire {n:02d}"
        records.append(_record(grid, code, name, region, "2024-03-14"))
        if with_draft:
            records.append(_record(grid, code, name, region, "2025-02-01", status="draft", answered=3))
    return records


def _codes(text: str) -> list[str]:
    """The territories listed, in order (each links to its page once)."""
    return CODE_LINK.findall(text)


def _pagination(text: str) -> str:
    found = re.search(r'<nav class="pagination" aria-label="([^"]+)">(.*?)</nav>', text, re.S)
    assert found, "no pagination"
    assert found.group(1) == "Pages de la liste des territoires"
    return found.group(2)


def _query(link: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(link).query)  # `page()` has unescaped the markup already


@pytest.fixture
def browser(web_app):
    def open_as(email):
        return sign_in(web_app.test_client(), email)
    return open_as


# --- paging, search, region ----------------------------------------------------------------------

def test_territories_come_25_to_a_page_with_links_that_keep_the_filters(web_app, client, grid, tmp_path):
    _seed(web_app, tmp_path, _many(grid, 60))
    first = page(client.get("/"))
    assert _codes(first) == [f"T{n:03d}" for n in range(1, 26)]
    assert "60 territoires · page 1 sur 3" in visible(first)
    nav = _pagination(first)
    assert "Page précédente" not in nav
    assert re.search(r'<a href="/" aria-current="page"><span class="visually-hidden">Page </span>1</a>', nav)
    assert re.search(r'<a href="/\?page=2" rel="next">Page suivante</a>', nav)

    second = page(client.get("/?page=2"))
    assert _codes(second) == [f"T{n:03d}" for n in range(26, 51)]
    nav = _pagination(second)
    assert re.search(r'<a href="/" rel="prev">Page précédente</a>', nav)
    assert 'href="/?page=2" aria-current="page"' in nav
    assert re.search(r'<a href="/\?page=3" rel="next">Page suivante</a>', nav)
    assert _codes(page(client.get("/?page=3"))) == [f"T{n:03d}" for n in range(51, 61)]

    # A search keeps its words and its region from page to page.
    _seed(web_app, tmp_path, _many(grid, 30, region="Laval", prefix="L"), name="laval.json")
    searched = page(client.get("/?q=territoire&region=Laval&page=2"))
    assert _codes(searched) == [f"L{n:03d}" for n in range(26, 31)]
    assert "30 territoires correspondent à la recherche · page 2 sur 2" in visible(searched)
    links = re.findall(r'<a href="([^"]+)"[^>]*>', _pagination(searched))
    assert links and all(_query(link).get("q") == ["territoire"] and _query(link).get("region") == ["Laval"]
                         for link in links), links
    assert 'value="territoire"' in searched and '<option value="Laval" selected>' in searched


def test_search_by_name_ignores_case_accents_and_hyphens_and_finds_codes(web_app, client, grid, tmp_path):
    _seed(web_app, tmp_path, [
        _record(grid, "MTL-NORD", "Montréal-Nord", "Montréal", "2024-03-14"),
        _record(grid, "MTL-STMI", "Saint-Michel", "Montréal", "2024-03-14"),
        _record(grid, "LAV-01", "Laval-des-Rapides", "Laval", "2024-03-14"),
        _record(grid, "EST-01", "École-Sainte-Anne", "Estrie", "2024-03-14"),
    ])
    assert _codes(page(client.get("/?q=montreal"))) == ["MTL-NORD"]
    assert _codes(page(client.get("/?q=SAIN"))) == ["EST-01", "MTL-STMI"]
    assert _codes(page(client.get("/?q=saint michel"))) == ["MTL-STMI"]
    assert _codes(page(client.get("/?q=ecole"))) == ["EST-01"]
    assert _codes(page(client.get("/?q=lav-01"))) == ["LAV-01"]
    assert _codes(page(client.get("/?q=mtl"))) == ["MTL-NORD", "MTL-STMI"]
    text = page(client.get("/?q=montreal"))
    assert '<label for="q">Nom ou code du territoire</label>' in text
    assert "1 territoire correspond à la recherche" in visible(text)


def test_the_region_filter_lists_the_regions_in_scope(web_app, client, grid, tmp_path):
    _seed(web_app, tmp_path, [
        _record(grid, "MTL-NORD", "Montréal-Nord", "Montréal", "2024-03-14"),
        _record(grid, "LAV-01", "Laval-des-Rapides", "Laval", "2024-03-14"),
        _record(grid, "EST-01", "Magog", "Estrie", "2024-03-14"),
    ])
    text = page(client.get("/"))
    assert re.findall(r'<option value="([^"]*)"', text) == ["", "Estrie", "Laval", "Montréal"]
    assert '<label for="region">Région</label>' in text
    assert _codes(page(client.get("/?region=Laval"))) == ["LAV-01"]
    assert _codes(page(client.get("/?region=Laval&q=magog"))) == []
    # An unknown region is no filter.
    assert _codes(page(client.get("/?region=Atlantide"))) == ["LAV-01", "EST-01", "MTL-NORD"]


# --- scope ---------------------------------------------------------------------------------------

def test_each_person_sees_only_the_territories_of_their_scope(web_app, grid, tmp_path, browser):
    _seed(web_app, tmp_path, [
        _record(grid, "MTL-NORD", "Montréal-Nord", "Montréal", "2024-03-14"),
        _record(grid, "MTL-STMI", "Saint-Michel", "Montréal", "2024-03-14"),
        _record(grid, "EST-01", "Magog", "Estrie", "2024-03-14"),
        _record(grid, "LAV-01", "Laval-des-Rapides", "Laval", "2024-03-14"),
    ])
    add_user(web_app, GEST, "gestionnaire", regions=["Montréal", "Estrie"])
    add_user(web_app, COORD, "coordonnateur", territories=["MTL-STMI"])
    gestionnaire, coordinator = browser(GEST), browser(COORD)

    text = page(gestionnaire.get("/"))
    assert _codes(text) == ["EST-01", "MTL-NORD", "MTL-STMI"]
    assert re.findall(r'<option value="([^"]*)"', text) == ["", "Estrie", "Montréal"]
    assert "Laval" not in visible(text)
    assert _codes(page(gestionnaire.get("/?q=laval"))) == []
    assert _codes(page(gestionnaire.get("/?region=Laval"))) == ["EST-01", "MTL-NORD", "MTL-STMI"]

    text = page(coordinator.get("/"))
    assert _codes(text) == ["MTL-STMI"]
    assert "Montréal-Nord" not in text and "Laval" not in text and "<select" not in text
    assert coordinator.get("/territoires/MTL-STMI").status_code == 200
    for code in ("MTL-NORD", "LAV-01", "INCONNU", "mtl-stmi"):
        response = coordinator.get(f"/territoires/{code}")
        assert response.status_code == 404, code
        assert "Page introuvable" in page(response)
    assert gestionnaire.get("/territoires/EST-01").status_code == 200
    assert gestionnaire.get("/territoires/LAV-01").status_code == 404
    # A refusal is recorded, as everywhere else.
    with web_app.app_context():
        details = set(db.session.scalars(select(AuditEvent.detail).where(AuditEvent.actor == COORD,
                                                                         AuditEvent.action == "access_denied")))
        db.session.remove()
    assert "GET /territoires/LAV-01 -> 404" in details and "GET /territoires/INCONNU -> 404" in details


def test_an_account_without_territory_and_an_empty_install_are_told_what_to_do(web_app, client, browser):
    add_user(web_app, COORD, "coordonnateur")
    text = visible(page(browser(COORD).get("/")))
    assert "Aucun territoire ne vous est encore attribué" in text
    assert "Nom ou code du territoire" not in text and "Commencer une évaluation" not in text
    text = visible(page(client.get("/")))
    assert "Aucun territoire pour l'instant" in text and "Créer un territoire" in text


# --- what each territory shows ---------------------------------------------------------------------

def test_each_territory_shows_its_latest_assessment_and_its_draft_to_resume(web_app_on_each_database, grid, tmp_path):
    web_app = web_app_on_each_database  # the window functions of the query, on SQLite and on PostgreSQL
    _seed(web_app, tmp_path, [
        _record(grid, "MTL-NORD", "Montréal-Nord", "Montréal", "2023-03-14"),
        _record(grid, "MTL-NORD", "Montréal-Nord", "Montréal", "2024-02-01", status="draft", answered=5),
        _record(grid, "MTL-NORD", "Montréal-Nord", "Montréal", "2024-06-10",
                perspective={"organization": "Maison de la famille"}),
        _record(grid, "MTL-STMI", "Saint-Michel", "Montréal", "2024-05-05", status="draft", answered=2),
        _record(grid, "MTL-EST", "Mercier-Est", "Montréal", "2024-05-05"),
    ])
    add_user(web_app, GEST, "gestionnaire", regions=["Montréal"])
    add_user(web_app, COORD, "coordonnateur", territories=["MTL-NORD", "MTL-STMI", "MTL-EST"])
    ids = _ids(web_app)
    total = len(grid.items)
    coordinator = sign_in(web_app.test_client(), COORD)
    text = page(coordinator.get("/"))
    rows = {code: visible(body) for code, body in re.findall(
        r'<tbody>\s*<tr>\s*<th scope="row"[^>]*>\s*<a href="/territoires/([A-Z-]+)">(.*?)</tbody>', text, re.S)}
    # The latest assessment (a partner's point of view), then the older draft to resume.
    assert rows["MTL-NORD"] == (
        "Montréal-Nord MTL-NORD 3 évaluations Montréal "
        f"2024-06-10 Point de vue : Maison de la famille Finalisée {total} / {total} Résultats "
        f"2024-02-01 Vue collective du territoire Brouillon 5 / {total} Reprendre la grille · Résultats")
    # The older finalised one is not on the home page.
    assert "2023-03-14" not in text and f'/evaluations/{ids["MTL-NORD", "2023-03-14"]}/' not in text
    assert f'href="/evaluations/{ids["MTL-NORD", "2024-02-01"]}/grille">Reprendre la grille' in text
    assert f'href="/evaluations/{ids["MTL-NORD", "2024-06-10"]}/resultats">Résultats' in text
    # A draft that is the latest is shown once.
    assert rows["MTL-STMI"] == ("Saint-Michel MTL-STMI 1 évaluation Montréal 2024-05-05 Vue collective du territoire "
                                f"Brouillon 2 / {total} Reprendre la grille · Résultats")
    assert rows["MTL-EST"] == ("Mercier-Est MTL-EST 1 évaluation Montréal 2024-05-05 Vue collective du territoire "
                               f"Finalisée {total} / {total} Résultats")
    # A gestionnaire reads the drafts but resumes none.
    text = page(sign_in(web_app.test_client(), GEST).get("/"))
    assert "2024-02-01" in text and "Reprendre la grille" not in text and "Commencer une évaluation" not in text


def test_a_territory_without_assessment_offers_to_start_one(web_app, client):
    with web_app.app_context():
        territory = services.create_territory("MTL-NORD", "Montréal-Nord", "Montréal")
        territory_id = territory.id
        db.session.remove()
    text = page(client.get("/"))
    assert "Aucune évaluation." in visible(text)
    assert f'href="/evaluations/nouvelle?territoire={territory_id}">Nouvelle évaluation pour ce territoire' in text
    text = page(client.get("/territoires/MTL-NORD"))
    assert "Aucune évaluation." in visible(text)


def test_the_territory_page_lists_every_assessment(web_app, grid, tmp_path, browser):
    _seed(web_app, tmp_path, [
        _record(grid, "MTL-NORD", "Montréal-Nord", "Montréal", "2022-03-14"),
        _record(grid, "MTL-NORD", "Montréal-Nord", "Montréal", "2023-03-14"),
        _record(grid, "MTL-NORD", "Montréal-Nord", "Montréal", "2024-02-01", status="draft", answered=5),
        _record(grid, "MTL-NORD", "Montréal-Nord", "Montréal", "2024-06-10"),
    ])
    add_user(web_app, GEST, "gestionnaire", regions=["Montréal"])
    add_user(web_app, COORD, "coordonnateur", territories=["MTL-NORD"])
    ids = _ids(web_app)
    coordinator = browser(COORD)
    home = page(coordinator.get("/"))
    assert 'href="/territoires/MTL-NORD">Montréal-Nord</a>' in home
    text = page(coordinator.get("/territoires/MTL-NORD"))
    assert "<h1>Montréal-Nord" in text
    assert re.findall(r"<td>(\d{4}-\d\d-\d\d)</td>", text) == ["2024-06-10", "2024-02-01", "2023-03-14", "2022-03-14"]
    for date in ("2024-06-10", "2024-02-01", "2023-03-14", "2022-03-14"):
        assert f'href="/evaluations/{ids["MTL-NORD", date]}/resultats"' in text
    assert f'href="/evaluations/{ids["MTL-NORD", "2024-02-01"]}/grille">Reprendre la grille' in text
    mtl_id = re.search(r'href="/evaluations/nouvelle\?territoire=(\d+)">Nouvelle évaluation pour ce territoire', text)
    assert mtl_id
    assert 'href="/">Tous les territoires</a>' in text
    text = page(browser(GEST).get("/territoires/MTL-NORD"))
    assert "Nouvelle évaluation pour ce territoire" not in text and "Reprendre la grille" not in text
    assert "2022-03-14" in text


# --- what a person may type in the address --------------------------------------------------------

@pytest.mark.parametrize("query, shown", [
    ("page=abc", 1), ("page=0", 1), ("page=-3", 1), ("page=99999", 2), ("page=" + "9" * 40, 2),
    ("page=2.5", 1), ("region=", 1), ("q=", 1), ("q=%20%20", 1),
])
def test_a_strange_page_number_or_empty_filter_shows_a_page_of_the_list(web_app, client, grid, tmp_path, query, shown):
    _seed(web_app, tmp_path, _many(grid, 30))
    response = client.get(f"/?{query}")
    assert response.status_code == 200
    assert f"page {shown} sur 2" in visible(page(response))
    assert len(_codes(page(response))) == (PAGE_SIZE if shown == 1 else 5)


def test_a_search_of_10_kb_finds_nothing_and_says_so(web_app, client, grid, tmp_path):
    _seed(web_app, tmp_path, _many(grid, 3))
    for q in ("é" * 10_000, "Territoire 01" + "x" * 10_000, "<script>alert(1)</script>", "%"):
        response = client.get("/", query_string={"q": q})
        assert response.status_code == 200, q
        text = page(response)
        assert _codes(text) == []
        assert "Aucun territoire ne correspond à cette recherche." in visible(text)
        assert '<a href="/">Effacer la recherche et voir tous les territoires</a>' in text
        assert "<script>alert" not in response.get_data(as_text=True)
        value = re.search(r'<input type="search" id="q" name="q" value="([^"]*)"', text).group(1)
        assert len(value) <= 200


def test_a_territory_code_of_10_kb_is_not_found(client):
    assert client.get("/territoires/" + "A" * 10_000).status_code == 404


# --- a fixed number of SQL statements ---------------------------------------------------------------

def _statements_of(web_app, client, path) -> list[str]:
    client.get(path)  # once before: what a first request of a session may do is not counted
    seen = []
    with web_app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return seen


def _of_the_page(statements: list[str]) -> list[str]:
    """Leaves out what every page does (the transaction, the session and its account)."""
    return [s for s in statements
            if s.split()[0] not in ("BEGIN", "COMMIT", "ROLLBACK") and "user_session" not in s
            and "user_account" not in s]


# The home page's own statements: the territories in scope, the latest assessments of the page,
# their answered counts; and, for the accounts scoped by regions or territories, those regions or
# territories (each line's rights are checked with them). However many territories there are.
HOME_STATEMENTS = {ADMIN: 3, GEST: 4, COORD: 4}
# Every statement of the request (with the transaction, the session and the account): as of this
# writing, when the session and its account are read in one statement.
REQUEST_STATEMENTS = {ADMIN: 5, GEST: 6, COORD: 6}


@pytest.mark.parametrize("territories", [3, 60])
def test_the_home_page_runs_the_same_few_statements_however_many_territories(web_app, grid, tmp_path, browser,
                                                                              territories):
    _seed(web_app, tmp_path, _many(grid, territories, with_draft=True))
    add_user(web_app, GEST, "gestionnaire", regions=["Montréal"])
    add_user(web_app, COORD, "coordonnateur", territories=[f"T{n:03d}" for n in range(1, territories + 1)])
    for email in HOME_STATEMENTS:
        client = browser(email)
        assert len(_codes(page(client.get("/")))) == min(territories, PAGE_SIZE)
        for path in ("/", "/?q=territoire&page=2"):
            statements = _statements_of(web_app, client, path)
            assert len(_of_the_page(statements)) == HOME_STATEMENTS[email], (email, path, statements)
            assert len(statements) == REQUEST_STATEMENTS[email], (email, path, statements)
