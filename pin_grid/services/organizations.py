"""Partner organisations as administrators manage them: the list, with the territories where
each appears; renaming; changing the sector; merging two entries of the same organisation.

An organisation appears in a territory when an assessment of that territory gives its point of
view (`perspective_id`) or lists it among the organisations present (`assessment_organization`).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select, union
from sqlalchemy.orm import aliased

from .. import limits
from ..extensions import db
from ..models import SECTOR_CODES, Assessment, Organization, Territory, assessment_organization
from ..transactions import retrying
from .audit import SYSTEM, add_audit
from .errors import Conflict, NotFound, ServiceError
from .territories import TerritorySummary, _searchable, name_key, one_page


@dataclass(frozen=True)
class OrganizationOverview:
    """An organisation as the administration pages show it."""

    id: int
    name: str
    sector: str
    territories: list[TerritorySummary]  # where it appears, in alphabetical order


@dataclass(frozen=True)
class OrganizationListing:
    """One page of the organisations, searched by name."""

    rows: list[OrganizationOverview]
    total: int  # organisations stored
    found: int  # those that match the search
    search: str  # the search as applied (trimmed, shortened)
    page: int  # within 1..pages
    pages: int


@dataclass(frozen=True)
class MergeReport:
    kept: Organization
    moved: int  # assessments that referred to the duplicate


def get_organization(organization_id: int) -> Organization:
    organization = db.session.get(Organization, organization_id)
    if organization is None:
        raise NotFound(_l("Cet organisme n'existe pas."))
    return organization


def territories_of_organizations(organization_ids) -> dict[int, list[TerritorySummary]]:
    """The territories where each of these organisations appears, by organisation id. One query."""
    ids = list(organization_ids)
    if not ids:
        return {}
    perspectives = (select(Assessment.perspective_id.label("organization_id"), Assessment.territory_id)
                    .where(Assessment.perspective_id.in_(ids)))
    present = (select(assessment_organization.c.organization_id, Assessment.territory_id)
               .join(Assessment, Assessment.id == assessment_organization.c.assessment_id)
               .where(assessment_organization.c.organization_id.in_(ids)))
    seen = union(perspectives, present).subquery()
    rows = db.session.execute(
        select(seen.c.organization_id, Territory.id, Territory.code, Territory.name, Territory.region)
        .join(Territory, Territory.id == seen.c.territory_id))
    found: dict[int, list[TerritorySummary]] = defaultdict(list)
    for organization_id, *territory in rows:
        found[organization_id].append(TerritorySummary(*territory))
    return {k: sorted(v, key=lambda t: (_searchable(t.name), t.code)) for k, v in found.items()}


def organization_overview(organization_id: int) -> OrganizationOverview:
    organization = get_organization(organization_id)
    return OrganizationOverview(organization.id, organization.name, organization.sector,
                                territories_of_organizations([organization.id]).get(organization.id, []))


def organization_listing(search: str = "", page: int = 1, per_page: int = 50) -> OrganizationListing:
    """A page of the organisations whose name contains `search` (regardless of case, accents,
    hyphens and spacing), in alphabetical order, each with its territories. Two queries."""
    every = sorted(db.session.execute(select(Organization.id, Organization.name, Organization.sector)).all(),
                   key=lambda o: (_searchable(o.name), o.name))
    search = " ".join(search.split())[:limits.NAME]
    wanted = _searchable(search)
    found = [o for o in every if not wanted or wanted in _searchable(o.name)]
    shown, page, pages = one_page(found, page, per_page)
    territories = territories_of_organizations(o.id for o in shown)
    rows = [OrganizationOverview(o.id, o.name, o.sector, territories.get(o.id, [])) for o in shown]
    return OrganizationListing(rows=rows, total=len(every), found=len(found), search=search, page=page, pages=pages)


def _locked(organization_ids: list[int]) -> dict[int, Organization]:
    """These organisations, locked until the transaction ends (in the order of their ids)."""
    rows = db.session.scalars(select(Organization).where(Organization.id.in_(sorted(set(organization_ids))))
                              .order_by(Organization.id).with_for_update())
    return {o.id: o for o in rows}


def update_organization(organization_id: int, name: str, sector: str, *, actor: str = SYSTEM) -> Organization:
    """Rename an organisation (its `name_key` follows) and set its sector. A name that another
    organisation already has, regardless of accents, case and spacing, is refused: the two are
    merged instead. Each changed value is a line of the audit trail."""
    name = " ".join(name.split())
    if not name:
        raise ServiceError(_l("Le nom est obligatoire."), field="name")
    if len(name) > limits.NAME:
        raise ServiceError(_l("%(max)d caractères au plus.", max=limits.NAME), field="name")
    if sector not in SECTOR_CODES:
        raise ServiceError(_l("Secteur inconnu : « %(code)s ».", code=str(sector)[:40]), field="sector")
    key = name_key(name)

    def operation() -> Organization:
        organization = _locked([organization_id]).get(organization_id)
        if organization is None:
            raise NotFound(_l("Cet organisme n'existe pas."))
        other = db.session.scalars(select(Organization).where(Organization.name_key == key,
                                                              Organization.id != organization.id)).first()
        if other is not None:
            raise Conflict(_l("Un autre organisme porte déjà ce nom (« %(other)s »), aux accents, majuscules et "
                              "espaces près. S'il s'agit du même organisme, fusionnez les deux.", other=other.name),
                           field="name", other_id=other.id)
        if organization.name != name:
            add_audit(actor, "organization_update", field="name", old=organization.name, new=name,
                      detail=f"organization {organization.id}")
            organization.name = name
        organization.name_key = key
        if organization.sector != sector:
            add_audit(actor, "organization_update", field="sector", old=organization.sector, new=sector,
                      detail=f"organization {organization.id}: {name}")
            organization.sector = sector
        db.session.flush()
        return organization

    return retrying(operation)


def _names(territories: list[TerritorySummary]) -> str:
    return ", ".join(f"{t.name} ({t.code})" for t in territories)


def merge_organizations(duplicate_id: int, kept_id: int, *, confirmed: bool = False,
                        actor: str = SYSTEM) -> MergeReport:
    """Merge the duplicate into the organisation kept, then delete the duplicate: the assessments
    that give the duplicate's point of view give the kept one's, and those that list the
    duplicate as present list the kept one (once, if they listed both).

    Refused, changing nothing, when moving a point of view would give one meeting (territory,
    date, revision) two assessments from the kept organisation's point of view; and, unless
    `confirmed`, when the two appear in different territories (they may be two organisations
    of the same name in two places)."""
    def operation() -> MergeReport:
        if duplicate_id == kept_id:
            raise ServiceError(_l("Choisissez un autre organisme que celui à fusionner."), field="keep")
        found = _locked([duplicate_id, kept_id])
        duplicate, kept = found.get(duplicate_id), found.get(kept_id)
        if duplicate is None:
            raise NotFound(_l("Cet organisme n'existe pas."))
        if kept is None:
            raise ServiceError(_l("L'organisme choisi n'existe plus : choisissez-en un autre dans la liste."),
                               field="keep")
        where = territories_of_organizations([duplicate.id, kept.id])
        duplicate_in, kept_in = where.get(duplicate.id, []), where.get(kept.id, [])
        if duplicate_in and kept_in and {t.id for t in duplicate_in} != {t.id for t in kept_in} and not confirmed:
            raise ServiceError(
                _l("« %(duplicate)s » apparaît dans ces territoires : %(duplicate_in)s ; « %(kept)s », dans "
                   "ceux-ci : %(kept_in)s. Ce sont peut-être deux organismes différents : cochez la case de "
                   "confirmation pour les fusionner quand même.",
                   duplicate=duplicate.name, duplicate_in=_names(duplicate_in), kept=kept.name,
                   kept_in=_names(kept_in)),
                field="confirm")
        _refuse_meeting_collisions(duplicate, kept)

        present = select(assessment_organization.c.assessment_id).where(
            assessment_organization.c.organization_id == duplicate.id)
        affected = list(db.session.scalars(
            select(Assessment).where(or_(Assessment.perspective_id == duplicate.id, Assessment.id.in_(present)))
            .order_by(Assessment.id).with_for_update(of=Assessment)))
        now = dt.datetime.now(dt.timezone.utc)
        for assessment in affected:
            _move(assessment, duplicate, kept, actor)
            assessment.updated_at = now  # a version of its own: a page read before the merge saves nothing stale
        db.session.flush()
        add_audit(actor, "organization_merge", old={"id": duplicate.id, "name": duplicate.name,
                                                    "sector": duplicate.sector},
                  new={"id": kept.id, "name": kept.name, "sector": kept.sector},
                  detail=f"{duplicate.name} -> {kept.name}: {len(affected)} assessments")
        db.session.delete(duplicate)
        db.session.flush()
        return MergeReport(kept=kept, moved=len(affected))

    return retrying(operation)


def _refuse_meeting_collisions(duplicate: Organization, kept: Organization) -> None:
    """One assessment per territory, date, point of view and revision (uq_assessment_meeting):
    refuse when the duplicate's point of view would join the kept one's at a meeting."""
    other = aliased(Assessment)
    clashes = db.session.execute(
        select(Territory.code, Assessment.date)
        .join(other, and_(other.territory_id == Assessment.territory_id, other.date == Assessment.date,
                          other.revision == Assessment.revision, other.perspective_id == kept.id))
        .join(Territory, Territory.id == Assessment.territory_id)
        .where(Assessment.perspective_id == duplicate.id)
        .order_by(Territory.code, Assessment.date)).all()
    if clashes:
        meetings = ", ".join(dict.fromkeys(f"{code} {date.isoformat()}" for code, date in clashes))
        raise Conflict(_l("Fusion impossible : « %(duplicate)s » et « %(kept)s » ont chacun une évaluation de leur "
                          "point de vue pour la même rencontre (%(meetings)s). Il ne peut y en avoir qu'une par "
                          "territoire, date et point de vue : supprimez ou corrigez l'une des deux, puis "
                          "fusionnez. Rien n'a été changé.",
                          duplicate=duplicate.name, kept=kept.name, meetings=meetings), field="keep")


def _move(assessment: Assessment, duplicate: Organization, kept: Organization, actor: str) -> None:
    """The assessment refers to the kept organisation where it referred to the duplicate; each
    change is a line of its audit trail."""
    if assessment.perspective_id == duplicate.id:
        assessment.perspective = kept
        add_audit(actor, "details", assessment.id, field="perspective", old=duplicate.name, new=kept.name,
                  detail="organization merge")
    before = [o.name for o in assessment.organizations]
    organizations = list(dict.fromkeys(kept if o.id == duplicate.id else o for o in assessment.organizations))
    if [o.id for o in organizations] != [o.id for o in assessment.organizations]:
        assessment.organizations = organizations
        add_audit(actor, "details", assessment.id, field="organizations", old=before,
                  new=sorted(o.name for o in organizations), detail="organization merge")
