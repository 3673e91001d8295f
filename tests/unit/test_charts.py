"""The chart data of the dashboards and the PDF (pin_grid/charts.py), without app or database:
the series, labels, colours, patterns, the reference used, the summaries and tables, and plotly
figures that plotly itself accepts."""
from __future__ import annotations

import ast
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go
import pytest

from pin_grid import charts, scoring
from pin_grid.services.results import score_levels

from ..conftest import ROOT

I, P, N, X, S = "implante", "partiel", "non_implante", "ne_sais_pas", "sans_objet"


def rated(grid, pattern):
    """Results of `grid` with the levels of `pattern`, statement after statement (cycling)."""
    return score_levels({item_id: pattern[n % len(pattern)] for n, item_id in enumerate(grid.items)}, grid)


def english(text: str) -> str:
    """A stand-in catalogue: marks every text that went through `_`."""
    return "EN:" + text


def plotly_accepts(chart: charts.ChartData) -> dict:
    figure = charts.to_plotly(chart)
    go.Figure(figure)  # raises on any property plotly does not know or any value out of range
    json.dumps(figure)  # plain JSON, as the page carries it
    return figure


# --- the module stays pure --------------------------------------------------------------------

def test_charts_imports_no_web_framework_database_or_plotting_library():
    tree = ast.parse((ROOT / "pin_grid" / "charts.py").read_text(encoding="utf-8"))
    type_checking = [node for node in ast.walk(tree) if isinstance(node, ast.If)
                     and getattr(node.test, "id", None) == "TYPE_CHECKING"]
    only_for_types = {id(n) for block in type_checking for n in ast.walk(block)}
    imported = set()
    for node in ast.walk(tree):
        if id(node) in only_for_types:
            continue
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add("." * node.level + node.module)
        elif isinstance(node, ast.ImportFrom):  # from . import scoring
            imported |= {"." * node.level + alias.name for alias in node.names}
    forbidden = [name for name in imported if name.split(".")[0] in {"flask", "flask_babel", "sqlalchemy", "plotly",
                                                                       "matplotlib"}
                 or name.lstrip(".").split(".")[0] in {"extensions", "models", "services", "context", "views"}]
    assert not forbidden, forbidden
    assert ".scoring" in imported and ".text" in imported  # the rules and the numbers, nothing else of the app


# --- a territory over the years ---------------------------------------------------------------

def test_theme_scores_by_year_draw_one_line_per_theme_with_structures_apart(grids):
    old, new = grids["2026.1"], grids.current
    history = [("2024", rated(old, [P])), ("2025-03-14", rated(new, [I, P])), ("2025-11-20", rated(new, [I]))]
    chart = charts.theme_scores_by_year(history)
    assert chart.kind == "lines" and chart.key == "scores-by-year"
    assert chart.categories == ("2024", "2025-03-14", "2025-11-20")
    assert [s.name for s in chart.series] == [f"{t.letter} · {t.name.fr}" for t in new.themes]
    components, structures = chart.series[:5], chart.series[5]
    # Structures apart: dashed, with a marker no component has; the components each their own.
    assert structures.dash == "dash" and {s.dash for s in components} == {"solid"}
    assert structures.marker not in {s.marker for s in components}
    assert len({s.marker for s in chart.series}) == 6 and len({s.colour for s in chart.series}) == 6
    # Each assessment scored with its own version: 2026.1 has 5 structures statements too, all rated here.
    for series, theme in zip(chart.series, new.themes):
        assert series.values == tuple(next(t.score.score for t in results.themes if t.theme.id == theme.id)
                                      for _label, results in history)
    assert chart.series[0].values[-1] == 100.0
    assert chart.y_range == (0, 100)
    assert "Approche écosystémique 50,0 → 100,0" in chart.summary
    assert chart.summary.startswith("Score de 2024 à 2025-11-20 : ")
    assert chart.table.headers == ("Thème", "2024", "2025-03-14", "2025-11-20")
    assert chart.table.rows[0] == ("A · Approche écosystémique", "50,0", "75,0", "100,0")


def test_a_theme_without_a_score_is_a_gap_not_a_zero(grid):
    half_unknown = rated(grid, [X, X, I])
    chart = charts.theme_scores_by_year([("2025", half_unknown)])
    assert None in {v for s in chart.series for v in s.values}
    assert "—" in {cell for row in chart.table.rows for cell in row}
    assert chart.summary.startswith("Score en 2025 : ")
    figure = plotly_accepts(chart)
    assert [trace["y"] for trace in figure["data"]] == [list(s.values) for s in chart.series]


