"""The PDF's charts: the dashboard's chart data (built here by hand) drawn as SVG by matplotlib.
No app, no database, no browser. Each chart is drawn once for the module."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from pin_grid.charts import LEVEL_COLOURS, LEVEL_PATTERNS, ChartData, Series, Table, Threshold
from pin_grid.reports import svg_charts

SVG = "{http://www.w3.org/2000/svg}"
TABLE = Table("Données", ("Thème", "Score"), (("A", "62,5"),))
THEMES = ("A · Approche écosystémique", "B · Approche participative", "C · Partenariat",
          "D · Actions directes auprès des enfants", "E · Actions directes auprès des parents",
          "Ensemble des cinq composantes")

CHARTS = {
    "standing": ChartData(
        "standing", "bars", "Le territoire par rapport à la cohorte", "résumé", THEMES,
        (Series("Ce territoire", (62.5, 75.0, 50.0, None, 87.5, 68.8), "#0b4f8a", texts=("=", "+", "=", "", "++", "=")),
         Series("Moyenne de la cohorte", (55.0, 60.0, 58.0, 40.0, 70.0, 56.6), "#9e9e9e", "/",
                errors=(10.0, 12.0, 9.0, 15.0, 8.0, 7.0))),
        TABLE, y_title="Score (0 à 100)", y_range=(0, 100), horizontal=True),
    "bands": ChartData(
        "standing", "bars", "Le territoire par rapport aux seuils absolus", "résumé", THEMES,
        (Series("Ce territoire", (62.5, 75.0, 50.0, 12.5, 87.5, 57.5), "#0b4f8a",
                texts=("=", "+", "=", "--", "+", "=")),),
        TABLE, y_range=(0, 100), thresholds=(Threshold(90, "++ ≥ 90"), Threshold(15, "-- < 15"))),
    "lines": ChartData(
        "scores-by-year", "lines", "Score des six thèmes", "résumé", ("2023", "2024", "2025-03-01", "2025-11-20"),
        (Series("A · Approche écosystémique", (40.0, 62.5, None, 75.0), "#0072b2", marker="circle"),
         Series("S · Structures de soutien", (20.0, 30.0, 35.0, 41.7), "#444444", marker="x", dash="dash")),
        TABLE, y_title="Score (0 à 100)", y_range=(0, 100)),
    "stacked": ChartData(
        "levels-latest", "stacked_bars", "Niveaux", "résumé", THEMES[:2],
        tuple(Series(label, values, LEVEL_COLOURS[code], LEVEL_PATTERNS[code], group=group)
              for code, label, values, group in (
                  ("implante", "Implanté", (2.0, 1.0), ""), ("partiel", "Partiellement implanté", (1.0, 2.0), ""),
                  ("non_implante", "Non implanté", (1.0, 0.0), ""),
                  ("ne_sais_pas", "On ne sait pas", (0.0, 1.0), "Hors du score"))),
        TABLE, horizontal=True),
    "heatmap": ChartData(
        "heatmap", "heatmap", "Score de chaque thème", "résumé", ("A · Approche", "B · Participative", "Ensemble"),
        (Series("Verdun", (100.0, 12.5, None), "#0b4f8a", texts=("100,0", "12,5", "—")),
         Series("Territoire 4F2A", (50.0, 87.5, 68.8), "#0b4f8a", texts=("50,0", "87,5", "68,8"))),
        TABLE, y_range=(0, 100)),
}


@pytest.fixture(scope="module")
def drawn() -> dict[str, str]:
    return {name: svg_charts.chart_svg(chart) for name, chart in CHARTS.items()}


def texts(svg: str) -> list[str]:
    """Every text of the SVG as a reader of the PDF gets it (text stays text)."""
    root = ET.fromstring(svg)
    return [" ".join("".join(t.itertext()).split()) for t in root.iter(f"{SVG}text")]


def test_text_stays_text_in_the_report_s_font(drawn):
    for name, svg in drawn.items():
        root = ET.fromstring(svg)  # a well-formed SVG document
        assert root.tag == f"{SVG}svg", name
        assert texts(svg), f"{name}: no <text>: the words were drawn as paths"
        assert svg_charts.FONT_FAMILY in svg, name
        assert "DejaVu" not in svg, name


def test_bars_show_each_category_series_symbol_and_spread(drawn):
    words = " ".join(texts(drawn["standing"]))
    for needle in ("A · Approche", "écosystémique", "Ensemble des cinq", "Ce territoire", "Moyenne de la cohorte",
                   "++", "Score (0 à 100)"):
        assert needle in words, needle
    # The cohort's series is hatched (told apart without colour); its spread drawn as error bars.
    assert "<pattern" in drawn["standing"]
    assert "#9e9e9e" in drawn["standing"].lower() and "#0b4f8a" in drawn["standing"].lower()


def test_absolute_bands_are_drawn_as_labelled_lines(drawn):
    words = texts(drawn["bands"])
    assert "++ ≥ 90" in words and "-- < 15" in words
    assert "<pattern" not in drawn["bands"]


def test_lines_keep_each_theme_its_marker_and_dash_and_leave_gaps(drawn):
    svg = drawn["lines"]
    words = " ".join(texts(svg))
    assert "2025-03-01" in words and "S · Structures de soutien" in words
    assert "stroke-dasharray" in svg  # the structures' dashed line
    # A missing score is a gap: the first theme's line is drawn in two pieces, not through it.
    paths = re.findall(r'<path d="(M[^"]*)"[^>]*style="[^"]*stroke: #0072b2', svg)
    assert any(path.count("M") >= 2 for path in paths), paths


def test_stacked_bars_use_the_level_colours_and_patterns(drawn):
    svg = drawn["stacked"].lower()
    for code in ("implante", "partiel", "non_implante", "ne_sais_pas"):
        assert LEVEL_COLOURS[code].lower() in svg, code
    assert svg.count("<pattern") >= 3  # partiel, non implanté, on ne sait pas: hatched
    words = texts(drawn["stacked"])
    assert {"Implanté", "Partiellement implanté", "On ne sait pas"} <= set(words)


def test_the_heat_map_writes_each_score_in_its_cell(drawn):
    words = texts(drawn["heatmap"])
    for needle in ("Verdun", "Territoire 4F2A", "100,0", "12,5", "—", "68,8"):
        assert needle in words, needle
    # A high score is a dark cell with light text, a low one a light cell with dark text.
    assert 'fill: #ffffff' in drawn["heatmap"] and 'fill: #1f2328' in drawn["heatmap"]


LONG_ROWS = ChartData(
    "heatmap", "heatmap", "Score de chaque thème", "résumé",
    ("A · Approche écosystémique", "Ensemble des cinq composantes"),
    (Series("La Haute-Côte-Nord–Manicouagan, point de vue d'un partenaire", (100.0, 62.5), "#0b4f8a"),
     Series("Verdun", (12.5, None), "#0b4f8a")), TABLE, y_range=(0, 100))


def _extents(svg: str):
    """Each text of the SVG with the box it covers (points), as drawn from its start."""
    root = ET.fromstring(svg)
    width, height = (float(v) for v in root.get("viewBox").split()[2:])
    for node in root.iter(f"{SVG}text"):
        words = "".join(node.itertext())
        size = float(re.search(r"font-size: ([\d.]+)px", node.get("style")).group(1))
        assert "text-anchor: middle" not in node.get("style") and "text-anchor: end" not in node.get("style")
        length = svg_charts._text_size(words, size)[0]
        transform = node.get("transform", "")
        if transform.startswith("rotate(-90"):  # the value axis' title, read upwards around its centre
            cx, cy = (float(v) for v in transform[len("rotate(-90 "):-1].split())
            yield words, (cx - size, cy - length / 2, cx, cy + length / 2), (width, height)
            continue
        if transform.startswith("translate("):
            x, y = (float(v) for v in transform[len("translate("):-1].split())
        else:
            x, y = float(node.get("x")), float(node.get("y"))
        yield words, (x, y - 0.8 * size, x + length, y + 0.25 * size), (width, height)


@pytest.mark.parametrize("name", [*CHARTS, "long rows"])
def test_no_label_falls_off_the_chart(drawn, name):
    """The axes are placed from the size of their labels: every tick label, title, legend entry and
    number written on a bar or in a cell is inside the picture, whole."""
    svg = drawn[name] if name in drawn else svg_charts.chart_svg(LONG_ROWS)
    for words, (left, top, right, bottom), (width, height) in _extents(svg):
        assert -0.5 <= left and right <= width + 0.5, (name, words, left, right, width)
        assert -0.5 <= top and bottom <= height + 0.5, (name, words, top, bottom, height)


def test_numbers_on_an_axis_are_written_in_the_language(drawn):
    chart = ChartData("x", "lines", "t", "s", ("a", "b"), (Series("s", (0.25, 1.75), "#000000"),), TABLE,
                      y_range=(0, 2))
    assert "0,5" in texts(svg_charts.chart_svg(chart, locale="fr"))
    assert "0.5" in texts(svg_charts.chart_svg(chart, locale="en"))


def test_the_same_chart_gives_the_same_svg(drawn):
    assert svg_charts.chart_svg(CHARTS["standing"]) == drawn["standing"]


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown chart kind"):
        svg_charts.chart_svg(ChartData("x", "pie", "t", "s", (), (), TABLE))


@pytest.mark.parametrize("name", ["Fonds $ et $ dons", "Centre 1$ du $Nord_", r"A\$ $\frac{1}{0}$", r"Centre $\foo{$"])
def test_a_name_with_dollar_signs_is_written_as_typed(name):
    # Matplotlib reads a text between two « $ » as a formula: a territory so named must still
    # get its chart (not an error, nor a formula), with its name as typed.
    chart = ChartData("heatmap", "heatmap", "t", "s", ("A · Approche",),
                      (Series(name, (50.0,), "#0b4f8a", texts=("50,0",)),), TABLE, y_range=(0, 100))
    assert name in texts(svg_charts.chart_svg(chart))
