"""What an assessment says: scores per theme and the ensemble, symbols and profile against the
cohort of its year (DESIGN.md §4–§5), the comparison of territories, the change since the
previous assessment. The rules themselves are in the pure `scoring` module."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select

from .. import memory, scoring
from ..extensions import db
from ..grid import Grid, GridCatalog, Theme
from ..models import FINALIZED, Answer, Assessment, Territory
from .assessments import previous_assessment
from .territories import TerritorySummary

@dataclass(frozen=True)
class ThemeResult:
    theme: Theme
    score: scoring.ThemeScore


@dataclass(frozen=True)
class AssessmentResults:
    themes: list[ThemeResult]
    ensemble: float | None

    @property
    def components(self) -> list[ThemeResult]:
        return [t for t in self.themes if t.theme.is_component]

    @property
    def structures(self) -> list[ThemeResult]:
        return [t for t in self.themes if not t.theme.is_component]


def score_levels(levels: Mapping[str, str | None], grid: Grid) -> AssessmentResults:
    """Results from the level of each item id (absent or None: not answered)."""
    themes = [
        ThemeResult(theme, scoring.score_theme([levels.get(i.id) for i in theme.items], grid.points))
        for theme in grid.themes
    ]
    overall = scoring.ensemble(t.score.score for t in themes if t.theme.is_component)
    return AssessmentResults(themes, overall)


def results_of(assessment: Assessment, grid: Grid) -> AssessmentResults:
    return score_levels({a.item_id: a.level for a in assessment.answers}, grid)


def _planned(answer: Answer) -> bool:
    return bool(answer.priority or answer.action or answer.action_owner or answer.action_due or answer.target)


def action_plan(assessment: Assessment, grid: Grid) -> list[tuple[Theme, list[Answer]]]:
    """The priorities, targets and actions, theme by theme, by due date (undated last)."""
    by_item = assessment.answers_by_item
    plan = []
    for theme in grid.themes:
        answers = [by_item[i.id] for i in theme.items if i.id in by_item and _planned(by_item[i.id])]
        answers.sort(key=lambda a: (a.action_due is None, a.action_due or dt.date.min))
        if answers:
            plan.append((theme, answers))
    return plan


def knowledge_gaps(assessment: Assessment, grid: Grid) -> list[str]:
    """The statements the team rated « On ne sait pas », in grid order: what to find out."""
    by_item = assessment.answers_by_item
    return [i for i in grid.items if i in by_item and by_item[i].level == scoring.NE_SAIS_PAS]


def answered_count(assessment: Assessment, grid: Grid) -> int:
    return sum(1 for a in assessment.answers if a.level is not None and a.item_id in grid.items)


# --- Cohorts, comparisons, profiles (DESIGN.md §4–§5) ---------------------------------------

def _component_scores(results: AssessmentResults) -> dict[str, float | None]:
    return {t.theme.id: t.score.score for t in results.components}


@dataclass(frozen=True)
class CohortMember:
    """A cohort's assessment as plain values (a comparison of 5,000 territories builds no ORM object)."""

    id: int
    date: dt.date
    territory: TerritorySummary
    grid_version: str


# The finalised collective assessments of a year (`_year(year)` gives the parameters). The
# statements that read a cohort are built once: the results page of every assessment reads one.
_IN_COHORT = (Assessment.status == FINALIZED, Assessment.perspective_id.is_(None),
              Assessment.date >= bindparam("first_day"), Assessment.date <= bindparam("last_day"))


def _year(year: int) -> dict[str, dt.date]:
    return {"first_day": dt.date(year, 1, 1), "last_day": dt.date(year, 12, 31)}


_COHORT = (select(Assessment.id, Assessment.date, Territory.id, Territory.code, Territory.name, Territory.region,
                  Assessment.grid_version)
           .join(Territory, Territory.id == Assessment.territory_id).where(*_IN_COHORT)
           .order_by(Assessment.date, Assessment.id))
