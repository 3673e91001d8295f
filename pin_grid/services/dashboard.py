"""What the dashboards read (issue 11).

- A territory: its finalised collective assessments over the years, each scored with the grid
  version it was rated on and placed against the cohort of its year, and the action plan of the
  latest one.
- The region: for a year, a group of assessments — the collective cohort, or the partners' points
  of view — filtered by region and organisation, the same group the previous year, and how often
  each statement was rated « non implanté » or « on ne sait pas ».

Cohort-wide data are read as plain rows, never as ORM objects, and each request makes a fixed
number of statements whatever the number of territories (the cohorts' scores are kept by the
results service).
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import and_, exists, extract, func, or_, select
from sqlalchemy.orm import aliased

from .. import scoring
from ..extensions import db
from ..grid import GridCatalog
from ..models import FINALIZED, Answer, Assessment, Organization, Territory, UserRegion, assessment_organization, \
    user_territory
from .results import AssessmentResults, CohortMember, Comparison, ComparisonRow, cohort_statistics, compare_year, \
    cohort_reference, score_levels, standing_against
from .territories import TerritorySummary

COLLECTIVE = "collective"  # the territories' collective views: the cohort of DESIGN.md §4
PARTNER = "partner"  # the points of view of partner organisations (the values the exports take too)
PERSPECTIVES = (COLLECTIVE, PARTNER)
# The levels the regional dashboard counts per statement: where regional support would help most.
HARD_LEVELS = (scoring.NON_IMPLANTE, scoring.NE_SAIS_PAS)


def _in_year(year: int) -> tuple:
    return Assessment.date >= dt.date(year, 1, 1), Assessment.date <= dt.date(year, 12, 31)


def _finalised(perspective: str) -> tuple:
    seen_by = (Assessment.perspective_id.is_(None) if perspective == COLLECTIVE
               else Assessment.perspective_id.is_not(None))
    return Assessment.status == FINALIZED, seen_by


# --- A territory ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanLine:
    """An answer that plans something (a priority, a target, an action): its plain columns."""

    item_id: str
    level: str | None
    target: str | None
    priority: bool
    action: str
    action_owner: str
    action_due: dt.date | None


@dataclass(frozen=True)
class PlacedAssessment:
    """A finalised collective assessment, scored with its grid version and placed against the
    cohort of its year."""

    id: int
    date: dt.date
    grid_version: str
    results: AssessmentResults
    statistics: scoring.CohortStatistics
    reference: scoring.Reference
    standing: scoring.Standing


@dataclass(frozen=True)
class TerritoryDashboard:
    territory: TerritorySummary
    history: list[PlacedAssessment]  # oldest first
    plan: list[PlanLine] = field(default_factory=list)  # the latest assessment's

    @property
    def latest(self) -> PlacedAssessment | None:
        return self.history[-1] if self.history else None


def territory_summary(code: str) -> TerritorySummary | None:
    """The territory of that code, as plain columns (None when unknown). One query."""
    row = db.session.execute(
        select(Territory.id, Territory.code, Territory.name, Territory.region).where(Territory.code == code)).first()
    return TerritorySummary._make(row) if row else None


def territory_dashboard(territory: TerritorySummary, grids: GridCatalog) -> TerritoryDashboard:
    """The territory's finalised collective assessments with their answers (one query), each
    against the cohort of its year (one statement per year: the cohorts' scores are kept)."""
    rows = db.session.execute(
        select(Assessment.id, Assessment.date, Assessment.grid_version, Answer.item_id, Answer.level, Answer.target,
               Answer.priority, Answer.action, Answer.action_owner, Answer.action_due)
        .outerjoin(Answer, Answer.assessment_id == Assessment.id)
        .where(Assessment.territory_id == territory.id, *_finalised(COLLECTIVE))
        .order_by(Assessment.date, Assessment.id))
    assessments: dict[int, tuple[dt.date, str]] = {}
    answers: dict[int, list] = {}
    for row in rows:
        assessments.setdefault(row.id, (row.date, row.grid_version))
        if row.item_id is not None:
            answers.setdefault(row.id, []).append(row)
    statistics: dict[int, scoring.CohortStatistics] = {}
    history = []
    for assessment_id, (date, version) in assessments.items():
        own = answers.get(assessment_id, [])
        results = score_levels({a.item_id: a.level for a in own}, grids.of(version))
        if date.year not in statistics:
            statistics[date.year] = cohort_statistics(date.year, grids)
        standing, reference = standing_against(results, statistics[date.year], grids)
        history.append(PlacedAssessment(assessment_id, date, version, results, statistics[date.year], reference,
                                        standing))
    plan = []
    if history:
        for a in answers.get(history[-1].id, []):
            if a.priority or a.action or a.action_owner or a.action_due or a.target:
                plan.append(PlanLine(a.item_id, a.level, a.target, bool(a.priority), a.action or "",
                                     a.action_owner or "", a.action_due))
    return TerritoryDashboard(territory, history, plan)


# --- The region ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RegionalFilters:
    """What the regional dashboard shows (its query parameters, parsed)."""

    year: int | None = None
    region: str | None = None
    perspective: str = COLLECTIVE
    organisation: int | None = None


@dataclass(frozen=True)
class Group:
    """A year's group of assessments: the collective cohort, or the partners' points of view
    (the latest of each organisation in each territory). `comparison.reference` is what their
    symbols were measured against: the year's collective cohort, or the absolute bands."""

    year: int
    perspective: str
    comparison: Comparison
    organisations: dict[int, tuple[int, str]] = field(default_factory=dict)  # partner views: id -> organisation

    @property
    def rows(self) -> list[ComparisonRow]:
        return self.comparison.rows

    def key(self, row: ComparisonRow) -> tuple[int, int | None]:
        """What a row is followed by from one year to the next: its territory (and organisation)."""
        organisation = self.organisations.get(row.assessment.id)
        return row.assessment.territory.id, organisation[0] if organisation else None


@dataclass(frozen=True)
class StatementTally:
    """How often one statement of one grid version was rated « non implanté » and « on ne sait
    pas » in a group, and how many of the group were rated on that version."""

    item_id: str
    version: str
    non_implante: int
    ne_sais_pas: int
    rated: int


@dataclass(frozen=True)
class RegionalDashboard:
    filters: RegionalFilters  # as applied
    ignored: tuple[str, ...]  # the filters asked for that were not applied: "annee", "region", "organisation"
    years: list[int]  # with finalised assessments of the perspective, newest first
    regions: list[str]  # of the year's group
    organisations: list[tuple[int, str]]  # to filter by: those met in one's territories that year
    current: Group | None
    previous: Group | None
    tallies: list[StatementTally] = field(default_factory=list)


def dashboard_years(perspective: str) -> list[int]:
    """Years with a finalised assessment of that perspective, newest first. One query."""
    year = extract("year", Assessment.date)
    return sorted({int(y) for y in db.session.scalars(select(year).where(*_finalised(perspective)).distinct())},
                  reverse=True)


def _collective_group(year: int, grids: GridCatalog) -> Group:
    return Group(year, COLLECTIVE, compare_year(year, grids))


def _partner_group(year: int, grids: GridCatalog) -> Group:
    """The latest finalised point of view of each organisation in each territory dated in
    `year`, placed against the year's collective cohort. Three statements."""
    statistics = cohort_statistics(year, grids)
    reference = cohort_reference(statistics, grids)
    conditions = (*_finalised(PARTNER), *_in_year(year))
    latest: dict[tuple[int, int], tuple] = {}
    for row in db.session.execute(
            select(Assessment.id, Assessment.date, Territory.id.label("territory_id"), Territory.code, Territory.name,
                   Territory.region, Assessment.grid_version, Organization.id.label("organisation_id"),
                   Organization.name.label("organisation"))
            .join(Territory, Territory.id == Assessment.territory_id)
            .join(Organization, Organization.id == Assessment.perspective_id)
            .where(*conditions).order_by(Assessment.date, Assessment.id)):
        latest[(row.territory_id, row.organisation_id)] = row  # ordered by date: the last one wins
    wanted = {row.id for row in latest.values()}
    levels: dict[int, dict[str, str | None]] = {i: {} for i in wanted}
    for assessment_id, item_id, level in db.session.execute(
            select(Answer.assessment_id, Answer.item_id, Answer.level)
            .join(Assessment, Assessment.id == Answer.assessment_id).where(*conditions)):
        if assessment_id in wanted:
            levels[assessment_id][item_id] = level
    rows, organisations = [], {}
    for row in latest.values():
        member = CohortMember(row.id, row.date, TerritorySummary(row.territory_id, row.code, row.name, row.region),
                              row.grid_version)
        results = score_levels(levels[row.id], grids.of(row.grid_version))
        rows.append(ComparisonRow(member, results, standing_against(results, statistics, grids)[0]))
        organisations[row.id] = (row.organisation_id, row.organisation)
    rows.sort(key=lambda r: (r.assessment.territory.name.casefold(), r.assessment.territory.code,
                             organisations[r.assessment.id][1].casefold()))
    return Group(year, PARTNER, Comparison(year, reference, rows), organisations)


def _group(year: int, perspective: str, grids: GridCatalog) -> Group:
    return _partner_group(year, grids) if perspective == PARTNER else _collective_group(year, grids)


def _organisation_options(year: int, perspective: str, scope_kind: str, user_id: int) -> list[tuple[int, str]]:
    """The organisations one may filter by: met that year (present at a collective assessment, or
    giving a point of view) in the territories of one's scope. One query."""
    if perspective == PARTNER:
        query = (select(Organization.id, Organization.name)
                 .join(Assessment, Assessment.perspective_id == Organization.id))
    else:
        query = (select(Organization.id, Organization.name)
                 .join(assessment_organization, assessment_organization.c.organization_id == Organization.id)
                 .join(Assessment, Assessment.id == assessment_organization.c.assessment_id))
    query = query.where(*_finalised(perspective), *_in_year(year))
    if scope_kind == "regions":
        query = query.join(Territory, Territory.id == Assessment.territory_id).where(
            Territory.region.in_(select(UserRegion.region).where(UserRegion.user_id == user_id)))
    elif scope_kind != "all":
        query = query.where(Assessment.territory_id.in_(
            select(user_territory.c.territory_id).where(user_territory.c.user_id == user_id)))
    found = {(id_, name) for id_, name in db.session.execute(query.distinct())}
    return sorted(found, key=lambda o: (o[1].casefold(), o[0]))


def _present(organisation: int) -> set[int]:
    """The assessments at which that organisation was present. One query."""
    return set(db.session.scalars(select(assessment_organization.c.assessment_id)
                                  .where(assessment_organization.c.organization_id == organisation)))


def _filtered(group: Group, region: str | None, organisation: int | None, present: set[int]) -> Group:
    def kept(row: ComparisonRow) -> bool:
        if region and row.assessment.territory.region != region:
            return False
        if organisation is None:
            return True
        if group.perspective == PARTNER:
            return group.organisations[row.assessment.id][0] == organisation
        return row.assessment.id in present

    rows = [row for row in group.rows if kept(row)]
    return Group(group.year, group.perspective, Comparison(group.year, group.comparison.reference, rows),
                 group.organisations)


def _latest_in_year(year: int, perspective: str):
    """The assessment is the latest (by date, then id) of its territory in `year` — of its
    organisation too, for a partner's point of view: the rule by which groups are formed."""
    later = aliased(Assessment)
    same_view = (later.perspective_id.is_(None) if perspective == COLLECTIVE
                 else later.perspective_id == Assessment.perspective_id)
    return ~exists().where(
        later.territory_id == Assessment.territory_id, later.status == FINALIZED, same_view,
        later.date >= dt.date(year, 1, 1), later.date <= dt.date(year, 12, 31),
        or_(later.date > Assessment.date, and_(later.date == Assessment.date, later.id > Assessment.id)))


def statement_tallies(group: Group, region: str | None = None, organisation: int | None = None) -> list[StatementTally]:
    """How often each statement (of each grid version) was rated « non implanté » or « on ne sait
    pas » in the group (`region` and `organisation`: the filters the group was formed with). One
    query, counted by the database: a few dozen rows whatever the number of territories."""
    rated = Counter(row.assessment.grid_version for row in group.rows)
    if not rated:
        return []
    query = (select(Assessment.grid_version, Answer.item_id, Answer.level, func.count())
             .join(Answer, Answer.assessment_id == Assessment.id)
             .where(*_finalised(group.perspective), *_in_year(group.year),
                    _latest_in_year(group.year, group.perspective), Answer.level.in_(HARD_LEVELS))
             .group_by(Assessment.grid_version, Answer.item_id, Answer.level))
    if region is not None:
        query = query.join(Territory, Territory.id == Assessment.territory_id).where(Territory.region == region)
    if organisation is not None and group.perspective == PARTNER:
        query = query.where(Assessment.perspective_id == organisation)
    elif organisation is not None:
        query = query.where(Assessment.id.in_(select(assessment_organization.c.assessment_id)
                                              .where(assessment_organization.c.organization_id == organisation)))
    counts = {(version, item_id, level): n for version, item_id, level, n in db.session.execute(query)}
    statements = sorted({(version, item_id) for version, item_id, _level in counts})
    return [StatementTally(item_id, version, counts.get((version, item_id, scoring.NON_IMPLANTE), 0),
                           counts.get((version, item_id, scoring.NE_SAIS_PAS), 0), rated[version])
            for version, item_id in statements]


def regional_dashboard(asked: RegionalFilters, scope_kind: str, user_id: int, grids: GridCatalog) -> RegionalDashboard:
    """The regional dashboard for the filters `asked`: a filter that names nothing there is (a
    year without data, a region without territory that year, an organisation outside one's
    territories) is not applied, and `ignored` says so."""
    perspective = asked.perspective if asked.perspective in PERSPECTIVES else COLLECTIVE
    years = dashboard_years(perspective)
    ignored = []
    year = asked.year
    if year not in years:
        if year is not None:
            ignored.append("annee")
        year = years[0] if years else None
    if year is None:
        return RegionalDashboard(RegionalFilters(None, None, perspective, None), tuple(ignored), years, [], [],
                                 None, None)
    current = _group(year, perspective, grids)
    regions = sorted({row.assessment.territory.region for row in current.rows})
    region = asked.region
    if region is not None and region not in regions:
        ignored.append("region")
        region = None
    organisations = _organisation_options(year, perspective, scope_kind, user_id)
    organisation = asked.organisation
    if organisation is not None and organisation not in {o[0] for o in organisations}:
        ignored.append("organisation")
        organisation = None
    present = _present(organisation) if organisation is not None and perspective == COLLECTIVE else set()
    earlier = [y for y in years if y < year]
    previous = _filtered(_group(earlier[0], perspective, grids), region, organisation, present) if earlier else None
    current = _filtered(current, region, organisation, present)
    return RegionalDashboard(RegionalFilters(year, region, perspective, organisation), tuple(ignored), years, regions,
                             organisations, current, previous, statement_tallies(current, region, organisation))