def test_numbers_and_texts_follow_the_language(grid):
    chart = charts.theme_scores_by_year([("2024", rated(grid, [I, P, P, P])), ("2025", rated(grid, [I, P]))],
                                        _=english, locale="en")
    assert chart.title.startswith("EN:") and chart.y_title.startswith("EN:") and chart.summary.startswith("EN:")
    assert "62.5 → 75.0" in chart.summary and "," not in chart.table.rows[0][1]
    assert chart.series[0].name == f"A · {grid.themes[0].name.en}"


def test_level_counts_show_the_levels_of_the_version_with_the_unscored_apart(grids):
    for version, levels in (("2026.1", [I, P, N, X]), (grids.current.version, [I, P, N, X, S])):
        grid = grids[version]
        results = rated(grid, levels)
        chart = charts.level_counts(results, grid, label="2025-03-14")
        assert chart.kind == "stacked_bars" and chart.horizontal
        assert [s.name for s in chart.series] == [lv.label.fr for lv in grid.levels]
        assert chart.categories == tuple(f"{t.letter} · {t.name.fr}" for t in grid.themes)
        for series, level in zip(chart.series, grid.levels):
            assert series.values == tuple(float(t.score.counts[level.code]) for t in results.themes)
            assert series.colour == charts.LEVEL_COLOURS[level.code]
            assert series.pattern == charts.LEVEL_PATTERNS[level.code]
            # « On ne sait pas » and « Sans objet » stacked apart from the scored levels.
            assert (series.group == "") == level.is_scored
        # Told apart without colour: every level its own pattern.
        assert len({s.pattern for s in chart.series}) == len(grid.levels)
        assert f"« {grid.level[X].label.fr} »" in chart.summary
        figure = plotly_accepts(chart)
        assert "xaxis2" in figure["layout"]  # the unscored levels on an axis of their own
        assert {t.get("xaxis", "x") for t in figure["data"]} == {"x", "x2"}


def test_every_level_has_a_colour_and_a_distinct_pattern():
    assert set(charts.LEVEL_COLOURS) == set(scoring.LEVEL_CODES) == set(charts.LEVEL_PATTERNS)
    assert len(set(charts.LEVEL_PATTERNS.values())) == len(scoring.LEVEL_CODES)
    assert len(set(charts.LEVEL_COLOURS.values())) == len(scoring.LEVEL_CODES)


def _cohort(grid, patterns):
    sheets = [rated(grid, p) for p in patterns]
    return scoring.cohort_statistics([{t.theme.id: t.score.score for t in r.components} for r in sheets])


def test_standing_against_a_cohort_gives_its_means_and_spread(grid):
    statistics = _cohort(grid, [[I], [P], [N, I], [I, P], [P, N], [I, I, P]])
    reference = scoring.reference_for(statistics.size)
    mine = rated(grid, [I])
    chart = charts.standing_against_cohort(mine, statistics, reference, year=2025)
    assert chart.kind == "bars" and chart.key == "standing"
    assert chart.categories == (*(f"{t.letter} · {t.name.fr}" for t in grid.components),
                                "Ensemble des cinq composantes")
    territory, cohort = chart.series
    assert territory.values == (100.0,) * 6
    expected = [reference.symbol(100.0, statistics.components[t.id]) for t in grid.components]
    assert territory.texts == (*expected, reference.symbol(100.0, statistics.ensemble))
    assert cohort.values == (*(statistics.components[t.id].mean for t in grid.components), statistics.ensemble.mean)
    assert cohort.errors == (*(statistics.components[t.id].deviation for t in grid.components),
                             statistics.ensemble.deviation)
    assert chart.thresholds == ()
    assert chart.reference == "Référence des symboles : cohorte 2025, 6 territoires."
    assert chart.table.headers[-2:] == ("Moyenne de la cohorte", "Écart-type")
    figure = plotly_accepts(chart)
    assert figure["data"][1]["error_x"]["array"] == [round(e, 2) for e in cohort.errors]


