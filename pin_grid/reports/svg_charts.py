"""Chart data (`pin_grid.charts.ChartData`) drawn as SVG by matplotlib, for the PDF reports.

The dashboard draws the very same chart data with plotly in the browser; here no browser is
involved: matplotlib's SVG backend writes vector graphics on the server. Each chart is its own
`Figure` (never pyplot, whose state is shared between threads). Text stays text
(`svg.fonttype` "none") in the report's own font, so WeasyPrint sets it with the embedded font and
a reader can select and search it.
"""
from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display, no GUI toolkit: only the SVG canvas below is ever used

from matplotlib import font_manager  # noqa: E402  (after choosing the backend)
from matplotlib.backends.backend_svg import FigureCanvasSVG  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap, to_rgb  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from .. import charts  # noqa: E402
from ..text import one_decimal  # noqa: E402

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_FAMILY = "Atkinson Hyperlegible Next"
for _path in sorted(FONT_DIR.glob("*.ttf")):
    font_manager.fontManager.addfont(str(_path))
# Process-wide and constant: SVG text is written as <text> in the report's font, not as paths;
# ids are derived from a fixed salt so that the same chart gives the same SVG.
matplotlib.rcParams["svg.fonttype"] = "none"
matplotlib.rcParams["svg.hashsalt"] = "pin-grid-report"

# plotly's names (what the chart data says) -> matplotlib's.
MARKERS = {"circle": "o", "square": "s", "diamond": "D", "triangle-up": "^", "cross": "P", "x": "X"}
DASHES = {"solid": "-", "dash": "--", "dot": ":", "dashdot": "-."}
HATCHES = {"": "", "/": "//", "\\": "\\\\", "x": "xx", ".": "..", "+": "++", "-": "--", "|": "||"}
INK = "#1f2328"
GRID_LINE = "#d0d7de"
# A heat map's cells: light for low scores, dark for high ones; the score is written in each cell.
HEAT = LinearSegmentedColormap.from_list("pin-heat", list(charts.HEATMAP_SCALE))  # the dashboard's scale
NO_VALUE = "#eeeeee"
BASE_SIZE = 8.5  # points: the report's small print

CM = 1 / 2.54


def chart_svg(chart, *, width_cm: float = 17.0, height_cm: float | None = None, locale: str = "fr") -> str:
    """The SVG document of `chart` (a `charts.ChartData`), `width_cm` wide."""
    draw = {"lines": _lines, "bars": _bars, "stacked_bars": _stacked_bars, "heatmap": _heatmap}.get(chart.kind)
    if draw is None:
        raise ValueError(f"unknown chart kind {chart.kind!r}")
    height_cm = height_cm or _default_height(chart)
    figure = Figure(figsize=(width_cm * CM, height_cm * CM), layout="constrained")
    FigureCanvasSVG(figure)
    axes = figure.add_subplot()
    draw(figure, axes, chart, locale)
    _style(axes, chart, locale)
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    return out.getvalue()


def _default_height(chart) -> float:
    if chart.kind == "heatmap":
        return 1.6 + 0.55 * max(1, len(chart.series))
    if chart.horizontal:
        return 2.0 + 0.8 * max(1, len(chart.categories))
    return 7.0


def _font(size: float = BASE_SIZE, weight: str = "normal") -> dict:
    return {"family": FONT_FAMILY, "size": size, "weight": weight}


def _number(value: float, locale: str) -> str:
    """Axis numbers: whole numbers as they are, others with one decimal in the locale's form."""
    return str(int(value)) if float(value).is_integer() else one_decimal(value, locale)


def _values(series) -> list[float]:
    return [math.nan if v is None else float(v) for v in series.values]


def _legend(figure: Figure, axes, handles=None, columns: int | None = None) -> None:
    handles = handles if handles is not None else axes.get_legend_handles_labels()[0]
    if not handles:
        return
    longest = max(len(h.get_label()) for h in handles)
    fitting = 1 if longest > 48 else 2 if longest > 28 else 3 if longest > 18 else 4
    figure.legend(handles=handles, loc="outside lower center", ncols=min(columns or fitting, fitting, len(handles)),
                  frameon=False, prop=_font(BASE_SIZE - 0.5))


