"""The exports people take to Excel or to their scripts (issue 11): the comparison table of a
year, the results of the assessments in scope (one row per assessment × theme), all their answers
(one row per assessment × statement), and the `pin-grid/1` document of those assessments.

The rows are read from the database as plain rows, in one statement streamed as it is read,
never as ORM objects; each assessment is scored and worded with the grid version it was rated
on. The tables are handed to the pure writers of `pin_grid.exports`, by the web and by the
command line alike. Who may read what is the caller's `ExportScope` (access.scope_kind); which
territories someone may not name is the caller's too (the comparison's anonymous labels).
"""
from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import IO, NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext, to_user_timezone
from sqlalchemy import and_, exists, func, or_, select, true
from sqlalchemy.orm import selectinload

from .. import exports, scoring
from ..exchange import export_document
from ..extensions import db
from ..grid import GridCatalog
from ..models import (DRAFT, FINALIZED, SUPERSEDED, Answer, Assessment, Organization, Territory, UserRegion,
                      assessment_organization, user_territory)
from ..text import without_accents
from .audit import record_event
from .dashboard import COLLECTIVE, PARTNER, PERSPECTIVES  # the filters' values, one for both
from .errors import NotFound
from .results import (Comparison, ComparisonRow, cohort_statistics, compare_year, comparison_years, score_levels,
                      standing_against)
from .territories import name_key

COMPARISON, RESULTS, ANSWERS, EXCHANGE = "comparison", "results", "answers", "json"
WHAT = (COMPARISON, RESULTS, ANSWERS, EXCHANGE)
XLSX, CSV, JSON = "xlsx", "csv", "json"
# Rows fetched from the database at a time: the answers of 24,000 statements are never all in memory.
_BATCH = 2000


@dataclass(frozen=True)
class ExportScope:
    """Whose assessments an export holds (access.scope_kind): « all », the territories of the
    account's « regions », or its own « territories »."""

    kind: str
    user_id: int | None = None


EVERYTHING = ExportScope("all")


@dataclass(frozen=True)
class ExportFilters:
    year: int | None = None
    region: str | None = None
    perspective: str | None = None  # COLLECTIVE, PARTNER, or None for both
    organization_id: int | None = None
    organization: str | None = None  # its name, once found in scope (for the « about » sheet)


# --- Which assessments -----------------------------------------------------------------------

def _territory_in_scope(scope: ExportScope):
    """The rule of access.in_scope, as SQL (the same as services.territories_in_scope)."""
    if scope.kind == "all":
        return true()
    if scope.kind == "regions":
        return Territory.region.in_(select(UserRegion.region).where(UserRegion.user_id == scope.user_id))
    return Territory.id.in_(select(user_territory.c.territory_id).where(user_territory.c.user_id == scope.user_id))


# The version in force of each assessment (as in `pin-grid/1`): finalised, or a draft never
# finalised; a superseded version and a revision still in draft are left out.
_IN_FORCE = and_(Assessment.status != SUPERSEDED,
                 or_(Assessment.supersedes_id.is_(None), Assessment.status == FINALIZED))


def _with_organization(organization_id: int):
    """Assessments from that organisation's point of view, or where it was present."""
    present = exists().where(assessment_organization.c.assessment_id == Assessment.id,
                             assessment_organization.c.organization_id == organization_id)
    return or_(Assessment.perspective_id == organization_id, present)


def _filters(filters: ExportFilters) -> list:
    conditions = []
    if filters.year is not None:
        conditions += [Assessment.date >= dt.date(filters.year, 1, 1), Assessment.date <= dt.date(filters.year, 12, 31)]
    if filters.region is not None:
        conditions.append(Territory.region == filters.region)
    if filters.perspective == COLLECTIVE:
        conditions.append(Assessment.perspective_id.is_(None))
    elif filters.perspective == PARTNER:
        conditions.append(Assessment.perspective_id.is_not(None))
    if filters.organization_id is not None:
        conditions.append(_with_organization(filters.organization_id))
    return conditions


