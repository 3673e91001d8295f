"""`make bench`: how long the main pages and actions take, how many SQL statements they send, how
many requests a second two gunicorn workers serve, and how much memory those workers hold.

What it does
  For each size (22, 1,000 and 5,000 territories × 4 years by default) it fills a throwaway SQLite
  database with `flask demo`, signs an administrator in with the Flask test client and measures,
  in interleaved rounds (A B C A B C …, after one warm-up round), each operation:
    floor            a trivial template rendered by a bench-only route added to the same app, through
                     the same signed-in client: what any signed-in request costs here, now;
    home             `/`;
    comparison page  `/comparaison/?annee=Y` (Y: the latest year);
    compare --json   `flask compare --year Y --json`, through `app.test_cli_runner()` (its rows counted);
    results page     `/evaluations/<id>/resultats` of a finalised assessment with earlier years;
  and at the smallest size, on a draft with its 24 statements answered:
    grid form GET    `/evaluations/<id>/grille`;
    save one statement  the page's JSON save `POST /evaluations/<id>/enonces/<item>`: each save sends
                     as base the `base` the previous one returned and alternates the level, so every
                     save is a 200 that writes (checked);
    save whole page (one change)  `POST /evaluations/<id>/grille` with every statement and its base
                     as read from the page just before, one level changed: the 302 is checked and the
                     change read back from the page (those two GETs are not timed).
  Then it starts gunicorn (2 sync workers, PIN_ENV=production) on the smallest database and drives
  it from a load generator in this script (threads, 127.0.0.1 only, bounded in requests and in
  seconds), signed in through the server: first the generator's own ceiling on a static file, then
  the grid GET, then chains of statement saves (each based on the base the previous save
  returned). The RSS of each worker is read from /proc after a warm-up and again after those
  runs. The server is stopped in every case.

How to read it
  median ms   median wall time over the rounds ("runs" says how many: a size whose pages are slow
              stops after its time budget, once 3 rounds are done);
  × floor     median / the floor's median at the same size in the same run: ratios travel between
              machines and busy moments better than milliseconds;
  CPU ms      median CPU time of this process for the request: close to "median ms" on a quiet
              machine; well below it when other work shares the CPUs;
  SQL         median number of statements the request sent to the database (cursor executions, an
              executemany counting once; BEGIN, COMMIT and ROLLBACK not counted);
  tx          median number of transactions committed during the request;
  growth exponent  slope of log(time) against log(territories): 1 is linear; "pair" is between
              1,000 and 5,000 (the goal is checked only there; without both sizes, between the two
              largest), "overall" a least-squares fit over every size;
  gunicorn    req/s and errors of each load; "median ms" is the latency a client saw (queueing
              included: 4 connections for 2 workers); "CPU ms" the workers' CPU time per request,
              from /proc. If the grid's req/s is near the static file's, the generator was the limit;
  goal, met?  the goals of the performance issue, kept below in GOALS as data; "—" where a goal is
              not for that size. Nothing here asserts a time: the bench reports.
  Everything is also written as JSON (bench.json by default); `--compare OLD.json` shows a
  previous run's medians beside this run's.

Options: --sizes 22,1000,5000  --repeat N (rounds at most)  --budget SECONDS (per size)  --quick
(sizes 22,200, fewer rounds and requests)  --json PATH  --compare PATH  --no-server (no gunicorn).
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import io
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import render_template  # noqa: E402
from jinja2 import ChoiceLoader, DictLoader  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, func, select  # noqa: E402

from pin_grid import accounts, create_app, services  # noqa: E402
from pin_grid.context import current_grid, grid_catalog  # noqa: E402
from pin_grid.extensions import bind_migrations, db  # noqa: E402
from pin_grid.models import FINALIZED, Assessment, Territory  # noqa: E402

EMAIL = "bench@cisss.example"
PASSWORD = "Trois pommes vertes au marché!"
YEARS = 4
LEVELS = ("implante", "partiel")

# The goals of the performance issue. `size` None: wherever the operation is measured.
# measure: ms (median), floor (× floor), sql, transactions, exponent (1,000 → 5,000),
# req_per_s, errors, rss_mb, rss_growth_mb.
GOALS = [
    {"operation": "grid form GET", "size": None, "measure": "ms", "at_most": 5},
    {"operation": "grid form GET", "size": None, "measure": "floor", "at_most": 4},
    {"operation": "save one statement", "size": None, "measure": "ms", "at_most": 5},
    {"operation": "save one statement", "size": None, "measure": "sql", "at_most": 6},
    {"operation": "save one statement", "size": None, "measure": "transactions", "at_most": 1},
    {"operation": "save whole page (one change)", "size": None, "measure": "ms", "at_most": 10},
    {"operation": "compare --json", "size": 1000, "measure": "ms", "at_most": 150},
    {"operation": "compare --json", "size": 5000, "measure": "ms", "at_most": 750},
    {"operation": "compare --json", "size": None, "measure": "exponent", "at_most": 1.1},
    {"operation": "comparison page", "size": 1000, "measure": "ms", "at_most": 150},
    {"operation": "comparison page", "size": 5000, "measure": "ms", "at_most": 750},
    {"operation": "comparison page", "size": None, "measure": "exponent", "at_most": 1.1},
    {"operation": "results page", "size": 1000, "measure": "ms", "at_most": 20},
    {"operation": "home", "size": 1000, "measure": "ms", "at_most": 30},
    # Issue 11 §7: the dashboards and the XLSX of a year's answers (24,000 rows at 1,000 territories).
    {"operation": "regional dashboard", "size": 1000, "measure": "ms", "at_most": 300},
    {"operation": "regional dashboard", "size": 1000, "measure": "figure_kb", "at_most": 1024},
    {"operation": "territory dashboard", "size": 1000, "measure": "ms", "at_most": 50},
    {"operation": "answers XLSX of a year", "size": 1000, "measure": "ms", "at_most": 5000},
    {"operation": "gunicorn grid GET", "size": None, "measure": "req_per_s", "at_least": 300},
    {"operation": "gunicorn grid GET", "size": None, "measure": "errors", "at_most": 0},
    {"operation": "gunicorn worker", "size": None, "measure": "rss_mb", "at_most": 150},
    # "Flat": after a warm-up, 2,000 GETs and 2,000 saves add at most this much to a worker.
    {"operation": "gunicorn worker", "size": None, "measure": "rss_growth_mb", "at_most": 10},
]
UNITS = {"figure_kb": " KB of figures", "ms": " ms", "floor": "× floor", "sql": " SQL", "transactions": " tx", "exponent": " exponent",
         "req_per_s": " req/s", "errors": " errors", "rss_mb": " MB", "rss_growth_mb": " MB growth"}
EXPONENT_SIZES = (1000, 5000)
# The dashboards' figures travel as JSON data blocks in the page (templates/_charts.html).
FIGURES = re.compile(r'<script type="application/json"[^>]*>(.*?)</script>', re.S)
GRID_OPERATIONS = ("grid form GET", "save one statement", "save whole page (one change)")


def goals_for(operation: str, size: int | None) -> list[dict]:
    return [g for g in GOALS if g["operation"] == operation and g["size"] in (None, size)
            and g["measure"] != "exponent"]


def check(goals: list[dict], values: dict) -> tuple[str, str, list[dict]]:
    """The goals as text, whether they are met ("yes", "NO: …", "—"), and each verdict."""
    verdicts = []
    for goal in goals:
        value = values.get(goal["measure"])
        met = None if value is None else (
            value <= goal["at_most"] if "at_most" in goal else value >= goal["at_least"])
        verdicts.append({**goal, "value": value, "met": met})
    text = ", ".join(f"≤ {g['at_most']}{UNITS[g['measure']]}" if "at_most" in g
                     else f"≥ {g['at_least']}{UNITS[g['measure']]}" for g in goals)
    if not verdicts or all(v["met"] is None for v in verdicts):
        return text, "—", verdicts
    failed = [v for v in verdicts if v["met"] is False]
    return text, ("NO: " + ", ".join(v["measure"] for v in failed)) if failed else "yes", verdicts


# --- In-process measurements ----------------------------------------------------------------

class Meter:
    """Times one part of an operation (the request itself, not the reads around it) and counts
    the statements and commits sent to the engine meanwhile."""

    def __init__(self):
        self.statements = self.commits = 0  # of the last timed part
        self.counting = False
        self.elapsed = self.cpu = 0.0  # seconds
        self.figure_kb = None  # the dashboards: KB of figure JSON in the page

    def attach(self, engine) -> None:
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.counting and not statement.lstrip()[:8].upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            self.statements += 1

    def _commit(self, conn) -> None:
        if self.counting:
            self.commits += 1

    @contextmanager
    def timing(self):
        self.statements = self.commits = 0
        self.figure_kb = None
        self.counting = True
        start, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.elapsed = time.perf_counter() - start
            self.cpu = time.process_time() - cpu
            self.counting = False


@dataclass
class Operation:
    name: str
    run: Callable[[Meter], None]  # one run; times its request with `meter.timing()`; raises on a wrong answer
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    sql: list[int] = field(default_factory=list)
    transactions: list[int] = field(default_factory=list)
    figure_kb: list[float] = field(default_factory=list)
    error: str | None = None


class FormInputs(HTMLParser):
    """The values a browser would send from a page's inputs (radios: the checked one)."""

    def __init__(self, html: str):
        super().__init__()
        self.values: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag != "input":
            return
        a = dict(attrs)
        name, kind = a.get("name"), (a.get("type") or "text").lower()
        if not name or kind in ("submit", "button", "checkbox"):
            return
        if kind != "radio" or "checked" in a:
            self.values[name] = a.get("value") or ""


