"""Use-cases of the product. Views and CLI commands call these; they own the commits."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from . import scoring
from .extensions import db
from .grid import Grid, Theme
from .models import (
    DRAFT,
    FINALIZED,
    SUPERSEDED,
    Answer,
    Assessment,
    AuditEvent,
    Organization,
    Participant,
    Territory,
)

T = TypeVar("T")
SYSTEM = "système"  # the actor of changes made by the command line


# --- Errors the views turn into 4xx -------------------------------------------------------

class ServiceError(Exception):
    status = 422

    def __init__(self, message, **details):
        super().__init__(str(message))
        self.message = message
        self.details = details


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class Locked(ServiceError):
    status = 409


# --- Plain data passed in by forms, the CLI and imports ------------------------------------

@dataclass(frozen=True)
class AnswerData:
    level: str | None = None
    comment: str = ""
    priority: bool = False
    action: str = ""
    action_owner: str = ""
    action_due: dt.date | None = None

    @classmethod
    def of(cls, answer: Answer | None) -> AnswerData:
        if answer is None:
            return cls()
        return cls(answer.level, answer.comment or "", bool(answer.priority), answer.action or "",
                   answer.action_owner or "", answer.action_due)

    def fingerprint(self) -> str:
        """Short digest of the answer as the person saw it, to detect changes made meanwhile."""
        raw = json.dumps(asdict(self), default=str, sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ParticipantData:
    role: str
    sector: str
    name: str | None = None


@dataclass(frozen=True)
class OrganizationData:
    name: str
    sector: str


@dataclass(frozen=True)
class AssessmentDetails:
    territory_id: int
    date: dt.date
    perspective: str | None  # organisation name; None for the collective view
    participants: list[ParticipantData] = field(default_factory=list)
    organizations: list[OrganizationData] = field(default_factory=list)


@dataclass(frozen=True)
class AnswerConflict:
    item_id: str
    theirs: AnswerData
    yours: AnswerData


@dataclass
class SaveResult:
    saved: list[str] = field(default_factory=list)
    conflicts: list[AnswerConflict] = field(default_factory=list)


# --- Helpers ------------------------------------------------------------------------------

def begin_write() -> None:
    """Start a fresh transaction that will write: on SQLite it takes the write lock at once, so
    that a concurrent writer in another process waits its turn instead of failing."""
    db.session.rollback()
    if db.engine.dialect.name == "sqlite":
        db.session.connection(execution_options={"sqlite_immediate": True})


def _retrying(operation: Callable[[], T], attempts: int = 4) -> T:
    """Run a write that reads before writing, in its own transaction; redo it when a concurrent
    write got there first."""
    for attempt in range(attempts):
        try:
            begin_write()
            result = operation()
            db.session.commit()
            return result
        except (StaleDataError, IntegrityError, OperationalError):
            db.session.rollback()
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def add_audit(actor: str, action: str, assessment_id: int | None = None, *, item_id: str | None = None,
           field: str | None = None, old=None, new=None, detail: str = "") -> None:
    """Add a line to the audit trail, in the same transaction as the change it records."""
    def text(value):
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value, default=str, ensure_ascii=False)

    db.session.add(AuditEvent(actor=actor, action=action, assessment_id=assessment_id, item_id=item_id,
                              field=field, old_value=text(old), new_value=text(new), detail=detail))


def audit_trail(assessment_id: int) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.assessment_id == assessment_id).order_by(AuditEvent.at, AuditEvent.id)
    ))


def record_event(actor: str, action: str, detail: str = "") -> None:
    """Log-ins, failed log-ins, refused accesses: recorded at once, whatever the request does next."""
    begin_write()
    add_audit(actor, action, detail=detail)
    db.session.commit()


def get_assessment(assessment_id: int, *, for_update: bool = False) -> Assessment:
    query = select(Assessment).where(Assessment.id == assessment_id)
    if for_update:
        query = query.with_for_update()
    assessment = db.session.scalars(query).first()
    if assessment is None:
        raise NotFound(_l("Cette évaluation n'existe pas (no %(id)s).", id=assessment_id))
    return assessment


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


def all_organizations() -> list[Organization]:
    return list(db.session.scalars(select(Organization).order_by(Organization.name)))


def organization_named(name: str, sector: str = "autre") -> Organization:
    """The organisation of that name (case-insensitive), created with `sector` when new."""
    name = " ".join(name.split())
    for org in db.session.scalars(select(Organization).where(Organization.name.ilike(name))):
        if org.name.casefold() == name.casefold():
            return org
    org = Organization(name=name, sector=sector)
    db.session.add(org)
    db.session.flush()
    return org


def territory_by_code(code: str) -> Territory | None:
    return db.session.scalars(select(Territory).where(Territory.code == code)).first()


def find_assessments(territory_id: int, date: dt.date, perspective: str | None) -> list[Assessment]:
    """Every assessment (all versions) of that territory, date and perspective."""
    candidates = db.session.scalars(
        select(Assessment).where(Assessment.territory_id == territory_id, Assessment.date == date)
        .order_by(Assessment.id)
    )
    wanted = perspective.casefold() if perspective else None
    return [c for c in candidates if (c.perspective.name.casefold() if c.perspective else None) == wanted]


def revision_chain(assessment: Assessment) -> set[int]:
    """The ids of this assessment and of every version it corrects."""
    ids, current = set(), assessment
    while current is not None and current.id not in ids:
        ids.add(current.id)
        current = current.supersedes
    return ids


# --- Territories --------------------------------------------------------------------------

def create_territory(code: str, name: str, region: str) -> Territory:
    begin_write()
    if territory_by_code(code) is not None:
        raise Conflict(_l("Le code de territoire « %(code)s » est déjà utilisé.", code=code), field="code")
    territory = Territory(code=code, name=name.strip(), region=region.strip())
    db.session.add(territory)
    db.session.commit()
    return territory


# --- Assessments --------------------------------------------------------------------------

def _apply_details(assessment: Assessment, details: AssessmentDetails) -> None:
    """Set territory, date, perspective, organisations and participants (look-ups first, so
    that a new assessment is not flushed half-filled)."""
    orgs = [organization_named(o.name, o.sector) for o in details.organizations]
    perspective = None
    if details.perspective:
        perspective = organization_named(details.perspective)
        if perspective not in orgs:
            orgs.append(perspective)  # an organisation whose view this is was there, by definition
    assessment.territory_id = details.territory_id
    assessment.date = details.date
    assessment.perspective = perspective
    assessment.organizations = list(dict.fromkeys(orgs))
    assessment.participants = [
        Participant(position=i, name=p.name or None, role=p.role, sector=p.sector)
        for i, p in enumerate(details.participants)
    ]


def _check_unique(details: AssessmentDetails, own: Assessment | None = None) -> None:
    own_versions = revision_chain(own) if own is not None else set()
    others = [a for a in find_assessments(details.territory_id, details.date, details.perspective)
              if a.id not in own_versions]
    if others:
        raise Conflict(
            _l("Une évaluation existe déjà pour ce territoire, à cette date et de ce point de vue."),
            existing_id=others[0].id,
        )


def start_assessment(details: AssessmentDetails, grid: Grid, *, carry_over: bool = False,
                     actor: str = SYSTEM) -> Assessment:
    """Start a draft; with `carry_over`, from the answers of the previous finalised assessment
    of the same territory and point of view (each marked until the team confirms or changes it)."""
    begin_write()
    get_territory(details.territory_id)
    _check_unique(details)
    assessment = Assessment(status=DRAFT, grid_version=grid.version)
    _apply_details(assessment, details)
    db.session.add(assessment)
    db.session.flush()
    add_audit(actor, "create", assessment.id, new=_details_summary(assessment))
    if carry_over:
        previous = previous_assessment(assessment)
        if previous is None:
            db.session.rollback()
            raise ServiceError(
                _l("Ce territoire n'a pas encore d'évaluation finalisée antérieure de ce point de vue : "
                   "décochez « Partir de la dernière évaluation »."),
                field="carry_over",
            )
        assessment.answers = [
            Answer(item_id=a.item_id, level=a.level, comment=a.comment, carried_over=True)
            for a in previous.answers
            if a.item_id in grid.items
        ]
        add_audit(actor, "carry_over", assessment.id, detail=f"from assessment {previous.id}")
    db.session.commit()
    return assessment


def _details_summary(assessment: Assessment) -> dict:
    return {
        "territory": assessment.territory.code if assessment.territory else assessment.territory_id,
        "date": assessment.date.isoformat(),
        "perspective": assessment.perspective.name if assessment.perspective else None,
        "participants": [f"{p.name or '—'} ({p.role}, {p.sector})" for p in assessment.participants],
        "organizations": [o.name for o in assessment.organizations],
    }


def update_details(assessment_id: int, details: AssessmentDetails, *, actor: str = SYSTEM) -> Assessment:
    def operation() -> Assessment:
        get_territory(details.territory_id)
        assessment = get_assessment(assessment_id, for_update=True)
        _require_draft(assessment)
        _check_unique(details, own=assessment)
        before = _details_summary(assessment)
        _apply_details(assessment, details)
        db.session.flush()
        after = _details_summary(assessment)
        for name in before:
            if before[name] != after[name]:
                add_audit(actor, "details", assessment.id, field=name, old=before[name], new=after[name])
        assessment.updated_at = dt.datetime.now(dt.timezone.utc)
        return assessment

    return _retrying(operation)


def _require_draft(assessment: Assessment) -> None:
    if assessment.status != DRAFT:
        raise Locked(_l("Cette évaluation est finalisée : elle ne peut plus être modifiée."))


def save_answers(
    assessment_id: int,
    answers: Mapping[str, AnswerData],
    bases: Mapping[str, str] | None = None,
    confirmed: Iterable[str] = (),
    *,
    actor: str = SYSTEM,
) -> SaveResult:
    """Save the answers a person typed; keep what others saved meanwhile.

    `bases` maps an item id to the fingerprint of the answer as the person loaded it. An item
    that changed in the database since then *and* that this person changed differently is
    not overwritten: it comes back as a conflict with both values. `confirmed` lists carried-
    over answers the team confirmed as they are; a changed one is confirmed by the change.
    """
    bases = bases or {}
    confirmed = set(confirmed)

    def operation() -> SaveResult:
        result = SaveResult()
        assessment = get_assessment(assessment_id, for_update=True)
        _require_draft(assessment)
        stored = assessment.answers_by_item
        for item_id, yours in answers.items():
            row = stored.get(item_id)
            current = AnswerData.of(row)
            if yours == current:
                if row is not None and row.carried_over and item_id in confirmed:
                    row.carried_over = False
                    result.saved.append(item_id)
                    add_audit(actor, "confirm", assessment.id, item_id=item_id, new=current.level)
                continue
            base = bases.get(item_id)
            if base is not None and base != current.fingerprint():
                result.conflicts.append(AnswerConflict(item_id, current, yours))
                continue
            if row is None:
                row = Answer(item_id=item_id)
                assessment.answers.append(row)
            old = asdict(current)
            for name, value in asdict(yours).items():
                setattr(row, name, value)
                if old[name] != value:
                    add_audit(actor, "answer", assessment.id, item_id=item_id, field=name, old=old[name], new=value)
            row.carried_over = False
            result.saved.append(item_id)
        if result.saved:
            assessment.updated_at = dt.datetime.now(dt.timezone.utc)
        return result

    return _retrying(operation)


def unanswered_items(assessment: Assessment, grid: Grid) -> list[str]:
    stored = assessment.answers_by_item
    return [item_id for item_id in grid.items if stored.get(item_id) is None or stored[item_id].level is None]


def finalize(assessment_id: int, grid: Grid, *, actor: str = SYSTEM) -> Assessment:
    def operation() -> Assessment:
        assessment = get_assessment(assessment_id, for_update=True)
        _require_draft(assessment)
        missing = unanswered_items(assessment, grid)
        if missing:
            raise ServiceError(
                _l("Impossible de finaliser : %(count)s énoncé(s) sans réponse (%(items)s).",
                   count=len(missing), items=", ".join(missing)),
                missing=missing,
            )
        carried = [a.item_id for a in assessment.answers if a.carried_over]
        if carried:
            raise ServiceError(
                _l("Impossible de finaliser : %(count)s réponse(s) reprise(s) de l'évaluation précédente "
                   "sont à confirmer ou à modifier (%(items)s).", count=len(carried), items=", ".join(sorted(carried))),
                carried=carried,
            )
        assessment.status = FINALIZED
        assessment.updated_at = dt.datetime.now(dt.timezone.utc)
        add_audit(actor, "finalize", assessment.id, detail=f"revision {assessment.revision}")
        if assessment.supersedes is not None:
            # The correction becomes the current version; the one it corrects stays readable.
            assessment.supersedes.status = SUPERSEDED
            add_audit(actor, "supersede", assessment.supersedes.id, detail=f"by assessment {assessment.id}")
        return assessment

    return _retrying(operation)


def open_revision(assessment_id: int, reason: str, *, actor: str = SYSTEM) -> Assessment:
    """Reopen a finalised assessment as a new draft revision, with the reason for correcting it."""
    def operation() -> Assessment:
        original = get_assessment(assessment_id, for_update=True)
        if original.status != FINALIZED:
            raise Locked(_l("Seule la version finalisée en vigueur d'une évaluation peut être révisée."))
        pending = db.session.scalars(select(Assessment).where(Assessment.supersedes_id == original.id)).first()
        if pending is not None:
            raise Conflict(_l("Une révision de cette évaluation est déjà en cours."), existing_id=pending.id)
        revision = Assessment(
            territory_id=original.territory_id, date=original.date, perspective=original.perspective,
            organizations=list(original.organizations), status=DRAFT, grid_version=original.grid_version,
            revision=original.revision + 1, supersedes=original, revision_reason=reason,
            participants=[Participant(position=p.position, name=p.name, role=p.role, sector=p.sector)
                          for p in original.participants],
            answers=[Answer(**{**asdict(AnswerData.of(a)), "item_id": a.item_id}) for a in original.answers],
        )
        db.session.add(revision)
        db.session.flush()
        add_audit(actor, "revise", original.id, new=revision.id, detail=reason)
        add_audit(actor, "create", revision.id, detail=f"revision {revision.revision} of assessment {original.id}: {reason}")
        return revision

    return _retrying(operation)


# --- Results ------------------------------------------------------------------------------

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


def answered_count(assessment: Assessment, grid: Grid) -> int:
    return sum(1 for a in assessment.answers if a.level is not None and a.item_id in grid.items)



# --- Import / export (`pin-grid/1`) -------------------------------------------------------

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
    begin_write()
    try:
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
            _apply_details(assessment, AssessmentDetails(
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
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report


# --- Cohorts, comparisons, profiles (DESIGN.md §4–§5) ---------------------------------------

def _component_scores(results: AssessmentResults) -> dict[str, float | None]:
    return {t.theme.id: t.score.score for t in results.components}


def cohort(year: int) -> list[Assessment]:
    """The latest finalised collective assessment of every territory dated in `year`."""
    candidates = db.session.scalars(
        select(Assessment)
        .where(
            Assessment.status == FINALIZED,
            Assessment.perspective_id.is_(None),
            Assessment.date >= dt.date(year, 1, 1),
            Assessment.date <= dt.date(year, 12, 31),
        )
        .options(selectinload(Assessment.answers), selectinload(Assessment.territory))
        .order_by(Assessment.date, Assessment.id)
    )
    latest: dict[int, Assessment] = {}
    for assessment in candidates:
        latest[assessment.territory_id] = assessment  # ordered by date: the last one wins
    return list(latest.values())


def comparison_years() -> list[int]:
    """Years that have at least one finalised collective assessment, newest first."""
    dates = db.session.scalars(
        select(Assessment.date).where(Assessment.status == FINALIZED, Assessment.perspective_id.is_(None))
    )
    return sorted({d.year for d in dates}, reverse=True)


PROFILE_ORDER = ("exemplaire", "se_demarque", "posture_ecosystemique", "dans_la_moyenne", "avec_difficultes", "difficile")


@dataclass(frozen=True)
class ComparisonRow:
    assessment: Assessment
    results: AssessmentResults
    standing: scoring.Standing
    anonymous: str | None = None  # the label shown instead of the territory's name

    @property
    def sort_name(self) -> tuple[str, str]:
        if self.anonymous:
            return ("~" + self.anonymous, "")  # after the named ones, in label order
        return (self.assessment.territory.name.casefold(), self.assessment.territory.code)


@dataclass(frozen=True)
class Comparison:
    year: int
    reference: scoring.Reference
    rows: list[ComparisonRow]

    def sorted_rows(self, key: str = "territory", descending: bool = False) -> list[ComparisonRow]:
        """Rows sorted by territory, a component's score, the ensemble or the profile;
        rows with nothing to sort on come last either way."""
        def value(row: ComparisonRow):
            if key == "ensemble":
                return row.standing.ensemble
            if key == "profile":
                p = row.standing.profile
                return (p.letter, PROFILE_ORDER.index(p.subprofile)) if p else None
            if key in row.standing.symbols:
                return next(t.score.score for t in row.results.themes if t.theme.id == key)
            return row.sort_name

        present = [r for r in self.rows if value(r) is not None]
        absent = [r for r in self.rows if value(r) is None]
        return sorted(present, key=value, reverse=descending) + absent

    def labelled(self, label_of: Callable[[Territory], str | None]) -> Comparison:
        """The same comparison with some territories under anonymous labels."""
        rows = [ComparisonRow(r.assessment, r.results, r.standing, label_of(r.assessment.territory)) for r in self.rows]
        rows.sort(key=lambda row: row.sort_name)
        return Comparison(self.year, self.reference, rows)

    def profile_counts(self) -> dict[str, int]:
        """Territories per profile letter and per sub-profile slug (plus « none »)."""
        counts: dict[str, int] = {}
        for row in self.rows:
            profile = row.standing.profile
            for key in ((profile.letter, profile.subprofile) if profile else ("none",)):
                counts[key] = counts.get(key, 0) + 1
        return counts


def _reference(cohort_size: int, grid: Grid) -> scoring.Reference:
    return scoring.reference_for(cohort_size, grid.comparison.min_cohort, grid.comparison.absolute_bands)


def compare_year(year: int, grid: Grid) -> Comparison:
    members = cohort(year)
    results = [results_of(a, grid) for a in members]
    sheets = [_component_scores(r) for r in results]
    reference = _reference(len(members), grid)
    rows = [
        ComparisonRow(a, r, scoring.standing(sheet, sheets, reference))
        for a, r, sheet in zip(members, results, sheets)
    ]
    rows.sort(key=lambda row: (row.assessment.territory.name.casefold(), row.assessment.territory.code))
    return Comparison(year, reference, rows)


def standing_of(assessment: Assessment, results: AssessmentResults, grid: Grid) -> tuple[scoring.Standing, scoring.Reference]:
    """An assessment's symbols and profile against the cohort of its year."""
    members = cohort(assessment.date.year)
    sheets = [_component_scores(results_of(a, grid)) for a in members]
    reference = _reference(len(members), grid)
    return scoring.standing(_component_scores(results), sheets, reference), reference