def test_standing_against_the_absolute_bands_draws_the_bands_instead(grid):
    statistics = _cohort(grid, [[I], [P]])
    reference = scoring.reference_for(statistics.size)
    chart = charts.standing_against_cohort(rated(grid, [I, P]), statistics, reference, year=2024)
    assert len(chart.series) == 1 and chart.series[0].errors is None
    assert [(t.value, t.label) for t in chart.thresholds] == [(90, "++ ≥ 90"), (75, "+ ≥ 75"), (40, "- < 40"),
                                                              (15, "-- < 15")]
    assert "seuils absolus" in chart.reference and "2 territoires" in chart.reference
    assert "moyenne" not in chart.summary  # no mean was used
    assert chart.series[0].texts[0] == "+"  # 75 against the bands
    figure = plotly_accepts(chart)
    assert len(figure["layout"]["shapes"]) == 4 and len(figure["layout"]["annotations"]) == 4


def test_ensemble_by_year_writes_the_symbol_and_profile_letter_on_each_bar(grid):
    statistics = _cohort(grid, [[I], [P], [N], [I, P], [P, N]])
    placed = []
    for label, year, pattern, size in (("2023", 2023, [P], 2), ("2024", 2024, [I], 6)):
        reference = scoring.reference_for(size)
        results = rated(grid, pattern)
        standing = scoring.standing({t.theme.id: t.score.score for t in results.components}, statistics, reference)
        placed.append(charts.Placed(label, year, results, standing, reference))
    chart = charts.ensemble_by_year(placed, grid)
    (series,) = chart.series
    assert series.values == (50.0, 100.0)
    assert series.texts == tuple(f"{p.standing.ensemble_symbol} · {p.standing.profile.letter}" for p in placed)
    assert chart.reference == ("Référence des symboles : seuils absolus (++ ≥ 90, + ≥ 75, - < 40, -- < 15), "
                               "la cohorte 2023 ne comptant que 2 territoires ; cohorte 2024, 6 territoires.")
    assert chart.table.rows[1][3].startswith(placed[1].standing.profile.letter + " — ")
    plotly_accepts(chart)


@dataclass(frozen=True)
class Line:
    item_id: str
    level: str | None
    target: str | None = None
    priority: bool = False
    action: str = ""
    action_owner: str = ""
    action_due: dt.date | None = None


def test_the_action_plan_counts_overdue_upcoming_and_undated_actions_and_the_targets(grid):
    today = dt.date(2025, 6, 1)
    lines = [
        Line("ECO-1", P, target=I, action="Former l'équipe", action_due=dt.date(2025, 5, 31)),  # overdue
        Line("ECO-2", N, action="Outil commun", action_due=dt.date(2025, 6, 1)),  # due today: not overdue
        Line("PAR-1", P, action="Comité de parents"),  # undated
        Line("STR-1", N, target=P),  # a target only
        Line("STR-2", I, priority=True),  # a priority only
    ]
    chart = charts.action_plan(lines, grid, today=today, label="2025-03-14")
    overdue, upcoming, undated, targets = chart.series
    assert overdue.name == "En retard" and overdue.values[0] == 1 and sum(overdue.values) == 1
    assert upcoming.values[0] == 1 and sum(upcoming.values) == 1
    assert undated.values[1] == 1 and sum(undated.values) == 1
    assert targets.group and targets.values[0] == 1 and targets.values[5] == 1 and sum(targets.values) == 2
    assert len({s.pattern for s in chart.series}) == 4
    assert "3 pistes d'action, dont 1 en retard, 1 à venir et 1 sans échéance" in chart.summary
    assert "cibles fixées par l'équipe : 2" in chart.summary
    assert "Prochaine échéance : 2025-06-01 (ECO-2)" in chart.summary
    states = {row[1].split()[0]: row[-1] for row in chart.table.rows}
    assert states == {"ECO-1": "En retard", "ECO-2": "À venir", "PAR-1": "Sans échéance", "STR-1": "", "STR-2": ""}
    targets_shown = {row[1].split()[0]: row[3] for row in chart.table.rows}
    assert targets_shown["ECO-1"] == "Implanté" and targets_shown["STR-1"] == "Partiellement implanté"
    plotly_accepts(chart)
    empty = charts.action_plan([], grid, today=today, label="2025-03-14")
    assert empty.summary.startswith("Aucune piste d'action") and empty.table.rows == ()
    plotly_accepts(empty)


# --- the region ------------------------------------------------------------------------------