_COHORT_LEVELS = (select(Answer.assessment_id, Answer.item_id, Answer.level)
                  .join(Assessment, Assessment.id == Answer.assessment_id).where(*_IN_COHORT))
# What changes whenever a member is added, revised or replaced: the key of its kept scores.
_COHORT_STATE = select(func.count(), func.max(Assessment.id), func.sum(Assessment.id), func.sum(Assessment.version),
                       func.max(Assessment.updated_at)).where(*_IN_COHORT)


def cohort(year: int) -> list[CohortMember]:
    """The latest finalised collective assessment of every territory dated in `year`."""
    rows = db.session.execute(_COHORT, _year(year))
    latest: dict[int, CohortMember] = {}
    for id_, date, territory_id, code, name, region, version in rows:
        # Ordered by date: the last one wins.
        latest[territory_id] = CohortMember(id_, date, TerritorySummary(territory_id, code, name, region), version)
    return list(latest.values())


def _cohort_levels(year: int, members: list[CohortMember]) -> dict[int, dict[str, str | None]]:
    """The level of each statement of each member, read as plain rows."""
    wanted = {m.id for m in members}
    levels: dict[int, dict[str, str | None]] = {m.id: {} for m in members}
    rows = db.session.execute(_COHORT_LEVELS, _year(year))
    for assessment_id, item_id, level in rows:
        if assessment_id in wanted:  # an earlier assessment of the year is not a member
            levels[assessment_id][item_id] = level
    return levels


def comparison_years() -> list[int]:
    """Years that have at least one finalised collective assessment, newest first."""
    dates = db.session.scalars(
        select(Assessment.date).where(Assessment.status == FINALIZED, Assessment.perspective_id.is_(None))
    )
    return sorted({d.year for d in dates}, reverse=True)


@dataclass(frozen=True)
class ComparisonRow:
    assessment: CohortMember
    results: AssessmentResults
    standing: scoring.Standing

    def score(self, theme_id: str) -> float | None:
        return next(t.score.score for t in self.results.themes if t.theme.id == theme_id)


@dataclass(frozen=True)
class Comparison:
    year: int
    reference: scoring.Reference
    rows: list[ComparisonRow]

    @property
    def grid_versions(self) -> list[str]:
        """The grid versions its territories were rated on: theme scores stay comparable
        across versions, statements do not (the page says so when there are several)."""
        return sorted({row.assessment.grid_version for row in self.rows})


def profile_counts(rows: list[ComparisonRow]) -> dict[str, int]:
    """Territories per profile letter and per sub-profile slug (plus « none »)."""
    counts: dict[str, int] = {}
    for row in rows:
        profile = row.standing.profile
        for key in ((profile.letter, profile.subprofile) if profile else ("none",)):
            counts[key] = counts.get(key, 0) + 1
    return counts


def _reference(cohort_size: int, grid: Grid) -> scoring.Reference:
    return scoring.reference_for(cohort_size, grid.comparison.min_cohort, grid.comparison.absolute_bands)


@dataclass(frozen=True)
class _ScoredCohort:
    """What a cohort's levels give: each member's results and the cohort's statistics."""

    results: dict[int, AssessmentResults]  # by assessment id
    statistics: scoring.CohortStatistics


# A finalised assessment's levels never change (a correction is a new assessment that supersedes
# it), so a cohort's scores are kept, per process, under what identifies the finalised
# assessments of its year: their number, ids, versions and latest finalisation. An assessment
# finalised, revised or imported in that year changes that key, and the cohort is scored again.
# Only scores are kept: names and regions are read at each request.
_KEPT_COHORTS = 8
_scored_cohorts: dict[tuple, _ScoredCohort] = {}


def _cohort_key(year: int, grids: GridCatalog) -> tuple:
    state = db.session.execute(_COHORT_STATE, _year(year)).one()
    return (str(db.engine.url), id(grids), year, tuple(state))


