"""The PDF reports in `make bench` (issue 12 §7): `measure(app, …)` returns rows in bench.py's
shape; `python scripts/bench_reports.py` runs it alone on a throwaway demo database (`--quick`:
fewer rounds, 22 territories for the regional report, 100 requests to gunicorn).

What it measures, in interleaved rounds after a warm-up, through a signed-in test client:
  PDF one page          WeasyPrint rendering a one-page HTML in the report's font and stylesheet
                        (`reports.render.one_page_pdf`): the yardstick; « × floor » of the other
                        rows is their median divided by this one's, in the same run;
  profile PDF (cached)  `GET /evaluations/<id>/profil.pdf` of a finalised assessment, as people get
                        it: after the first request it comes from the cache of finalised profiles;
  profile PDF (made)    the same, the cache emptied before each request: the whole making of it
                        (data, charts, WeasyPrint);
  regional PDF          `GET /tableau-de-bord/rapport.pdf?annee=Y` on a database of its own with
                        `regional_territories` territories (100 by default): the comparison, the
                        distribution, the heat map and one page per territory.
Then the memory of the server that serves them: gunicorn, 2 sync workers, PIN_ENV=production, on
the same database (scripts/bench.py's helpers: free port, browser, load generator, /proc), signed
in through the server:
  gunicorn profile PDFs `memory_requests` profile requests over two connections, spread over
                        `memory_assessments` finalised assessments on Letter and on A4 (each
                        document made once per worker, then served from its cache): the latency
                        a client saw, the errors;
  gunicorn worker RSS   each worker's VmRSS after a warm-up (a profile made and served in each
                        worker: WeasyPrint, matplotlib and the fonts loaded), after half of those
                        requests and after all: the largest, the growth over all of them (the
                        goal) and over the second half, once every document has been made.
Nothing here asserts a time: the rows carry the goals and whether they are met.
"""
from __future__ import annotations

import datetime as dt
import io
import itertools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import redirect_stderr
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

import bench  # noqa: E402  (its gunicorn helpers: free_port, Browser, FormInputs, drive, worker_pids, rss_mb)
from pin_grid import accounts, create_app, reports  # noqa: E402
from pin_grid.extensions import bind_migrations, db  # noqa: E402
from pin_grid.models import FINALIZED, Assessment  # noqa: E402
from pin_grid.reports import render  # noqa: E402

EMAIL = "bench-reports@cisss.example"
PASSWORD = "Trois pommes vertes au marché!"
WORKERS = 2
# The goals of issue 12 §7: milliseconds and MB (as bench.py's GOALS, for these rows).
GOALS = {
    "profile PDF (cached)": [("ms", "at_most", 500)],
    "profile PDF (made)": [("ms", "at_most", 500)],
    "regional PDF": [("ms", "at_most", 20_000)],
    "gunicorn profile PDFs": [("errors", "at_most", 0)],
    "gunicorn worker RSS": [("rss_mb", "at_most", 150), ("rss_growth_mb", "at_most", 10)],
}


def _app(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "PIN_ENV": "development", "SECRET_KEY": "bench"})


def _signed_in(app):
    """A test client signed in as an administrator of the bench (created when missing)."""
    with app.app_context():
        if not any(u.email == EMAIL for u in accounts.all_users()):
            accounts.create_user(EMAIL, PASSWORD, "admin")
        db.session.remove()
    client = app.test_client()
    page = client.get("/connexion").get_data(as_text=True)
    token = bench.FormInputs(page).values["csrf_token"]
    response = client.post("/connexion", data={"csrf_token": token, "email": EMAIL, "password": PASSWORD})
    assert response.status_code == 302, f"sign-in: {response.status_code}"
    return client


def _demo_database(tmp: Path, territories: int) -> str:
    path = tmp / f"reports-{territories}-{len(list(tmp.glob('reports-*.sqlite')))}.sqlite"
    url = f"sqlite:///{path}"
    app = _app(url)
    bind_migrations(app)
    with app.app_context(), redirect_stderr(io.StringIO()):
        upgrade()
        result = app.test_cli_runner().invoke(args=["demo", "--territories", str(territories), "--years", "2"])
        assert result.exit_code == 0, result.output
        db.session.remove()
        db.engine.dispose()
    return url


def _finalised(app, count: int) -> tuple[list[int], int]:
    """Finalised collective assessments of the latest year (those with history first), and the year."""
    with app.app_context():
        year = db.session.scalar(select(func.max(Assessment.date)).where(Assessment.status == FINALIZED)).year
        ids = list(db.session.scalars(
            select(Assessment.id).where(Assessment.status == FINALIZED, Assessment.perspective_id.is_(None),
                                        Assessment.date >= dt.date(year, 1, 1)).order_by(Assessment.id).limit(count)))
        db.session.remove()
    return ids, year


