"""Territories and partner organisations: look-ups, the lists of territories, creation, the
regions to choose from, and what administrators change of a territory."""
from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, func, or_, select

from .. import limits
from ..extensions import db
from ..models import (DRAFT, Answer, Assessment, Organization, Region, Territory, UserRegion,
                      assessment_organization, user_territory)
from ..text import without_accents
from ..transactions import retrying
from .audit import SYSTEM, add_audit
from .errors import Conflict, NotFound, ServiceError

# What a search treats as a space: hyphens, dashes, apostrophes, underscores.
_SEPARATORS = re.compile(r"[-'’‐‑–—_]")


def get_territory(territory_id: int) -> Territory:
    territory = db.session.get(Territory, territory_id)
    if territory is None:
        raise NotFound(_l("Ce territoire n'existe pas."))
    return territory


class TerritorySummary(NamedTuple):
    """A territory as lists show it: plain columns, nothing to load."""

    id: int
    code: str
    name: str
    region: str


class Perspective(NamedTuple):
    """The organisation whose point of view an assessment gives, as templates read it (`.name`)."""

    name: str


@dataclass(frozen=True)
class AssessmentSummary:
    """An assessment as lists show it: plain columns, and its count of statements with a level."""

    id: int
    territory_id: int
    date: dt.date
    status: str
    revision: int
    perspective: Perspective | None  # None: the collective view of the territory
    answered: int

    @property
    def is_draft(self) -> bool:
        return self.status == DRAFT


@dataclass(frozen=True)
class TerritoryOverview:
    """A territory on the home page: its latest assessment, and the draft in progress when that
    is not the latest (people come to the home page to resume it)."""

    territory: TerritorySummary
    latest: AssessmentSummary | None
    draft: AssessmentSummary | None
    assessment_count: int


@dataclass(frozen=True)
class TerritoryListing:
    """One page of the territories in a person's scope (or all of them), searched and filtered."""

    rows: list  # TerritoryOverview on the home page, TerritoryUnit in the administration
    regions: list[str]  # the regions of the territories in scope, to filter by
    in_scope: int  # territories in scope, before searching
    found: int  # territories that match the search and the region
    search: str  # the search as applied (trimmed, shortened)
    region: str | None  # the region as applied (None when unknown or not given)
    page: int  # within 1..pages
    pages: int


@dataclass(frozen=True)
class TerritoryAssessments:
    territory: TerritorySummary
    assessments: list[AssessmentSummary]  # newest first
    territorial_unit: str = ""  # how the PIN is run there (RLS, CLSC, MRC…), when the team said


def territories_in_scope(scope_kind: str, user_id: int) -> list[TerritorySummary]:
    """The territories a person works with (access.scope_kind: « all », « regions » of the
    account, else its own territories), in alphabetical order regardless of accents. One query."""
    territories = list(map(TerritorySummary._make, db.session.execute(_scope_query(scope_kind), {"user_id": user_id})))
    return sorted(territories, key=lambda t: (_searchable(t.name), t.code))


@functools.cache
def _scope_query(scope_kind: str):
    """`territories_in_scope`'s statement for each kind of scope, built once (every home page reads it)."""
    query = select(Territory.id, Territory.code, Territory.name, Territory.region)
    if scope_kind == "regions":
        return query.where(Territory.region.in_(select(UserRegion.region)
                                                .where(UserRegion.user_id == bindparam("user_id"))))
    if scope_kind != "all":
        return query.where(Territory.id.in_(select(user_territory.c.territory_id)
                                            .where(user_territory.c.user_id == bindparam("user_id"))))
    return query


def territory_listing(scope_kind: str, user_id: int, search: str = "", region: str | None = None, page: int = 1,
                      per_page: int = 25) -> TerritoryListing:
    """A page of the territories in scope whose name or code contains `search` (regardless of
    case, accents, hyphens and spacing), of `region` if given, each with its latest assessment
    and draft in progress. Three queries, however many territories there are."""
    return _listing(territories_in_scope(scope_kind, user_id), search, region, page, per_page, _overviews)


def territory_admin_listing(search: str = "", region: str | None = None, page: int = 1,
                            per_page: int = 50) -> TerritoryListing:
    """A page of every territory, searched and filtered as on the home page, each with its
    territorial unit (rows of `TerritoryUnit`). Two queries, however many territories there are."""
    return _listing(territories_in_scope("all", 0), search, region, page, per_page, _with_units)


class TerritoryUnit(NamedTuple):
    territory: TerritorySummary
    territorial_unit: str


def _with_units(territories: list[TerritorySummary]) -> list[TerritoryUnit]:
    if not territories:
        return []
    units = dict(db.session.execute(select(Territory.id, Territory.territorial_unit)
                                    .where(Territory.id.in_([t.id for t in territories]))).all())
    return [TerritoryUnit(t, units.get(t.id) or "") for t in territories]