def organization_in_scope(organization_id: int, scope: ExportScope) -> str:
    """The name of the organisation, if it is one met in the assessments of the scope (present,
    or the point of view of one); NotFound otherwise, as for an id that does not exist."""
    query = select(Organization.name).where(Organization.id == organization_id)
    if scope.kind != "all":
        met = (select(Assessment.id).join(Territory, Territory.id == Assessment.territory_id)
               .where(_territory_in_scope(scope), _with_organization(organization_id)))
        query = query.where(met.exists())
    name = db.session.scalar(query)
    if name is None:
        raise NotFound(_l("Cet organisme n'existe pas."))
    return name


def organization_by_name(name: str) -> tuple[int, str] | None:
    """The organisation of that name, written with any accents, case or spacing (command line)."""
    row = db.session.execute(select(Organization.id, Organization.name)
                             .where(Organization.name_key == name_key(name))).first()
    return (row[0], row[1]) if row else None


def export_years(scope: ExportScope) -> list[int]:
    """The years of the assessments in scope, newest first (what the export page offers)."""
    dates = db.session.scalars(select(Assessment.date).join(Territory, Territory.id == Assessment.territory_id)
                               .where(_territory_in_scope(scope), _IN_FORCE).distinct())
    return sorted({d.year for d in dates}, reverse=True)


class AssessmentRow(NamedTuple):
    id: int
    territory_code: str
    territory_name: str
    region: str
    date: dt.date
    perspective: str | None  # the organisation's name; None for the collective view
    status: str
    grid_version: str


class AnswerRow(NamedTuple):
    level: str | None
    comment: str | None
    priority: bool | None
    action: str | None
    action_owner: str | None
    action_due: dt.date | None
    target: str | None


_ASSESSMENT_COLUMNS = (Assessment.id, Territory.code, Territory.name, Territory.region, Assessment.date,
                       Organization.name, Assessment.status, Assessment.grid_version)


def assessments_with_answers(scope: ExportScope, filters: ExportFilters, *,
                             details: bool = True) -> Iterator[tuple[AssessmentRow, dict[str, AnswerRow]]]:
    """Each assessment in force of the scope that the filters keep, with its answers by item id,
    by territory code, date, point of view and id (the order of `pin-grid/1`). One statement,
    read a batch at a time. `details`: the comments and actions too, not only the levels."""
    answer_columns = (Answer.item_id, Answer.level, *(
        (Answer.comment, Answer.priority, Answer.action, Answer.action_owner, Answer.action_due, Answer.target)
        if details else ()))
    query = (
        select(*_ASSESSMENT_COLUMNS, *answer_columns)
        .join(Territory, Territory.id == Assessment.territory_id)
        .outerjoin(Organization, Organization.id == Assessment.perspective_id)
        .outerjoin(Answer, Answer.assessment_id == Assessment.id)
        .where(_territory_in_scope(scope), _IN_FORCE, *_filters(filters))
        .order_by(Territory.code, Assessment.date, func.coalesce(Organization.name, ""), Assessment.id)
        .execution_options(yield_per=_BATCH)
    )
    width = len(_ASSESSMENT_COLUMNS)
    rows = db.session.execute(query)
    for _id, group in itertools.groupby(rows, key=lambda row: row[0]):
        group = list(group)
        assessment = AssessmentRow._make(group[0][:width])
        answers = {}
        for row in group:
            item_id = row[width]
            if item_id is not None:
                values = row[width + 1:]
                answers[item_id] = AnswerRow._make(values) if details else AnswerRow(values[0], *[None] * 6)
        yield assessment, answers


# --- The tables ------------------------------------------------------------------------------