def other_level(level: str | None) -> str:
    return LEVELS[1] if level == LEVELS[0] else LEVELS[0]


@dataclass
class Size:
    territories: int
    url: str
    fill_seconds: float
    year: int
    finalized_id: int
    territory_code: str = ""
    draft_id: int | None = None
    draft_error: str | None = None


def migrated(tmp: Path) -> Path:
    """An empty database at the schema's head, made once (Alembic's log kept out of the report)."""
    path = tmp / "migrated.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "PIN_ENV": "development", "SECRET_KEY": "bench"})
    bind_migrations(app)
    with app.app_context(), redirect_stderr(io.StringIO()):
        upgrade()
        db.engine.dispose()
    return path


def build(tmp: Path, template: Path, territories: int, with_draft: bool) -> Size:
    """A migrated SQLite database filled by `flask demo`, with an administrator (and a draft
    with 24 answers, for the grid)."""
    path = tmp / f"bench-{territories}.sqlite"
    shutil.copy(template, path)
    url = f"sqlite:///{path}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PIN_ENV": "development", "SECRET_KEY": "bench"})
    with app.app_context():
        start = time.perf_counter()
        result = app.test_cli_runner().invoke(args=["demo", "--territories", str(territories), "--years", str(YEARS)])
        fill = time.perf_counter() - start
        assert result.exit_code == 0, result.output
        accounts.create_user(EMAIL, PASSWORD, "admin")
        year = db.session.scalar(select(func.max(Assessment.date)).where(Assessment.status == FINALIZED)).year
        # A finalised collective assessment of the latest year, with earlier years (a follow-up).
        finalized_id = db.session.scalar(
            select(Assessment.id).where(Assessment.status == FINALIZED, Assessment.perspective_id.is_(None),
                                        Assessment.date >= dt.date(year, 1, 1)).order_by(Assessment.id))
        code = db.session.scalar(select(Territory.code).join(Assessment, Assessment.territory_id == Territory.id)
                                 .where(Assessment.id == finalized_id))
        size = Size(territories, url, fill, year, finalized_id, code)
        if with_draft:
            try:
                size.draft_id = draft_with_answers(year)
            except Exception as exc:  # noqa: BLE001 — the grid rows report it; the rest still runs
                size.draft_error = f"setting up the draft: {type(exc).__name__}: {exc}"[:300]
        db.session.remove()
        db.engine.dispose()
    return size


