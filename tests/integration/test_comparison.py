"""Cohorts, `flask compare --json`, the demo and the comparison page, on SQLite and PostgreSQL.

The expected values are computed here independently from the levels, straight from the rules
of DESIGN.md §4–§5, without the app's scoring code.
"""
import datetime as dt
import json
import random
import statistics

import pytest
from sqlalchemy import insert

from pin_grid.extensions import db
from pin_grid.models import Answer, Assessment, Territory

POINTS = {"implante": 2, "partiel": 1, "non_implante": 0}
COMPONENTS = ["ecosystemique", "participative", "partenariat", "actions_enfants", "actions_parents"]


def _run(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    db.session.remove()
    return result


def _import(app, tmp_path, assessments):
    path = tmp_path / f"doc{random.random()}.json"
    path.write_text(json.dumps({"format": "pin-grid/1", "assessments": assessments}), encoding="utf-8")
    result = _run(app, "import-assessments", str(path))
    assert result.exit_code == 0, result.output


def _assessment(grid, code, date, levels, status="finalized", perspective=None):
    return {
        "territory": {"code": code, "name": f"Territoire {code}", "region": "Estrie"},
        "date": date, "perspective": {"organization": perspective} if perspective else None,
        "status": status, "grid_version": grid.version, "participants": [], "organizations": [],
        "answers": {i: {"level": lv, "comment": "", "priority": False, "action": "", "action_owner": "",
                        "action_due": None} for i, lv in levels.items()},
    }


def _random_levels(grid, rng, quality):
    choices = ["implante", "partiel", "non_implante", "ne_sais_pas"]
    return {i: rng.choices(choices, weights=[quality, 1, 1 - quality + 0.05, 0.15])[0] for i in grid.items}


# --- the independent computation ----------------------------------------------------------

def expected_score(grid, theme_id, levels):
    theme_levels = [levels[i.id] for i in grid.theme(theme_id).items]
    rated = [lv for lv in theme_levels if lv != "ne_sais_pas"]
    if len(rated) * 2 < len(theme_levels) or not rated:
        return None
    return 100 * sum(POINTS[lv] for lv in rated) / (2 * len(rated))


def expected_symbol(score, others, kind):
    if score is None:
        return None
    if kind == "absolute":
        return "++" if score >= 90 else "+" if score >= 75 else "--" if score < 15 else "-" if score < 40 else "="
    others = [s for s in others if s is not None]
    mean = sum(others) / len(others)
    sd = (sum((s - mean) ** 2 for s in others) / len(others)) ** 0.5
    if sd == 0:
        return "="
    z = (score - mean) / sd
    return "++" if z >= 2 else "+" if z >= 1 else "--" if z <= -2 else "-" if z <= -1 else "="


def expected_profile(symbols, ensemble_symbol):
    if ensemble_symbol is None or None in symbols.values():
        return {"letter": None, "subprofile": None}
    below = any(s in ("-", "--") for s in symbols.values())
    if ensemble_symbol in ("+", "++"):
        return {"letter": "A", "subprofile": "se_demarque" if below else "exemplaire"}
    if ensemble_symbol in ("-", "--"):
        return {"letter": "C", "subprofile": "difficile"}
    if below:
        return {"letter": "C", "subprofile": "avec_difficultes"}
    if symbols["ecosystemique"] in ("+", "++"):
        return {"letter": "B", "subprofile": "posture_ecosystemique"}
    return {"letter": "B", "subprofile": "dans_la_moyenne"}


@pytest.mark.parametrize("size", [1, 4, 5, 9, 17])
def test_compare_json_matches_an_independent_computation(app, grid, tmp_path, size):
    rng = random.Random(size)
    cohort = {f"T{n:02d}": _random_levels(grid, rng, rng.random()) for n in range(size)}
    assessments = [_assessment(grid, code, f"2024-0{1 + n % 9}-15", levels) for n, (code, levels) in enumerate(cohort.items())]
    # Not in the 2024 cohort: an earlier assessment of the same year (superseded), a draft, a
    # partner's point of view, another year.
    assessments.append(_assessment(grid, "T00", "2024-01-01", _random_levels(grid, rng, 0.9)))
    assessments.append(_assessment(grid, "T00", "2024-12-31", _random_levels(grid, rng, 0.9), status="draft"))
    assessments.append(_assessment(grid, "T00", "2024-11-30", _random_levels(grid, rng, 0.1), perspective="CPE Soleil"))
    assessments.append(_assessment(grid, "ZZ-OTHER", "2023-06-01", _random_levels(grid, rng, 0.5)))
    _import(app, tmp_path, assessments)

    result = _run(app, "compare", "--year", "2024", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    kind = "cohort" if size >= 5 else "absolute"
    assert (document["year"], document["reference"], document["cohort_size"]) == (2024, kind, size)
    assert sorted(row["territory"]["code"] for row in document["rows"]) == sorted(cohort)
    # One territory per line, so that thousands of rows stay readable and greppable.
    lines = result.output.splitlines()
    assert [json.loads(line.strip().rstrip(",")) for line in lines if line.startswith("    {")] == document["rows"]

    scores = {code: {t: expected_score(grid, t, levels) for t in COMPONENTS} for code, levels in cohort.items()}
    ensembles = {code: (None if None in s.values() else statistics.fmean(s.values())) for code, s in scores.items()}
    for row in document["rows"]:
        code = row["territory"]["code"]
        symbols = {}
        for theme_id in COMPONENTS:
            expected = scores[code][theme_id]
            got = row["themes"][theme_id]
            assert got["score"] == pytest.approx(expected) if expected is not None else got["score"] is None
            symbols[theme_id] = expected_symbol(expected, [scores[c][theme_id] for c in cohort], kind)
            assert got["symbol"] == symbols[theme_id], (code, theme_id)
        assert row["themes"]["structures"]["symbol"] is None
        assert row["themes"]["structures"]["score"] == pytest.approx(expected_score(grid, "structures", cohort[code])) \
            if expected_score(grid, "structures", cohort[code]) is not None else row["themes"]["structures"]["score"] is None
        assert set(row["themes"]["ecosystemique"]["counts"]) == set(grid.level)
        ensemble_symbol = expected_symbol(ensembles[code], list(ensembles.values()), kind)
        assert row["ensemble"]["score"] == pytest.approx(ensembles[code]) if ensembles[code] is not None else row["ensemble"]["score"] is None
        assert row["ensemble"]["symbol"] == ensemble_symbol
        assert row["profile"] == expected_profile(symbols, ensemble_symbol)


def test_an_ensemble_without_score_has_a_null_profile(app, grid, tmp_path):
    levels = {i: "implante" for i in grid.items}
    levels.update({"ENF-1": "ne_sais_pas", "ENF-2": "ne_sais_pas"})  # 1 answered of 3: no score
    _import(app, tmp_path, [_assessment(grid, "SOLO", "2025-05-05", levels)])
    row = json.loads(_run(app, "compare", "--year", "2025", "--json").output)["rows"][0]
    assert row["themes"]["actions_enfants"]["score"] is None and row["themes"]["actions_enfants"]["symbol"] is None
    assert row["ensemble"] == {"score": None, "symbol": None}
    assert row["profile"] == {"letter": None, "subprofile": None}


def test_compare_for_a_year_without_data_is_empty(app):
    document = json.loads(_run(app, "compare", "--year", "2019", "--json").output)
    assert document == {"year": 2019, "reference": "absolute", "cohort_size": 0, "rows": []}


def test_compare_text_table(app, grid, tmp_path):
    _import(app, tmp_path, [_assessment(grid, "MTL-NORD", "2024-03-14", {i: "implante" for i in grid.items})])
    output = _run(app, "compare", "--year", "2024").output
    assert "MTL-NORD" in output and "A exemplaire" in output and "seuils absolus" in output


def test_demo_fills_an_empty_database_and_refuses_a_used_one(app):
    result = _run(app, "demo", "--territories", "6", "--years", "3")
    assert result.exit_code == 0, result.output
    exported = json.loads(_run(app, "export-assessments").output)["assessments"]
    assert len(exported) == 18 and {a["status"] for a in exported} == {"finalized"}
    assert len({a["territory"]["code"] for a in exported}) == 6
    year = max(int(a["date"][:4]) for a in exported)
    compared = json.loads(_run(app, "compare", "--year", str(year), "--json").output)
    assert compared["cohort_size"] == 6 and compared["reference"] == "cohort"
    refused = _run(app, "demo")
    assert refused.exit_code != 0 and "--force" in refused.output
    assert len(json.loads(_run(app, "export-assessments").output)["assessments"]) == 18
    forced = _run(app, "demo", "--territories", "6", "--years", "3", "--force", "--seed", "7")
    assert forced.exit_code == 0, forced.output


def test_compare_json_at_the_scale_of_the_province_matches_an_independent_computation(app, grid):
    """1,000 territories, written straight into the tables (the import is tested above): each
    row's scores, symbols and profile as the rules give them, computed here from the levels."""
    rng = random.Random(1000)
    size = 1000
    now = dt.datetime.now(dt.timezone.utc)
    cohort = {f"P{n:04d}": _random_levels(grid, rng, rng.random()) for n in range(size)}
    db.session.execute(insert(Territory), [{"id": n + 1, "code": code, "name": f"Territoire {code}", "region": "Estrie"}
                                           for n, code in enumerate(cohort)])
    db.session.execute(insert(Assessment), [
        {"id": n + 1, "territory_id": n + 1, "date": dt.date(2024, 1 + n % 12, 1 + n % 28),
         "status": "finalized", "grid_version": grid.version, "created_at": now, "updated_at": now, "version": 1,
         "revision": 1, "revision_reason": ""} for n in range(size)])
    db.session.execute(insert(Answer), [
        {"assessment_id": n + 1, "item_id": item_id, "level": level, "comment": "", "priority": False, "action": "",
         "action_owner": "", "carried_over": False}
        for n, levels in enumerate(cohort.values()) for item_id, level in levels.items()])
    db.session.commit()

    document = json.loads(_run(app, "compare", "--year", "2024", "--json").output)
    assert (document["reference"], document["cohort_size"], len(document["rows"])) == ("cohort", size, size)
    scores = {code: {t: expected_score(grid, t, levels) for t in COMPONENTS} for code, levels in cohort.items()}
    ensembles = {code: (None if None in s.values() else statistics.fmean(s.values())) for code, s in scores.items()}

    # The cohort's spread, computed once here too (the definition, not the app's code).
    def spread(values):
        values = [v for v in values if v is not None]
        mean = sum(values) / len(values)
        return mean, (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5

    spreads = {t: spread(s[t] for s in scores.values()) for t in COMPONENTS}
    ensemble_spread = spread(ensembles.values())

    def symbol(score, mean_sd):
        if score is None:
            return None
        mean, sd = mean_sd
        z = round((score - mean) / sd, 9)
        return "++" if z >= 2 else "+" if z >= 1 else "--" if z <= -2 else "-" if z <= -1 else "="

    for row in document["rows"]:
        code = row["territory"]["code"]
        symbols = {t: symbol(scores[code][t], spreads[t]) for t in COMPONENTS}
        assert {t: row["themes"][t]["symbol"] for t in COMPONENTS} == symbols, code
        for t in COMPONENTS:
            expected = scores[code][t]
            assert row["themes"][t]["score"] == (pytest.approx(expected) if expected is not None else None)
        ensemble_symbol = symbol(ensembles[code], ensemble_spread)
        assert row["ensemble"]["symbol"] == ensemble_symbol, code
        assert row["profile"] == expected_profile(symbols, ensemble_symbol), code


def test_the_kept_scores_of_a_cohort_follow_every_finalisation_revision_and_import(app, grid, grids, tmp_path):
    """The cohort's scores are kept between requests; an assessment finalised, revised or
    imported in that year shows at once, in the statistics every results page reads as in the
    comparison."""
    from pin_grid import services

    rng = random.Random(5)
    _import(app, tmp_path, [_assessment(grid, f"K{n}", "2024-03-01", _random_levels(grid, rng, 0.5)) for n in range(5)])

    def check() -> dict:
        """The statistics (read first, as a results page does) are those of the rows compared."""
        kept = services.cohort_statistics(2024, grids)
        rows = {row["territory"]["code"]: row for row in json.loads(
            _run(app, "compare", "--year", "2024", "--json").output)["rows"]}
        ensembles = [row["ensemble"]["score"] for row in rows.values() if row["ensemble"]["score"] is not None]
        assert kept.size == len(rows)
        assert kept.ensemble.mean == pytest.approx(statistics.fmean(ensembles))
        assert kept.ensemble.deviation == pytest.approx(statistics.pstdev(ensembles))
        return rows

    assert len(check()) == 5
    # Imported.
    _import(app, tmp_path, [_assessment(grid, "K5", "2024-04-01", {i: "implante" for i in grid.items})])
    assert len(check()) == 6
    # Finalised: a territory's second assessment of the year takes the place of its first.
    draft = services.start_assessment(services.AssessmentDetails(services.territory_by_code("K0").id,
                                                                 dt.date(2024, 9, 1), None), grids).id
    services.save_answers(draft, {i: services.AnswerData(level="non_implante") for i in grid.items})
    services.finalize(draft, grid)
    rows = check()
    assert rows["K0"]["ensemble"]["score"] == 0 and rows["K0"]["date"] == "2024-09-01"
    # Revised: the correction replaces the corrected version.
    revision = services.open_revision(draft, "Mauvaise saisie").id
    services.save_answers(revision, {i: services.AnswerData(level="partiel") for i in grid.items})
    services.finalize(revision, grid)
    assert check()["K0"]["ensemble"]["score"] == 50


def test_a_kept_cohort_is_frozen_out_of_the_collector_and_still_freed_once_dropped(app, grid, grids, tmp_path):
    """A worker freezes the scored cohorts it keeps (pin_grid/memory.py) so that the garbage
    collector stops walking them inside every large request. Frozen objects are freed only by
    their reference count: a scored cohort must hold no reference cycle, or each one dropped
    would stay in memory for the worker's whole life."""
    import gc
    import weakref

    from pin_grid import services
    from pin_grid.services import results

    rng = random.Random(8)
    _import(app, tmp_path, [_assessment(grid, f"F{n}", "2024-03-01", _random_levels(grid, rng, 0.5)) for n in range(6)])
    unfrozen = _run(app, "compare", "--year", "2024", "--json").output
    results._scored_cohorts.clear()
    app.config["FREEZE_KEPT_OBJECTS"] = True
    try:
        assert _run(app, "compare", "--year", "2024", "--json").output == unfrozen
        assert gc.get_freeze_count() > 0
        kept = weakref.ref(services.results._scored_cohort(2024, grids))
        member_results = weakref.ref(next(iter(kept().results.values())))
        results._scored_cohorts.clear()  # as when a ninth cohort pushes the oldest out
        assert kept() is None and member_results() is None
    finally:
        app.config["FREEZE_KEPT_OBJECTS"] = False
        gc.unfreeze()
