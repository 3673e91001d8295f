"""Chart data (`pin_grid.charts.ChartData`) drawn as SVG by matplotlib, for the PDF reports.

The dashboard draws the very same chart data with plotly in the browser; here no browser is
involved: matplotlib's SVG backend writes vector graphics on the server. Each chart is its own
`Figure` (never pyplot, whose state is shared between threads). Text stays text
(`svg.fonttype` "none") in the report's own font, so WeasyPrint sets it with the embedded font and
a reader can select and search it.
"""
from __future__ import annotations

import functools
import html
import io
import math
import re
import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display, no GUI toolkit: only the SVG canvas below is ever used

from matplotlib import font_manager  # noqa: E402  (after choosing the backend)
from matplotlib.backends.backend_svg import FigureCanvasSVG  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap, to_rgb  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.textpath import text_to_path  # noqa: E402
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
# Names are written as typed: a territory called « Fonds $ et $ dons » is not a formula.
matplotlib.rcParams["text.parse_math"] = False

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
TICK_SIZE = BASE_SIZE - 0.5  # tick labels and legend
VALUE_SIZE = BASE_SIZE - 1  # numbers written on bars and cells
NOTE_SIZE = BASE_SIZE - 1.5  # threshold labels, texts over points
TICK_LENGTH, TICK_PAD, LABEL_PAD = 3.0, 3.5, 4.0  # points (matplotlib's pads)
EDGE = 3.0  # points of white around the figure
LINE = 1.2  # matplotlib's line spacing

CM = 1 / 2.54


def chart_svg(chart, *, width_cm: float = 17.0, height_cm: float | None = None, locale: str = "fr") -> str:
    """The SVG document of `chart` (a `charts.ChartData`), `width_cm` wide."""
    draw = {"lines": _lines, "bars": _bars, "stacked_bars": _stacked_bars, "heatmap": _heatmap}.get(chart.kind)
    if draw is None:
        raise ValueError(f"unknown chart kind {chart.kind!r}")
    height_cm = height_cm or _default_height(chart)
    # No layout engine: the axes are placed from the size of their labels (`_place`). Matplotlib's
    # constrained layout drew each chart once more to measure it, and took half of its time.
    figure = Figure(figsize=(width_cm * CM, height_cm * CM))
    FigureCanvasSVG(figure)
    axes = figure.add_subplot()
    legend_rows = draw(figure, axes, chart, locale)
    _style(axes, chart, locale)
    _place(figure, axes, chart, locale, legend_rows)
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    return _lighter(out.getvalue())


_BARE_GROUP = re.compile(r'<g(?: id="[^"]*")?>')
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_NO_ROTATION = re.compile(r' transform="rotate\(-0 [^)]*\)"')
_ANCHORED = re.compile(r'(<text style="font-size: ([\d.]+)px; font-family: \'' + FONT_FAMILY
                       + r'\'; )text-anchor: (middle|end)(?:; )?([^"]*)" x="(-?[\d.]+)"([^>]*>)([^<]*)</text>')


def _lighter(svg: str) -> str:
    """The same drawing in fewer nodes: matplotlib wraps every artist in a `<g>` that only names it,
    turns each label by 0°, and adds metadata; WeasyPrint draws each node of the SVG, a few
    hundred per chart, and each centred or right-aligned text in a group of its own. Written by
    matplotlib one tag a line, the groups are unwrapped line by line (an SVG of another shape is
    returned as it is), and the texts start where their measured width puts them."""
    kept, groups = [], []
    for line in svg.split("\n"):
        tag = line.strip()
        if tag.startswith("<g"):
            groups.append(bool(_BARE_GROUP.fullmatch(tag)))
            if groups[-1]:
                continue
        elif tag == "</g>":
            if not groups:
                return svg
            if groups.pop():
                continue
        kept.append(line)
    if groups:
        return svg
    return _ANCHORED.sub(_started, _NO_ROTATION.sub("", _METADATA.sub("", "\n".join(kept), count=1)))


def _started(match: re.Match) -> str:
    """A centred or right-aligned text moved to start where it began: `x` is along its baseline,
    so a turned text (the value axis' title) moves along its own direction."""
    head, size, anchor, rest, x, tail, text = match.groups()
    width = _text_size(html.unescape(text), float(size))[0]
    x = float(x) - (width / 2 if anchor == "middle" else width)
    return f'{head}{rest}" x="{x:.6f}"{tail}{text}</text>'


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


