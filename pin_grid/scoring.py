"""Scoring and profile rules of DESIGN.md §4–§5, as pure functions.

No Flask, no database: every function takes level codes, scores or symbols and returns values.
The points of each level and the comparison settings come from `grid_items.yaml`; the level
codes themselves are the stable vocabulary of the domain and are named here.
"""
from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

IMPLANTE = "implante"
PARTIEL = "partiel"
NON_IMPLANTE = "non_implante"
NE_SAIS_PAS = "ne_sais_pas"
SANS_OBJET = "sans_objet"  # from grid 2026.2
LEVEL_CODES = (IMPLANTE, PARTIEL, NON_IMPLANTE, NE_SAIS_PAS, SANS_OBJET)
# Counted and shown, never scored: a knowledge gap to close, or a statement that does not apply.
UNSCORED = (NE_SAIS_PAS, SANS_OBJET)
DEFAULT_POINTS: Mapping[str, int | None] = {IMPLANTE: 2, PARTIEL: 1, NON_IMPLANTE: 0, NE_SAIS_PAS: None}

INSUFFISANT = "insuffisant"
STATUSES = (IMPLANTE, PARTIEL, NON_IMPLANTE, INSUFFISANT)

SYMBOLS = ("++", "+", "=", "-", "--")
# Band edges are compared after rounding, so that a z of exactly 2 (or a score of exactly 75)
# is not pushed across the edge by floating-point noise in how it was computed.
_PRECISION = 9
ABOVE = frozenset({"+", "++"})
BELOW = frozenset({"-", "--"})
DEFAULT_BANDS: Mapping[str, float] = {"++": 90, "+": 75, "-": 40, "--": 15}
ECOSYSTEMIQUE = "ecosystemique"


@dataclass(frozen=True)
class ThemeScore:
    counts: dict[str, int]  # every level code, unanswered statements not counted
    answered: int  # statements with a scored level (not ne_sais_pas, not sans_objet)
    total: int  # statements in the theme
    score: float | None
    status: str


def score_theme(levels: Sequence[str | None], points: Mapping[str, int | None] = DEFAULT_POINTS) -> ThemeScore:
    """Score one theme from the level code of each of its statements (None: not answered yet).

    score = 100 × points ÷ (max points × answered), none when fewer than half the theme's
    statements are answered; `ne_sais_pas` and `sans_objet` are counted but excluded from the score.
    """
    unknown = [lv for lv in levels if lv is not None and lv not in points]
    if unknown:
        raise ValueError(f"unknown level code(s): {unknown}")
    counts = {code: 0 for code in points}
    for level in levels:
        if level is not None:
            counts[level] += 1
    rated = [lv for lv in levels if lv is not None and points[lv] is not None]
    answered = len(rated)
    if answered == 0 or answered * 2 < len(levels):
        return ThemeScore(counts, answered, len(levels), None, INSUFFISANT)
    top = max(p for p in points.values() if p is not None)
    score = 100 * sum(points[lv] for lv in rated) / (top * answered)
    if all(lv == IMPLANTE for lv in rated):
        status = IMPLANTE
    elif all(lv == NON_IMPLANTE for lv in rated):
        status = NON_IMPLANTE
    else:
        status = PARTIEL
    return ThemeScore(counts, answered, len(levels), score, status)


def target_gap(level: str | None, target: str | None, points: Mapping[str, int | None] = DEFAULT_POINTS) -> int | None:
    """How many levels separate the current practice from the one the team aims for (« cible »):
    positive when there is a way to go, 0 when reached, negative when the practice is already
    beyond it; None when either has no points (no target, not rated, « on ne sait pas », « sans objet »)."""
    if level is None or target is None or points.get(level) is None or points.get(target) is None:
        return None
    return points[target] - points[level]


def ensemble(component_scores: Iterable[float | None]) -> float | None:
    """Mean of the component scores, each weighing the same; None if any is missing."""
    scores = list(component_scores.values() if isinstance(component_scores, Mapping) else component_scores)
    if not scores or any(s is None for s in scores):
        return None
    return statistics.fmean(scores)


# --- Comparison symbols -------------------------------------------------------------------

def symbol_from_z(z: float) -> str:
    z = round(z, _PRECISION)
    if z >= 2:
        return "++"
    if z >= 1:
        return "+"
    if z <= -2:
        return "--"
    if z <= -1:
        return "-"
    return "="


@dataclass(frozen=True)
class Spread:
    """Mean and population standard deviation of the scores a cohort has for one measure."""

    mean: float
    deviation: float


def spread_of(scores: Iterable[float | None]) -> Spread | None:
    """The spread of the scores that exist (None: no score at all)."""
    present = [s for s in scores if s is not None]
    if not present:
        return None
    return Spread(statistics.fmean(present), statistics.pstdev(present))


