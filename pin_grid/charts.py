"""What each chart of the dashboards (and of the PDF) shows: pure functions that turn results
into chart data — series, labels, colours and patterns, the reference the symbols used, the chart
said in words and the same data as a table — and `to_plotly`, which turns chart data into a plotly
figure (a plain dict) for the browser. The PDF draws the very same chart data with matplotlib, so
screen and paper never disagree.

No Flask, no database, no plotting library. Texts go through the `_` parameter (a gettext
callable, the identity by default) so that pybabel extracts them and this module stays pure;
numbers are written in the language of `locale` (« 62,5 »).
"""
from __future__ import annotations

import datetime as dt
import functools
import html
import statistics
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from babel import numbers

from . import scoring
from .text import one_decimal

if TYPE_CHECKING:
    from .grid import Grid, GridCatalog, Theme
    from .services.results import AssessmentResults

Gettext = Callable[[str], str]


def _same(text: str) -> str:
    return text


# --- The chart-data contract (the dashboard and the PDF both depend on it) ---------------------

@dataclass(frozen=True)
class Table:
    """The same data as the chart, for screen readers and print."""

    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # display text, numbers already in the locale's form


@dataclass(frozen=True)
class Series:
    name: str  # legend label (a theme, a level, a territory row of a heat map)
    values: tuple[float | None, ...]  # one per category; None = no value (a gap)
    colour: str  # "#rrggbb"
    pattern: str = ""  # bar fill pattern, plotly shapes: "", "/", "\\", "x", ".", "+", "-", "|"
    marker: str = "circle"  # line marker: circle, square, diamond, triangle-up, cross, x
    dash: str = "solid"  # solid, dash, dot, dashdot
    errors: tuple[float | None, ...] | None = None  # ± spread per category (the cohort's standard deviation)
    texts: tuple[str, ...] | None = None  # text drawn on each point / bar / cell (a symbol « ++ », « 75,0 »)
    # stacked_bars: series of another group are stacked apart, beside the main stack, under that
    # group's name (the levels left out of the score, the targets of an action plan).
    group: str = ""


@dataclass(frozen=True)
class Threshold:
    """A reference line across the value axis (an absolute band)."""

    value: float
    label: str


@dataclass(frozen=True)
class ChartData:
    key: str  # stable id, also the HTML id: "scores-by-year", "levels-latest", "heatmap", …
    kind: str  # "lines" | "bars" | "stacked_bars" | "heatmap"
    title: str
    summary: str  # the chart said in words
    categories: tuple[str, ...]  # x axis (heat map: the columns)
    series: tuple[Series, ...]  # heat map: one series per row
    table: Table
    y_title: str = ""  # the value axis' title (x when drawn horizontally)
    y_range: tuple[float, float] | None = None  # the value axis' range (heat map: the colour scale's)
    thresholds: tuple[Threshold, ...] = ()
    reference: str = ""  # the reference used, in words; "" if none
    horizontal: bool = False  # bars drawn horizontally (long labels)


# --- Fixed colours and patterns -----------------------------------------------------------------

# The levels keep their colours on every chart, screen and paper, and a pattern each, so that they
# are told apart without colour (and in black and white).
LEVEL_COLOURS: Mapping[str, str] = {
    scoring.IMPLANTE: "#1b7837",
    scoring.PARTIEL: "#f1a340",
    scoring.NON_IMPLANTE: "#b2182b",
    scoring.NE_SAIS_PAS: "#7f7f7f",
    scoring.SANS_OBJET: "#c7c7c7",
}
LEVEL_PATTERNS: Mapping[str, str] = {
    scoring.IMPLANTE: "",
    scoring.PARTIEL: "/",
    scoring.NON_IMPLANTE: "x",
    scoring.NE_SAIS_PAS: ".",
    scoring.SANS_OBJET: "-",
}
# The five components in the grid's order (Okabe–Ito colours, safe for colour-blind readers), each
# with its own marker; structures apart: dashed, with a marker of their own.
COMPONENT_STYLES: tuple[tuple[str, str], ...] = (
    ("#0072b2", "circle"), ("#e69f00", "square"), ("#009e73", "diamond"), ("#cc79a7", "triangle-up"),
    ("#d55e00", "cross"),
)
STRUCTURES_STYLE = ("#444444", "x", "dash")
TERRITORY_COLOUR = "#0b4f8a"  # the app's accent: « this territory », « this year »
REFERENCE_COLOUR = "#9e9e9e"  # the cohort, the previous year
MOVEMENT = {  # improved, held, fell, not comparable
    "up": ("#1b7837", ""), "same": ("#bdbdbd", "."), "down": ("#b2182b", "x"), "none": ("#eeeeee", "-"),
}
ACTION_STATES = {"overdue": ("#b2182b", "x"), "upcoming": ("#0072b2", ""), "undated": ("#9e9e9e", "."),
                 "target": ("#e69f00", "/")}
# Heat map cells: light to dark blue (one hue: readable by colour-blind readers; the scores are
# written in the cells too).
HEATMAP_SCALE = ((0.0, "#f7fbff"), (0.5, "#6baed6"), (1.0, "#08306b"))
FONT = "DejaVu Sans, system-ui, sans-serif"
NO_VALUE = "—"
# The hard statements shown at most.
HARD_STATEMENTS = 10


# --- Small helpers ------------------------------------------------------------------------------

def _english(locale: str) -> bool:
    return str(locale).startswith("en")


@functools.lru_cache(maxsize=8192)  # scores take few distinct values; a heat map writes thousands
def score_text(value: float | None, locale: str) -> str:
    return NO_VALUE if value is None else one_decimal(value, locale)


@functools.lru_cache(maxsize=4096)
def count_text(value: int, locale: str) -> str:
    """An integer as written in `locale` (« 1 000 » in French)."""
    return numbers.format_decimal(value, locale="en" if _english(locale) else "fr_CA")


