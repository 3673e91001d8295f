"""What the PDF profile of one assessment says (issue 12 §1), as plain data for its template.

Everything is read with the grid version the assessment was rated on (its statements, its levels
and their definitions); the profile texts and the comparison settings are those of the version in
force, as on the results page. The charts are the dashboard's chart data (`pin_grid.charts`).
"""
from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import charts, scoring, services
from ..extensions import db
from ..grid import Grid, GridCatalog, Item, Level, Theme
from ..models import FINALIZED, Answer, Assessment

STRONGEST = 3  # statements shown as the strongest and as the weakest on the summary page
# A statement's row in the table « Énoncé par énoncé », measured in the report's type: the statement
# column holds about 55 characters a line, the action column about 27, and a page about 55 lines
# of the table (Letter; A4 has a few more). A row of more lines than TALL_ROW may not fit on a page.
STATEMENT_LINE, ACTION_LINE, TALL_ROW = 55, 27, 45
PLAN_STATEMENT_LINE, PLAN_ACTION_LINE, PLAN_OWNER_LINE = 30, 17, 9  # the « Plan d'action »'s columns


@dataclass(frozen=True)
class Statement:
    """One statement of the grid version the assessment was rated on, with the team's answer."""

    theme: Theme
    item: Item
    answer: Answer | None
    level: Level | None  # None: no level yet (a draft)
    target: Level | None
    gap: int | None  # levels between the practice and the target (scoring.target_gap)

    @property
    def points(self) -> int | None:
        return self.level.points if self.level else None

    @property
    def tall(self) -> bool:
        """Whether its row in « Énoncé par énoncé » may be taller than a page (a comment or an action
        of thousands of characters). Rows are kept whole, so such a row would first leave the rest
        of its page blank and still be split on the next: it starts where it falls instead."""
        answer = self.answer
        return answer is not None and max(
            _lines(self._longest_text, STATEMENT_LINE) + _lines(answer.comment, STATEMENT_LINE),
            _lines(answer.action, ACTION_LINE) + 1) > TALL_ROW

    @property
    def tall_in_plan(self) -> bool:
        """The same in the « Plan d'action », whose columns are narrower (and without the comment)."""
        answer = self.answer
        return answer is not None and max(
            _lines(self._longest_text, PLAN_STATEMENT_LINE), _lines(answer.action, PLAN_ACTION_LINE),
            _lines(answer.action_owner, PLAN_OWNER_LINE)) > TALL_ROW

    @property
    def _longest_text(self) -> str:
        return max(self.item.text.fr, self.item.text.en, key=len)


