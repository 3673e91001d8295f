"""`make bench`: how long the main pages and actions take, and how much memory they need.

Builds a throwaway SQLite database with demo data (22 territories × 4 years by default),
then times each operation through the real app (Flask test client). Each median is printed
with its ratio to a baseline measured in the same run: serving a static file, i.e. the cost
of one request through the framework on this machine right now. Ratios travel between
machines and busy moments better than milliseconds; nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from pin_grid import accounts, create_app, services  # noqa: E402
from pin_grid.extensions import db  # noqa: E402

PASSWORD = "Trois pommes vertes au marché!"


def timed(run, repeat: int) -> tuple[float, float]:
    """Median and maximum milliseconds of `run()` over `repeat` runs (after one warm-up)."""
    run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--territories", type=int, default=22)
    parser.add_argument("--years", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PIN_ENV": "development", "SECRET_KEY": "bench"})
        with app.app_context():
            upgrade()
            result = app.test_cli_runner().invoke(args=["demo", "--territories", str(args.territories),
                                                        "--years", str(args.years)])
            assert result.exit_code == 0, result.output
            accounts.create_user("bench@cisss.example", PASSWORD, "admin")
            year = services.comparison_years()[0]
            territory = services.all_territories()[0]
            draft = services.start_assessment(
                services.AssessmentDetails(territory.id, __import__("datetime").date(year + 1, 1, 15), None),
                app.extensions["pin_grid"])
            draft_id, finalized_id = draft.id, services.cohort(year)[0].id
            db.session.remove()

        client = app.test_client()
        login = client.get("/connexion").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
        client.post("/connexion", data={"csrf_token": token, "email": "bench@cisss.example", "password": PASSWORD})
        grid_page = client.get(f"/evaluations/{draft_id}/grille").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', grid_page).group(1)
        levels = iter(["implante", "partiel"] * 10_000)

        def save_statement():
            response = client.post(f"/evaluations/{draft_id}/enonces/ECO-1",
                                   data={"csrf_token": token, "ECO-1-level": next(levels)})
            assert response.status_code in (200, 409), response.status_code

        def get(path):
            def run():
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
            return run

        def cli_compare():
            with app.app_context():
                assert app.test_cli_runner().invoke(args=["compare", "--year", str(year), "--json"]).exit_code == 0
                db.session.remove()

        operations = [
            ("baseline: static file", get("/static/app.css")),
            ("home (territories)", get("/")),
            ("grid form (24 statements)", get(f"/evaluations/{draft_id}/grille")),
            ("save one statement", save_statement),
            ("results with profile", get(f"/evaluations/{finalized_id}/resultats")),
            (f"comparison page ({args.territories} territories)", get(f"/comparaison/?annee={year}")),
            ("compare --json (command)", cli_compare),
        ]
        rows = []
        baseline = None
        for name, run in operations:
            median, worst = timed(run, args.repeat)
            tracemalloc.start()  # one more run, traced apart: tracing slows the code it measures
            run()
            peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
            tracemalloc.stop()
            baseline = baseline or median
            rows.append((name, median, worst, median / baseline, peak))
        with app.app_context():
            db.engine.dispose()

    print(f"Grille PIN bench — {args.territories} territories × {args.years} years, {args.repeat} runs each")
    print(f"{'operation':42} {'median ms':>10} {'max ms':>9} {'× baseline':>11} {'peak MiB':>9}")
    for name, median, worst, ratio, peak in rows:
        print(f"{name:42} {median:10.2f} {worst:9.2f} {ratio:11.1f} {peak:9.2f}")


if __name__ == "__main__":
    main()