def _timed(run) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def _row(name: str, size: int | None, times: list[float], cpu: list[float], floor_ms: float | None,
         error: str | None = None, **values) -> dict:
    row = {"operation": name, "size": size, "runs": len(times), "error": error, "sql": None, "transactions": None}
    if times:
        median = statistics.median(times)
        row.update(median_ms=round(median, 3), min_ms=round(min(times), 3), max_ms=round(max(times), 3),
                   cpu_ms=round(statistics.median(cpu), 3) if cpu else None,
                   floor=round(median / floor_ms, 2) if floor_ms else None)
    row.update(values)
    verdicts, met = [], []
    for measure, sense, limit in GOALS.get(name, ()):
        value = row.get("median_ms") if measure == "ms" else row.get(measure)
        ok = value is not None and (value <= limit if sense == "at_most" else value >= limit)
        verdicts.append({"operation": name, "measure": measure, sense: limit, "value": value, "met": ok})
        met.append("yes" if ok else f"NO: {measure}")
    row["goal"] = ", ".join(f"{'≤' if sense == 'at_most' else '≥'} {limit:g} {measure}"
                            for measure, sense, limit in GOALS.get(name, ()))
    row["met"] = "ERROR" if error else ("yes" if met and all(m == "yes" for m in met) else "; ".join(
        m for m in met if m != "yes") or "—")
    row["verdicts"] = verdicts
    return row


def measure(app, *, rounds: int = 7, regional_territories: int = 100, regional_rounds: int = 2,
            memory_requests: int = 1000, memory_assessments: int = 12, tmp: Path | None = None) -> list[dict]:
    """The report rows of the bench. `app`: an app on a database filled by `flask demo` (the bench's
    smallest is fine); the regional report gets a database of its own with `regional_territories`
    territories, made in `tmp` (a temporary folder by default), and gunicorn serves `app`'s database."""
    rows: list[dict] = []
    try:
        reports.check_engine()
    except reports.ReportsUnavailable as exc:
        return [_row("PDF one page", None, [], [], None, error=exc.message)]
    client = _signed_in(app)
    ids, _year = _finalised(app, memory_assessments + 1)
    profile = f"/evaluations/{ids[0]}/profil.pdf"

    def get(path):
        def run():
            _check(client.get(path))
        return run

    def made():
        with app.app_context():
            reports.cache().clear()  # measure the making, not the cache
        get(profile)()

    def one_page():
        with app.app_context():
            render.one_page_pdf()

    operations = {"PDF one page": one_page, "profile PDF (cached)": get(profile), "profile PDF (made)": made}
    times = {name: ([], []) for name in operations}
    for name, run in operations.items():  # warm-up: fonts, stylesheets, imports
        run()
    for _ in range(rounds):
        for name, run in operations.items():
            wall, cpu = _timed(run)
            times[name][0].append(wall)
            times[name][1].append(cpu)
    floor_ms = statistics.median(times["PDF one page"][0])
    for name in operations:
        rows.append(_row(name, None, *times[name], floor_ms))

    with tempfile.TemporaryDirectory() as own_tmp:
        folder = Path(tmp or own_tmp)
        rows.append(_regional(folder, regional_territories, regional_rounds, floor_ms))
        try:
            rows += _gunicorn_memory(app.config["SQLALCHEMY_DATABASE_URI"], ids, memory_requests, folder, floor_ms)
        except Exception as exc:  # noqa: BLE001 — reported in the row, the rest still runs
            rows.append(_row("gunicorn worker RSS", None, [], [], floor_ms, error=f"{type(exc).__name__}: {exc}"[:300]))
    return rows


def _regional(folder: Path, territories: int, rounds: int, floor_ms: float) -> dict:
    """The regional report, on a database of `territories` territories."""
    try:
        app = _app(_demo_database(folder, territories))
        client = _signed_in(app)
        _ids, year = _finalised(app, 1)
        path = f"/tableau-de-bord/rapport.pdf?annee={year}"
        wall, cpu = [], []
        for _ in range(rounds):
            w, c = _timed(lambda: _check(client.get(path)))
            wall.append(w)
            cpu.append(c)
        with app.app_context():
            db.engine.dispose()
        return _row("regional PDF", territories, wall, cpu, floor_ms)
    except Exception as exc:  # noqa: BLE001 — reported in the row, the rest still runs
        return _row("regional PDF", territories, [], [], floor_ms, error=f"{type(exc).__name__}: {exc}"[:300])


def _check(response) -> None:
    assert response.status_code == 200 and response.data.startswith(b"%PDF"), response.status_code


# --- gunicorn ------------------------------------------------------------------------------------

