"""Exports (issue 11): the page listing the exports open to the person, and the files themselves
(XLSX, CSV for Québec Excel or RFC 4180, `pin-grid/1` JSON), each audited.

Filters are query parameters, so a filtered export can be bookmarked: `annee`, `region`,
`perspective` (collective, partner), `organisation` (an id); then `format` (xlsx, csv) and
`dialect` (rfc4180). A parameter the export does not know, or a value it cannot take, is a 400
that says which and why; an organisation outside the person's scope is a 404, as one that does
not exist.
"""
from __future__ import annotations

import re
import tempfile

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.http import dump_options_header

from .. import access, exchange, exports, limits, services
from ..context import current_locale, grid_catalog
from ..security import RefusedInput, forbid
from ..services.exports import COMPARISON, EXCHANGE, PARTNER, RESULTS
from . import actor, allowed_if
from .comparison import shown_rows

bp = Blueprint("exports", __name__, url_prefix="/exports")

XLSX, CSV, JSON = "xlsx", "csv", "json"
FILTERS = ("annee", "region", "perspective", "organisation")
RFC4180 = exports.RFC4180.name


def _refuse(message) -> None:
    raise RefusedInput(400, _l("Export impossible"), message)


def _scope() -> services.ExportScope:
    return services.ExportScope(access.scope_kind(current_user), current_user.id)


def _quoted(value: str) -> str:
    """What the person typed, as a message quotes it back (escaped by the page, cut short)."""
    return value[:60]


def _filters(scope: services.ExportScope, accepted: tuple[str, ...]) -> services.ExportFilters:
    """The filters of the query string; 400 for an unknown or repeated parameter or a value
    that cannot be, 404 for an organisation not met in the scope."""
    args = request.args
    unknown = [name for name in args if name not in accepted]
    if unknown:
        _refuse(_("Paramètre inconnu : « %(name)s ». Paramètres acceptés : %(accepted)s.",
                  name=_quoted(unknown[0]), accepted=", ".join(accepted)))
    repeated = [name for name in args if len(args.getlist(name)) > 1]
    if repeated:
        _refuse(_("Le paramètre « %(name)s » est donné plusieurs fois : donnez-le une seule fois.", name=repeated[0]))

    def value(name: str) -> str | None:
        return (args.get(name) or "").strip() or None

    year = value("annee")
    if year is not None and not (re.fullmatch(r"[0-9]{4}", year) and 1900 <= int(year) <= 2999):
        _refuse(_("Année invalide : « %(value)s ». Écrivez l'année en quatre chiffres, p. ex. 2025.",
                  value=_quoted(year)))
    region = value("region")
    if region is not None and region not in services.region_names():
        _refuse(_("Région inconnue : « %(region)s ». Choisissez une région de la liste.", region=_quoted(region)))
    perspective = value("perspective")
    if perspective is not None and perspective not in services.PERSPECTIVES:
        _refuse(_("Point de vue inconnu : « %(value)s ». Valeurs possibles : collective (vue collective du "
                  "territoire) ou partner (point de vue d'un organisme partenaire).", value=_quoted(perspective)))
    organization = value("organisation")
    organization_id = organization_name = None
    if organization is not None:
        if not re.fullmatch(r"[0-9]{1,30}", organization):
            _refuse(_("Organisme invalide : « %(value)s ». Choisissez un organisme de la liste.",
                      value=_quoted(organization)))
        organization_id = int(organization)
        if organization_id > limits.ID_MAX:
            forbid(404)  # beyond what the database holds: not found, as in every address
        try:
            organization_name = services.organization_in_scope(organization_id, scope)
        except services.NotFound:
            forbid(404)  # one outside the person's scope is not theirs to know of: as one that does not exist
    return services.ExportFilters(int(year) if year else None, region, perspective, organization_id, organization_name)


def _format(formats: tuple[str, ...] = (XLSX, CSV)) -> tuple[str, str | None]:
    fmt = (request.args.get("format") or "").strip() or formats[0]
    if fmt not in formats:
        _refuse(_("Format inconnu : « %(value)s ». Formats possibles : %(formats)s.", value=_quoted(fmt),
                  formats=", ".join(formats)))
    dialect = (request.args.get("dialect") or "").strip() or None
    if dialect is not None and (fmt != CSV or dialect != RFC4180):
        _refuse(_("Dialecte inconnu : « %(value)s ». Seul le CSV a un autre dialecte : format=csv&dialect=rfc4180 "
                  "(virgule et point décimal, pour les scripts).", value=_quoted(dialect)))
    return fmt, dialect