def symbol_in(score: float, spread: Spread | None) -> str:
    """Symbol of `score` by its z-score in a cohort's spread; « = » when the cohort does not vary."""
    if spread is None or spread.deviation == 0:
        return "="
    return symbol_from_z((score - spread.mean) / spread.deviation)


def cohort_symbol(score: float, cohort_scores: Sequence[float]) -> str:
    """Symbol of `score` by its z-score in the cohort (population standard deviation)."""
    return symbol_in(score, spread_of(cohort_scores))


def absolute_symbol(score: float, bands: Mapping[str, float] = DEFAULT_BANDS) -> str:
    """Symbol of `score` against the fixed bands (for a cohort too small to compare with)."""
    score = round(score, _PRECISION)
    if score >= bands["++"]:
        return "++"
    if score >= bands["+"]:
        return "+"
    if score < bands["--"]:
        return "--"
    if score < bands["-"]:
        return "-"
    return "="


@dataclass(frozen=True)
class CohortStatistics:
    """What a cohort's symbols are measured against, computed once for all its members: the
    spread of each component's scores and of the ensembles (DESIGN.md §4)."""

    size: int
    components: dict[str, Spread | None]  # component theme id -> spread of the scores it has
    ensemble: Spread | None


def cohort_statistics(sheets: Sequence[Mapping[str, float | None]]) -> CohortStatistics:
    """Statistics of a cohort from each member's component scores (theme id -> score)."""
    theme_ids = dict.fromkeys(theme_id for sheet in sheets for theme_id in sheet)
    return CohortStatistics(
        size=len(sheets),
        components={theme_id: spread_of(sheet.get(theme_id) for sheet in sheets) for theme_id in theme_ids},
        ensemble=spread_of(ensemble(sheet.values()) for sheet in sheets),
    )


@dataclass(frozen=True)
class Reference:
    """What symbols are measured against: the year's cohort, or the absolute bands."""

    kind: str  # "cohort" or "absolute"
    cohort_size: int
    bands: Mapping[str, float]

    def symbol(self, score: float | None, spread: Spread | None) -> str | None:
        if score is None:
            return None
        if self.kind == "absolute":
            return absolute_symbol(score, self.bands)
        return symbol_in(score, spread)


def reference_for(cohort_size: int, min_cohort: int = 5, bands: Mapping[str, float] = DEFAULT_BANDS) -> Reference:
    kind = "cohort" if cohort_size >= min_cohort else "absolute"
    return Reference(kind, cohort_size, dict(bands))


# --- Profiles A / B / C -------------------------------------------------------------------

@dataclass(frozen=True)
class ProfileResult:
    letter: str  # A, B or C
    subprofile: str


def classify_profile(components: Mapping[str, str | None], ensemble: str | None) -> ProfileResult | None:
    """Profile from the symbols of the five components and of the ensemble (DESIGN.md §5).

    None when the ensemble or any component has no symbol.
    """
    if ensemble is None or not components or any(s is None for s in components.values()):
        return None
    for symbol in (ensemble, *components.values()):
        if symbol not in SYMBOLS:
            raise ValueError(f"unknown symbol {symbol!r}")
    any_below = any(s in BELOW for s in components.values())
    if ensemble in ABOVE:
        return ProfileResult("A", "se_demarque" if any_below else "exemplaire")
    if ensemble in BELOW:
        return ProfileResult("C", "difficile")
    if any_below:
        return ProfileResult("C", "avec_difficultes")
    if components.get(ECOSYSTEMIQUE) in ABOVE:
        return ProfileResult("B", "posture_ecosystemique")
    return ProfileResult("B", "dans_la_moyenne")


# --- One score sheet against its cohort ---------------------------------------------------

@dataclass(frozen=True)
class Standing:
    """Where one assessment's scores stand: symbol of each component, ensemble, profile."""

    symbols: dict[str, str | None]  # component theme id -> symbol (None without a score)
    ensemble: float | None
    ensemble_symbol: str | None
    profile: ProfileResult | None


def standing(
    scores: Mapping[str, float | None],
    cohort: CohortStatistics,
    reference: Reference,
) -> Standing:
    """Compare the component `scores` of one assessment with the statistics of its cohort.

    `scores` maps the component theme ids to their scores; structures are not components and
    are not passed here.
    """
    symbols = {theme_id: reference.symbol(score, cohort.components.get(theme_id))
               for theme_id, score in scores.items()}
    overall = ensemble(scores.values())
    overall_symbol = reference.symbol(overall, cohort.ensemble)
    return Standing(symbols, overall, overall_symbol, classify_profile(symbols, overall_symbol))