def _legend(figure: Figure, axes, handles=None, columns: int | None = None) -> int:
    """The legend under the axes, centred; returns its number of rows."""
    handles = handles if handles is not None else axes.get_legend_handles_labels()[0]
    if not handles:
        return 0
    longest = max(len(h.get_label()) for h in handles)
    fitting = 1 if longest > 48 else 2 if longest > 28 else 3 if longest > 18 else 4
    columns = min(columns or fitting, fitting, len(handles))
    figure.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0), ncols=columns, frameon=False,
                  prop=_font(TICK_SIZE), borderaxespad=0.3)
    return math.ceil(len(handles) / columns)


def _style(axes, chart, locale: str) -> None:
    axes.tick_params(labelfontfamily=FONT_FAMILY, labelsize=TICK_SIZE, colors=INK, length=TICK_LENGTH)
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


def _place(figure: Figure, axes, chart, locale: str, legend_rows: int) -> None:
    """Put the axes where their tick labels, axis title, legend and the numbers written beside
    bars fit, from the size of those texts (the work of a layout engine, without drawing the
    chart once more to measure it)."""
    width, height = (size * 72 for size in figure.get_size_inches())  # points
    ticks = TICK_LENGTH + TICK_PAD
    left = right = top = bottom = EDGE
    if legend_rows:  # its rows and their spacing, its border, a gap above it
        bottom += TICK_SIZE * (LINE * legend_rows + 0.5 * (legend_rows - 1) + 0.8 + 0.3) + 4
    if chart.kind == "heatmap":
        left += _widest([s.name for s in chart.series], TICK_SIZE) + ticks
        top += _tallest(_wrapped(chart.categories, False), TICK_SIZE) + ticks
    else:
        title = BASE_SIZE * LINE + LABEL_PAD if chart.y_title else 0.0
        categories = list(chart.categories) if chart.kind == "lines" else _wrapped(chart.categories, chart.horizontal)
        values = _value_labels(axes, chart, locale)
        if chart.horizontal:
            left += _widest(categories, TICK_SIZE) + ticks
            bottom += title + TICK_SIZE * LINE + ticks
            written = _widest(_bar_texts(chart, locale), VALUE_SIZE) + 3 if chart.kind == "bars" else 0.0
            right += max(written, _widest(values[-1:], TICK_SIZE) / 2)
            # A category's label is centred on its bars and may be taller than their band.
            band = (height - top - bottom) / max(1, len(categories))
            overflow = max(0.0, _tallest(categories, TICK_SIZE) / 2 - band / 2)
            top, bottom = top + overflow, bottom + overflow
        else:
            left += title + _widest(values, TICK_SIZE) + ticks
            bottom += _tallest(categories, TICK_SIZE) + ticks
            notes = _widest([t.label for t in chart.thresholds], NOTE_SIZE)
            right += max(notes + 3 if notes else 0.0, _widest(categories[-1:], TICK_SIZE) / 2)
            written = chart.kind == "bars" or any(s.texts for s in chart.series)
            top += TICK_SIZE * LINE / 2 + (VALUE_SIZE * LINE + 5 if written else 0.0)
    inner_width, inner_height = max(width - left - right, 0.3 * width), max(height - top - bottom, 0.3 * height)
    axes.set_position([left / width, bottom / height, inner_width / width, inner_height / height])


@functools.lru_cache(maxsize=4096)  # the same labels come back in every report
def _text_size(text: str, size: float) -> tuple[float, float]:
    """Width and height, in points, of `text` (lines joined by « \\n ») in the report's font."""
    lines = text.split("\n")
    font = FontProperties(family=FONT_FAMILY, size=size)
    width = max(text_to_path.get_text_width_height_descent(line, font, ismath=False)[0] for line in lines)
    return width, size * LINE * len(lines)


def _widest(texts, size: float) -> float:
    return max((_text_size(t, size)[0] for t in texts if t), default=0.0)


def _tallest(texts, size: float) -> float:
    return max((_text_size(t, size)[1] for t in texts if t), default=0.0)


