"""Territories and partner organisations: look-ups and creation."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from .. import limits
from ..extensions import db
from ..models import Answer, Assessment, Organization, Territory, assessment_organization
from ..text import without_accents
from ..transactions import retrying
from .errors import Conflict, NotFound


def get_territory(territory_id: int) -> Territory:
    territory = db.session.get(Territory, territory_id)
    if territory is None:
        raise NotFound(_l("Ce territoire n'existe pas."))
    return territory


def territories_with_assessments() -> list[Territory]:
    return list(
        db.session.scalars(
            select(Territory)
            .options(selectinload(Territory.assessments).selectinload(Assessment.perspective))
            .order_by(Territory.name)
        )
    )


def answered_counts() -> dict[int, int]:
    """Statements with a level, per assessment id (one query, for lists of assessments)."""
    rows = db.session.execute(
        select(Answer.assessment_id, func.count()).where(Answer.level.is_not(None)).group_by(Answer.assessment_id)
    )
    return dict(rows.all())


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


def create_territory(code: str, name: str, region: str) -> Territory:
    def operation() -> Territory:
        if territory_by_code(code) is not None:
            raise Conflict(_l("Le code de territoire « %(code)s » est déjà utilisé.", code=code), field="code")
        territory = Territory(code=code, name=name.strip(), region=region.strip())
        db.session.add(territory)
        db.session.flush()
        return territory

    return retrying(operation)