def _counted(n: int, one: str, many: str, locale: str) -> str:
    """`one` or `many` (both already translated, with `%(n)s`) by the plural rule of the language:
    French takes the singular for 0 and 1, English for 1 only."""
    singular = n == 1 if _english(locale) else n < 2
    return (one if singular else many) % {"n": count_text(n, locale)}


def _territories(n: int, _: Gettext, locale: str, partner: bool = False) -> str:
    if partner:
        return _counted(n, _("%(n)s point de vue"), _("%(n)s points de vue"), locale)
    return _counted(n, _("%(n)s territoire"), _("%(n)s territoires"), locale)


def theme_label(theme: Theme, locale: str) -> str:
    return f"{theme.letter} · {theme.name.get(locale)}"


def _theme_score(results: AssessmentResults, theme_id: str) -> float | None:
    return next((t.score.score for t in results.themes if t.theme.id == theme_id), None)


def _theme_scores(results: AssessmentResults) -> dict[str, float | None]:
    return {t.theme.id: t.score.score for t in results.themes}


def _component_style(index: int) -> tuple[str, str]:
    return COMPONENT_STYLES[index % len(COMPONENT_STYLES)]


def symbol_words(symbol: str | None, kind: str, _: Gettext = _same) -> str:
    """A symbol and what it means (the same words as the pages' symbols): never by colour alone."""
    if symbol is None:
        return NO_VALUE
    if kind == "absolute":
        meaning = {"++": _("au seuil ++ ou plus"), "+": _("au seuil + ou plus"), "=": _("entre les seuils"),
                   "-": _("sous le seuil -"), "--": _("sous le seuil --")}[symbol]
    else:
        meaning = {"++": _("nettement au-dessus"), "+": _("au-dessus"), "=": _("dans la moyenne"),
                   "-": _("au-dessous"), "--": _("nettement au-dessous")}[symbol]
    return f"{symbol} ({meaning})"


def _band(value: float, locale: str) -> str:
    return count_text(int(value), locale) if float(value).is_integer() else one_decimal(value, locale)


def band_labels(bands: Mapping[str, float], locale: str) -> tuple[Threshold, ...]:
    return (Threshold(bands["++"], f"++ ≥ {_band(bands['++'], locale)}"),
            Threshold(bands["+"], f"+ ≥ {_band(bands['+'], locale)}"),
            Threshold(bands["-"], f"- < {_band(bands['-'], locale)}"),
            Threshold(bands["--"], f"-- < {_band(bands['--'], locale)}"))


def reference_words(reference: scoring.Reference, year: int | None, _: Gettext = _same, locale: str = "fr") -> str:
    """What the symbols were measured against, in words: the year's cohort, or the absolute bands."""
    size = _territories(reference.cohort_size, _, locale)
    when = str(year) if year is not None else ""
    if reference.kind == "cohort":
        return _("cohorte %(year)s, %(size)s") % {"year": when, "size": size}
    bands = ", ".join(t.label for t in band_labels(reference.bands, locale))
    return _("seuils absolus (%(bands)s), la cohorte %(year)s ne comptant que %(size)s") % {
        "bands": bands, "year": when, "size": size}


def profile_words(profile: scoring.ProfileResult | None, grid: Grid, kind: str, locale: str) -> str:
    """« A — Exemplaire », worded for the reference used."""
    if profile is None:
        return NO_VALUE
    sub = grid.profiles[profile.letter].subprofiles[profile.subprofile]
    return f"{profile.letter} — {sub.label_for(kind).get(locale)}"


def _shortened(text: str, width: int = 48) -> str:
    return textwrap.shorten(" ".join(text.split()), width=width, placeholder=" …")


# --- Territory dashboard (and the PDF) -------------------------------------------------------

def theme_scores_by_year(history: Sequence[tuple[str, AssessmentResults]], *, _: Gettext = _same,
                         locale: str = "fr") -> ChartData:
    """The score of each theme at each assessment of `history` (label, results), oldest first:
    one line per theme; structures drawn apart (dashed, their own marker)."""
    labels = tuple(label for label, _results in history)
    themes = [t.theme for t in history[-1][1].themes] if history else []
    series, rows, said = [], [], []
    components = 0
    for theme in themes:
        values = tuple(_theme_score(results, theme.id) for _label, results in history)
        if theme.is_component:
            colour, marker = _component_style(components)
            components += 1
            dash = "solid"
        else:
            colour, marker, dash = STRUCTURES_STYLE
        name = theme_label(theme, locale)
        series.append(Series(name, values, colour, marker=marker, dash=dash))
        rows.append((name, *(score_text(v, locale) for v in values)))
        if len(values) > 1:
            first, last = score_text(values[0], locale), score_text(values[-1], locale)
            said.append(f"{theme.name.get(locale)} {first} → {last}")
        elif values:
            said.append(f"{theme.name.get(locale)} {score_text(values[0], locale)}")
    if not history:
        summary = _("Aucune évaluation collective finalisée : pas encore de score à suivre.")
    elif len(history) == 1:
        summary = _("Score en %(label)s : %(scores)s.") % {"label": labels[0], "scores": " ; ".join(said)}
    else:
        summary = _("Score de %(first)s à %(last)s : %(scores)s.") % {
            "first": labels[0], "last": labels[-1], "scores": " ; ".join(said)}
    return ChartData(
        key="scores-by-year", kind="lines", title=_("Score des six thèmes, évaluation après évaluation"),
        summary=summary, categories=labels, series=tuple(series),
        table=Table(_("Score de chaque thème à chaque évaluation collective finalisée"), (_("Thème"), *labels),
                    tuple(rows)),
        y_title=_("Score (0 à 100)"), y_range=(0, 100))