def draft_with_answers(year: int) -> int:
    """A draft of the first territory with its 24 statements answered (levels only)."""
    grid = current_grid()
    territory_id = db.session.scalar(select(Territory.id).order_by(Territory.id))
    # July 1st: after every demo meeting of the year (they are from February to June).
    draft = services.start_assessment(services.AssessmentDetails(territory_id, dt.date(year, 7, 1), None),
                                     grid_catalog())
    services.save_answers(draft.id, {item_id: services.AnswerData(level=LEVELS[i % 2])
                                     for i, item_id in enumerate(grid.items)})
    return draft.id


def bench_app(url: str):
    """The app on `url`, with a bench-only route: a trivial template, signed in like any page."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PIN_ENV": "development", "SECRET_KEY": "bench"})
    # Loaded and compiled once, like the app's own templates (render_template_string compiled it
    # at every request, which made the floor a third higher than what a page really starts from).
    app.jinja_env.loader = ChoiceLoader([DictLoader({"bench-floor.html": "<!doctype html><title>floor</title><p>{{ n }}</p>"}),
                                         app.jinja_env.loader])

    def floor():
        return render_template("bench-floor.html", n=1)

    app.add_url_rule("/bench-floor", "bench_floor", floor)
    return app


def signed_in_client(app):
    client = app.test_client()
    token = FormInputs(client.get("/connexion").get_data(as_text=True)).values["csrf_token"]
    response = client.post("/connexion", data={"csrf_token": token, "email": EMAIL, "password": PASSWORD})
    assert response.status_code == 302, f"sign-in: {response.status_code}"
    return client


def operations(app, client, size: Size, with_grid: bool) -> list[Operation]:
    def get(path):
        def run(meter: Meter):
            with meter.timing():
                response = client.get(path)
            if response.status_code != 200:
                raise AssertionError(f"GET {path}: {response.status_code}")
        return run

    def cli_compare(meter: Meter):
        with app.app_context():
            with meter.timing():
                result = app.test_cli_runner().invoke(args=["compare", "--year", str(size.year), "--json"])
            db.session.remove()
        if result.exit_code != 0:
            raise AssertionError(f"compare: exit {result.exit_code} {result.output[-300:]}")
        rows = len(json.loads(result.output)["rows"])
        if rows != size.territories:
            raise AssertionError(f"compare --json: {rows} rows, not {size.territories}")

    def dashboard(path):
        def run(meter: Meter):
            with meter.timing():
                response = client.get(path)
            if response.status_code != 200:
                raise AssertionError(f"GET {path}: {response.status_code}")
            figures = FIGURES.findall(response.get_data(as_text=True))
            if not figures:
                raise AssertionError(f"GET {path}: no figure")
            meter.figure_kb = sum(len(f.encode()) for f in figures) / 1024
        return run

    def answers_xlsx(meter: Meter):
        path = f"/exports/reponses?annee={size.year}&format=xlsx"
        with meter.timing():
            response = client.get(path)
            body = response.get_data()  # streamed: the time includes writing it all
        if response.status_code != 200 or not body.startswith(b"PK"):
            raise AssertionError(f"GET {path}: {response.status_code}")

    ops = [
        Operation("floor", get("/bench-floor")),
        Operation("home", get("/")),
        Operation("comparison page", get(f"/comparaison/?annee={size.year}")),
        Operation("compare --json", cli_compare),
        Operation("results page", get(f"/evaluations/{size.finalized_id}/resultats")),
        Operation("regional dashboard", dashboard(f"/tableau-de-bord?annee={size.year}")),
        Operation("territory dashboard", dashboard(f"/territoires/{size.territory_code}/tableau-de-bord")),
    ]
    if size.territories <= 1000:  # 24 rows per territory: at 5,000, 120,000 rows a round
        ops.append(Operation("answers XLSX of a year", answers_xlsx))
    if with_grid:
        try:
            if not size.draft_id:
                raise RuntimeError(size.draft_error)
            ops += grid_operations(app, client, size.draft_id)
        except Exception as exc:  # noqa: BLE001 — reported in the grid's rows
            ops += [Operation(name, lambda meter: None, error=str(exc)[:300]) for name in GRID_OPERATIONS]
    return ops


def grid_operations(app, client, draft_id: int) -> list[Operation]:
    grid_path = f"/evaluations/{draft_id}/grille"
    with app.app_context():
        items = list(current_grid().items)
    one, changed = items[0], items[1]  # the statement saved alone; the one whole-page saves change

    def page() -> dict[str, str]:
        response = client.get(grid_path)
        assert response.status_code == 200, f"GET {grid_path}: {response.status_code}"
        return FormInputs(response.get_data(as_text=True)).values

    def grid_get(meter: Meter):
        with meter.timing():
            response = client.get(grid_path)
        if response.status_code != 200 or f'name="{one}-base"' not in response.get_data(as_text=True):
            raise AssertionError(f"GET {grid_path}: {response.status_code}")

    start = page()
    state = {"base": start[f"{one}-base"], "level": start.get(f"{one}-level"), "csrf": start["csrf_token"]}

    def save_statement(meter: Meter):
        level = other_level(state["level"])
        with meter.timing():
            response = client.post(f"/evaluations/{draft_id}/enonces/{one}", data={
                "csrf_token": state["csrf"], f"{one}-level": level, f"{one}-base": state["base"]})
        body = response.get_json(silent=True) or {}
        if response.status_code != 200 or body.get("saved") is not True or not body.get("base"):
            raise AssertionError(f"save {one}: {response.status_code} {str(body)[:200]}")
        state["base"], state["level"] = body["base"], level

    def save_page(meter: Meter):
        # The page as a browser has it (read, not timed): every statement with its base; one change.
        values = page()
        level = other_level(values.get(f"{changed}-level"))
        data = {name: value for name, value in values.items() if name.endswith(("-level", "-base"))}
        data.update({"csrf_token": values["csrf_token"], "intent": "save", f"{changed}-level": level})
        with meter.timing():
            response = client.post(grid_path, data=data)
        if response.status_code != 302 or not (response.location or "").split("#")[0].endswith(grid_path):
            raise AssertionError(f"save page: {response.status_code} {response.location}")
        # The write happened: the page now shows the new level (read, not timed).
        now = page().get(f"{changed}-level")
        if now != level:
            raise AssertionError(f"save page: {changed} is {now}, not {level}")

    return [Operation(name, run) for name, run in zip(GRID_OPERATIONS, (grid_get, save_statement, save_page))]


def measure(app, ops: list[Operation], rounds: int, budget: float, min_rounds: int = 3) -> int:
    """Interleaved rounds of every operation, after a warm-up round; returns the rounds measured
    (fewer than `rounds` once `budget` seconds have passed and `min_rounds` are done)."""
    meter = Meter()
    with app.app_context():
        meter.attach(db.engine)
    started = time.perf_counter()
    measured = 0
    for round_ in range(rounds + 1):
        for op in ops:
            if op.error:
                continue
            try:
                op.run(meter)
            except Exception as exc:  # noqa: BLE001 — a broken page is reported; the others still run
                op.error = f"{type(exc).__name__}: {exc}"[:300]
                continue
            if round_ > 0:
                op.times.append(meter.elapsed * 1000)
                op.cpu.append(meter.cpu * 1000)
                op.sql.append(meter.statements)
                op.transactions.append(meter.commits)
                if meter.figure_kb is not None:
                    op.figure_kb.append(meter.figure_kb)
                    meter.figure_kb = None
        measured = round_
        if measured >= min_rounds and time.perf_counter() - started > budget:
            break
    return measured


def summarize(ops: list[Operation], territories: int) -> list[dict]:
    floor = next((op for op in ops if op.name == "floor" and op.times), None)
    floor_ms = statistics.median(floor.times) if floor else None
    rows = []
    for op in ops:
        row = {"operation": op.name, "size": territories, "runs": len(op.times), "error": op.error}
        if op.times:
            median = statistics.median(op.times)
            row.update(median_ms=round(median, 3), min_ms=round(min(op.times), 3), max_ms=round(max(op.times), 3),
                       cpu_ms=round(statistics.median(op.cpu), 3),
                       floor=round(median / floor_ms, 2) if floor_ms else None,
                       sql=whole(statistics.median(op.sql)), transactions=whole(statistics.median(op.transactions)))
        if op.figure_kb:
            row["figure_kb"] = round(max(op.figure_kb), 1)
        goals = goals_for(op.name, territories)
        values = {"ms": row.get("median_ms"), "floor": row.get("floor"), "sql": row.get("sql"),
                  "transactions": row.get("transactions"), "figure_kb": row.get("figure_kb")}
        row["goal"], row["met"], row["verdicts"] = check(goals, values)
        if op.error:
            row["met"] = "ERROR"
        rows.append(row)
    return rows


def exponents(rows: list[dict]) -> list[dict]:
    """Growth of each operation measured at several sizes: slope of log(ms) against log(territories),
    between 1,000 and 5,000 (else the two largest sizes) and over every size."""
    found = []
    for name in dict.fromkeys(r["operation"] for r in rows if r["operation"] != "floor"):
        times = {r["size"]: r["median_ms"] for r in rows if r["operation"] == name and r.get("median_ms")}
        if len(times) < 2:
            continue
        # The goal is about 1,000 → 5,000: between smaller sizes the fixed cost of a request hides the growth.
        n1, n2 = EXPONENT_SIZES if set(EXPONENT_SIZES) <= set(times) else sorted(times)[-2:]
        pair = math.log(times[n2] / times[n1]) / math.log(n2 / n1)
        sizes = sorted(times)
        overall = statistics.linear_regression([math.log(n) for n in sizes], [math.log(times[n]) for n in sizes]).slope
        goals = [g for g in GOALS if g["operation"] == name and g["measure"] == "exponent"]
        goal, met, verdicts = check(goals, {"exponent": pair if (n1, n2) == EXPONENT_SIZES else None})
        found.append({"operation": name, "pair": [n1, n2], "exponent": round(pair, 3), "overall": round(overall, 3),
                      "goal": goal, "met": met, "verdicts": verdicts})
    return found


# --- gunicorn -----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """A browser's side of plain HTTP to 127.0.0.1: a cookie jar (Secure cookies sent anyway: the
    bench stands in for the TLS proxy of a real deployment)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {"Cookie": self.cookie_header}
            body = None
            if form is not None:
                body = urllib.parse.urlencode(form)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.msg.get_all("Set-Cookie") or []:
                jar = SimpleCookie()
                jar.load(header)
                self.cookies.update({name: morsel.value for name, morsel in jar.items()})
            return response.status, dict(response.getheaders()), text
        finally:
            conn.close()