def _listing(in_scope: list[TerritorySummary], search: str, region: str | None, page: int, per_page: int,
             rows) -> TerritoryListing:
    """The territories of `in_scope` that match the search and the region, the page asked for
    made into `rows(shown)`."""
    regions = sorted({t.region for t in in_scope}, key=lambda r: (_searchable(r), r))
    region = region if region in regions else None
    search = " ".join(search.split())[:limits.NAME]
    wanted = _searchable(search)
    found = [t for t in in_scope if (region is None or t.region == region)
             and (not wanted or wanted in _searchable(t.name) or wanted in _searchable(t.code))]
    shown, page, pages = one_page(found, page, per_page)
    return TerritoryListing(rows=rows(shown), regions=regions, in_scope=len(in_scope), found=len(found),
                            search=search, region=region, page=page, pages=pages)


def one_page(found: list, page: int, per_page: int) -> tuple[list, int, int]:
    """The items of page `page` (brought within 1..pages: a page beyond the last, as a bookmark
    may ask after a deletion, shows the last), that page and the number of pages (1 when empty)."""
    pages = max(1, -(-len(found) // per_page))
    page = min(max(page, 1), pages)
    return found[(page - 1) * per_page:page * per_page], page, pages


def territory_assessments(code: str) -> TerritoryAssessments | None:
    """A territory and all its assessments, newest first (None for an unknown code). Three queries."""
    row = db.session.execute(
        select(Territory.id, Territory.code, Territory.name, Territory.region, Territory.territorial_unit)
        .where(Territory.code == code)).first()
    if row is None:
        return None
    territory = TerritorySummary._make(row[:4])
    rows = db.session.execute(
        _summary_query().where(Assessment.territory_id == territory.id)
        .order_by(Assessment.date.desc(), Assessment.id.desc())).all()
    answered = answered_counts([r.id for r in rows])
    return TerritoryAssessments(territory, [_summary(r, answered) for r in rows], row.territorial_unit or "")


def answered_counts(assessment_ids: list[int]) -> dict[int, int]:
    """Statements with a level, per assessment id of `assessment_ids` (one query)."""
    if not assessment_ids:
        return {}
    return dict(db.session.execute(_ANSWERED_COUNTS, {"assessment_ids": assessment_ids}).all())


_ANSWERED_COUNTS = (select(Answer.assessment_id, func.count())
                    .where(Answer.assessment_id.in_(bindparam("assessment_ids", expanding=True)),
                           Answer.level.is_not(None))
                    .group_by(Answer.assessment_id))


@functools.lru_cache(maxsize=8192)  # a pure function of a name, asked of every territory at each request
def _searchable(text: str) -> str:
    """How names are searched and sorted: `name_key`, with hyphens and apostrophes as spaces
    (« saint michel » finds « Saint-Michel », « École » comes before « Laval »)."""
    return " ".join(_SEPARATORS.sub(" ", name_key(text)).split())


def _summary_query():
    return (select(Assessment.id, Assessment.territory_id, Assessment.date, Assessment.status, Assessment.revision,
                   Organization.name.label("perspective"))
            .outerjoin(Organization, Organization.id == Assessment.perspective_id))


def _summary(row, answered: dict[int, int]) -> AssessmentSummary:
    return AssessmentSummary(id=row.id, territory_id=row.territory_id, date=row.date, status=row.status,
                             revision=row.revision,
                             perspective=Perspective(row.perspective) if row.perspective is not None else None,
                             answered=answered.get(row.id, 0))


@functools.cache
def _latest_assessments():
    """`_overviews`' statement, built once (every home page reads it): the latest assessment and
    the latest draft of each territory of `territory_ids`, with its number of assessments."""
    newest_first = (Assessment.date.desc(), Assessment.id.desc())
    ranked = (_summary_query().add_columns(
        func.row_number().over(partition_by=Assessment.territory_id, order_by=newest_first).label("rank"),
        func.row_number().over(partition_by=(Assessment.territory_id, Assessment.status),
                               order_by=newest_first).label("rank_in_status"),
        func.count().over(partition_by=Assessment.territory_id).label("total"),
    ).where(Assessment.territory_id.in_(bindparam("territory_ids", expanding=True))).subquery())
    return select(ranked).where(or_(ranked.c.rank == 1, and_(ranked.c.status == DRAFT, ranked.c.rank_in_status == 1)))


def _overviews(territories: list[TerritorySummary]) -> list[TerritoryOverview]:
    """Each territory with its latest assessment, its latest draft and its number of
    assessments: one query for the assessments, one for their answered counts."""
    if not territories:
        return []
    rows = db.session.execute(_latest_assessments(), {"territory_ids": [t.id for t in territories]}).all()
    answered = answered_counts([r.id for r in rows])
    latest, drafts, totals = {}, {}, {}
    for row in rows:
        totals[row.territory_id] = row.total
        if row.rank == 1:
            latest[row.territory_id] = _summary(row, answered)
        else:
            drafts[row.territory_id] = _summary(row, answered)
    return [TerritoryOverview(t, latest.get(t.id), drafts.get(t.id), totals.get(t.id, 0)) for t in territories]


def all_territories() -> list[Territory]:
    return list(db.session.scalars(select(Territory).order_by(Territory.name)))


def organizations_of(territory_ids: set[int] | None = None) -> list[Organization]:
    """The organisations met in the assessments of these territories (every one when None), by name."""
    query = select(Organization).order_by(Organization.name)
    if territory_ids is not None:
        present = (select(assessment_organization.c.organization_id)
                   .join(Assessment, Assessment.id == assessment_organization.c.assessment_id)
                   .where(Assessment.territory_id.in_(territory_ids)))
        perspectives = select(Assessment.perspective_id).where(Assessment.territory_id.in_(territory_ids))
        query = query.where(or_(Organization.id.in_(present), Organization.id.in_(perspectives)))
    return list(db.session.scalars(query))


def name_key(name: str) -> str:
    """How two organisation names are compared: regardless of accents, case and spacing. Some
    characters expand when decomposed (« ﷺ » into 18): the key keeps its column's length."""
    return without_accents(" ".join(name.split())).casefold()[:limits.NAME]


def organization_named(name: str, sector: str = "autre") -> Organization:
    """The organisation of that name, even written with other accents, case or spacing; created
    with `sector` when new (so that « Maison de la famille » is never entered twice)."""
    name = " ".join(name.split())
    key = name_key(name)
    org = db.session.scalars(select(Organization).where(Organization.name_key == key)).first()
    if org is not None:
        return org
    org = Organization(name=name, name_key=key, sector=sector)
    db.session.add(org)
    db.session.flush()
    return org


def territory_by_code(code: str) -> Territory | None:
    return db.session.scalars(select(Territory).where(Territory.code == code)).first()


def holds_data() -> bool:
    """Whether any territory or assessment is stored (the demo refuses to touch real data)."""
    return db.session.scalars(select(Territory.id).limit(1)).first() is not None


def region_names() -> list[str]:
    """The regions people choose from, in alphabetical order regardless of accents: the managed
    list (the 17 administrative regions of Québec to start with), and any region a territory
    already has that the list lacks (an imported territory keeps its region, and it stays
    choosable). Two queries."""
    names = set(db.session.scalars(select(Region.name)))
    names.update(db.session.scalars(select(Territory.region).distinct()))
    return sorted(names, key=lambda r: (_searchable(r), r))


def check_region(region: str, field: str = "region") -> None:
    """A region chosen anew must be one of `region_names`; another is refused, naming it."""
    if region not in region_names():
        raise ServiceError(_l("Région inconnue : « %(region)s ». Choisissez une région de la liste.",
                              region=region[:limits.REGION]), field=field)


def create_territory(code: str, name: str, region: str, *, actor: str = SYSTEM) -> Territory:
    """A new territory, a line of the audit trail (who added it, and with what name and region)."""
    def operation() -> Territory:
        if territory_by_code(code) is not None:
            raise Conflict(_l("Le code de territoire « %(code)s » est déjà utilisé.", code=code), field="code")
        check_region(region.strip())
        territory = Territory(code=code, name=name.strip(), region=region.strip())
        db.session.add(territory)
        db.session.flush()
        add_audit(actor, "territory_create", new={"name": territory.name, "region": territory.region},
                  detail=territory.code)
        return territory

    return retrying(operation)


def update_territory(code: str, name: str, region: str, territorial_unit: str = "", *,
                     actor: str = SYSTEM) -> Territory:
    """Change a territory's name, region (one of `region_names`) and territorial unit; its code
    never changes. Each changed value is a line of the audit trail."""
    values = {"name": " ".join(name.split()), "region": region.strip(),
              "territorial_unit": " ".join(territorial_unit.split())}
    if not values["name"]:
        raise ServiceError(_l("Le nom est obligatoire."), field="name")
    for field, limit in (("name", limits.NAME), ("territorial_unit", limits.NAME)):
        if len(values[field]) > limit:
            raise ServiceError(_l("%(max)d caractères au plus.", max=limit), field=field)

    def operation() -> Territory:
        territory = db.session.scalars(select(Territory).where(Territory.code == code).with_for_update()).first()
        if territory is None:
            raise NotFound(_l("Ce territoire n'existe pas."))
        if values["region"] != territory.region:
            check_region(values["region"])  # a region the list lacks is kept, never chosen anew
        for field, new in values.items():
            old = getattr(territory, field)
            if old != new:
                setattr(territory, field, new)
                add_audit(actor, "territory_update", field=field, old=old, new=new, detail=territory.code)
        db.session.flush()
        return territory

    return retrying(operation)