@dataclass
class Export:
    """A table ready for the writers, and what the « about » sheet says of it."""

    what: str
    title: str  # what was exported, in words
    sheet: exports.Sheet
    filename: str  # without its extension: « reponses-2025 »
    notes: list[tuple[str, object]] = field(default_factory=list)


def _status_label(status: str) -> str:
    return {DRAFT: _("Brouillon"), FINALIZED: _("Finalisée"), SUPERSEDED: _("Remplacée par une révision")}.get(
        status, status)


def _theme_status_label(status: str) -> str:
    return {scoring.IMPLANTE: _("Implanté"), scoring.PARTIEL: _("Partiellement implanté"),
            scoring.NON_IMPLANTE: _("Non implanté")}.get(status, _("Données insuffisantes"))


def _perspective_label(name: str | None) -> str:
    return name if name is not None else _("Vue collective du territoire")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", without_accents(text).casefold()).strip("-")


def filename(stem: str, filters: ExportFilters) -> str:
    """« reponses-2025-montreal »: what, then the year and the region when they were chosen."""
    parts = [stem]
    if filters.year is not None:
        parts.append(str(filters.year))
    if filters.region:
        parts.append(_slug(filters.region))
    return "-".join(p for p in parts if p)


def _assessment_columns() -> list[exports.Column]:
    return [
        exports.Column(_("Code du territoire"), exports.CODE),
        exports.Column(_("Territoire"), exports.TEXT),
        exports.Column(_("Région"), exports.TEXT),
        exports.Column(_("No de l'évaluation"), exports.INTEGER),
        exports.Column(_("Date"), exports.DATE),
        exports.Column(_("Point de vue"), exports.TEXT),
        exports.Column(_("Statut"), exports.TEXT),
        exports.Column(_("Version de la grille"), exports.CODE),
    ]


def _assessment_cells(a: AssessmentRow) -> list:
    return [a.territory_code, a.territory_name, a.region, a.id, a.date, _perspective_label(a.perspective),
            _status_label(a.status), a.grid_version]


def comparison_export(comparison: Comparison, shown: Iterable[tuple[ComparisonRow, str | None]],
                      filters: ExportFilters, grids: GridCatalog, locale: str) -> Export:
    """The comparison table of a year as the person may see it: `shown` pairs each row, in the
    order of the page, with the anonymous label it is shown under (None: by its name)."""
    grid = grids.current
    kind = comparison.reference.kind
    columns = [
        exports.Column(_("Territoire"), exports.TEXT),
        exports.Column(_("Code du territoire"), exports.CODE),
        exports.Column(_("Région"), exports.TEXT),
        exports.Column(_("Date"), exports.DATE),
    ]
    for theme in grid.components:
        columns += [exports.Column(_("%(letter)s : symbole", letter=theme.letter), exports.CODE),
                    exports.Column(_("%(letter)s : score", letter=theme.letter), exports.NUMBER)]
    columns += [
        exports.Column(_("Ensemble : score"), exports.NUMBER),
        exports.Column(_("Ensemble : symbole"), exports.CODE),
        exports.Column(_("Profil"), exports.CODE),
        exports.Column(_("Sous-profil"), exports.TEXT),
    ]

    def rows():
        for row, label in shown:
            territory, standing = row.assessment.territory, row.standing
            if label is None:
                cells = [territory.name, territory.code, territory.region, row.assessment.date]
            else:  # only what the comparison page shows of a territory one may not name
                cells = [_("Territoire %(label)s", label=label), None, None, None]
            for theme in grid.components:
                cells += [standing.symbols.get(theme.id), row.score(theme.id)]
            profile = standing.profile
            cells += [standing.ensemble, standing.ensemble_symbol, profile.letter if profile else None,
                      grid.profiles[profile.letter].subprofiles[profile.subprofile].label_for(kind).get(locale)
                      if profile else None]
            yield cells

    reference = comparison.reference
    notes = [(_("Référence des symboles"),
              _("la cohorte %(year)s (nombre de territoires : %(size)d)", year=comparison.year,
                size=reference.cohort_size)
              if kind == "cohort" else
              ngettext("seuils absolus, car la cohorte %(year)s ne compte que %(num)d territoire "
                       "(++ ≥ %(pp)s, + ≥ %(p)s, - < %(m)s, -- < %(mm)s)",
                       "seuils absolus, car la cohorte %(year)s ne compte que %(num)d territoires "
                       "(++ ≥ %(pp)s, + ≥ %(p)s, - < %(m)s, -- < %(mm)s)",
                       reference.cohort_size, year=comparison.year, pp=int(reference.bands["++"]),
                       p=int(reference.bands["+"]), m=int(reference.bands["-"]), mm=int(reference.bands["--"])))]
    notes += [(theme.letter, theme.name.get(locale)) for theme in grid.components]
    year_filters = replace(filters, year=comparison.year)
    return Export(COMPARISON, _("Comparaison des territoires %(year)s", year=comparison.year),
                  exports.Sheet(_("Comparaison %(year)s", year=comparison.year), columns, rows()),
                  filename("comparaison", year_filters), notes)