def level_counts(results: AssessmentResults, grid: Grid, *, label: str, _: Gettext = _same,
                 locale: str = "fr") -> ChartData:
    """How many statements of each theme are at each level of `grid` (the version the assessment
    was rated on): the scored levels stacked, the unscored ones (« On ne sait pas », « Sans
    objet ») stacked apart."""
    unscored_group = _("Hors du score")
    themes = results.themes
    categories = tuple(theme_label(t.theme, locale) for t in themes)
    series = []
    for level in grid.levels:
        values = tuple(t.score.counts.get(level.code, 0) for t in themes)
        series.append(Series(level.label.get(locale), tuple(float(v) for v in values),
                             LEVEL_COLOURS.get(level.code, REFERENCE_COLOUR), LEVEL_PATTERNS.get(level.code, ""),
                             texts=tuple(count_text(v, locale) if v else "" for v in values),
                             group="" if level.is_scored else unscored_group))
    rows, said = [], []
    for t in themes:
        counts = [(lv.label.get(locale), t.score.counts.get(lv.code, 0)) for lv in grid.levels]
        rows.append((theme_label(t.theme, locale), *(count_text(c, locale) for _name, c in counts),
                     f"{count_text(t.score.answered, locale)} / {count_text(t.score.total, locale)}"))
        said.append(f"{t.theme.name.get(locale)} : " + ", ".join(
            f"{name} {count_text(c, locale)}" for name, c in counts if c))
    unscored = ", ".join(f"« {lv.label.get(locale)} »" for lv in grid.levels if not lv.is_scored)
    summary = (_("Évaluation du %(date)s : %(counts)s.") % {"date": label, "counts": " ; ".join(said)} + " "
               + _("%(levels)s : comptés à part, hors du score.") % {"levels": unscored})
    return ChartData(
        key="levels-latest", kind="stacked_bars", title=_("Niveaux de la dernière évaluation, thème par thème"),
        summary=summary, categories=categories, series=tuple(series),
        table=Table(_("Nombre d'énoncés à chaque niveau, par thème, à l'évaluation du %(date)s")
                    % {"date": label}, (_("Thème"), *(lv.label.get(locale) for lv in grid.levels), _("Cotés")),
                    tuple(rows)),
        y_title=_("Nombre d'énoncés"), horizontal=True)


@dataclass(frozen=True)
class Placed:
    """One assessment placed against the cohort of its year."""

    label: str  # its year, or its date when the year has several
    year: int
    results: AssessmentResults
    standing: scoring.Standing
    reference: scoring.Reference


def ensemble_by_year(placed: Sequence[Placed], grid: Grid, *, _: Gettext = _same, locale: str = "fr") -> ChartData:
    """The ensemble at each assessment, with its symbol and profile letter drawn on the bar; each
    year against its own cohort (or the absolute bands, said in `reference`). `grid` gives the
    profile names (the version in force)."""
    labels = tuple(p.label for p in placed)
    values = tuple(p.standing.ensemble for p in placed)
    texts = tuple(f"{p.standing.ensemble_symbol or NO_VALUE} · "
                  f"{p.standing.profile.letter if p.standing.profile else NO_VALUE}" for p in placed)
    rows, said, references = [], [], {}
    for p in placed:
        kind = p.reference.kind
        profile = profile_words(p.standing.profile, grid, kind, locale)
        rows.append((p.label, score_text(p.standing.ensemble, locale),
                     symbol_words(p.standing.ensemble_symbol, kind, _), profile,
                     reference_words(p.reference, p.year, _, locale)))
        said.append(_("%(label)s : %(score)s, symbole %(symbol)s, profil %(profile)s") % {
            "label": p.label, "score": score_text(p.standing.ensemble, locale),
            "symbol": p.standing.ensemble_symbol or NO_VALUE, "profile": profile})
        references[p.year] = reference_words(p.reference, p.year, _, locale)
    if placed:
        summary = _("Ensemble des cinq composantes : %(values)s.") % {"values": " ; ".join(said)}
    else:
        summary = _("Aucune évaluation collective finalisée : pas encore d'ensemble à suivre.")
    return ChartData(
        key="ensemble-by-year", kind="bars", title=_("Ensemble, symbole et profil, année après année"),
        summary=summary, categories=labels,
        series=(Series(_("Ensemble des cinq composantes"), values, TERRITORY_COLOUR, texts=texts),),
        table=Table(_("Ensemble, symbole et profil de chaque évaluation collective finalisée"),
                    (_("Évaluation"), _("Ensemble"), _("Symbole"), _("Profil"), _("Référence des symboles")),
                    tuple(rows)),
        y_title=_("Ensemble (0 à 100)"), y_range=(0, 100),
        reference=_("Référence des symboles : %(references)s.") % {
            "references": " ; ".join(references.values())} if references else "")