@dataclass
class Load:
    name: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    first_error: str | None = None
    latencies: list[float] = field(default_factory=list)  # ms, as the client saw each request
    server_cpu_ms: float | None = None  # CPU the workers used, per request

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def drive(port: int, name: str, steps: list[Callable[[http.client.HTTPConnection], str | None]], total: int,
          seconds: float) -> Load:
    """Run the steps (one per connection, each in its own thread) until `total` requests are sent
    or `seconds` have passed. A step sends one request and returns None, or what was wrong."""
    load, lock = Load(name), threading.Lock()
    deadline = time.monotonic() + seconds

    def client(step):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            while time.monotonic() < deadline:
                with lock:
                    if load.requests >= total:
                        return
                    load.requests += 1
                start = time.perf_counter()
                try:
                    problem = step(conn)
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()  # the next request opens a new connection
                    problem = repr(exc)
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    load.latencies.append(elapsed)
                    if problem:
                        load.errors += 1
                        load.first_error = load.first_error or problem[:300]
        finally:
            conn.close()

    start = time.perf_counter()
    with ThreadPoolExecutor(len(steps)) as pool:
        list(pool.map(client, steps))
    load.seconds = time.perf_counter() - start
    return load


def get_step(path: str, cookie: str) -> Callable:
    def step(conn):
        conn.request("GET", path, headers={"Cookie": cookie})
        response = conn.getresponse()
        response.read()  # a persistent connection, when the server keeps it, is ready again
        return None if response.status == 200 else f"GET {path}: {response.status}"
    return step