def _style(axes, chart, locale: str) -> None:
    axes.tick_params(labelfontfamily=FONT_FAMILY, labelsize=BASE_SIZE - 0.5, colors=INK, length=3)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if chart.kind == "heatmap":
        return
    value_axis = axes.xaxis if chart.horizontal else axes.yaxis
    value_axis.set_major_formatter(FuncFormatter(lambda v, _pos: _number(v, locale)))
    value_axis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    axes.grid(axis="x" if chart.horizontal else "y", color=GRID_LINE, linewidth=0.6)
    axes.set_axisbelow(True)
    if chart.y_title:
        (axes.set_xlabel if chart.horizontal else axes.set_ylabel)(chart.y_title, fontdict=_font(), color=INK)
    if chart.y_range:
        (axes.set_xlim if chart.horizontal else axes.set_ylim)(*chart.y_range)


def _thresholds(axes, chart, locale: str) -> None:
    """Reference lines (absolute bands), each labelled at the end of its line."""
    for threshold in chart.thresholds:
        line = axes.axvline if chart.horizontal else axes.axhline
        line(threshold.value, color="#6e7781", linewidth=0.9, linestyle="--", zorder=1)
        if chart.horizontal:
            axes.annotate(threshold.label, (threshold.value, 1), xycoords=("data", "axes fraction"),
                          xytext=(2, 2), textcoords="offset points", fontfamily=FONT_FAMILY,
                          fontsize=BASE_SIZE - 1.5, color="#57606a", rotation=90, va="top")
        else:
            axes.annotate(threshold.label, (1, threshold.value), xycoords=("axes fraction", "data"),
                          xytext=(3, 0), textcoords="offset points", fontfamily=FONT_FAMILY,
                          fontsize=BASE_SIZE - 1.5, color="#57606a", ha="left", va="center")


def _lines(figure: Figure, axes, chart, locale: str) -> None:
    x = list(range(len(chart.categories)))
    for series in chart.series:
        values = _values(series)
        axes.plot(x, values, color=series.colour, linestyle=DASHES.get(series.dash, "-"), linewidth=1.6,
                  marker=MARKERS.get(series.marker, "o"), markersize=5, label=series.name)
        if series.errors:
            errors = [math.nan if e is None else e for e in series.errors]
            axes.errorbar(x, values, yerr=errors, fmt="none", ecolor=series.colour, elinewidth=0.8, capsize=2)
        for xi, value, text in zip(x, values, series.texts or ()):
            if text and not math.isnan(value):
                axes.annotate(text, (xi, value), xytext=(0, 5), textcoords="offset points", ha="center",
                              fontfamily=FONT_FAMILY, fontsize=BASE_SIZE - 1.5, color=INK)
    axes.set_xticks(x, chart.categories)
    axes.set_xlim(-0.3, len(x) - 0.7) if len(x) > 1 else axes.set_xlim(-1, 1)
    _thresholds(axes, chart, locale)
    _legend(figure, axes)


def _bars(figure: Figure, axes, chart, locale: str) -> None:
    count = max(1, len(chart.series))
    width = 0.8 / count
    positions = list(range(len(chart.categories)))
    bar = axes.barh if chart.horizontal else axes.bar
    for n, series in enumerate(chart.series):
        offset = (n - (count - 1) / 2) * width
        values = [0.0 if v is None else float(v) for v in series.values]
        errors = [0.0 if e is None else e for e in series.errors] if series.errors else None
        error_kw = {"xerr" if chart.horizontal else "yerr": errors} if errors else {}
        bars = bar([p + offset for p in positions], values, width * 0.92, color=series.colour,
                   hatch=HATCHES.get(series.pattern, ""), edgecolor=_edge(series.colour), linewidth=0.6,
                   label=series.name, error_kw={"elinewidth": 0.9, "capsize": 2.5, "ecolor": INK}, **error_kw)
        texts = series.texts or tuple("" if v is None else one_decimal(v, locale) for v in series.values)
        labels = [text if value is not None else "" for text, value in zip(texts, series.values)]
        axes.bar_label(bars, labels=labels, padding=2, fontfamily=FONT_FAMILY, fontsize=BASE_SIZE - 1, color=INK)
    (axes.set_yticks if chart.horizontal else axes.set_xticks)(positions, _wrapped(chart.categories, chart.horizontal))
    if chart.horizontal:
        axes.invert_yaxis()  # the first category on top, as it is read
    _thresholds(axes, chart, locale)
    _legend(figure, axes)