def standing_against_cohort(results: AssessmentResults, statistics: scoring.CohortStatistics,
                            reference: scoring.Reference, *, _: Gettext = _same, locale: str = "fr",
                            year: int | None = None) -> ChartData:
    """The five components and the ensemble: the territory's scores with their symbols; with a
    cohort reference, the cohort's means with their spread (± one standard deviation); with the
    absolute bands, the bands as lines instead. `reference` says which."""
    components = results.components
    categories = (*(theme_label(t.theme, locale) for t in components), _("Ensemble des cinq composantes"))
    scores = (*(t.score.score for t in components), results.ensemble)
    spreads = (*(statistics.components.get(t.theme.id) for t in components), statistics.ensemble)
    symbols = tuple(reference.symbol(score, spread) for score, spread in zip(scores, spreads))
    mine = Series(_("Ce territoire"), scores, TERRITORY_COLOUR, texts=tuple(s or "" for s in symbols))
    words = reference_words(reference, year, _, locale)
    names = (*(t.theme.name.get(locale) for t in components), _("ensemble"))
    if reference.kind == "cohort":
        means = tuple(s.mean if s else None for s in spreads)
        series = (mine, Series(_("Moyenne de la cohorte"), means, REFERENCE_COLOUR, "/",
                               errors=tuple(s.deviation if s else None for s in spreads)))
        thresholds: tuple[Threshold, ...] = ()
        headers = (_("Thème"), _("Score"), _("Symbole"), _("Moyenne de la cohorte"), _("Écart-type"))
        rows = tuple((category, score_text(score, locale), symbol_words(symbol, reference.kind, _),
                      score_text(spread.mean if spread else None, locale),
                      score_text(spread.deviation if spread else None, locale))
                     for category, score, symbol, spread in zip(categories, scores, symbols, spreads))
        said = [_("%(theme)s %(score)s (moyenne %(mean)s ± %(spread)s) : %(symbol)s") % {
            "theme": name, "score": score_text(score, locale), "symbol": symbol,
            "mean": score_text(spread.mean if spread else None, locale),
            "spread": score_text(spread.deviation if spread else None, locale)}
            if score is not None and spread else f"{name} : {_('pas de score')}"
            for name, score, symbol, spread in zip(names, scores, symbols, spreads)]
        summary = _("Par rapport à la %(reference)s : %(scores)s.") % {"reference": words, "scores": " ; ".join(said)}
        title = _("Le territoire par rapport à la cohorte de l'année")
    else:
        series = (mine,)
        thresholds = band_labels(reference.bands, locale)
        headers = (_("Thème"), _("Score"), _("Symbole"))
        rows = tuple((category, score_text(score, locale), symbol_words(symbol, reference.kind, _))
                     for category, score, symbol in zip(categories, scores, symbols))
        said = [f"{name} {score_text(score, locale)} : {symbol}" if score is not None
                else f"{name} : {_('pas de score')}" for name, score, symbol in zip(names, scores, symbols)]
        summary = _("Par rapport aux %(reference)s : %(scores)s.") % {"reference": words, "scores": " ; ".join(said)}
        title = _("Le territoire par rapport aux seuils absolus")
    return ChartData(
        key="standing", kind="bars", title=title, summary=summary, categories=categories, series=series,
        table=Table(_("Score, symbole et référence de chaque composante et de l'ensemble"), headers, rows),
        y_title=_("Score (0 à 100)"), y_range=(0, 100), thresholds=thresholds,
        reference=_("Référence des symboles : %(reference)s.") % {"reference": words}, horizontal=True)


class PlannedLine(Protocol):
    """A line of an action plan: the columns of an answer that plan something."""

    item_id: str
    level: str | None
    target: str | None
    priority: bool
    action: str
    action_owner: str
    action_due: dt.date | None


def action_state(line: PlannedLine, today: dt.date) -> str | None:
    """« overdue », « upcoming », « undated » for an action (something to do, someone, a date);
    None for a priority or a target without an action."""
    if not (line.action or line.action_owner or line.action_due):
        return None
    if line.action_due is None:
        return "undated"
    return "overdue" if line.action_due < today else "upcoming"


def action_plan(lines: Sequence[PlannedLine], grid: Grid, *, today: dt.date, label: str, _: Gettext = _same,
                locale: str = "fr") -> ChartData:
    """The action plan of an assessment (rated on `grid`), theme by theme: its actions overdue,
    to come and without a due date, and beside them the targets the team set."""
    states = {"overdue": _("En retard"), "upcoming": _("À venir"), "undated": _("Sans échéance")}
    theme_of = {item_id: theme for theme in grid.themes for item_id in (i.id for i in theme.items)}
    themes = grid.themes
    counts = {state: [0] * len(themes) for state in (*states, "target")}
    index = {theme.id: n for n, theme in enumerate(themes)}
    ordered = sorted((line for line in lines if line.item_id in theme_of),
                     key=lambda line: (index[theme_of[line.item_id].id], line.action_due is None,
                                       line.action_due or dt.date.min, grid.position[line.item_id]))
    rows = []
    for line in ordered:
        n = index[theme_of[line.item_id].id]
        state = action_state(line, today)
        if state:
            counts[state][n] += 1
        if line.target:
            counts["target"][n] += 1
        level = grid.level.get(line.level) if line.level else None
        target = grid.level.get(line.target) if line.target else None
        rows.append((theme_label(theme_of[line.item_id], locale),
                     f"{line.item_id} {grid.items[line.item_id].text.get(locale)}",
                     level.label.get(locale) if level else _("sans réponse"),
                     target.label.get(locale) if target else "",
                     _("oui") if line.priority else _("non"), line.action, line.action_owner,
                     line.action_due.isoformat() if line.action_due else "", states.get(state, "")))
    series = [Series(name, tuple(float(c) for c in counts[state]), ACTION_STATES[state][0], ACTION_STATES[state][1],
                     texts=tuple(count_text(c, locale) if c else "" for c in counts[state]))
              for state, name in states.items()]
    series.append(Series(_("Cibles fixées par l'équipe"), tuple(float(c) for c in counts["target"]),
                         *ACTION_STATES["target"],
                         texts=tuple(count_text(c, locale) if c else "" for c in counts["target"]),
                         group=_("Cibles")))
    total = {state: sum(counts[state]) for state in counts}
    actions = sum(total[state] for state in states)
    if not rows:
        summary = _("Aucune piste d'action, priorité ni cible inscrite à l'évaluation du %(date)s.") % {
            "date": label}
    else:
        summary = _("Plan d'action de l'évaluation du %(date)s : %(actions)s, dont %(overdue)s en retard, "
                    "%(upcoming)s à venir et %(undated)s sans échéance ; "
                    "cibles fixées par l'équipe : %(targets)s.") % {
            "date": label, "actions": _counted(actions, _("%(n)s piste d'action"), _("%(n)s pistes d'action"), locale),
            "overdue": count_text(total["overdue"], locale), "upcoming": count_text(total["upcoming"], locale),
            "undated": count_text(total["undated"], locale), "targets": count_text(total["target"], locale)}
        upcoming = [line for line in ordered if action_state(line, today) == "upcoming"]
        if upcoming:
            soonest = min(upcoming, key=lambda line: line.action_due)
            summary += " " + _("Prochaine échéance : %(date)s (%(item)s).") % {
                "date": soonest.action_due.isoformat(), "item": soonest.item_id}
    return ChartData(
        key="actions", kind="stacked_bars", title=_("Plan d'action : pistes par thème et échéances"),
        summary=summary, categories=tuple(theme_label(t, locale) for t in themes), series=tuple(series),
        table=Table(_("Priorités, cibles et pistes d'action de l'évaluation du %(date)s "
                      "(échéances au %(today)s)") % {
            "date": label, "today": today.isoformat()},
            (_("Thème"), _("Énoncé"), _("Niveau"), _("Cible"), _("Priorité"), _("Piste d'action"), _("Qui"),
             _("Pour quand"), _("État")), tuple(rows)),
        y_title=_("Nombre de pistes d'action"), horizontal=True)