def save_step(draft_id: int, item: str, page: dict[str, str], cookie: str) -> Callable:
    """One chain of saves of a statement, each based on the base the previous save returned."""
    state = {"base": page[f"{item}-base"], "level": page.get(f"{item}-level")}
    path = f"/evaluations/{draft_id}/enonces/{item}"

    def step(conn):
        level = other_level(state["level"])
        body = urllib.parse.urlencode({"csrf_token": page["csrf_token"], f"{item}-level": level,
                                       f"{item}-base": state["base"]})
        conn.request("POST", path, body=body, headers={
            "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
        response = conn.getresponse()
        raw = response.read()
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            answer = {"body": raw[:200].decode("utf-8", "replace")}
        if response.status == 200 and answer.get("saved") is True:
            state["base"], state["level"] = answer["base"], level
            return None
        state["base"] = answer.get("base", state["base"])  # a conflict says what is stored now
        return f"save {item}: {response.status} {str(answer)[:200]}"
    return step


def worker_pids(master: int) -> list[int]:
    try:
        return sorted(int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split())
    except OSError:
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                pids.append(int(stat.parent.name))
        return sorted(pids)


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have used so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@contextmanager
def serving(url: str, log_path: Path, workers: int = 2, timeout: int | None = None):
    """gunicorn (`workers` sync workers, PIN_ENV=production) serving the database at `url` on a
    free port of 127.0.0.1: (port, master pid) once every worker answers. Stopped whatever
    happens; its output goes to `log_path`."""
    port = free_port()
    executable = ROOT / ".venv" / "bin" / "gunicorn"
    if not executable.exists():
        executable = Path(sys.executable).parent / "gunicorn"
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32), "PIN_ENV": "production"}
    env.pop("FLASK_DEBUG", None)
    env.pop("SQLALCHEMY_DATABASE_URI", None)
    command = [str(executable), "--workers", str(workers), "--bind", f"127.0.0.1:{port}"]
    command += ["--timeout", str(timeout)] if timeout else []
    with open(log_path, "w") as log:
        server = subprocess.Popen([*command, "app:create_app()"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        browser = Browser(port)
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"gunicorn stopped (exit {server.returncode}): {log_path.read_text()[-1000:]}")
            try:
                if browser.request("GET", "/static/app.css")[0] == 200 and len(worker_pids(server.pid)) == workers:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer in 30 s: {log_path.read_text()[-1000:]}")
            time.sleep(0.2)
        yield port, server.pid
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def gunicorn_bench(size: Size, quick: bool, tmp: Path) -> dict:
    """gunicorn, 2 workers, on `size`'s database: the load generator's ceiling, the grid GET,
    statement saves, and the workers' memory. The server is stopped whatever happens."""
    if not size.draft_id:
        raise RuntimeError(f"no draft to measure: {size.draft_error}")
    log_path = tmp / "gunicorn.log"
    requests = 300 if quick else 2000
    connections = 4
    result: dict = {"workers": 2, "connections": connections, "size": size.territories, "loads": [], "rss": []}
    with serving(size.url, log_path) as (port, master):
        browser = Browser(port)
        # Signed in through the server, as a browser is.
        status, _, page = browser.request("GET", "/connexion")
        token = FormInputs(page).values["csrf_token"]
        status, headers, _ = browser.request("POST", "/connexion", {"csrf_token": token, "email": EMAIL,
                                                                   "password": PASSWORD})
        if status != 302:
            raise RuntimeError(f"sign-in through gunicorn: {status}")
        grid_path = f"/evaluations/{size.draft_id}/grille"
        status, _, page = browser.request("GET", grid_path)
        if status != 200:
            raise RuntimeError(f"GET {grid_path} through gunicorn: {status}")
        values, cookie = FormInputs(page).values, browser.cookie_header
        items = [name[:-len("-base")] for name in values if name.endswith("-base")]
        chains = items[2:2 + connections]  # not the two statements the in-process bench saved

        workers = worker_pids(master)

        def timed_drive(*args) -> Load:
            cpu = cpu_seconds(workers)
            load = drive(port, *args)
            load.server_cpu_ms = (cpu_seconds(workers) - cpu) * 1000 / max(load.requests, 1)
            return load

        print(f"  gunicorn on 127.0.0.1:{port}: generator ceiling …", flush=True)
        ceiling = timed_drive("static file (generator ceiling)", [get_step("/static/app.css", cookie)] * connections,
                              10**9, 2 if quick else 5)
        drive(port, "warm-up", [get_step(grid_path, cookie)] * connections, 100, 20)
        drive(port, "warm-up", [save_step(size.draft_id, item, values, cookie) for item in chains], 40, 20)
        before = {pid: rss_mb(pid) for pid in workers}
        print(f"  gunicorn: {requests} grid GETs …", flush=True)
        grid = timed_drive("grid GET", [get_step(grid_path, cookie)] * connections, requests, 90)
        print(f"  gunicorn: {requests} statement saves …", flush=True)
        values = FormInputs(browser.request("GET", grid_path)[2]).values  # the bases as stored now
        saves = timed_drive("statement saves", [save_step(size.draft_id, item, values, cookie) for item in chains],
                            requests, 120)
        after = {pid: rss_mb(pid) for pid in workers}
        result["restarted_workers"] = sorted(set(worker_pids(master)) ^ set(workers))
        for load in (ceiling, grid, saves):
            goals = goals_for(f"gunicorn {load.name}", None)
            goal, met, verdicts = check(goals, {"req_per_s": load.per_second, "errors": load.errors})
            result["loads"].append({"operation": load.name, "requests": load.requests, "errors": load.errors,
                                    "seconds": round(load.seconds, 2), "req_per_s": round(load.per_second, 1),
                                    "median_ms": round(statistics.median(load.latencies), 2) if load.latencies
                                    else None,
                                    "worker_cpu_ms": round(load.server_cpu_ms, 2),
                                    "first_error": load.first_error, "goal": goal, "met": met, "verdicts": verdicts})
        for pid in workers:
            b, a = before[pid], after[pid]
            growth = None if a is None or b is None else a - b
            goal, met, verdicts = check(goals_for("gunicorn worker", None),
                                        {"rss_mb": None if a is None else max(a, b or 0), "rss_growth_mb": growth})
            result["rss"].append({"pid": pid, "before_mb": b and round(b, 1), "after_mb": a and round(a, 1),
                                  "growth_mb": None if growth is None else round(growth, 1),
                                  "goal": goal, "met": met, "verdicts": verdicts})
    return result


# --- Report ---------------------------------------------------------------------------------------

def number(value, digits: int = 2) -> str:
    if value is None:
        return "—"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def whole(value: float) -> float | int:
    """A median of counts: a whole number unless it falls between two counts."""
    return int(value) if float(value).is_integer() else value


def report(document: dict, previous: dict | None) -> None:
    meta = document["meta"]
    print()
    print(f"Grille PIN bench — {meta['when']}, {meta['cpus']} CPUs, Python {meta['python']}, "
          f"commit {meta['commit'][:10]}")
    print("flask demo (bulk, SQLite): " + ", ".join(f"{n:,} territories × {YEARS} years in {s:.1f} s"
                                                  for n, s in document["fill_seconds"].items()))
    was = {(r["operation"], r["size"]): r.get("median_ms") for r in (previous or {}).get("rows", [])}
    header = (f"{'operation':30} {'size':>6} {'median ms':>10} {'× floor':>8} {'CPU ms':>7} {'SQL':>5} {'tx':>4}"
              f" {'runs':>5}")
    header += f" {'was ms':>8}" if previous else ""
    print()
    print(header + f"  {'goal':34} met?")
    for r in document["rows"]:
        line = (f"{r['operation']:30} {r['size'] or '':>6} {number(r.get('median_ms')):>10} {number(r.get('floor')):>8}"
                f" {number(r.get('cpu_ms')):>7} {number(r.get('sql'), 1):>5} {number(r.get('transactions'), 1):>4}"
                f" {r['runs']:>5}")
        line += f" {number(was.get((r['operation'], r['size']))):>8}" if previous else ""
        figures = f"  (figures: {r['figure_kb']} KB)" if r.get("figure_kb") is not None else ""
        print(line + f"  {r['goal']:34} {r['met']}{figures}")
        if r.get("error"):
            print(f"{'':8}error: {r['error']}")
    if document["exponents"]:
        print()
        print(f"{'growth exponent (log ms / log territories)':44} {'pair':>16} {'overall':>8}  {'goal':16} met?")
        for e in document["exponents"]:
            pair = f"{e['pair'][0]}→{e['pair'][1]}: {e['exponent']:.2f}"
            print(f"{e['operation']:44} {pair:>16} {e['overall']:>8.2f}  {e['goal']:16} {e['met']}")
    if document.get("reports"):
        print()
        print(f"{'PDF reports':30} {'size':>6} {'median ms':>10} {'× 1 page':>8} {'CPU ms':>7} {'runs':>5}"
              f"  {'goal':34} met?")
        for r in document["reports"]:
            more = ", ".join(f"{k} {r[k]}" for k in ("rss_mb", "rss_growth_mb", "cache_entries") if r.get(k) is not None)
            print(f"{r['operation']:30} {r['size'] or '':>6} {number(r.get('median_ms')):>10} {number(r.get('floor')):>8}"
                  f" {number(r.get('cpu_ms')):>7} {r['runs']:>5}  {r['goal']:34} {r['met']}" + (f"  ({more})" if more else ""))
            if r.get("error"):
                print(f"{'':8}error: {r['error']}")
    server = document.get("gunicorn")
    if server:
        print()
        print(f"gunicorn, {server['workers']} sync workers, {server.get('size')} territories, "
              f"{server.get('connections')} client connections (threads of this script, 127.0.0.1)")
        if server.get("error"):
            print(f"  error: {server['error']}")
        print(f"{'load':34} {'requests':>8} {'errors':>7} {'seconds':>8} {'req/s':>8} {'median ms':>10}"
              f" {'CPU ms':>7}  {'goal':26} met?")
        for load in server.get("loads", []):
            print(f"{load['operation']:34} {load['requests']:>8} {load['errors']:>7} {load['seconds']:>8.1f}"
                  f" {load['req_per_s']:>8.1f} {number(load['median_ms']):>10} {number(load['worker_cpu_ms']):>7}"
                  f"  {load['goal']:26} {load['met']}")
            if load.get("first_error"):
                print(f"{'':8}first error: {load['first_error']}")
        print(f"{'worker RSS (VmRSS)':34} {'before MB':>8} {'after MB':>7} {'growth':>8}  {'goal':37} met?")
        for w in server.get("rss", []):
            print(f"{'pid ' + str(w['pid']):34} {number(w['before_mb'], 1):>8} {number(w['after_mb'], 1):>7}"
                  f" {number(w['growth_mb'], 1):>8}  {w['goal']:37} {w['met']}")
        if server.get("restarted_workers"):
            print(f"  workers changed during the run: {server['restarted_workers']}")
    verdicts = [v for group in (document["rows"], document["exponents"], document.get("reports") or [], *(
        [server.get("loads", []), server.get("rss", [])] if server else []))
        for item in group for v in item.get("verdicts", []) if v["met"] is not None]
    print()
    print(f"goals met: {sum(v['met'] for v in verdicts)} of {len(verdicts)} checked "
          f"(goals for sizes not measured are not checked)")


def report_rows(size: Size, quick: bool, tmp: Path) -> list[dict]:
    """The PDF reports' rows (issue 12 §7), against WeasyPrint rendering a one-page HTML in this
    run (their « × floor » is that ratio, not the page floor's)."""
    import bench_reports

    app = bench_app(size.url)
    try:
        return bench_reports.measure(app, rounds=3 if quick else 7, regional_territories=22 if quick else 100,
                                     regional_rounds=1 if quick else 2, memory_requests=100 if quick else 1000,
                                     memory_assessments=4 if quick else 12, tmp=tmp)
    except Exception as exc:  # noqa: BLE001 — reported with the rest
        return [{"operation": "PDF reports", "size": None, "runs": 0, "error": f"{type(exc).__name__}: {exc}"[:300],
                 "goal": "", "met": "ERROR", "verdicts": []}]
    finally:
        with app.app_context():
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", help="territories of each database, comma-separated (default 22,1000,5000)")
    parser.add_argument("--repeat", type=int, help="rounds at most per size (default 20; --quick 10)")
    parser.add_argument("--budget", type=float, help="seconds of rounds per size before stopping early "
                                                     "(at least 3 rounds; default 60; --quick 15)")
    parser.add_argument("--quick", action="store_true", help="sizes 22,200, fewer rounds and requests")
    parser.add_argument("--json", default=str(ROOT / "bench.json"), help="where to write the results (bench.json)")
    parser.add_argument("--compare", help="a previous bench.json: its medians are shown beside these")
    parser.add_argument("--no-server", action="store_true", help="skip the gunicorn part")
    parser.add_argument("--no-reports", action="store_true", help="skip the PDF reports (scripts/bench_reports.py)")
    args = parser.parse_args()
    sizes = sorted({int(n) for n in (args.sizes or ("22,200" if args.quick else "22,1000,5000")).split(",")})
    rounds = args.repeat or (10 if args.quick else 20)
    budget = args.budget or (15 if args.quick else 60)
    previous = json.loads(Path(args.compare).read_text(encoding="utf-8")) if args.compare else None
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    document = {
        "meta": {"when": dt.datetime.now().isoformat(timespec="seconds"), "cpus": os.cpu_count(),
                 "python": platform.python_version(), "platform": platform.platform(), "commit": commit or "?",
                 "sizes": sizes, "years": YEARS, "rounds": rounds, "budget_s": budget, "quick": args.quick},
        "goals": GOALS, "fill_seconds": {}, "rows": [], "exponents": [], "reports": [], "gunicorn": None,
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pin-bench-") as tmp_name:
        tmp = Path(tmp_name)
        smallest, template = None, migrated(tmp)
        for n in sizes:
            print(f"{n:,} territories × {YEARS} years: flask demo …", flush=True)
            size = build(tmp, template, n, with_draft=smallest is None)
            smallest = smallest or size
            document["fill_seconds"][n] = round(size.fill_seconds, 2)
            app = bench_app(size.url)
            client = signed_in_client(app)
            ops = operations(app, client, size, with_grid=size is smallest)
            measured = measure(app, ops, rounds, budget)
            print(f"  filled in {size.fill_seconds:.1f} s; {measured} rounds of {len(ops)} operations", flush=True)
            document["rows"] += summarize(ops, n)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        document["exponents"] = exponents(document["rows"])
        if not args.no_reports:
            print("PDF reports (scripts/bench_reports.py) …", flush=True)
            document["reports"] = report_rows(smallest, args.quick, tmp)
        if not args.no_server:
            try:
                document["gunicorn"] = gunicorn_bench(smallest, args.quick, tmp)
            except Exception as exc:  # noqa: BLE001 — reported with the rest
                document["gunicorn"] = {"error": f"{type(exc).__name__}: {exc}"[:1000]}
    document["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    report(document, previous)
    Path(args.json).write_text(json.dumps(document, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(f"{args.json} written ({document['meta']['seconds']:.0f} s in all).")


if __name__ == "__main__":
    main()
