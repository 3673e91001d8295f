"""The JSON exchange format `pin-grid/1`: checking a document, and writing one.

No database here: `parse_document` returns checked records or every problem with its place;
services write the records; `export_document` turns assessments into the document.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from . import limits
from .grid import Grid
from .models import FINALIZED, SECTOR_CODES, STATUSES

FORMAT = "pin-grid/1"
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=limits.NAME)]
Sector = Literal[SECTOR_CODES]  # type: ignore[valid-type]


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


class AssessmentRecord(_Strict):
    territory: TerritoryRecord
    date: dt.date
    perspective: PerspectiveRecord | None = None
    status: Literal[STATUSES]  # type: ignore[valid-type]
    grid_version: Annotated[str, StringConstraints(min_length=1, max_length=limits.GRID_VERSION)]
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


class Document(_Strict):
    format: Literal["pin-grid/1"]
    assessments: list[AssessmentRecord]


class DocumentError(Exception):
    """The document cannot be imported; `problems` lists each fault with its place."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


_BAD_DATE = _l("date invalide (forme AAAA-MM-JJ, p. ex. 2024-03-14)")
_MESSAGES = {
    "missing": _l("champ obligatoire manquant"),
    "extra_forbidden": _l("champ inconnu"),
    "date_from_datetime_parsing": _BAD_DATE,
    "date_parsing": _BAD_DATE,
    "date_type": _BAD_DATE,
    "string_pattern_mismatch": _l("lettres majuscules sans accent, chiffres et traits d'union seulement, 20 au plus (p. ex. MTL-NORD)"),
    "literal_error": _l("valeur inconnue"),
}


def _place(loc: tuple) -> str:
    parts = []
    for i, part in enumerate(loc):
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(f".{part}" if i else str(part))
    return "".join(parts)


def parse_document(text: str | bytes, grid: Grid) -> Document:
    """Check a `pin-grid/1` document against the format and the grid; raise DocumentError."""
    try:
        data: Any = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DocumentError([_("JSON invalide : %(error)s", error=str(exc))]) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DocumentError([_("format : « %(format)s » attendu", format=FORMAT)])
    try:
        document = Document.model_validate(data)
    except ValidationError as exc:
        raise DocumentError(
            [f"{_place(tuple(e['loc']))} : {_MESSAGES.get(e['type'], e['msg'])}"
             + (f" ({e['ctx']['expected']})" if e["type"] == "literal_error" else "")
             for e in exc.errors()]
        ) from None
    problems = []
    codes = set(grid.level)
    seen: dict[tuple, int] = {}
    for index, record in enumerate(document.assessments):
        where = f"assessments[{index}]"
        for item_id, answer in record.answers.items():
            if item_id not in grid.items:
                problems.append(f"{where}.answers.{item_id} : " + _("cet énoncé n'est pas dans la grille (version %(version)s)", version=grid.version))
            elif answer.level is not None and answer.level not in codes:
                problems.append(f"{where}.answers.{item_id}.level : " + _("niveau inconnu « %(level)s » (attendu : %(codes)s)", level=answer.level, codes=", ".join(grid.level)))
        if record.status == FINALIZED:
            missing = [i for i in grid.items if record.answers.get(i) is None or record.answers[i].level is None]
            if missing:
                problems.append(f"{where}.answers : " + _("une évaluation finalisée a un niveau pour chaque énoncé ; il manque %(items)s", items=", ".join(missing)))
        if record.key in seen:
            problems.append(f"{where} : " + _("même territoire, même date et même point de vue que assessments[%(other)s]", other=seen[record.key]))
        seen.setdefault(record.key, index)
    if problems:
        raise DocumentError(problems)
    return document


def export_document(assessments, grid: Grid) -> dict:
    """The `pin-grid/1` document of these assessments, in a stable order."""
    order = {item_id: i for i, item_id in enumerate(grid.items)}

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
        }

    return {
        "format": FORMAT,
        "assessments": [
            {
                "territory": {"code": a.territory.code, "name": a.territory.name, "region": a.territory.region},
                "date": a.date.isoformat(),
                "perspective": {"organization": a.perspective.name} if a.perspective else None,
                "status": a.status,
                "grid_version": a.grid_version,
                "participants": [{"name": p.name, "role": p.role, "sector": p.sector} for p in a.participants],
                "organizations": [{"name": o.name, "sector": o.sector} for o in a.organizations],
                "answers": {
                    r.item_id: answer(r)
                    for r in sorted(a.answers, key=lambda r: (order.get(r.item_id, len(order)), r.item_id))
                },
            }
            for a in sorted(assessments, key=sort_key)
        ],
    }


def dumps(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


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