def _pdf_step(paths: list[str], cookie: str, turn: Iterator[int]):
    """A connection's requests: the next of `paths` each time (shared between connections)."""
    def step(conn):
        path = paths[next(turn) % len(paths)]
        conn.request("GET", path, headers={"Cookie": cookie})
        response = conn.getresponse()
        body = response.read()
        return None if response.status == 200 and body.startswith(b"%PDF") else f"GET {path}: {response.status}"
    return step


def _gunicorn_memory(url: str, ids: list[int], requests: int, tmp: Path, floor_ms: float) -> list[dict]:
    """Profiles served by gunicorn: the requests' row, then one row per worker (RSS after a warm-up
    and after the requests)."""
    warm, measured = ids[-1], ids[:-1] or ids
    paths = [f"/evaluations/{i}/profil.pdf{paper}" for i in measured for paper in ("", "?papier=a4")]
    connections = WORKERS
    with bench.serving(url, tmp / "gunicorn-reports.log", workers=WORKERS, timeout=120) as (port, master):
        browser = bench.Browser(port)
        token = bench.FormInputs(browser.request("GET", "/connexion")[2]).values["csrf_token"]
        status, _headers, _body = browser.request("POST", "/connexion", {"csrf_token": token, "email": EMAIL,
                                                                        "password": PASSWORD})
        if status != 302:
            raise RuntimeError(f"sign-in through gunicorn: {status}")
        workers = bench.worker_pids(master)
        # Warm-up: another assessment, made and served in each worker (imports, fonts, caches).
        warm_paths = [f"/evaluations/{warm}/profil.pdf", f"/evaluations/{warm}/profil.pdf?papier=a4"]
        turn = itertools.count()
        warm_up = bench.drive(port, "warm-up", [_pdf_step(warm_paths, browser.cookie_header, turn)] * connections,
                              4 * connections, 120)
        if warm_up.errors:
            raise RuntimeError(f"warm-up: {warm_up.first_error}")
        print(f"  gunicorn: {requests} profile PDFs over {len(paths)} documents …", flush=True)
        # In two halves: every document is made (once per worker) early in the first; the second
        # half says whether the memory still grows once they are.
        rss = [{pid: bench.rss_mb(pid) for pid in workers}]
        turn, loads = itertools.count(), []
        for half in (requests // 2, requests - requests // 2):
            steps = [_pdf_step(paths, browser.cookie_header, turn)] * connections
            loads.append(bench.drive(port, "profile PDFs", steps, half, 300))
            rss.append({pid: bench.rss_mb(pid) for pid in workers})
        changed = sorted(set(bench.worker_pids(master)) ^ set(workers))
    latencies = [ms for load in loads for ms in load.latencies]
    errors = sum(load.errors for load in loads)
    seconds = sum(load.seconds for load in loads)
    rows = [_row("gunicorn profile PDFs", len(paths), latencies, [], floor_ms,
                 error=next((load.first_error for load in loads if load.first_error), None), errors=errors,
                 req_per_s=round(len(latencies) / seconds, 1) if seconds else None, workers_changed=changed or None)]
    for pid in workers:
        before, middle, after = (r[pid] for r in rss)
        known = None not in (before, middle, after)
        rows.append(_row("gunicorn worker RSS", None, [], [], None, pid=pid, before_mb=before and round(before, 1),
                         middle_mb=middle and round(middle, 1), after_mb=after and round(after, 1),
                         rss_mb=round(max(before, middle, after), 1) if known else None,
                         rss_growth_mb=round(after - before, 1) if known else None,
                         second_half_growth_mb=round(after - middle, 1) if known else None))
    return rows


def main() -> None:
    quick = "--quick" in sys.argv
    if {"-h", "--help"} & set(sys.argv):
        print(__doc__)
        return
    with tempfile.TemporaryDirectory() as tmp:
        app = _app(_demo_database(Path(tmp), 22))
        rows = measure(app, rounds=3 if quick else 7, regional_territories=22 if quick else 100,
                       regional_rounds=1 if quick else 2, memory_requests=100 if quick else 1000,
                       memory_assessments=4 if quick else 12, tmp=Path(tmp))
        with app.app_context():
            db.engine.dispose()
    print(f"{'operation':28} {'size':>5} {'median ms':>10} {'× 1 page':>9} {'runs':>5}  goal / met / more")
    for row in rows:
        extra = {k: v for k, v in row.items() if v is not None and k in (
            "pid", "before_mb", "middle_mb", "after_mb", "rss_growth_mb", "second_half_growth_mb", "errors",
            "req_per_s", "error")}
        print(f"{row['operation']:28} {row['size'] or '':>5} {row.get('median_ms', ''):>10} "
              f"{row.get('floor') or '':>9} "
              f"{row['runs']:>5}  {row['goal']} {row['met']} {extra or ''}")


if __name__ == "__main__":
    os.environ.setdefault("PIN_ENV", "development")
    main()