def _scored_cohort(year: int, grids: GridCatalog, members: list[CohortMember] | None = None) -> _ScoredCohort:
    key = _cohort_key(year, grids)
    scored = _scored_cohorts.get(key)
    if scored is None or (members is not None and any(m.id not in scored.results for m in members)):
        members = cohort(year) if members is None else members
        levels = _cohort_levels(year, members)
        # Each member scored with the version it was rated on.
        results = {m.id: score_levels(levels[m.id], grids.of(m.grid_version)) for m in members}
        scored = _ScoredCohort(results, scoring.cohort_statistics([_component_scores(r) for r in results.values()]))
        while len(_scored_cohorts) >= _KEPT_COHORTS:
            _scored_cohorts.pop(next(iter(_scored_cohorts)))
        _scored_cohorts[key] = scored
        memory.settle()
    return scored


def compare_year(year: int, grids: GridCatalog) -> Comparison:
    members = cohort(year)
    scored = _scored_cohort(year, grids, members)
    reference = _reference(len(members), grids.current)
    rows = []
    for member in members:
        results = scored.results[member.id]
        rows.append(ComparisonRow(member, results,
                                  scoring.standing(_component_scores(results), scored.statistics, reference)))
    rows.sort(key=lambda row: (row.assessment.territory.name.casefold(), row.assessment.territory.code))
    return Comparison(year, reference, rows)


def cohort_statistics(year: int, grids: GridCatalog) -> scoring.CohortStatistics:
    """The mean and spread of the cohort of `year`, per component and for the ensemble."""
    return _scored_cohort(year, grids).statistics


def cohort_reference(statistics: scoring.CohortStatistics, grids: GridCatalog) -> scoring.Reference:
    """What a cohort's symbols are measured against: the cohort, or the absolute bands when it is
    small (the comparison settings of the version in force)."""
    return _reference(statistics.size, grids.current)


def standing_against(results: AssessmentResults, statistics: scoring.CohortStatistics,
                     grids: GridCatalog) -> tuple[scoring.Standing, scoring.Reference]:
    """Symbols and profile of `results` against a cohort's statistics, and the reference used."""
    reference = cohort_reference(statistics, grids)
    return scoring.standing(_component_scores(results), statistics, reference), reference


def standing_of(assessment: Assessment, results: AssessmentResults,
                grids: GridCatalog) -> tuple[scoring.Standing, scoring.Reference]:
    """An assessment's symbols and profile against the cohort of its year."""
    return standing_against(results, cohort_statistics(assessment.date.year, grids), grids)


# --- Yearly follow-up ---------------------------------------------------------------------

@dataclass(frozen=True)
class ThemeChange:
    theme: Theme
    before: scoring.ThemeScore
    after: scoring.ThemeScore

    @property
    def delta(self) -> float | None:
        if self.before.score is None or self.after.score is None:
            return None
        return self.after.score - self.before.score


@dataclass(frozen=True)
class ItemChange:
    item_id: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class FollowUp:
    previous: Assessment
    themes: list[ThemeChange]
    items: list[ItemChange]
    # Rated on another grid version: theme scores compare, only statements whose meaning was
    # kept are compared one by one.
    other_version: str | None = None


def follow_up(assessment: Assessment, results: AssessmentResults, grids: GridCatalog) -> FollowUp | None:
    previous = previous_assessment(assessment)
    if previous is None:
        return None
    grid = grids.of(assessment.grid_version)
    before = results_of(previous, grids.of(previous.grid_version))
    scores_before = {t.theme.id: t.score for t in before.themes}
    themes = [ThemeChange(a.theme, scores_before[a.theme.id], a.score) for a in results.themes]
    kept = grids.same_meaning(previous.grid_version, assessment.grid_version)
    old = {kept[a.item_id]: a.level for a in previous.answers if a.item_id in kept}
    new = {a.item_id: a.level for a in assessment.answers}
    # A draft's statements without a level yet are not changes; a new statement has no before.
    items = [ItemChange(i, old.get(i), new.get(i)) for i in grid.items
             if new.get(i) and i in old and old.get(i) != new.get(i)]
    other = previous.grid_version if previous.grid_version != assessment.grid_version else None
    return FollowUp(previous, themes, items, other)