# --- Yearly follow-up ---------------------------------------------------------------------

def previous_assessment(assessment: Assessment) -> Assessment | None:
    """The latest finalised assessment of the same territory and point of view before this one."""
    return db.session.scalars(
        select(Assessment)
        .where(
            Assessment.territory_id == assessment.territory_id,
            Assessment.perspective_id.is_(None)
            if assessment.perspective_id is None
            else Assessment.perspective_id == assessment.perspective_id,
            Assessment.status == FINALIZED,
            Assessment.id.notin_(revision_chain(assessment)),
            or_(Assessment.date < assessment.date,
                and_(Assessment.date == assessment.date, Assessment.id < assessment.id)),
        )
        .order_by(Assessment.date.desc(), Assessment.id.desc())
    ).first()


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

    @property
    def direction(self) -> str:
        """▲, ▼ or = (or « ? » when either side has no score)."""
        if self.delta is None:
            return "?"
        return "▲" if self.delta > 0 else "▼" if self.delta < 0 else "="


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


def follow_up(assessment: Assessment, results: AssessmentResults, grid: Grid) -> FollowUp | None:
    previous = previous_assessment(assessment)
    if previous is None:
        return None
    before = results_of(previous, grid)
    themes = [ThemeChange(b.theme, b.score, a.score) for b, a in zip(before.themes, results.themes)]
    old = {a.item_id: a.level for a in previous.answers}
    new = {a.item_id: a.level for a in assessment.answers}
    # A draft's statements without a level yet are not changes.
    items = [ItemChange(i, old.get(i), new.get(i)) for i in grid.items if new.get(i) and old.get(i) != new.get(i)]
    return FollowUp(previous, themes, items)


def holds_data() -> bool:
    """Whether any territory or assessment is stored (the demo refuses to touch real data)."""
    return db.session.scalars(select(Territory.id).limit(1)).first() is not None


def versions_of(assessment: Assessment) -> list[Assessment]:
    """Every version of this assessment (the corrected ones and their revisions), oldest first."""
    first = assessment
    while first.supersedes is not None:
        first = first.supersedes
    versions, current = [first], first
    while True:
        following = db.session.scalars(select(Assessment).where(Assessment.supersedes_id == current.id)).first()
        if following is None or following in versions:
            return versions
        versions.append(following)
        current = following