def comparison_of(filters: ExportFilters, grids: GridCatalog) -> tuple[Comparison, ExportFilters]:
    """The comparison the filters ask for (by default of the latest year with one), and the
    filters with that year."""
    year = filters.year
    if year is None:
        year = next(iter(comparison_years()), None) or to_user_timezone(dt.datetime.now(dt.timezone.utc)).year
    return filtered_comparison(compare_year(year, grids), filters), replace(filters, year=year)


def filtered_comparison(comparison: Comparison, filters: ExportFilters) -> Comparison:
    """The rows of the comparison the filters keep: its region, and the territories whose
    assessment of the year had the organisation present (the cohort is of collective views,
    so the symbols stay those of the whole cohort)."""
    rows = comparison.rows
    if filters.region is not None:
        rows = [r for r in rows if r.assessment.territory.region == filters.region]
    if filters.organization_id is not None:
        present = set(db.session.scalars(select(assessment_organization.c.assessment_id).where(
            assessment_organization.c.organization_id == filters.organization_id)))
        rows = [r for r in rows if r.assessment.id in present]
    return replace(comparison, rows=rows)


def results_export(scope: ExportScope, filters: ExportFilters, grids: GridCatalog, locale: str) -> Export:
    """One row per assessment × theme: counts per level, answered, score, status and symbol,
    each assessment scored with its own grid version; the symbols against the cohort of its
    year, as its results page shows them."""
    level_codes = list(scoring.LEVEL_CODES)
    current = grids.current
    # The levels' names: those of the version in force, and of older versions for what it lacks.
    level_names = {lv.code: lv.label.get(locale) for grid in (*grids.versions.values(), current) for lv in grid.levels}
    columns = _assessment_columns() + [
        exports.Column(_("Thème"), exports.CODE),
        exports.Column(_("Nom du thème"), exports.TEXT),
        *(exports.Column(level_names.get(code, code), exports.INTEGER) for code in level_codes),
        exports.Column(_("Énoncés"), exports.INTEGER),
        exports.Column(_("Énoncés répondus"), exports.INTEGER),
        exports.Column(_("Score"), exports.NUMBER),
        exports.Column(_("Statut du thème"), exports.TEXT),
        exports.Column(_("Symbole"), exports.CODE),
    ]
    statistics: dict[int, scoring.CohortStatistics] = {}

    def standing(year: int, results) -> scoring.Standing:
        if year not in statistics:  # once per year: the cohort's scores are kept by the results service
            statistics[year] = cohort_statistics(year, grids)
        return standing_against(results, statistics[year], grids)[0]

    def rows():
        for assessment, answers in assessments_with_answers(scope, filters, details=False):
            grid = grids.of(assessment.grid_version)
            results = score_levels({item_id: a.level for item_id, a in answers.items() if item_id in grid.items}, grid)
            symbols = standing(assessment.date.year, results).symbols
            cells = _assessment_cells(assessment)
            for theme_result in results.themes:
                theme, score = theme_result.theme, theme_result.score
                yield [*cells, theme.letter, theme.name.get(locale),
                       # A level the assessment's version does not have is left empty, not 0.
                       *(score.counts.get(code) for code in level_codes),
                       score.total, score.answered, score.score, _theme_status_label(score.status),
                       symbols.get(theme.id)]

    note = _("par rapport à la cohorte de l'année de chaque évaluation, comme sur sa page de résultats ; "
             "les structures n'ont pas de symbole")
    return Export(RESULTS, _("Résultats des évaluations, par thème"), exports.Sheet(_("Résultats"), columns, rows()),
                  filename("resultats", filters), [(_("Symbole"), note)])


