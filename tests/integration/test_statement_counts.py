"""SQL statements per request, counted exactly for the main requests: a fixed number, the same
with 22 territories as with 200, so that a query per row (an N+1) can never come back unnoticed.
Counted on SQLite, where each transaction's BEGIN is a statement too. Timings are never
asserted here: `make bench` measures them."""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from pin_grid import services
from pin_grid.extensions import db

from .conftest import ADMIN, add_user, app_with_admin, sign_in
from .test_web import TOKEN, form_fields

# The statements of each request, as the app makes them today. A change here is a change of
# how the app reads: say why in the commit.
EXPECTED = {
    # BEGIN; session and account; the assessment with its territory and point of view; its
    # answers (plain rows); how many took part (a count).
    "grid page": 5,
    # BEGIN IMMEDIATE; session and account; the assessment with its territory and answers,
    # locked; the answer, the audit event, the assessment's version: one transaction.
    "statement saved": 6,
    # The same, for the whole page (one change), then the redirect.
    "page saved": 6,
    # BEGIN; session and account; the assessment; its answers; the state of its cohort (its
    # scores are kept); the previous assessment and its answers; its versions; participants;
    # organisations.
    "results": 10,
    # BEGIN; session and account; the years; the state of the cohort; its members.
    "comparison": 5,
    # BEGIN; session and account; the territories in scope; the latest assessments of those of
    # the page; their answered counts.
    "home": 5,
    # BEGIN; session and account; every territory (plain rows); the territorial units of the page's.
    "territories administration": 4,
}
TRANSACTIONS = {"statement saved": 1, "page saved": 1}


@contextmanager
def counted(app):
    """The SQL statements and commits made meanwhile."""
    seen = {"statements": [], "commits": 0}
    with app.app_context():
        engine = db.engine

    def statement(conn, cursor, text, *args):
        seen["statements"].append(" ".join(text.split())[:100])

    def commit(conn):
        seen["commits"] += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)


@pytest.fixture(params=[22, 200], ids=lambda n: f"{n} territories")
def province(request, sqlite_url):
    """The demo's territories over two years, an administrator signed in, and a draft of 24 answers."""
    for app in app_with_admin(sqlite_url):
        with app.app_context():
            result = app.test_cli_runner().invoke(args=["demo", "--territories", str(request.param), "--years", "2"])
            assert result.exit_code == 0, result.output
            grids = app.extensions["pin_grid"]
            grid = grids.current
            year = services.comparison_years()[0]
            finalized = services.compare_year(year, grids).rows[0].assessment.id
            territory = services.all_territories()[0]
            territory_code = territory.code
            draft = services.start_assessment(services.AssessmentDetails(territory.id, dt.date(year, 12, 30), None), grids)
            services.save_answers(draft.id, {i: services.AnswerData(level="partiel", comment="Vu en équipe")
                                             for i in grid.items})
            draft_id = draft.id
            db.session.remove()
        client = sign_in(app.test_client(), ADMIN)
        yield app, client, {"draft": draft_id, "finalized": finalized, "year": year, "territory": territory_code}


def _count(app, request):
    """Statements of `request()`, run once before uncounted: the counted run reads the way every
    later one will (the session was just touched, the cohort's scores are kept)."""
    request(warming=True)
    with counted(app) as seen:
        request(warming=False)
    return seen


def test_each_main_request_makes_a_fixed_number_of_statements(province):
    app, client, ids = province
    draft = ids["draft"]
    grid_url = f"/evaluations/{draft}/grille"
    page = client.get(grid_url).get_data(as_text=True)
    state = {"base": form_fields(page)["ECO-1-base"], "level": "implante", "token": TOKEN.search(page).group(1)}

    def get(url):
        def run(warming):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        return run

    def save_statement(warming):
        state["level"] = "non_implante" if state["level"] == "implante" else "implante"
        response = client.post(f"/evaluations/{draft}/enonces/ECO-1", data={
            "csrf_token": state["token"], "ECO-1-level": state["level"], "ECO-1-base": state["base"]},
            headers={"Accept": "application/json"})
        assert response.status_code == 200 and response.get_json()["saved"], response.get_data(as_text=True)
        state["base"] = response.get_json()["base"]

    def save_page(warming):
        page = client.get(grid_url).get_data(as_text=True)  # not counted when warming only
        fields = {name: value for name, value in form_fields(page).items() if name.endswith("-base")}
        data = {"csrf_token": state["token"], "intent": "save", **fields}
        for item_id in app.extensions["pin_grid"].current.items:
            data[f"{item_id}-level"] = "partiel"
            data[f"{item_id}-comment"] = "Vu en équipe"
        state["level"] = "non_implante" if state["level"] == "implante" else "implante"
        data["ECO-2-level"] = state["level"]
        with counted(app) as seen:
            response = client.post(grid_url, data=data)
        assert response.status_code == 302, response.get_data(as_text=True)
        state["page"] = seen

    requests = {
        "grid page": get(grid_url),
        "statement saved": save_statement,
        "results": get(f"/evaluations/{ids['finalized']}/resultats"),
        "comparison": get(f"/comparaison/?annee={ids['year']}"),
        "home": get("/"),
        "territories administration": get("/admin/territoires?page=2"),
    }
    counts = {}
    for name, request in requests.items():
        seen = _count(app, request)
        counts[name] = len(seen["statements"])
        if name in TRANSACTIONS:
            assert seen["commits"] == TRANSACTIONS[name], (name, seen)
    save_page(warming=True)
    save_page(warming=False)
    counts["page saved"] = len(state["page"]["statements"])
    assert state["page"]["commits"] == TRANSACTIONS["page saved"], state["page"]
    assert counts == EXPECTED


def test_a_coordonnateur_reads_their_territories_once(province):
    """Whose territories an account covers is read once per request, not once per check."""
    app, _, ids = province
    add_user(app, "coord@cisss.example", "coordonnateur", territories=[ids["territory"]])
    client = sign_in(app.test_client(), "coord@cisss.example")
    grid_url = f"/evaluations/{ids['draft']}/grille"

    def get(warming):
        assert client.get(grid_url).status_code == 200

    assert len(_count(app, get)["statements"]) == EXPECTED["grid page"] + 1
