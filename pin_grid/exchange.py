"""The JSON exchange format `pin-grid/1`: checking a document, and writing one.

No database here: `parse_document` returns checked records or every problem with its place;
services write the records; `export_document` turns assessments into the document. Each record
is the version in force; its `versions` are the superseded ones and a revision still in draft.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from . import limits
from .grid import Grid, GridCatalog
from .text import normalized
from .models import DRAFT, SECTOR_CODES, STATUSES, SUPERSEDED

FORMAT = "pin-grid/1"
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=limits.NAME)]
Sector = Literal[SECTOR_CODES]  # type: ignore[valid-type]
# A moment with its time zone (ISO 8601), kept in UTC.
Moment = Annotated[AwareDatetime, AfterValidator(lambda moment: moment.astimezone(dt.timezone.utc))]
# The other versions of an assessment: the earlier ones, and a revision still in draft.
VERSION_STATUSES = (SUPERSEDED, DRAFT)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TerritoryRecord(_Strict):
    code: Annotated[str, StringConstraints(pattern=limits.TERRITORY_CODE)]
    name: Name
    region: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=limits.REGION)]


class PerspectiveRecord(_Strict):
    organization: Name


class ParticipantRecord(_Strict):
    name: Annotated[str, StringConstraints(max_length=limits.NAME)] | None = None
    role: Name
    sector: Sector


class OrganizationRecord(_Strict):
    name: Name
    sector: Sector


class AnswerRecord(_Strict):
    level: str | None = None
    comment: Annotated[str, StringConstraints(max_length=limits.COMMENT)] = ""
    priority: bool = False
    action: Annotated[str, StringConstraints(max_length=limits.ACTION)] = ""
    action_owner: Annotated[str, StringConstraints(max_length=limits.NAME)] = ""
    action_due: dt.date | None = None
    # Taken over from the previous assessment and not yet confirmed (only in a draft).
    carried_over: bool = False
    # The level the team aims for by the next assessment (« cible »).
    target: str | None = None


class VersionRecord(_Strict):
    """One version of an assessment, as it is in that version."""

    territory: TerritoryRecord
    date: dt.date
    perspective: PerspectiveRecord | None = None
    status: Literal[VERSION_STATUSES]  # type: ignore[valid-type]
    grid_version: Annotated[str, StringConstraints(min_length=1, max_length=limits.GRID_VERSION)]
    revision: int = Field(default=1, ge=1)
    revision_reason: Annotated[str, StringConstraints(max_length=limits.ACTION)] = ""
    created_at: Moment | None = None  # None: the time of the import
    updated_at: Moment | None = None
    participants: list[ParticipantRecord] = Field(default_factory=list, max_length=limits.PARTICIPANTS)
    organizations: list[OrganizationRecord] = Field(default_factory=list, max_length=limits.ORGANIZATIONS)
    answers: dict[str, AnswerRecord] = Field(default_factory=dict)

    @property
    def perspective_name(self) -> str | None:
        return self.perspective.organization if self.perspective else None

    @property
    def key(self) -> tuple[str, dt.date, str | None]:
        name = self.perspective_name
        return (self.territory.code, self.date, name.casefold() if name else None)


class AssessmentRecord(VersionRecord):
    """The version in force (finalised, or a draft never finalised) and its other versions."""

    status: Literal[STATUSES]  # type: ignore[valid-type]
    versions: list[VersionRecord] = Field(default_factory=list)

    @property
    def chain(self) -> list[VersionRecord]:
        """Every version, oldest first: the superseded ones, this one, a revision in draft."""
        return sorted([self, *self.versions], key=lambda version: version.revision)


class Document(_Strict):
    format: Literal["pin-grid/1"]
    assessments: list[AssessmentRecord]


class DocumentError(Exception):
    """The document cannot be imported; `problems` lists each fault with its place."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


_BAD_DATE = _l("date invalide (forme AAAA-MM-JJ, p. ex. 2024-03-14)")
_BAD_MOMENT = _l("date et heure invalides (forme ISO 8601 avec fuseau horaire, p. ex. 2024-03-14T19:30:00+00:00)")
_NOT_INTEGER = _l("nombre entier attendu")
_MESSAGES = {
    "missing": _l("champ obligatoire manquant"),
    "extra_forbidden": _l("champ inconnu"),
    "date_from_datetime_parsing": _BAD_DATE,
    "date_parsing": _BAD_DATE,
    "date_type": _BAD_DATE,
    "datetime_from_date_parsing": _BAD_MOMENT,
    "datetime_parsing": _BAD_MOMENT,
    "datetime_type": _BAD_MOMENT,
    "timezone_aware": _BAD_MOMENT,
    "int_parsing": _NOT_INTEGER,
    "int_from_float": _NOT_INTEGER,
    "int_type": _NOT_INTEGER,
    "greater_than_equal": _l("nombre trop petit"),
    "string_pattern_mismatch": _l("lettres majuscules sans accent, chiffres et traits d'union seulement, 20 au plus (p. ex. MTL-NORD)"),
    "literal_error": _l("valeur inconnue"),
}
# What a message adds from the error's context, e.g. the values a literal accepts.
_CONTEXT = {"literal_error": "{expected}", "greater_than_equal": "minimum {ge}"}


