"""The life of an assessment: started as a draft, answered statement by statement by the team,
finalised, corrected by a revision; deleted only while it is a draft started by mistake."""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from sqlalchemy import and_, bindparam, func, inspect, or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..grid import Grid, GridCatalog
from ..models import DRAFT, FINALIZED, SUPERSEDED, Answer, Assessment, Participant
from ..transactions import retrying
from .audit import SYSTEM, add_audit
from .errors import Conflict, Locked, NotFound, ServiceError
from .territories import get_territory, organization_named

# --- Plain data passed in by forms, the CLI and imports ------------------------------------

@dataclass(frozen=True)
class AnswerData:
    level: str | None = None
    comment: str = ""
    priority: bool = False
    action: str = ""
    action_owner: str = ""
    action_due: dt.date | None = None
    target: str | None = None  # the level aimed for by the next assessment

    @classmethod
    def of(cls, answer: Answer | None) -> AnswerData:
        if answer is None:
            return cls()
        return cls(answer.level, answer.comment or "", bool(answer.priority), answer.action or "",
                   answer.action_owner or "", answer.action_due, answer.target)

    def fingerprint(self) -> str:
        """Short digest of the answer as the person saw it, to detect changes made meanwhile."""
        return _fingerprint(self)

    @classmethod
    def of_row(cls, row) -> AnswerData:
        """An answer read as a plain row of ANSWER_COLUMNS (item id and carried-over flag first)."""
        return cls(row[2], row[3] or "", bool(row[4]), row[5] or "", row[6] or "", row[7], row[8])