def _rows(grid, patterns, labels=None):
    statistics = _cohort(grid, list(patterns))
    reference = scoring.reference_for(len(patterns))
    rows = []
    for n, pattern in enumerate(patterns):
        results = rated(grid, pattern)
        standing = scoring.standing({t.theme.id: t.score.score for t in results.components}, statistics, reference)
        rows.append(charts.Row(labels[n] if labels else f"Territoire {n}", results, standing))
    return rows, reference


def test_the_heat_map_has_a_row_per_territory_highest_ensemble_first(grid):
    rows, reference = _rows(grid, [[P], [I], [N, X, X, X, X, X], [N]], ["Verdun", "Anjou", "Laval", "Verdun"])
    chart = charts.heatmap(charts.by_ensemble(rows), grid, year=2025, reference_kind=reference.kind)
    assert chart.kind == "heatmap"
    assert chart.categories == (*(f"{t.letter} · {t.name.fr}" for t in grid.themes), "Ensemble")
    # Highest first, the one without an ensemble last; labels made unique.
    assert [s.name for s in chart.series] == ["Anjou", "Verdun", "Verdun (2)", "Laval"]
    assert chart.series[0].values[-1] == 100.0 and chart.series[-1].values[-1] is None
    assert [s.texts[-1] for s in chart.series] == ["100,0", "50,0", "0,0", "—"]
    assert "4 territoires en 2025" in chart.summary and "ensemble le plus haut : Anjou (100,0)" in chart.summary
    assert chart.table.rows[0][0] == "Anjou" and chart.table.rows[0][-1].startswith(("A —", "B —", "C —"))
    figure = plotly_accepts(chart)
    (trace,) = figure["data"]
    # Without a colour bar and with gaps between cells, plotly writes no style attribute (CSP).
    assert trace["showscale"] is False and trace["xgap"] > 0 and trace["ygap"] > 0
    assert trace["z"][0][-1] == 100.0 and trace["text"][0][-1] == "100,0"
    assert figure["layout"]["yaxis"]["autorange"] == "reversed"


def test_the_heat_map_of_a_thousand_territories_stays_well_under_a_megabyte(grid):
    patterns = [[I, P, N, X][n % 4:] + [I, P] for n in range(8)]
    rows, reference = _rows(grid, patterns)
    many = [charts.Row(f"Territoire {n:04X}A2", rows[n % 8].results, rows[n % 8].standing) for n in range(1000)]
    figure = charts.to_plotly(charts.heatmap(many, grid, year=2025, reference_kind=reference.kind))
    size = len(json.dumps(figure, ensure_ascii=False, separators=(",", ":")).encode())
    assert size < 250_000, size


def test_profile_distribution_counts_each_sub_profile_both_years(grid):
    rows, reference = _rows(grid, [[I], [I], [P], [N], [N, P], [I, P, P]])
    previous, _ = _rows(grid, [[P], [P], [P], [I]])
    chart = charts.profile_distribution(rows, previous, grid, year=2025, previous_year=2024,
                                        reference_kind=reference.kind)
    assert [s.name for s in chart.series] == ["2024", "2025"]
    keys = [(letter, slug) for letter, p in grid.profiles.items() for slug in p.subprofiles]
    counted = {}
    for row in rows:
        key = (row.standing.profile.letter, row.standing.profile.subprofile) if row.standing.profile else None
        counted[key] = counted.get(key, 0) + 1
    assert chart.series[1].values[:6] == tuple(float(counted.get(k, 0)) for k in keys)
    assert sum(chart.series[0].values) == 4 and sum(chart.series[1].values) == 6
    assert chart.table.headers == ("Profil et sous-profil", "2024", "2025", "Évolution")
    assert "En 2025, 6 territoires : A " in chart.summary and "En 2024, 4 territoires" in chart.summary
    plotly_accepts(chart)
    first_year = charts.profile_distribution(rows, None, grid, year=2025, previous_year=None,
                                             reference_kind=reference.kind)
    assert [s.name for s in first_year.series] == ["2025"] and first_year.table.headers[-1] == "2025"


@dataclass(frozen=True)
class Tally:
    item_id: str
    version: str
    non_implante: int
    ne_sais_pas: int
    rated: int