def _place(loc: tuple) -> str:
    parts = []
    for i, part in enumerate(loc):
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(f".{part}" if i else str(part))
    return "".join(parts)


def _normalized(value: Any) -> Any:
    """Every text of the document as the forms take it (text.normalized): one kind of line
    break, no control characters (which PostgreSQL would refuse)."""
    if isinstance(value, str):
        return normalized(value)
    if isinstance(value, dict):
        return {normalized(k) if isinstance(k, str) else k: _normalized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalized(v) for v in value]
    return value


def parse_document(text: str | bytes, grids: GridCatalog) -> Document:
    """Check a `pin-grid/1` document against the format and the grid version each assessment
    was rated on; raise DocumentError."""
    try:
        data: Any = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DocumentError([_("JSON invalide : %(error)s", error=str(exc))]) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DocumentError([_("format : « %(format)s » attendu", format=FORMAT)])
    try:
        document = Document.model_validate(_normalized(data))
    except ValidationError as exc:
        raise DocumentError(
            [f"{_place(tuple(e['loc']))} : {_MESSAGES.get(e['type'], e['msg'])}"
             + (f" ({_CONTEXT[e['type']].format(**e['ctx'])})" if e["type"] in _CONTEXT else "")
             for e in exc.errors()]
        ) from None
    problems = []
    seen: dict[tuple, int] = {}
    for index, record in enumerate(document.assessments):
        where = f"assessments[{index}]"
        placed = [(where, record)] + [(f"{where}.versions[{j}]", v) for j, v in enumerate(record.versions)]
        for place, version in placed:
            problems += _version_problems(place, version, grids)
            other = seen.get(version.key, index)
            if other != index:
                problems.append(f"{place} : " + _("même territoire, même date et même point de vue que assessments[%(other)s]", other=other))
        problems += _chain_problems(placed)
        for _where, version in placed:
            seen.setdefault(version.key, index)
    if problems:
        raise DocumentError(problems)
    return document


def _version_problems(place: str, version: VersionRecord, grids: GridCatalog) -> list[str]:
    """The answers of one version against its grid version and against its status."""
    grid = grids.get(version.grid_version)
    if grid is None:
        return [f"{place}.grid_version : " + _("version de grille inconnue « %(version)s » (connues : %(known)s)",
                                                version=version.grid_version, known=", ".join(sorted(grids.versions)))]
    problems = []
    codes = set(grid.level)
    targets = [lv.code for lv in grid.scored_levels]
    for item_id, answer in version.answers.items():
        if item_id not in grid.items:
            problems.append(f"{place}.answers.{item_id} : " + _("cet énoncé n'est pas dans la grille (version %(version)s)", version=grid.version))
        elif answer.level is not None and answer.level not in codes:
            problems.append(f"{place}.answers.{item_id}.level : " + _("niveau inconnu « %(level)s » (attendu : %(codes)s)", level=answer.level, codes=", ".join(grid.level)))
        if answer.target is not None and answer.target not in targets:
            problems.append(f"{place}.answers.{item_id}.target : " + _("cible inconnue « %(target)s » (attendu : %(codes)s)", target=answer.target, codes=", ".join(targets)))
        if answer.carried_over and version.status != DRAFT:
            problems.append(f"{place}.answers.{item_id}.carried_over : " + _("seul un brouillon a des réponses reprises à confirmer"))
    if version.status != DRAFT:  # finalised (and perhaps superseded since)
        missing = [i for i in grid.items if version.answers.get(i) is None or version.answers[i].level is None]
        if missing:
            problems.append(f"{place}.answers : " + _("une évaluation finalisée a un niveau pour chaque énoncé ; il manque %(items)s", items=", ".join(missing)))
    return problems