# --- Regional dashboard ---------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """A territory (or a partner's point of view) in a regional chart, under the label this
    person may see."""

    label: str
    results: AssessmentResults
    standing: scoring.Standing


def _unique(labels: Sequence[str]) -> list[str]:
    """Labels made unique (a heat map row per label): a second « Verdun » becomes « Verdun (2) »."""
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return unique


def by_ensemble(rows: Sequence[Row]) -> list[Row]:
    """Highest ensemble first; rows without an ensemble last; the caller's order among equals."""
    return sorted(rows, key=lambda row: (row.standing.ensemble is None, -(row.standing.ensemble or 0)))


def heatmap(rows: Sequence[Row], grid: Grid, *, year: int, reference_kind: str, _: Gettext = _same,
            locale: str = "fr", partner: bool = False) -> ChartData:
    """Territories × themes: the score of each theme and the ensemble, one row per territory in
    the order given (`by_ensemble` for the highest first)."""
    categories = (*(theme_label(t, locale) for t in grid.themes), _("Ensemble"))
    labels = _unique([row.label for row in rows])
    series, table = [], []
    theme_ids = [t.id for t in grid.themes]
    scores = [_theme_scores(row.results) for row in rows]  # once per row: a heat map may have 5,000
    for label, row, score in zip(labels, rows, scores):
        values = (*(score.get(theme_id) for theme_id in theme_ids), row.standing.ensemble)
        texts = tuple(score_text(v, locale) for v in values)
        series.append(Series(label, values, TERRITORY_COLOUR, texts=texts))
        table.append((label, *texts, profile_words(row.standing.profile, grid, reference_kind, locale)))
    scored = [(label, row.standing.ensemble) for label, row in zip(labels, rows) if row.standing.ensemble is not None]
    said = [_("%(count)s en %(year)s") % {"count": _territories(len(rows), _, locale, partner), "year": year}]
    if scored:
        top = max(scored, key=lambda pair: pair[1])
        bottom = min(scored, key=lambda pair: pair[1])
        said.append(_("ensemble le plus haut : %(label)s (%(score)s) ; le plus bas : %(other)s (%(other_score)s) ; "
                      "médiane %(median)s") % {
            "label": top[0], "score": score_text(top[1], locale), "other": bottom[0],
            "other_score": score_text(bottom[1], locale),
            "median": score_text(statistics.median(score for _label, score in scored), locale)})
        means = []
        for theme in grid.themes:
            present = [v for score in scores if (v := score.get(theme.id)) is not None]
            if present:
                means.append((statistics.fmean(present), theme))
        if means:
            low, theme = min(means, key=lambda pair: pair[0])
            said.append(_("thème le plus faible en moyenne : %(theme)s (%(score)s)") % {
                "theme": theme.name.get(locale), "score": score_text(low, locale)})
    return ChartData(
        key="heatmap", kind="heatmap",
        title=_("Carte de chaleur : le score de chaque thème, territoire par territoire"),
        summary=" ; ".join(said) + ".", categories=categories, series=tuple(series),
        table=Table(_("Score de chaque thème et ensemble en %(year)s") % {"year": year},
                    (_("Point de vue") if partner else _("Territoire"), *categories, _("Profil")), tuple(table)),
        y_title=_("Score (0 à 100)"), y_range=(0, 100))


def _profile_keys(grid: Grid) -> list[tuple[str, str]]:
    return [(letter, slug) for letter, profile in grid.profiles.items() for slug in profile.subprofiles]


def _profile_counts(rows: Sequence[Row]) -> dict[tuple[str, str] | None, int]:
    counts: dict[tuple[str, str] | None, int] = {}
    for row in rows:
        p = row.standing.profile
        key = (p.letter, p.subprofile) if p else None
        counts[key] = counts.get(key, 0) + 1
    return counts


def _change(n: int, locale: str) -> str:
    if n == 0:
        return "="
    return ("+" if n > 0 else "−") + count_text(abs(n), locale)


def profile_distribution(rows: Sequence[Row], previous: Sequence[Row] | None, grid: Grid, *, year: int,
                         previous_year: int | None, reference_kind: str, _: Gettext = _same,
                         locale: str = "fr", partner: bool = False) -> ChartData:
    """How many territories fall in each profile and sub-profile this year, beside the previous
    year's (`previous`, None when there is no earlier year)."""
    keys: list[tuple[str, str] | None] = list(_profile_keys(grid))
    now = _profile_counts(rows)
    before = _profile_counts(previous) if previous is not None else {}
    if now.get(None) or before.get(None):
        keys.append(None)

    def name(key):
        if key is None:
            return _("Sans profil")
        letter, slug = key
        return f"{letter} · {grid.profiles[letter].subprofiles[slug].label_for(reference_kind).get(locale)}"

    categories = tuple(name(key) for key in keys)
    series = []
    if previous is not None:
        values = [before.get(key, 0) for key in keys]
        series.append(Series(str(previous_year), tuple(float(v) for v in values), REFERENCE_COLOUR, "/",
                             texts=tuple(count_text(v, locale) for v in values)))
    values = [now.get(key, 0) for key in keys]
    series.append(Series(str(year), tuple(float(v) for v in values), TERRITORY_COLOUR,
                         texts=tuple(count_text(v, locale) for v in values)))

    def letters(counts):
        parts = []
        for letter in grid.profiles:
            total = sum(c for key, c in counts.items() if key and key[0] == letter)
            parts.append(f"{letter} {count_text(total, locale)}")
        if counts.get(None):
            parts.append(_("sans profil %(n)s") % {"n": count_text(counts[None], locale)})
        return ", ".join(parts)

    summary = _("En %(year)s, %(count)s : %(profiles)s.") % {
        "year": year, "count": _territories(len(rows), _, locale, partner), "profiles": letters(now)}
    headers = [_("Profil et sous-profil")]
    if previous is not None:
        summary += " " + _("En %(year)s, %(count)s : %(profiles)s.") % {
            "year": previous_year, "count": _territories(len(previous), _, locale, partner),
            "profiles": letters(before)}
        headers.append(str(previous_year))
    headers.append(str(year))
    if previous is not None:
        headers.append(_("Évolution"))
    table = []
    for key, category in zip(keys, categories):
        row = [category]
        if previous is not None:
            row.append(count_text(before.get(key, 0), locale))
        row.append(count_text(now.get(key, 0), locale))
        if previous is not None:
            row.append(_change(now.get(key, 0) - before.get(key, 0), locale))
        table.append(tuple(row))
    return ChartData(
        key="profiles", kind="bars", title=_("Répartition des profils et des sous-profils"), summary=summary,
        categories=categories, series=tuple(series),
        table=Table(_("Nombre de territoires par profil et sous-profil") if not partner
                    else _("Nombre de points de vue par profil et sous-profil"), tuple(headers), tuple(table)),
        y_title=_("Nombre de points de vue") if partner else _("Nombre de territoires"), horizontal=True)