@functools.lru_cache(maxsize=4096)  # the same answers are shown and saved again and again; frozen, so hashable
def _fingerprint(answer: AnswerData) -> str:
    fields = answer.__dict__  # its fields (asdict, but faster)
    if fields["target"] is None:  # as before targets existed: a page open across an upgrade still saves
        fields = {name: value for name, value in fields.items() if name != "target"}
    raw = json.dumps(fields, default=str, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


# An answer as a plain row, in AnswerData's order after the item and its carried-over flag.
ANSWER_COLUMNS = (Answer.item_id, Answer.carried_over, Answer.level, Answer.comment, Answer.priority, Answer.action,
                  Answer.action_owner, Answer.action_due, Answer.target)


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
    # Statements the person left as they were, which someone else changed meanwhile: as stored now.
    changed_by_others: dict[str, AnswerData] = field(default_factory=dict)
    # Statements whose answer, carried over from the previous assessment, is still to confirm.
    carried: set[str] = field(default_factory=set)


# The version a statement is based on when a save does not say: an empty answer, so that it may
# fill a blank statement but never overwrite someone's answer unseen.
BLANK_BASE = AnswerData().fingerprint()


# --- Look-ups ------------------------------------------------------------------------------

_LOCKED = "pin_grid.locked_assessments"  # (transaction, ids read FOR UPDATE in it)


def get_assessment(assessment_id: int, *, for_update: bool = False, with_answers: bool = False) -> Assessment:
    """The assessment with its territory and point of view (every page checks the territory), in
    one statement; `with_answers`: its answers too. `for_update` locks it until the transaction
    ends; read so a second time in the same transaction, it is not read again."""
    session = db.session()
    locked = session.info.get(_LOCKED)
    if for_update and locked and locked[0] is session.get_transaction() and assessment_id in locked[1]:
        return session.get(Assessment, assessment_id)  # locked since: no one else can have changed it
    # Locked on PostgreSQL, the answers are read by a second statement, once the lock is held:
    # rows joined to a locked row come from the snapshot taken before waiting for the lock, and
    # would miss what the transaction it waited for wrote. (SQLite locks the whole database from
    # the first statement of a write: one statement is enough.)
    answers_later = with_answers and for_update and session.get_bind().dialect.name != "sqlite"
    query = _assessment_query(with_answers, answers_later, for_update)
    assessment = session.scalars(query, {"assessment_id": assessment_id}).unique().first()
    if assessment is None:
        raise NotFound(_l("Cette évaluation n'existe pas (no %(id)s).", id=assessment_id))
    if for_update:
        if not locked or locked[0] is not session.get_transaction():
            locked = session.info[_LOCKED] = (session.get_transaction(), set())
        locked[1].add(assessment_id)
    return assessment


@functools.cache
def _assessment_query(with_answers: bool, answers_later: bool, for_update: bool):
    """`get_assessment`'s statement, built once for each way of reading (every page reads one)."""
    query = (select(Assessment).where(Assessment.id == bindparam("assessment_id"))
             .options(joinedload(Assessment.territory, innerjoin=True), joinedload(Assessment.perspective)))
    if with_answers:
        query = query.options(selectinload(Assessment.answers) if answers_later else joinedload(Assessment.answers))
    if for_update:
        query = query.with_for_update(of=Assessment)
    return query


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


def previous_assessment(assessment: Assessment) -> Assessment | None:
    """The latest finalised assessment of the same territory and point of view before this one."""
    return db.session.scalars(_previous_query(assessment.perspective_id is None), {
        "territory_id": assessment.territory_id, "perspective_id": assessment.perspective_id,
        "chain": sorted(revision_chain(assessment)), "date": assessment.date, "id": assessment.id}).first()


@functools.cache
def _previous_query(collective: bool):
    """`previous_assessment`'s statement, built once for the collective view and once for a
    partner's (the results page of every assessment reads it)."""
    return (select(Assessment)
            .where(Assessment.territory_id == bindparam("territory_id"),
                   Assessment.perspective_id.is_(None) if collective
                   else Assessment.perspective_id == bindparam("perspective_id"),
                   Assessment.status == FINALIZED,
                   Assessment.id.notin_(bindparam("chain", expanding=True)),
                   or_(Assessment.date < bindparam("date"),
                       and_(Assessment.date == bindparam("date"), Assessment.id < bindparam("id"))))
            .order_by(Assessment.date.desc(), Assessment.id.desc()))


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


# --- Lifecycle: draft → finalised → revision ------------------------------------------------

def apply_details(assessment: Assessment, details: AssessmentDetails) -> None:
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


def start_assessment(details: AssessmentDetails, grids: GridCatalog, *, carry_over: bool = False,
                     actor: str = SYSTEM) -> Assessment:
    """Start a draft on the grid version in force; with `carry_over`, from the answers of the
    previous finalised assessment of the same territory and point of view (each marked until the
    team confirms or changes it). Across grid versions only the statements whose meaning was kept
    carry their answer over; the others are new statements to rate."""
    grid = grids.current

    def operation() -> Assessment:
        get_territory(details.territory_id)
        _check_unique(details)
        assessment = Assessment(status=DRAFT, grid_version=grid.version)
        apply_details(assessment, details)
        db.session.add(assessment)
        db.session.flush()
        add_audit(actor, "create", assessment.id, new=_details_summary(assessment))
        if carry_over:
            previous = previous_assessment(assessment)
            if previous is None:
                raise ServiceError(
                    _l("Ce territoire n'a pas encore d'évaluation finalisée antérieure de ce point de vue : "
                       "décochez « Partir de la dernière évaluation »."),
                    field="carry_over",
                )
            kept = grids.same_meaning(previous.grid_version, grid.version)
            assessment.answers = [
                Answer(item_id=kept[a.item_id], level=a.level, comment=a.comment, carried_over=True)
                for a in previous.answers
                if a.item_id in kept and a.level in grid.level
            ]
            add_audit(actor, "carry_over", assessment.id, detail=f"from assessment {previous.id}")
        return assessment

    return retrying(operation)


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
        apply_details(assessment, details)
        db.session.flush()
        after = _details_summary(assessment)
        for name in before:
            if before[name] != after[name]:
                add_audit(actor, "details", assessment.id, field=name, old=before[name], new=after[name])
        assessment.updated_at = dt.datetime.now(dt.timezone.utc)
        return assessment

    return retrying(operation)


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

    `bases` maps an item id to the fingerprint of the answer as the person loaded it. A
    statement sent as it was loaded is left alone (the person did not change it: whatever
    someone else saved meanwhile stays). An item that changed in the database since then *and*
    that this person changed differently is not overwritten: it comes back as a conflict with
    both values. Without `bases` (imports, the command line) answers are written as given.
    `confirmed` lists carried-over answers the team confirmed as they are; a changed one is
    confirmed by the change.
    """
    bases = bases or {}
    confirmed = set(confirmed)

    def operation() -> SaveResult:
        result = SaveResult()
        assessment = get_assessment(assessment_id, for_update=True, with_answers=True)
        _require_draft(assessment)
        stored = assessment.answers_by_item
        for item_id, yours in answers.items():
            row = stored.get(item_id)
            current = AnswerData.of(row)
            base = bases.get(item_id)
            if base == yours.fingerprint() and item_id not in confirmed:
                if current != yours:
                    result.changed_by_others[item_id] = current
                continue
            if yours == current:
                if row is not None and row.carried_over and item_id in confirmed:
                    row.carried_over = False
                    result.saved.append(item_id)
                    add_audit(actor, "confirm", assessment.id, item_id=item_id, new=current.level)
                continue
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
        # As just written: the answer needs no reading again after the commit.
        result.carried = {a.item_id for a in assessment.answers if a.carried_over}
        return result

    return retrying(operation)


@dataclass
class StoredAnswers:
    """A draft's answers as the grid page shows them: each stored answer, and the carried-over
    ones not yet confirmed, in grid order."""

    answers: dict[str, AnswerData]
    to_confirm: list[str]


# The grid page's statements, built once (SQLAlchemy then also keeps their cache keys).
_STORED_ANSWERS = select(*ANSWER_COLUMNS).where(Answer.assessment_id == bindparam("assessment_id"))
_PARTICIPANT_COUNT = select(func.count()).where(Participant.assessment_id == bindparam("assessment_id"))


def stored_answers(assessment: Assessment, grid: Grid) -> StoredAnswers:
    """Read as plain rows in one statement (the grid page needs no Answer objects), or from the
    answers already loaded with the assessment."""
    if "answers" in inspect(assessment).dict:
        rows = [tuple(getattr(answer, column.key) for column in ANSWER_COLUMNS) for answer in assessment.answers]
    else:
        rows = db.session.execute(_STORED_ANSWERS, {"assessment_id": assessment.id}).all()
    carried = {row[0] for row in rows if row[1]}
    return StoredAnswers({row[0]: AnswerData.of_row(row) for row in rows},
                         [item_id for item_id in grid.items if item_id in carried])


def participant_count(assessment: Assessment) -> int:
    """How many took part, counted by the database unless the participants are loaded already."""
    if "participants" in inspect(assessment).dict:
        return len(assessment.participants)
    return db.session.scalar(_PARTICIPANT_COUNT, {"assessment_id": assessment.id})


def unanswered_items(assessment: Assessment, grid: Grid) -> list[str]:
    stored = assessment.answers_by_item
    return [item_id for item_id in grid.items if stored.get(item_id) is None or stored[item_id].level is None]


def unconfirmed_items(assessment: Assessment, grid: Grid) -> list[str]:
    """Answers carried over from the previous assessment and not yet confirmed, in grid order."""
    return stored_answers(assessment, grid).to_confirm


def finalize_blocker(assessment: Assessment, grid: Grid) -> ServiceError | None:
    """Why this draft cannot be finalised yet (statements without a level, carried-over answers
    not confirmed), or None when it can."""
    missing = unanswered_items(assessment, grid)
    if missing:
        return ServiceError(
            _ln("Impossible de finaliser : %(num)d énoncé est sans réponse (%(items)s).",
                "Impossible de finaliser : %(num)d énoncés sont sans réponse (%(items)s).",
                len(missing), items=", ".join(missing)),
            missing=missing,
        )
    carried = unconfirmed_items(assessment, grid)
    if carried:
        return ServiceError(
            _ln("Impossible de finaliser : %(num)d réponse reprise de l'évaluation précédente est à confirmer "
                "ou à modifier (%(items)s).",
                "Impossible de finaliser : %(num)d réponses reprises de l'évaluation précédente sont à confirmer "
                "ou à modifier (%(items)s).", len(carried), items=", ".join(carried)),
            carried=carried,
        )
    return None


def finalize(assessment_id: int, grid: Grid, *, actor: str = SYSTEM) -> Assessment:
    def operation() -> Assessment:
        assessment = get_assessment(assessment_id, for_update=True)
        _require_draft(assessment)
        blocker = finalize_blocker(assessment, grid)
        if blocker is not None:
            raise blocker
        assessment.status = FINALIZED
        assessment.updated_at = dt.datetime.now(dt.timezone.utc)
        add_audit(actor, "finalize", assessment.id, detail=f"revision {assessment.revision}")
        if assessment.supersedes is not None:
            # The correction becomes the current version; the one it corrects stays readable.
            assessment.supersedes.status = SUPERSEDED
            add_audit(actor, "supersede", assessment.supersedes.id, detail=f"by assessment {assessment.id}")
        return assessment

    return retrying(operation)


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

    return retrying(operation)


def delete_draft(assessment_id: int, *, actor: str = SYSTEM) -> None:
    """Delete a draft started by mistake. What it held goes to the audit trail first; a
    finalised (or superseded) assessment is never deleted: it is corrected by a revision."""
    def operation() -> None:
        assessment = get_assessment(assessment_id, for_update=True)
        if assessment.status != DRAFT:
            raise Locked(_l("Une évaluation finalisée ne se supprime pas ; elle peut être corrigée par une révision."))
        add_audit(actor, "delete", assessment.id, old={
            **_details_summary(assessment),
            "answers": {a.item_id: asdict(AnswerData.of(a)) for a in assessment.answers},
        })
        db.session.delete(assessment)

    retrying(operation)
