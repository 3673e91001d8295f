"""The PDF reports in `make bench` (issue 12 §7): `measure(app, …)` returns rows in bench.py's
shape; `python scripts/bench_reports.py` runs it alone on a throwaway demo database.

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
                        distribution, the heat map and one page per territory;
  profile PDF memory    the RSS of this process (MB) after a warm-up, and its growth over
                        `memory_requests` profile requests spread over several finalised
                        assessments (each one made once, then served from the cache). The
                        process is the bench's, not a gunicorn worker: the growth is what tells.
Nothing here asserts a time: the rows carry the goals and whether they are met.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import statistics
import sys
import tempfile
import time
from contextlib import redirect_stderr
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from pin_grid import accounts, create_app, reports  # noqa: E402
from pin_grid.extensions import db  # noqa: E402
from pin_grid.models import FINALIZED, Assessment  # noqa: E402
from pin_grid.reports import render  # noqa: E402

EMAIL = "bench-reports@cisss.example"
PASSWORD = "Trois pommes vertes au marché!"
# The goals of issue 12 §7: seconds and MB (as bench.py's GOALS, for these rows).
GOALS = {
    "profile PDF (cached)": [("ms", "at_most", 500)],
    "profile PDF (made)": [("ms", "at_most", 500)],
    "regional PDF": [("ms", "at_most", 20_000)],
    "profile PDF memory": [("rss_mb", "at_most", 150), ("rss_growth_mb", "at_most", 10)],
}


def _rss_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


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
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    response = client.post("/connexion", data={"csrf_token": token, "email": EMAIL, "password": PASSWORD})
    assert response.status_code == 302, f"sign-in: {response.status_code}"
    return client


def _demo_database(tmp: Path, territories: int) -> str:
    path = tmp / f"reports-{territories}-{len(list(tmp.glob('reports-*.sqlite')))}.sqlite"
    url = f"sqlite:///{path}"
    app = _app(url)
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
                   cpu_ms=round(statistics.median(cpu), 3), floor=round(median / floor_ms, 2) if floor_ms else None)
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
    territories, made in `tmp` (a temporary folder by default)."""
    rows: list[dict] = []
    try:
        reports.check_engine()
    except reports.ReportsUnavailable as exc:
        return [_row("PDF one page", None, [], [], None, error=exc.message)]
    client = _signed_in(app)
    ids, _year = _finalised(app, memory_assessments)
    profile = f"/evaluations/{ids[0]}/profil.pdf"
    with app.app_context():
        cache = reports.cache()

    def get(path):
        def run():
            response = client.get(path)
            assert response.status_code == 200 and response.data.startswith(b"%PDF"), (path, response.status_code)
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

    # The regional report, on a database of `regional_territories` territories.
    with tempfile.TemporaryDirectory() as own_tmp:
        folder = Path(tmp or own_tmp)
        try:
            regional_app = _app(_demo_database(folder, regional_territories))
            regional_client = _signed_in(regional_app)
            _ids, year = _finalised(regional_app, 1)
            path = f"/tableau-de-bord/rapport.pdf?annee={year}"
            wall, cpu = [], []
            for _ in range(regional_rounds):
                w, c = _timed(lambda: _check(regional_client.get(path)))
                wall.append(w)
                cpu.append(c)
            rows.append(_row("regional PDF", regional_territories, wall, cpu, floor_ms))
            with regional_app.app_context():
                db.engine.dispose()
        except Exception as exc:  # noqa: BLE001 — reported in the row, the rest still runs
            rows.append(_row("regional PDF", regional_territories, [], [], floor_ms,
                             error=f"{type(exc).__name__}: {exc}"[:300]))

    # Memory over many profile requests (each assessment made once, then from the cache).
    paths = [f"/evaluations/{i}/profil.pdf" for i in ids]
    for path in paths:
        get(path)()
    before = _rss_mb()
    wall = []
    for n in range(memory_requests):
        start = time.perf_counter()
        get(paths[n % len(paths)])()
        wall.append((time.perf_counter() - start) * 1000)
    after = _rss_mb()
    growth = round(after - before, 1) if before is not None and after is not None else None
    rows.append(_row("profile PDF memory", len(paths), wall, wall, floor_ms, rss_mb=after and round(after, 1),
                     rss_growth_mb=growth, cache_entries=len(cache), cache_mb=round(cache.size / 2**20, 1)))
    return rows


def _check(response) -> None:
    assert response.status_code == 200 and response.data.startswith(b"%PDF"), response.status_code


def main() -> None:
    quick = "--quick" in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        app = _app(_demo_database(Path(tmp), 22))
        rows = measure(app, rounds=3 if quick else 7, regional_territories=22 if quick else 100,
                       regional_rounds=1 if quick else 2, memory_requests=100 if quick else 1000,
                       memory_assessments=4 if quick else 12, tmp=Path(tmp))
    print(f"{'operation':28} {'size':>5} {'median ms':>10} {'× 1 page':>9} {'runs':>5}  goal / met / more")
    for row in rows:
        extra = {k: v for k, v in row.items() if k in ("rss_mb", "rss_growth_mb", "cache_entries", "error") and v}
        print(f"{row['operation']:28} {row['size'] or '':>5} {row.get('median_ms', ''):>10} "
              f"{row.get('floor') or '':>9} "
              f"{row['runs']:>5}  {row['goal']} {row['met']} {extra or ''}")


if __name__ == "__main__":
    os.environ.setdefault("PIN_ENV", "development")
    main()