class StatementTally(Protocol):
    """How often one statement of one grid version was rated « non implanté » and « on ne sait
    pas » in a group, and how many of the group were rated on that version."""

    item_id: str
    version: str
    non_implante: int
    ne_sais_pas: int
    rated: int


def hard_statements(tallies: Sequence[StatementTally], grids: GridCatalog, *, year: int, _: Gettext = _same,
                    locale: str = "fr", partner: bool = False, limit: int = HARD_STATEMENTS) -> ChartData:
    """The statements most often « non implanté » or « on ne sait pas »: where regional support
    would help most. Statements are counted per grid version (ids differ across versions), and
    each says its version."""
    shown = sorted((t for t in tallies if t.non_implante + t.ne_sais_pas),
                   key=lambda t: (-(t.non_implante + t.ne_sais_pas), -t.non_implante, t.version, t.item_id))[:limit]
    current = grids.current
    non, unknown = (current.level[code].label.get(locale) for code in (scoring.NON_IMPLANTE, scoring.NE_SAIS_PAS))
    versions = {t.version: t.rated for t in tallies}
    several = len(versions) > 1

    def text(t):
        item = grids.of(t.version).items.get(t.item_id)
        return item.text.get(locale) if item else ""

    categories = tuple(f"{t.item_id}{f' ({t.version})' if several else ''} · {_shortened(text(t))}" for t in shown)
    series = tuple(
        Series(label, tuple(float(getattr(t, code)) for t in shown), LEVEL_COLOURS[code], LEVEL_PATTERNS[code],
               texts=tuple(count_text(getattr(t, code), locale) if getattr(t, code) else "" for t in shown))
        for code, label in ((scoring.NON_IMPLANTE, non), (scoring.NE_SAIS_PAS, unknown)))
    rows = tuple((t.item_id, t.version, text(t), count_text(t.non_implante, locale), count_text(t.ne_sais_pas, locale),
                  count_text(t.rated, locale)) for t in shown)
    if shown:
        said = [_("%(item)s (grille %(version)s) : %(non)s « %(non_label)s », %(unknown)s « %(unknown_label)s » "
                  "sur %(rated)s") % {
            "item": t.item_id, "version": t.version, "non": count_text(t.non_implante, locale), "non_label": non,
            "unknown": count_text(t.ne_sais_pas, locale), "unknown_label": unknown,
            "rated": count_text(t.rated, locale)} for t in shown]
        summary = _("Les énoncés le plus souvent cotés « %(non)s » ou « %(unknown)s » en %(year)s : "
                    "%(list)s.") % {
            "non": non, "unknown": unknown, "year": year, "list": " ; ".join(said)}
    else:
        summary = _("Aucun énoncé coté « %(non)s » ni « %(unknown)s » en %(year)s.") % {
            "non": non, "unknown": unknown, "year": year}
    per_version = " ; ".join(_("grille %(version)s : %(count)s") % {
        "version": version, "count": _territories(count, _, locale, partner)}
        for version, count in sorted(versions.items()))
    return ChartData(
        key="hard-statements", kind="stacked_bars",
        title=_("Les énoncés le plus souvent « %(non)s » ou « %(unknown)s »") % {"non": non, "unknown": unknown},
        summary=summary, categories=categories, series=series,
        table=Table(_("Énoncés les plus souvent cotés « %(non)s » ou « %(unknown)s » en %(year)s, "
                      "par version de la grille") % {
            "non": non, "unknown": unknown, "year": year},
            (_("Énoncé"), _("Version de la grille"), _("Texte"), non, unknown,
             _("Points de vue notés avec cette version") if partner else _("Territoires notés avec cette version")),
            rows),
        y_title=_("Nombre de points de vue") if partner else _("Nombre de territoires"),
        reference=_("Chaque énoncé est compté dans sa version de la grille (%(versions)s).") % {
            "versions": per_version} if versions else "",
        horizontal=True)