def test_hard_statements_are_counted_per_grid_version_and_say_which(grids):
    tallies = [Tally("ECO-2", "2026.2", 5, 1, 18), Tally("ECO-2", "2026.1", 1, 0, 4),
               Tally("STR-6", "2026.2", 0, 4, 18), Tally("PRT-4", "2026.1", 2, 2, 4),
               Tally("ECO-3", "2026.2", 0, 0, 18)]
    chart = charts.hard_statements(tallies, grids, year=2025)
    ids = [c.split(" · ")[0] for c in chart.categories]
    assert ids == ["ECO-2 (2026.2)", "PRT-4 (2026.1)", "STR-6 (2026.2)", "ECO-2 (2026.1)"]  # ECO-3: never hard
    non, unknown = chart.series
    assert non.values == (5.0, 2.0, 0.0, 1.0) and unknown.values == (1.0, 2.0, 4.0, 0.0)
    assert (non.colour, non.pattern) == (charts.LEVEL_COLOURS[scoring.NON_IMPLANTE],
                                         charts.LEVEL_PATTERNS[scoring.NON_IMPLANTE])
    assert chart.table.rows[1][:2] == ("PRT-4", "2026.1")
    assert chart.table.rows[1][2] == grids["2026.1"].items["PRT-4"].text.fr
    assert "grille 2026.1 : 4 territoires" in chart.reference and "grille 2026.2 : 18 territoires" in chart.reference
    assert "ECO-2 (grille 2026.2) : 5 « Non implanté », 1 « On ne sait pas » sur 18" in chart.summary
    plotly_accepts(chart)
    assert len(charts.hard_statements([Tally(f"ECO-{n}", "2026.2", 1, 0, 3) for n in range(1, 30)], grids,
                                      year=2025).categories) == charts.HARD_STATEMENTS


def test_movement_counts_territories_up_same_and_down_on_each_theme(grid):
    up = (rated(grid, [P]), rated(grid, [I]))
    same = (rated(grid, [P]), rated(grid, [P]))
    down = (rated(grid, [I]), rated(grid, [N]))
    lost = (rated(grid, [I]), rated(grid, [X]))
    chart = charts.movement([up, up, same, down, lost], grid, year=2025, previous_year=2024)
    names = [s.name for s in chart.series]
    assert names == ["En hausse", "Stable", "En baisse", "Sans score à comparer"]
    by_name = dict(zip(names, chart.series))
    assert by_name["En hausse"].values == (2.0,) * 7 and by_name["Stable"].values == (1.0,) * 7
    assert by_name["En baisse"].values == (1.0,) * 7 and by_name["Sans score à comparer"].values == (1.0,) * 7
    assert chart.summary.startswith(
        "De 2024 à 2025, 5 territoires : Approche écosystémique : 2 en hausse, 1 stable, 1 en baisse ;")
    assert len({s.pattern for s in chart.series}) == 4
    plotly_accepts(chart)
    nothing = charts.movement([], grid, year=2025, previous_year=None)
    assert nothing.summary == "Pas d'année précédente à comparer à 2025." and len(nothing.series) == 3


# --- plotly ----------------------------------------------------------------------------------

def test_names_are_escaped_for_plotly_and_categories_stay_categories(grid):
    rows, reference = _rows(grid, [[I], [P]], ["<b>Gras</b> & cie", "2024"])
    chart = charts.heatmap(rows, grid, year=2025, reference_kind=reference.kind)
    figure = plotly_accepts(chart)
    assert figure["layout"]["yaxis"]["type"] == "category"  # « 2024 » is a name, not a number
    assert "&lt;b&gt;Gras&lt;/b&gt; &amp; cie" in figure["layout"]["yaxis"]["ticktext"]
    lines = charts.theme_scores_by_year([("2024", rated(grid, [I])), ("2025", rated(grid, [P]))])
    assert plotly_accepts(lines)["layout"]["xaxis"]["type"] == "category"


def test_an_unknown_kind_is_refused(grid):
    chart = charts.theme_scores_by_year([("2024", rated(grid, [I]))])
    with pytest.raises(ValueError):
        charts.to_plotly(charts.ChartData(**{**chart.__dict__, "kind": "pie"}))


def test_the_vendored_plotly_is_the_one_the_dashboard_loads():
    from pin_grid.views.dashboard import PLOTLY_JS

    assert (ROOT / "static" / PLOTLY_JS).is_file()
    assert Path(PLOTLY_JS).name in (ROOT / "static" / "vendor" / "plotly" / "README.md").read_text(encoding="utf-8")
