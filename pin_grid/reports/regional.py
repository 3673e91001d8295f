"""What the regional report says (issue 12 §2): for a year and the dashboard's filters, the
comparison table (others under their anonymous labels, as on screen), the distribution of
profiles, the heat map, then one summary page per territory the person may read.

The rows are those of the regional dashboard (`services.regional_dashboard`: the same year,
region, perspective and organisation mean the same thing on screen and on paper), as the
comparison page shows them (`views.comparison.shown_rows`, passed in by the caller), so that the
report never names a territory the screen would not.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import case, func, select

from .. import charts, scoring, services
from ..extensions import db
from ..grid import Grid, GridCatalog
from ..models import Answer
from ..services.dashboard import COLLECTIVE, PARTNER, PERSPECTIVES

__all__ = ["COLLECTIVE", "PARTNER", "PERSPECTIVES", "RegionalReport", "Shown", "Sheet", "build_regional"]

HEATMAP_ROWS = 40  # rows of the heat map per page


@dataclass(frozen=True)
class Shown:
    """A row as this person may see it: `label` is the anonymous label that replaces the name
    (None when the name is shown); `organisation` names a partner's point of view."""

    row: services.ComparisonRow
    label: str | None
    readable: bool
    organisation: str | None
    name: str = ""  # as the report writes it (row_label)


@dataclass(frozen=True)
class Sheet:
    """One territory's summary page."""

    shown: Shown
    grid: Grid  # the version it was rated on
    priorities: int
    knowledge_gaps: int

    @property
    def row(self) -> services.ComparisonRow:
        return self.shown.row


@dataclass(frozen=True)
class RegionalReport:
    filters: services.RegionalFilters  # as applied
    organisation: str | None  # the organisation filtered by, named
    reference: scoring.Reference
    current: Grid  # the version in force: profile names, comparison settings
    rows: list[Shown]
    sheets: list[Sheet]
    heatmap: list[charts.ChartData]  # one chart per page of rows
    distribution: charts.ChartData
    grid_versions: list[str]

    @property
    def year(self) -> int:
        return self.filters.year

    @property
    def partner(self) -> bool:
        return self.filters.perspective == PARTNER


def _tallies(ids: list[int]) -> dict[int, tuple[int, int]]:
    """Each assessment's number of priorities and of statements rated « On ne sait pas »."""
    if not ids:
        return {}
    tallies: dict[int, tuple[int, int]] = {}
    priority = func.sum(case((Answer.priority.is_(True), 1), else_=0))
    unknown = func.sum(case((Answer.level == scoring.NE_SAIS_PAS, 1), else_=0))
    for assessment_id, priorities, gaps in db.session.execute(
            select(Answer.assessment_id, priority, unknown).where(Answer.assessment_id.in_(ids))
            .group_by(Answer.assessment_id)):
        tallies[assessment_id] = (int(priorities or 0), int(gaps or 0))
    return tallies


def row_label(shown: Shown, anonymous: Callable[[str], str], partner_unnamed: Callable[[str], str]) -> str:
    """As the dashboard labels a row: by name in one's scope, else under the anonymous label; a
    partner's point of view names its organisation only where the territory is named."""
    name = anonymous(shown.label) if shown.label else shown.row.assessment.territory.name
    if shown.organisation is None:
        return name
    return partner_unnamed(name) if shown.label else f"{name} — {shown.organisation}"


def build_regional(board: services.RegionalDashboard, shown: Sequence, grids: GridCatalog, *,
                   anonymous: Callable[[str], str], partner_unnamed: Callable[[str], str], gettext,
                   locale: str) -> RegionalReport:
    """The report's data. `shown`: `shown_rows` of the board's group (this person's view of it);
    `anonymous(label)` words an anonymous label (« Territoire 4F2A »), `partner_unnamed(name)` a
    partner's point of view in a territory one may not name."""
    group = board.current
    organisations = group.organisations
    rows = [Shown(s.row, s.label, s.url is not None,
                  organisations[s.row.assessment.id][1] if s.row.assessment.id in organisations else None)
            for s in shown]
    rows = [dataclasses.replace(r, name=row_label(r, anonymous, partner_unnamed)) for r in rows]
    current = grids.current
    kind = group.comparison.reference.kind
    partner = group.perspective == PARTNER
    chart_rows = [charts.Row(r.name, r.row.results, r.row.standing) for r in rows]
    heat = charts.heatmap(charts.by_ensemble(chart_rows), current, year=group.year, reference_kind=kind, _=gettext,
                          locale=locale, partner=partner)
    parts = [dataclasses.replace(heat, key=f"heatmap-{n + 1}", series=heat.series[start:start + HEATMAP_ROWS])
             for n, start in enumerate(range(0, len(heat.series), HEATMAP_ROWS))] or [heat]
    before = board.previous
    distribution = charts.profile_distribution(
        chart_rows, [charts.Row("", row.results, row.standing) for row in before.rows] if before else None, current,
        year=group.year, previous_year=before.year if before else None, reference_kind=kind, _=gettext, locale=locale,
        partner=partner)
    readable = [r for r in rows if r.readable and r.label is None]
    tallies = _tallies([r.row.assessment.id for r in readable])
    sheets = [Sheet(r, grids.of(r.row.assessment.grid_version), *tallies.get(r.row.assessment.id, (0, 0)))
              for r in readable]
    organisation = dict(board.organisations).get(board.filters.organisation)
    return RegionalReport(board.filters, organisation, group.comparison.reference, current, rows, sheets, parts,
                          distribution, sorted({r.row.assessment.grid_version for r in rows}))