def _chain_problems(placed: list[tuple[str, VersionRecord]]) -> list[str]:
    """The versions of one assessment (the record first, then its `versions`, each with its
    place) form one chain: revisions 1, 2, 3… without a gap, the superseded ones before the
    version in force, then at most one revision in draft."""
    where, record = placed[0]
    expected = 1
    for place, version in sorted(placed, key=lambda pair: pair[1].revision):
        if version.revision == expected - 1:
            return [f"{place}.revision : " + _("deux versions portent le numéro de révision %(revision)s", revision=version.revision)]
        if version.revision != expected:
            return [f"{place}.revision : " + _("il manque la révision %(missing)s : les révisions sont numérotées à partir de 1, sans trou", missing=expected)]
        expected += 1
    if record.versions and record.status == DRAFT:
        return [f"{where}.versions : " + _("un brouillon n'a pas d'autres versions : les versions remplacées et une révision en cours accompagnent la version finalisée en vigueur")]
    problems = []
    for place, version in placed[1:]:
        if version.status == SUPERSEDED and version.revision > record.revision:
            problems.append(f"{place}.status : " + _("une version remplacée précède la version en vigueur (révision %(revision)s)", revision=record.revision))
        elif version.status == DRAFT and version.revision != record.revision + 1:
            problems.append(f"{place}.revision : " + _("une révision en cours suit directement la version en vigueur : révision %(revision)s attendue", revision=record.revision + 1))
    return problems


def _moment(value: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC (SQLite gives the stored UTC moments back without their time zone)."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc).isoformat()


def export_document(chains, grids: GridCatalog) -> dict:
    """The `pin-grid/1` document, in a stable order. `chains` pairs each assessment in force
    with every version of it, oldest first; the others go to its `versions`. Answers follow the
    order of the grid version each was rated on."""

    def sort_key(a):
        return (a.territory.code, a.date, a.perspective.name if a.perspective else "", a.id)

    def answer(a) -> dict:
        return {
            "level": a.level,
            "comment": a.comment or "",
            "priority": bool(a.priority),
            "action": a.action or "",
            "action_owner": a.action_owner or "",
            "action_due": a.action_due.isoformat() if a.action_due else None,
            "carried_over": bool(a.carried_over),
            "target": a.target,
        }

    def version(a) -> dict:
        return {
            "territory": {"code": a.territory.code, "name": a.territory.name, "region": a.territory.region},
            "date": a.date.isoformat(),
            "perspective": {"organization": a.perspective.name} if a.perspective else None,
            "status": a.status,
            "grid_version": a.grid_version,
            "revision": a.revision,
            "revision_reason": a.revision_reason or "",
            "created_at": _moment(a.created_at),
            "updated_at": _moment(a.updated_at),
            "participants": [{"name": p.name, "role": p.role, "sector": p.sector} for p in a.participants],
            "organizations": [{"name": o.name, "sector": o.sector} for o in a.organizations],
            "answers": {
                r.item_id: answer(r)
                for r in sorted(a.answers, key=lambda r, grid=grids.of(a.grid_version): (
                    grid.position.get(r.item_id, len(grid.position)), r.item_id))
            },
        }

    return {
        "format": FORMAT,
        "assessments": [
            {**version(current), "versions": [version(v) for v in versions if v is not current]}
            for current, versions in sorted(chains, key=lambda chain: sort_key(chain[0]))
        ],
    }


def dumps(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def dumps_rows(document: dict, rows: str = "rows") -> str:
    """`document` as indented JSON with each of its `rows` on one line: readable, and written by
    the C encoder (an indented dump takes the pure-Python one: 2 of the 3 s of `compare --json`
    at 5,000 territories)."""
    encode = json.JSONEncoder(ensure_ascii=False).encode
    lines = ["{", *(f"  {encode(key)}: {encode(value)}," for key, value in document.items() if key != rows)]
    if document[rows]:
        lines += [f"  {encode(rows)}: [", ",\n".join(f"    {encode(row)}" for row in document[rows]), "  ]"]
    else:
        lines.append(f"  {encode(rows)}: []")
    return "\n".join(lines) + "\n}\n"


def comparison_document(comparison) -> dict:
    """The JSON of `flask compare --json`: one row per territory of the year's cohort."""
    def theme(result, symbol):
        s = result.score
        return {"counts": s.counts, "answered": s.answered, "score": s.score, "status": s.status, "symbol": symbol}

    rows = []
    for row in comparison.rows:
        territory = row.assessment.territory
        profile = row.standing.profile
        rows.append({
            "territory": {"code": territory.code, "name": territory.name, "region": territory.region},
            "date": row.assessment.date.isoformat(),
            "themes": {t.theme.id: theme(t, row.standing.symbols.get(t.theme.id)) for t in row.results.themes},
            "ensemble": {"score": row.standing.ensemble, "symbol": row.standing.ensemble_symbol},
            "profile": {"letter": profile.letter if profile else None,
                        "subprofile": profile.subprofile if profile else None},
        })
    return {
        "year": comparison.year,
        "reference": comparison.reference.kind,
        "cohort_size": comparison.reference.cohort_size,
        "rows": rows,
    }