def _lines(text: str | None, per_line: int) -> int:
    """About how many lines `text` takes in a column of `per_line` characters (its own line breaks
    are kept)."""
    return sum(-(-len(part) // per_line) or 1 for part in text.split("\n")) if text else 0


@dataclass(frozen=True)
class ProfileReport:
    assessment: Assessment
    grid: Grid  # the version it was rated on
    current: Grid  # the version in force: profile texts, comparison settings
    results: services.AssessmentResults
    standing: scoring.Standing
    reference: scoring.Reference
    statistics: scoring.CohortStatistics
    follow_up: services.FollowUp | None
    history: list[tuple[str, Assessment, services.AssessmentResults]]  # oldest first, this one last
    statements: list[Statement]  # in grid order
    replaced: Assessment | None  # the finalised version a revision corrects
    score_chart: charts.ChartData  # the six scores against the cohort (or the bands)
    history_chart: charts.ChartData | None  # the scores over the years, when there is history

    @property
    def strongest(self) -> list[Statement]:
        """The best-rated statements; among equals, those of the strongest themes first."""
        theme_scores = self._theme_scores()
        rated = [s for s in self.statements if s.points is not None]
        rated.sort(key=lambda s: (-s.points, -theme_scores.get(s.theme.id, 0), self.grid.position[s.item.id]))
        return rated[:STRONGEST]

    @property
    def weakest(self) -> list[Statement]:
        """The worst-rated statements; among equals, the team's priorities, then the weakest themes."""
        theme_scores = self._theme_scores()
        rated = [s for s in self.statements if s.points is not None]
        rated.sort(key=lambda s: (s.points, not (s.answer and s.answer.priority), theme_scores.get(s.theme.id, 100),
                                  self.grid.position[s.item.id]))
        return rated[:STRONGEST]

    @property
    def knowledge_gaps(self) -> list[Statement]:
        """The statements rated « On ne sait pas »: knowledge to go and find."""
        return [s for s in self.statements if s.level and s.level.code == scoring.NE_SAIS_PAS]

    @property
    def priorities(self) -> int:
        return sum(1 for s in self.statements if s.answer and s.answer.priority)

    @property
    def plan(self) -> list[tuple[Theme, list[Statement]]]:
        """Priorities, targets and actions theme by theme, by due date (undated last), as
        `services.action_plan` orders them."""
        by_item = {s.item.id: s for s in self.statements}
        return [(theme, [by_item[a.item_id] for a in answers])
                for theme, answers in services.action_plan(self.assessment, self.grid)]

    def by_theme(self) -> list[tuple[Theme, list[Statement]]]:
        return [(theme, [s for s in self.statements if s.theme.id == theme.id]) for theme in self.grid.themes]

    def _theme_scores(self) -> dict[str, float]:
        return {t.theme.id: t.score.score for t in self.results.themes if t.score.score is not None}

    def fingerprint(self) -> str:
        """Everything that goes into the document, as a digest: the cache key of its PDF (with the
        language, the paper and the templates' version, added by the caller)."""
        a = self.assessment
        parts = [
            a.id, a.version, a.status, a.updated_at, a.revision, a.revision_reason, a.date, a.grid_version,
            self.current.version,
            (a.territory.code, a.territory.name, a.territory.region, a.territory.territorial_unit),
            a.perspective.name if a.perspective else None,
            [(p.name, p.role, p.sector) for p in a.participants],
            [(o.name, o.sector) for o in a.organizations],
            self.statistics, self.reference,
            [(label, h.id, h.version, h.status) for label, h, _ in self.history],
            (self.follow_up.previous.id, self.follow_up.previous.version) if self.follow_up else None,
            (self.replaced.id, self.replaced.version, self.replaced.date) if self.replaced else None,
        ]
        return hashlib.sha256(repr(parts).encode()).hexdigest()


def history_of(assessment: Assessment, grids: GridCatalog) -> list[tuple[str, Assessment, services.AssessmentResults]]:
    """The finalised assessments of the same territory and point of view up to this one, then this
    one: each labelled by its year, or by its date when a year has several."""
    same_view = (Assessment.perspective_id.is_(None) if assessment.perspective_id is None
                 else Assessment.perspective_id == assessment.perspective_id)
    earlier = list(db.session.scalars(
        select(Assessment).options(selectinload(Assessment.answers))
        .where(Assessment.territory_id == assessment.territory_id, same_view, Assessment.status == FINALIZED,
               Assessment.date <= assessment.date, Assessment.id.notin_(services.revision_chain(assessment)))
        .order_by(Assessment.date, Assessment.id)
    ))
    chain = [*earlier, assessment]
    per_year = Counter(a.date.year for a in chain)
    return [(str(a.date.year) if per_year[a.date.year] == 1 else a.date.isoformat(), a,
             services.results_of(a, grids.of(a.grid_version))) for a in chain]


def build_profile(assessment: Assessment, grids: GridCatalog, *, gettext: Callable[[str], str],
                  locale: str) -> ProfileReport:
    """The report's data; `gettext` and `locale` word the charts."""
    grid = grids.of(assessment.grid_version)
    results = services.results_of(assessment, grid)
    standing, reference = services.standing_of(assessment, results, grids)
    statistics = services.cohort_statistics(assessment.date.year, grids)
    history = history_of(assessment, grids)
    by_item = assessment.answers_by_item
    statements = []
    for theme in grid.themes:
        for item in theme.items:
            answer = by_item.get(item.id)
            level = grid.level.get(answer.level) if answer and answer.level else None
            target = grid.level.get(answer.target) if answer and answer.target else None
            gap = scoring.target_gap(answer.level, answer.target, grid.points) if answer else None
            statements.append(Statement(theme, item, answer, level, target, gap))
    score_chart, history_chart = profile_charts(results, statistics, reference, history, year=assessment.date.year,
                                               gettext=gettext, locale=locale)
    return ProfileReport(
        assessment=assessment, grid=grid, current=grids.current, results=results, standing=standing,
        reference=reference, statistics=statistics, follow_up=services.follow_up(assessment, results, grids),
        history=history, statements=statements, replaced=assessment.supersedes if assessment.revision > 1 else None,
        score_chart=score_chart, history_chart=history_chart,
    )


def profile_charts(results, statistics, reference, history, *, year: int, gettext, locale: str):
    """The two charts of the profile, from the dashboard's chart functions: the six scores against
    the cohort (or the bands), and, when there is history, the scores over the years."""
    score_chart = charts.standing_against_cohort(results, statistics, reference, _=gettext, locale=locale, year=year)
    history_chart = None
    if len(history) > 1:
        history_chart = charts.theme_scores_by_year([(label, r) for label, _a, r in history], _=gettext, locale=locale)
    return score_chart, history_chart