def _stacked_bars(figure: Figure, axes, chart, locale: str) -> None:
    """Series stacked per category; the series of another `group` (the levels left out of the
    score, the targets) in a stack of their own beside the main one."""
    positions = list(range(len(chart.categories)))
    groups = list(dict.fromkeys(getattr(s, "group", "") for s in chart.series))
    width = 0.75 / len(groups)
    bar = axes.barh if chart.horizontal else axes.bar
    for n, group in enumerate(groups):
        offset = (n - (len(groups) - 1) / 2) * width
        at = [p + offset for p in positions]
        base = [0.0] * len(positions)
        for series in (s for s in chart.series if getattr(s, "group", "") == group):
            values = [0.0 if v is None else float(v) for v in series.values]
            where = {"left" if chart.horizontal else "bottom": list(base)}
            bars = bar(at, values, width * 0.92, color=series.colour, hatch=HATCHES.get(series.pattern, ""),
                       edgecolor=_edge(series.colour), linewidth=0.6, label=series.name, **where)
            texts = series.texts or tuple(_number(v, locale) if v else "" for v in values)
            labels = [text if value else "" for text, value in zip(texts, values)]
            written = axes.bar_label(bars, labels=labels, label_type="center", fontfamily=FONT_FAMILY,
                                     fontsize=BASE_SIZE - 1, color=_text_on(series.colour))
            if series.pattern:  # a number over a hatch pattern gets a light ground to stay readable
                for text in written:
                    text.set_color(INK)
                    text.set_bbox({"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none",
                                   "alpha": 0.9})
            base = [b + v for b, v in zip(base, values)]
    (axes.set_yticks if chart.horizontal else axes.set_xticks)(positions, _wrapped(chart.categories, chart.horizontal))
    if chart.horizontal:
        axes.invert_yaxis()
    _thresholds(axes, chart, locale)
    _legend(figure, axes, columns=min(4, len(chart.series)))


def _heatmap(figure: Figure, axes, chart, locale: str) -> None:
    low, high = chart.y_range or (0.0, 100.0)
    rows, columns = len(chart.series), len(chart.categories)
    for r, series in enumerate(chart.series):
        texts = series.texts or tuple("—" if v is None else one_decimal(v, locale) for v in series.values)
        for c, value in enumerate(series.values):
            colour = NO_VALUE if value is None else HEAT(min(1.0, max(0.0, (value - low) / ((high - low) or 1))))
            axes.add_patch(_cell(c, r, colour))
            axes.text(c + 0.5, r + 0.5, texts[c] if c < len(texts) else "", ha="center", va="center",
                      fontfamily=FONT_FAMILY, fontsize=BASE_SIZE - 1, color=_text_on(colour))
    axes.set_xlim(0, columns)
    axes.set_ylim(rows, 0)
    axes.set_xticks([c + 0.5 for c in range(columns)], _wrapped(chart.categories, False))
    axes.set_yticks([r + 0.5 for r in range(rows)], [s.name for s in chart.series])
    axes.xaxis.tick_top()
    axes.tick_params(length=0)
    for spine in axes.spines.values():
        spine.set_visible(False)


def _cell(column: int, row: int, colour) -> Rectangle:
    return Rectangle((column, row), 1, 1, facecolor=colour, edgecolor="white", linewidth=1.0)


def _wrapped(labels: Sequence[str], horizontal: bool) -> list[str]:
    """Long category labels on several lines, so that six themes fit side by side."""
    width = 26 if horizontal else 14
    return ["\n".join(textwrap.wrap(label, width, break_long_words=False)) or label for label in labels]


def _luminance(colour) -> float:
    r, g, b = to_rgb(colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _text_on(colour) -> str:
    """Dark text on a light fill, white text on a dark one."""
    return "#ffffff" if _luminance(colour) < 0.45 else INK


def _edge(colour) -> str:
    """A darker outline, which also draws the fill's hatch pattern."""
    r, g, b = to_rgb(colour)
    return "#%02x%02x%02x" % tuple(int(255 * c * 0.55) for c in (r, g, b))