def _value_labels(axes, chart, locale: str) -> list[str]:
    """The numbers the value axis will show."""
    low, high = sorted(axes.get_xlim() if chart.horizontal else axes.get_ylim())
    locator = (axes.xaxis if chart.horizontal else axes.yaxis).get_major_locator()
    return [_number(v, locale) for v in locator.tick_values(low, high) if low - 1e-9 <= v <= high + 1e-9]


def _bar_texts(chart, locale: str) -> list[str]:
    """What `_bars` writes at the end of the bars."""
    return [text for series in chart.series
            for text in series.texts or (one_decimal(v, locale) for v in series.values if v is not None)]


def _thresholds(axes, chart, locale: str) -> None:
    """Reference lines (absolute bands), each labelled at the end of its line."""
    for threshold in chart.thresholds:
        line = axes.axvline if chart.horizontal else axes.axhline
        line(threshold.value, color="#6e7781", linewidth=0.9, linestyle="--", zorder=1)
        if chart.horizontal:
            axes.annotate(threshold.label, (threshold.value, 1), xycoords=("data", "axes fraction"),
                          xytext=(2, 2), textcoords="offset points", fontfamily=FONT_FAMILY,
                          fontsize=NOTE_SIZE, color="#57606a", rotation=90, va="top")
        else:
            axes.annotate(threshold.label, (1, threshold.value), xycoords=("axes fraction", "data"),
                          xytext=(3, 0), textcoords="offset points", fontfamily=FONT_FAMILY,
                          fontsize=NOTE_SIZE, color="#57606a", ha="left", va="center")


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
                              fontfamily=FONT_FAMILY, fontsize=NOTE_SIZE, color=INK)
    axes.set_xticks(x, chart.categories)
    axes.set_xlim(-0.3, len(x) - 0.7) if len(x) > 1 else axes.set_xlim(-1, 1)
    _thresholds(axes, chart, locale)
    return _legend(figure, axes)


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
        axes.bar_label(bars, labels=labels, padding=2, fontfamily=FONT_FAMILY, fontsize=VALUE_SIZE, color=INK)
    (axes.set_yticks if chart.horizontal else axes.set_xticks)(positions, _wrapped(chart.categories, chart.horizontal))
    if chart.horizontal:
        axes.invert_yaxis()  # the first category on top, as it is read
    _thresholds(axes, chart, locale)
    return _legend(figure, axes)


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
                                     fontsize=VALUE_SIZE, color=_text_on(series.colour))
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
    return _legend(figure, axes, columns=min(4, len(chart.series)))


def _heatmap(figure: Figure, axes, chart, locale: str) -> None:
    low, high = chart.y_range or (0.0, 100.0)
    rows, columns = len(chart.series), len(chart.categories)
    cells, colours = [], []
    for r, series in enumerate(chart.series):
        texts = series.texts or tuple("—" if v is None else one_decimal(v, locale) for v in series.values)
        for c, value in enumerate(series.values):
            colour = NO_VALUE if value is None else HEAT(min(1.0, max(0.0, (value - low) / ((high - low) or 1))))
            cells.append(((c, r), (c + 1, r), (c + 1, r + 1), (c, r + 1)))
            colours.append(colour)
            axes.text(c + 0.5, r + 0.5, texts[c] if c < len(texts) else "", ha="center", va="center",
                      fontfamily=FONT_FAMILY, fontsize=VALUE_SIZE, color=_text_on(colour))
    # One artist for every cell (a patch each, with its own limits and transforms, was half of a
    # heat map's time); not clipped: the cells fill the axes exactly, and a clipped cell is one
    # more path for WeasyPrint to draw.
    axes.add_collection(PolyCollection(cells, facecolors=colours, edgecolors="white", linewidths=1.0, clip_on=False),
                        autolim=False)
    axes.set_xlim(0, columns)
    axes.set_ylim(rows, 0)
    axes.set_xticks([c + 0.5 for c in range(columns)], _wrapped(chart.categories, False))
    axes.set_yticks([r + 0.5 for r in range(rows)], [s.name for s in chart.series])
    axes.xaxis.tick_top()
    axes.tick_params(length=0)
    for spine in axes.spines.values():
        spine.set_visible(False)
    return 0


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
