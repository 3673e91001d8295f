"""Reading and writing the `pin-grid/1` exchange records: the versions in force, and imports."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import DRAFT, FINALIZED, SUPERSEDED, Answer, Assessment, Territory
from ..transactions import write_transaction
from .assessments import AssessmentDetails, OrganizationData, ParticipantData, apply_details, find_assessments
from .audit import SYSTEM, add_audit
from .territories import territory_by_code

def current_assessments() -> list[Assessment]:
    """One assessment per territory, date and perspective: the version in force (a superseded
    version and a revision still in draft are left out)."""
    return list(
        db.session.scalars(
            select(Assessment)
            .where(Assessment.status != SUPERSEDED,
                   or_(Assessment.supersedes_id.is_(None), Assessment.status == FINALIZED))
            .options(
                selectinload(Assessment.territory),
                selectinload(Assessment.perspective),
                selectinload(Assessment.participants),
                selectinload(Assessment.organizations),
                selectinload(Assessment.answers),
            )
        )
    )


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # finalised: never replaced


def _answers_summary(assessment: Assessment) -> dict:
    return {a.item_id: {"level": a.level, "comment": a.comment} for a in assessment.answers}


def import_assessments(records, *, replace: bool = False, actor: str = SYSTEM) -> ImportReport:
    """Write checked `pin-grid/1` records in one transaction.

    Unknown territories and organisations are created. An assessment with the same territory,
    date and perspective as a stored one is skipped, or with `replace` replaces it if it is
    still a draft: a finalised assessment is final (it is corrected by a revision), so it is
    never replaced and is reported as refused.
    """
    report = ImportReport()
    with write_transaction():
        for index, record in enumerate(records):
            label = f"assessments[{index}] {record.territory.code} {record.date.isoformat()}" + (
                f" ({record.perspective_name})" if record.perspective_name else "")
            territory = territory_by_code(record.territory.code)
            if territory is None:
                territory = Territory(code=record.territory.code, name=record.territory.name,
                                      region=record.territory.region)
                db.session.add(territory)
                db.session.flush()
            existing = find_assessments(territory.id, record.date, record.perspective_name)
            if existing:
                if not replace:
                    report.skipped.append(label)
                    continue
                if any(old.status != DRAFT for old in existing):
                    report.refused.append(label)
                    continue
                for old in sorted(existing, key=lambda a: -a.id):  # newest revision first
                    add_audit(actor, "replaced_by_import", old.id, old=_answers_summary(old), detail=label)
                    db.session.delete(old)
                    db.session.flush()
                report.replaced.append(label)
            else:
                report.created.append(label)
            assessment = Assessment(status=record.status, grid_version=record.grid_version)
            apply_details(assessment, AssessmentDetails(
                territory_id=territory.id,
                date=record.date,
                perspective=record.perspective_name,
                participants=[ParticipantData(p.role, p.sector, p.name) for p in record.participants],
                organizations=[OrganizationData(o.name, o.sector) for o in record.organizations],
            ))
            assessment.answers = [
                Answer(item_id=item_id, **answer.model_dump()) for item_id, answer in record.answers.items()
            ]
            db.session.add(assessment)
            db.session.flush()
            add_audit(actor, "import", assessment.id, new=_answers_summary(assessment),
                      detail=label + (f" (replaces assessment {', '.join(str(a.id) for a in existing)})" if existing else ""))
    return report