def _moved(before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return "none"
    # Scores are shown with one decimal: what looks the same is the same.
    before, after = round(before, 1), round(after, 1)
    return "up" if after > before else "down" if after < before else "same"


def movement(pairs: Sequence[tuple[AssessmentResults, AssessmentResults]], grid: Grid, *, year: int,
             previous_year: int | None, _: Gettext = _same, locale: str = "fr", partner: bool = False) -> ChartData:
    """How many territories improved, held or fell on each theme (and the ensemble) since the
    previous year: `pairs` holds (before, after) for each territory rated both years."""
    names = {"up": _("En hausse"), "same": _("Stable"), "down": _("En baisse"), "none": _("Sans score à comparer")}
    categories = (*(theme_label(t, locale) for t in grid.themes), _("Ensemble"))
    counts = {state: [0] * len(categories) for state in names}
    for before, after in pairs:
        old, new = _theme_scores(before), _theme_scores(after)
        for n, theme in enumerate(grid.themes):
            counts[_moved(old.get(theme.id), new.get(theme.id))][n] += 1
        counts[_moved(before.ensemble, after.ensemble)][len(grid.themes)] += 1
    series = tuple(Series(name, tuple(float(c) for c in counts[state]), *MOVEMENT[state],
                          texts=tuple(count_text(c, locale) if c else "" for c in counts[state]))
                   for state, name in names.items() if state != "none" or any(counts["none"]))
    rows = tuple((category, *(count_text(counts[state][n], locale) for state in names))
                 for n, category in enumerate(categories))
    if previous_year is None:
        summary = _("Pas d'année précédente à comparer à %(year)s.") % {"year": year}
    elif not pairs:
        summary = _("Aucun territoire n'a d'évaluation en %(before)s et en %(after)s à comparer.") % {
            "before": previous_year, "after": year}
    else:
        said = [_("%(theme)s : %(up)s en hausse, %(same)s, %(down)s en baisse") % {
            "theme": name, "up": count_text(counts["up"][n], locale),
            "same": _counted(counts["same"][n], _("%(n)s stable"), _("%(n)s stables"), locale),
            "down": count_text(counts["down"][n], locale)}
            for n, name in enumerate((*(t.name.get(locale) for t in grid.themes), _("ensemble")))]
        summary = _("De %(before)s à %(after)s, %(count)s : %(themes)s.") % {
            "before": previous_year, "after": year, "count": _territories(len(pairs), _, locale, partner),
            "themes": " ; ".join(said)}
    return ChartData(
        key="movement", kind="stacked_bars",
        title=_("Évolution depuis l'année précédente, thème par thème"), summary=summary,
        categories=categories, series=series,
        table=Table(_("Nombre de territoires en hausse, stables ou en baisse depuis %(before)s") % {
            "before": previous_year if previous_year is not None else NO_VALUE},
            (_("Thème"), *names.values()), rows),
        y_title=_("Nombre de points de vue") if partner else _("Nombre de territoires"),
        reference=_("Comparaison de %(before)s à %(after)s, pour chaque territoire évalué les deux années.") % {
            "before": previous_year, "after": year} if previous_year is not None else "",
        horizontal=True)


# --- Plotly --------------------------------------------------------------------------------------

def _plain(text: str) -> str:
    """Text as plotly shows it: it reads a little HTML in labels, so names are escaped."""
    return html.escape(text, quote=False)


def _wrapped(text: str, width: int = 28) -> str:
    if len(text) <= width:
        return _plain(text)
    return "<br>".join(_plain(line) for line in textwrap.wrap(text, width=width)) or _plain(text)


def _number(value: float | None) -> float | None:
    # Two decimals are plenty for a drawing, and keep the figure of 1,000 territories small.
    return None if value is None else round(float(value), 2)


def _category_axis(categories: Sequence[str], title: str = "", width: int = 28) -> dict:
    axis = {"type": "category", "automargin": True, "tickfont": {"size": 13}}
    ticks = [_wrapped(c, width) for c in categories]
    if ticks != list(categories):
        axis.update(tickmode="array", tickvals=list(categories), ticktext=ticks)
    if title:
        axis["title"] = {"text": _plain(title)}
    return axis


def _value_axis(chart: ChartData, title: str | None = None, top: float | None = None) -> dict:
    """The value axis: the chart's range (scores), else counts from 0 with whole ticks up to `top`."""
    axis = {"automargin": True, "gridcolor": "#d9d9d9", "zeroline": True, "zerolinecolor": "#767676",
            "title": {"text": _plain(chart.y_title if title is None else title)}}
    if chart.y_range:
        axis["range"] = list(chart.y_range)
    else:
        axis.update(rangemode="nonnegative", tickformat=",d")
        if top is not None and top <= 10:
            axis.update(tick0=0, dtick=1)
    return axis


def _text_colour(colour: str) -> str:
    """Black or white, whichever reads better on `colour` (its relative luminance)."""
    def channel(c: int) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(int(colour[i:i + 2], 16)) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#111111" if luminance > 0.18 else "#ffffff"


def _top(chart: ChartData, group: str, stacked: bool) -> float:
    """The largest bar of a group of series (stacked: the largest stack)."""
    series = [s for s in chart.series if s.group == group]
    if stacked:
        return max((sum(s.values[n] or 0 for s in series) for n in range(len(chart.categories))), default=0)
    return max((v or 0 for s in series for v in s.values), default=0)


def _bar_height(chart: ChartData, grouped_series: int) -> int:
    if not chart.horizontal:
        return 420
    per_category = 26 * max(1, grouped_series) + 16
    return max(260, 120 + per_category * len(chart.categories))


def _bars(chart: ChartData) -> tuple[list[dict], dict]:
    stacked = chart.kind == "stacked_bars"
    groups = list(dict.fromkeys(s.group for s in chart.series))
    apart = stacked and len(groups) > 1
    data = []
    for series in chart.series:
        values = [_number(v) for v in series.values]
        marker = {"color": series.colour, "line": {"color": "#333333", "width": 1}}
        if series.pattern:
            marker["pattern"] = {"shape": series.pattern, "fillmode": "overlay", "size": 12, "solidity": 0.15}
        trace = {"type": "bar", "name": _plain(series.name), "marker": marker,
                 "orientation": "h" if chart.horizontal else "v", "cliponaxis": False}
        cats = list(chart.categories)
        if chart.horizontal:
            trace.update(x=values, y=cats)
        else:
            trace.update(x=cats, y=values)
        if series.texts is not None:
            trace.update(text=[_plain(t) for t in series.texts], textposition="inside" if stacked else "outside",
                         insidetextanchor="middle", textfont={"size": 15},
                         insidetextfont={"size": 15, "color": _text_colour(series.colour)})
        if series.errors is not None:
            errors = {"type": "data", "array": [_number(e) or 0 for e in series.errors], "visible": True,
                      "color": "#111111", "thickness": 2, "width": 6}
            trace["error_x" if chart.horizontal else "error_y"] = errors
        if apart and groups.index(series.group) > 0:
            trace.update(xaxis="x2", yaxis="y") if chart.horizontal else trace.update(xaxis="x2", yaxis="y2")
        data.append(trace)
    category_axis = _category_axis(chart.categories)
    value_axis = _value_axis(chart, top=_top(chart, groups[0], stacked))
    if chart.horizontal:
        category_axis["autorange"] = "reversed"  # the first category on top, as in the table
        layout = {"xaxis": value_axis, "yaxis": category_axis}
    else:
        layout = {"xaxis": category_axis, "yaxis": value_axis}
    if apart:
        # The group apart gets a share of the width in proportion to its largest bar, so that a
        # statement is as long there as in the main stack (at least an eighth of the width).
        tops = [max(1.0, _top(chart, group, stacked)) for group in groups[:2]]
        share = min(max(tops[1] / sum(tops), 0.12), 0.5)
        main_domain, other_domain = [0, 0.94 - share], [1 - share, 1]
        value_axis["range"] = [0, tops[0]]
        other = {**_value_axis(chart, groups[1], top=tops[1]), "range": [0, tops[1]]}
        if chart.horizontal:
            value_axis["domain"] = main_domain
            layout["xaxis2"] = {**other, "domain": other_domain, "anchor": "y"}
        else:
            category_axis["domain"] = main_domain
            layout["xaxis2"] = {**_category_axis(chart.categories), "domain": other_domain, "anchor": "y2"}
            layout["yaxis2"] = {**other, "anchor": "x2"}
    layout["barmode"] = "stack" if stacked else "group"
    grouped = 1 if stacked else len(chart.series)
    layout["height"] = _bar_height(chart, grouped)
    return data, layout


def _lines(chart: ChartData) -> tuple[list[dict], dict]:
    data = []
    for series in chart.series:
        trace = {"type": "scatter", "mode": "lines+markers", "name": _plain(series.name),
                 "x": list(chart.categories), "y": [_number(v) for v in series.values], "connectgaps": False,
                 "line": {"color": series.colour, "dash": series.dash, "width": 3},
                 "marker": {"symbol": series.marker, "size": 11, "color": series.colour,
                            "line": {"color": "#111111", "width": 1}}}
        if series.texts is not None:
            trace.update(mode="lines+markers+text", text=[_plain(t) for t in series.texts], textposition="top center")
        if series.errors is not None:
            trace["error_y"] = {"type": "data", "array": [_number(e) or 0 for e in series.errors], "visible": True}
        data.append(trace)
    return data, {"xaxis": _category_axis(chart.categories), "yaxis": _value_axis(chart), "height": 420}


def _heatmap(chart: ChartData) -> tuple[list[dict], dict]:
    rows = [s.name for s in chart.series]
    trace = {
        "type": "heatmap", "x": list(chart.categories), "y": rows,
        "z": [[_number(v) for v in s.values] for s in chart.series],
        "text": [[_plain(t) for t in (s.texts or ())] for s in chart.series], "texttemplate": "%{text}",
        "colorscale": [list(step) for step in HEATMAP_SCALE],
        # No colour bar and gaps between cells: without them plotly writes style attributes,
        # which the Content-Security-Policy refuses (the scores are written in the cells anyway).
        "showscale": False, "xgap": 2, "ygap": 2, "hoverongaps": False, "name": _plain(chart.title),
    }
    if chart.y_range:
        trace.update(zmin=chart.y_range[0], zmax=chart.y_range[1])
    row_axis = _category_axis(rows, width=40)
    row_axis["autorange"] = "reversed"  # the first row on top, as in the table
    column_axis = _category_axis(chart.categories, width=18)
    column_axis["side"] = "top"
    return [trace], {"xaxis": column_axis, "yaxis": row_axis, "height": max(300, 160 + 26 * len(rows))}


def _thresholds(chart: ChartData) -> dict:
    shapes, notes = [], []
    for t in chart.thresholds:
        line = {"type": "line", "line": {"color": "#111111", "width": 2, "dash": "dot"}}
        if chart.horizontal:
            shapes.append({**line, "xref": "x", "x0": t.value, "x1": t.value, "yref": "paper", "y0": 0, "y1": 1})
            notes.append({"xref": "x", "x": t.value, "yref": "paper", "y": 1, "yanchor": "bottom",
                          "text": _plain(t.label), "showarrow": False, "font": {"size": 13}})
        else:
            shapes.append({**line, "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": t.value, "y1": t.value})
            notes.append({"xref": "paper", "x": 1, "xanchor": "left", "yref": "y", "y": t.value,
                          "text": _plain(t.label), "showarrow": False, "font": {"size": 13}})
    return {"shapes": shapes, "annotations": notes} if shapes else {}


def to_plotly(chart: ChartData) -> dict:
    """The plotly figure of `chart`: {"data": [...], "layout": {...}}, plain JSON values. The
    page's script adds the config (the language of the page, no toolbar)."""
    if chart.kind == "heatmap":
        data, layout = _heatmap(chart)
    elif chart.kind == "lines":
        data, layout = _lines(chart)
    elif chart.kind in ("bars", "stacked_bars"):
        data, layout = _bars(chart)
    else:
        raise ValueError(f"unknown chart kind {chart.kind!r}")
    layout.update(
        font={"family": FONT, "size": 14, "color": "#111111"},
        paper_bgcolor="#ffffff", plot_bgcolor="#ffffff",
        margin={"l": 10, "r": 40 if chart.thresholds and not chart.horizontal else 20, "t": 40, "b": 10},
        showlegend=len(data) > 1 and chart.kind != "heatmap",
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom",
                "traceorder": "normal"},
        hoverlabel={"font": {"family": FONT}},
        **_thresholds(chart),
    )
    return {"data": data, "layout": layout}