def _scope_text(what: str) -> str:
    """Whose assessments the file holds, for its « about » sheet."""
    if what == COMPARISON and not access.may_manage(current_user):
        return _("tous les territoires de la cohorte ; ceux hors de votre portée sous une étiquette anonyme")
    kind = access.scope_kind(current_user)
    if kind == "all":
        return _("toutes les évaluations")
    if kind == "regions":
        return _("les territoires de vos régions : %(regions)s", regions=", ".join(sorted(current_user.region_names)))
    return _("vos territoires : %(territories)s", territories=", ".join(t.name for t in current_user.territories))


def _attachment(name: str) -> str:
    """As send_file writes it (the names are plain ASCII: « reponses-2025-montreal.csv »)."""
    return dump_options_header("attachment", {"filename": name})


def _send(export: services.Export, fmt: str, dialect: str | None, filters: services.ExportFilters):
    """Record the export, then send its file: CSV as a stream, XLSX from a temporary file
    (deleted once sent), each as an attachment."""
    who = actor()
    # Read before the audit's commit expires the account (which would then be read again).
    scope_text = _scope_text(export.what) if fmt == XLSX else None
    services.record_export(who, export.what, fmt, filters, dialect)
    name = f"{export.filename}.{fmt}"
    if fmt == CSV:
        chunks = exports.csv_chunks(export.sheet, services.csv_dialect(dialect))
        return Response(stream_with_context(chunks), mimetype=exports.CSV_MIMETYPE,
                        headers={"Content-Disposition": _attachment(name)})
    file = tempfile.TemporaryFile()
    try:
        services.write_export(file, export, fmt, dialect, actor=who, scope_text=scope_text, filters=filters)
        size = file.tell()
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return Response(_read_and_close(file), mimetype=exports.XLSX_MIMETYPE,
                    headers={"Content-Disposition": _attachment(name), "Content-Length": str(size)})


def _read_and_close(file):
    """The file, a block at a time; closed (so deleted) once sent, or when the download stops."""
    try:
        while block := file.read(64 * 1024):
            yield block
    finally:
        file.close()


@bp.get("/")
def index():
    """The exports open to the person, with the filters (applied to every link)."""
    scope = _scope()
    filters = _filters(scope, FILTERS)
    territories = services.territories_in_scope(scope.kind, current_user.id)
    visible = None if scope.kind == "all" else {t.id for t in territories}
    chosen = {name: value for name, value in (("annee", filters.year), ("region", filters.region),
                                              ("perspective", filters.perspective),
                                              ("organisation", filters.organization_id)) if value is not None}
    return render_template(
        "exports.html",
        filters=filters,
        chosen=chosen,
        # The comparison is of the territories' collective views, whichever point of view was chosen.
        comparison_args={name: value for name, value in chosen.items() if name != "perspective"},
        years=services.export_years(scope),
        regions=sorted({t.region for t in territories}),
        organizations=services.organizations_of(visible),
        may_compare=access.may_compare(current_user),
        may_exchange=access.may_export_exchange(current_user),
        scope=_scope_text(RESULTS),
    )


@bp.get("/comparaison")
@allowed_if(access.may_compare)
def comparison():
    """The comparison table of a year, anonymous labels as on the comparison page."""
    filters = _filters(_scope(), (*FILTERS, "format", "dialect"))
    if filters.perspective == PARTNER:
        _refuse(_("La comparaison porte sur la vue collective de chaque territoire : le point de vue d'un organisme "
                  "partenaire ne s'y applique pas."))
    fmt, dialect = _format()
    grids = grid_catalog()
    comparison, filters = services.comparison_of(filters, grids)
    shown = [(s.row, s.label) for s in shown_rows(comparison, None)]
    return _send(services.comparison_export(comparison, shown, filters, grids, current_locale()), fmt, dialect, filters)


@bp.get("/resultats")
def results():
    """The results of the assessments in scope, one row per assessment × theme."""
    scope = _scope()
    filters = _filters(scope, (*FILTERS, "format", "dialect"))
    fmt, dialect = _format()
    return _send(services.results_export(scope, filters, grid_catalog(), current_locale()), fmt, dialect, filters)


@bp.get("/reponses")
def answers():
    """Every answer of the assessments in scope, one row per assessment × statement."""
    scope = _scope()
    filters = _filters(scope, (*FILTERS, "format", "dialect"))
    fmt, dialect = _format()
    return _send(services.answers_export(scope, filters, grid_catalog(), current_locale()), fmt, dialect, filters)


@bp.get("/evaluations")
@allowed_if(access.may_export_exchange)
def exchange_file():
    """The `pin-grid/1` document of the assessments in scope, with all their versions."""
    scope = _scope()
    filters = _filters(scope, (*FILTERS, "format"))
    _format((JSON,))
    document = services.exchange_export(scope, filters, grid_catalog())
    services.record_export(actor(), EXCHANGE, JSON, filters)
    name = services.export_filename("evaluations", filters)
    return Response(exchange.dumps(document), mimetype="application/json",
                    headers={"Content-Disposition": _attachment(f"{name}.json")})