def answers_export(scope: ExportScope, filters: ExportFilters, grids: GridCatalog, locale: str) -> Export:
    """One row per assessment × statement of its grid version, worded as it was rated."""
    columns = _assessment_columns() + [
        exports.Column(_("Énoncé"), exports.CODE),
        exports.Column(_("Texte de l'énoncé"), exports.TEXT),
        exports.Column(_("Niveau (code)"), exports.CODE),
        exports.Column(_("Niveau"), exports.TEXT),
        exports.Column(_("Cible"), exports.TEXT),
        exports.Column(_("Commentaire"), exports.TEXT),
        exports.Column(_("Priorité"), exports.BOOLEAN),
        exports.Column(_("Piste d'action"), exports.TEXT),
        exports.Column(_("Responsable"), exports.TEXT),
        exports.Column(_("Échéance"), exports.DATE),
    ]
    # Each version's statements and levels in the person's language, looked up once.
    texts = {version: [(item.id, item.text.get(locale)) for item in grid.items.values()]
             for version, grid in grids.versions.items()}
    labels = {version: {lv.code: lv.label.get(locale) for lv in grid.levels}
              for version, grid in grids.versions.items()}
    blank = [None] * 8

    def rows():
        for assessment, answers in assessments_with_answers(scope, filters):
            version = assessment.grid_version if assessment.grid_version in texts else grids.current.version
            level_label = labels[version]
            cells = _assessment_cells(assessment)
            for item_id, text in texts[version]:
                a = answers.get(item_id)
                if a is None:  # not answered yet: the statement, and nothing else
                    yield [*cells, item_id, text, *blank]
                    continue
                yield [*cells, item_id, text, a.level, level_label.get(a.level) if a.level else None,
                       level_label.get(a.target) if a.target else None, a.comment, bool(a.priority),
                       a.action, a.action_owner, a.action_due]

    return Export(ANSWERS, _("Réponses à tous les énoncés"), exports.Sheet(_("Réponses"), columns, rows()),
                  filename("reponses", filters),
                  [(_("Énoncés"), _("le texte et les niveaux de la version de la grille de chaque évaluation"))])


# --- The « about » sheet -------------------------------------------------------------------

def describe_filters(filters: ExportFilters) -> list[tuple[str, str]]:
    everything = _("toutes")
    perspective = {COLLECTIVE: _("vue collective du territoire"), PARTNER: _("point de vue d'un organisme partenaire")}
    return [
        (_("Année"), str(filters.year) if filters.year is not None else everything),
        (_("Région"), filters.region or everything),
        (_("Point de vue"), perspective.get(filters.perspective, _("tous"))),
        (_("Organisme"), filters.organization or _("tous")),
    ]


