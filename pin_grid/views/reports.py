"""The PDF reports (issue 12): the profile of one assessment, for whoever may read its results,
and the regional report, for those who may see the regional dashboard (administrators and
gestionnaires). A report request writes nothing but its line in the audit trail."""
from __future__ import annotations

from flask import Blueprint, Response, request
from flask_babel import gettext as _
from flask_login import current_user

from .. import access, reports, services
from ..context import current_locale, grid_catalog
from ..security import RefusedInput
from . import actor, allowed_if, with_assessment
from .comparison import shown_rows
from .dashboard import regional_filters

bp = Blueprint("reports", __name__)


def _refused(message: str):
    raise RefusedInput(400, _("Paramètre invalide"), message)


def _paper() -> str:
    paper = request.args.get("papier", "letter")
    if paper not in reports.PAPERS:
        _refused(_("Format de papier inconnu : « %(value)s ». Choisissez letter (le format nord-américain, par "
                   "défaut) ou a4.", value=paper[:40]))
    return paper


def _available() -> None:
    """503 with the reason when WeasyPrint cannot run on this server (Pango missing)."""
    try:
        reports.check_engine()
    except reports.ReportsUnavailable as exc:
        raise RefusedInput(503, _("Rapports PDF indisponibles"), _(
            "Ce serveur ne peut pas produire de PDF pour l'instant : %(reason)s. Signalez-le à la personne qui "
            "administre Grille PIN.", reason=exc.message)) from exc


def _pdf(pdf: bytes, filename: str) -> Response:
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


@bp.get("/evaluations/<int:assessment_id>/profil.pdf")
@with_assessment(access.READ, with_answers=True)
def profile(assessment):
    paper = _paper()
    _available()
    language = current_locale()
    pdf = reports.profile_pdf(assessment, grid_catalog(), language=language, paper=paper)
    services.record_event(actor(), "report", detail=f"profil.pdf assessment {assessment.id} ({language}, {paper})")
    return _pdf(pdf, f"profil-{assessment.territory.code}-{assessment.date.isoformat()}.pdf")


def _board() -> services.RegionalDashboard:
    """The regional dashboard of the filters asked for (annee, region, perspective, organisation:
    the dashboard's own parameters and parser). A value of the wrong form, or a region without a
    territory that year, is a 400; a year without data, or an organisation outside one's
    territories, a 404. The dashboard's page shows what it can instead: a document is not."""
    asked, _sort, malformed = regional_filters(request.args)
    for name in ("annee", "perspective", "organisation"):
        if name in malformed:
            _refused(_("Valeur invalide pour « %(name)s » : « %(value)s ».", name=name, value=malformed[name][:40]))
    board = services.regional_dashboard(asked, access.scope_kind(current_user), current_user.id, grid_catalog())
    if board.current is None or "annee" in board.ignored:
        raise services.NotFound(_("Aucune évaluation finalisée de ce point de vue pour l'année demandée : pas de "
                                  "rapport régional."))
    if "region" in board.ignored:
        _refused(_("Région « %(value)s » : aucun territoire évalué en %(year)s.", value=asked.region[:80],
                   year=board.filters.year))
    if "organisation" in board.ignored:
        raise services.NotFound(_("Cet organisme ne fait pas partie de ceux rencontrés cette année dans les "
                                  "territoires que vous suivez."))
    return board


@bp.get("/tableau-de-bord/rapport.pdf")
@allowed_if(access.may_see_regional_dashboard)
def regional():
    paper = _paper()
    board = _board()
    _available()
    language = current_locale()
    pdf = reports.regional_pdf_for(board, shown_rows, grid_catalog(), language=language, paper=paper)
    query = request.query_string.decode(errors="replace")[:200]
    services.record_event(actor(), "report", detail=f"rapport.pdf {query} ({language}, {paper})")
    return _pdf(pdf, f"rapport-regional-{board.filters.year}.pdf")
