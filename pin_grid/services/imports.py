"""Reading and writing the `pin-grid/1` exchange records: the versions in force with their
other versions, and imports."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import DRAFT, FINALIZED, SUPERSEDED, Answer, Assessment, Territory
from ..transactions import write_transaction
from .assessments import (AssessmentDetails, OrganizationData, ParticipantData, apply_details, find_assessments,
                          versions_of)
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


def version_chains() -> list[tuple[Assessment, list[Assessment]]]:
    """Each assessment in force with every version of it (superseded ones, itself, a revision
    still in draft), oldest first: what `pin-grid/1` exports."""
    return [(assessment, versions_of(assessment)) for assessment in current_assessments()]


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # finalised: never replaced


def _answers_summary(assessment: Assessment) -> dict:
    return {a.item_id: {"level": a.level, "comment": a.comment} for a in assessment.answers}


def _label(index: int, version) -> str:
    return f"assessments[{index}] {version.territory.code} {version.date.isoformat()}" + (
        f" ({version.perspective_name})" if version.perspective_name else "")


def _territory(record) -> Territory:
    """The stored territory with the record's code, created from the record if there is none."""
    territory = territory_by_code(record.code)
    if territory is None:
        territory = Territory(code=record.code, name=record.name, region=record.region)
        db.session.add(territory)
        db.session.flush()
    return territory


def _write_version(version, territory: Territory, supersedes: Assessment | None) -> Assessment:
    """One version as the record has it; its timestamps, if given, are kept as they are."""
    assessment = Assessment(supersedes=supersedes, **version.model_dump(
        include={"status", "grid_version", "revision", "revision_reason", "created_at", "updated_at"},
        exclude_none=True))
    apply_details(assessment, AssessmentDetails(
        territory_id=territory.id,
        date=version.date,
        perspective=version.perspective_name,
        participants=[ParticipantData(p.role, p.sector, p.name) for p in version.participants],
        organizations=[OrganizationData(o.name, o.sector) for o in version.organizations],
    ))
    assessment.answers = [
        Answer(item_id=item_id, **answer.model_dump()) for item_id, answer in version.answers.items()
    ]
    db.session.add(assessment)
    db.session.flush()
    return assessment


def import_assessments(records, *, replace: bool = False, actor: str = SYSTEM) -> ImportReport:
    """Write checked `pin-grid/1` records in one transaction.

    Unknown territories and organisations are created. Each record is written with its other
    versions (`versions`), oldest first, each superseding the one before. An assessment with
    the same territory, date and perspective as a stored one (of any of its versions) is
    skipped, or with `replace` replaces it if it is still a draft: a finalised assessment is
    final (it is corrected by a revision), so it is never replaced and is reported as refused.
    """
    report = ImportReport()
    with write_transaction():
        for index, record in enumerate(records):
            label = _label(index, record)
            chain = record.chain
            territories = {v.territory.code: _territory(v.territory) for v in chain}
            existing = list({old.id: old for v in chain for old in find_assessments(
                territories[v.territory.code].id, v.date, v.perspective_name)}.values())
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
            written = None
            for version in chain:
                written = _write_version(version, territories[version.territory.code], written)
                replaces = existing if version is record else []  # said once, by the version in force
                add_audit(actor, "import", written.id, new=_answers_summary(written), detail=_label(index, version) + (
                    f" (replaces assessment {', '.join(str(a.id) for a in replaces)})" if replaces else ""))
    return report