def about_sheet(export: Export, fmt: str, actor: str, scope_text: str, filters: ExportFilters,
                rows: int, now: dt.datetime | None = None) -> exports.Sheet:
    """What was exported, when (Québec time), by whom, for which scope and filters."""
    moment = to_user_timezone(now or dt.datetime.now(dt.timezone.utc)).replace(tzinfo=None)
    lines = [
        (_("Export"), export.title),
        (_("Format"), fmt.upper()),
        (_("Exporté le (heure du Québec)"), moment.replace(microsecond=0)),
        (_("Par"), actor),
        (_("Portée"), scope_text),
        *describe_filters(filters),
        (_("Lignes"), rows),
        *export.notes,
    ]
    return exports.Sheet(_("À propos"), [exports.Column(_("Élément"), exports.TEXT),
                                         exports.Column(_("Valeur"), exports.ANY)], lines)


def csv_dialect(name: str | None) -> exports.Dialect:
    """RFC 4180 for scripts when asked (`rfc4180`), else Québec Excel's, with oui/non in the
    person's language."""
    return exports.RFC4180 if name == exports.RFC4180.name else exports.quebec_excel(_("oui"), _("non"))


def write_export(target: IO[bytes], export: Export, fmt: str, dialect: str | None, *, actor: str,
                 scope_text: str, filters: ExportFilters) -> int:
    """Write the file of `export` (XLSX with its « about » sheet, or CSV) to `target`; return
    the number of rows of its table."""
    if fmt == CSV:
        return exports.write_csv(target, export.sheet, csv_dialect(dialect))
    title = export.sheet.title
    counts = exports.write_xlsx(target, [export.sheet], about=lambda counts: about_sheet(
        export, fmt, actor, scope_text, filters, counts[title]))
    return counts[title]


def record_export(actor: str, what: str, fmt: str, filters: ExportFilters, dialect: str | None = None) -> None:
    """The audit trail says who exported what, with which filters."""
    parts = [what, fmt + (f" ({dialect})" if dialect else "")]
    for name, value in (("annee", filters.year), ("region", filters.region), ("perspective", filters.perspective),
                        ("organisation", filters.organization_id)):
        if value is not None:
            parts.append(f"{name}={value}")
    record_event(actor, "export", " ".join(parts))


# --- pin-grid/1 ------------------------------------------------------------------------------

def exchange_export(scope: ExportScope, filters: ExportFilters, grids: GridCatalog) -> dict:
    """The `pin-grid/1` document of the assessments in scope that the filters keep, with all
    their versions: what `flask export-assessments` writes, for these only. A fixed number of
    statements: the assessments of the scope, then each kind of detail for all of them."""
    candidates = list(db.session.scalars(
        select(Assessment).join(Territory, Territory.id == Assessment.territory_id)
        .where(_territory_in_scope(scope), *([Territory.region == filters.region] if filters.region else []))
        .options(selectinload(Assessment.territory), selectinload(Assessment.perspective),
                 selectinload(Assessment.participants), selectinload(Assessment.organizations),
                 selectinload(Assessment.answers))
        .order_by(Assessment.id)
    ))
    following = {a.supersedes_id: a for a in candidates if a.supersedes_id is not None}
    chains = []
    for first in (a for a in candidates if a.supersedes_id is None):
        chain = [first]
        while chain[-1].id in following and following[chain[-1].id] not in chain:
            chain.append(following[chain[-1].id])
        in_force = next((a for a in chain if a.status != SUPERSEDED
                         and (a.supersedes_id is None or a.status == FINALIZED)), None)
        if in_force is not None and _keeps(in_force, filters):
            chains.append((in_force, chain))
    return export_document(chains, grids)


def _keeps(assessment: Assessment, filters: ExportFilters) -> bool:
    if filters.year is not None and assessment.date.year != filters.year:
        return False
    if filters.perspective == COLLECTIVE and assessment.perspective_id is not None:
        return False
    if filters.perspective == PARTNER and assessment.perspective_id is None:
        return False
    if filters.organization_id is not None and assessment.perspective_id != filters.organization_id and not any(
            o.id == filters.organization_id for o in assessment.organizations):
        return False
    return True
