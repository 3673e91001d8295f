"""The dashboards (issue 11): a territory over the years, and the region for a year.

Each view parses the request, asks the dashboard service, turns what it read into chart data
(`pin_grid.charts`, the same the PDF draws) and renders. The figures travel as JSON in the page
and static/dashboard.js draws them with the plotly.js the app serves itself: no inline script,
no CDN.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from dataclasses import dataclass

from flask import Blueprint, render_template, request
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from .. import access, charts, limits, services
from ..context import current_locale, grid_catalog
from ..security import forbid
from ..services.dashboard import COLLECTIVE, PARTNER, PERSPECTIVES
from . import allowed_if
from .comparison import shown_rows

bp = Blueprint("dashboard", __name__)

# The vendored plotly.js (static/vendor/plotly/README.md): its file name is written here only.
PLOTLY_JS = "vendor/plotly/plotly-cartesian-4.1.1.min.js"
SORTS = ("ensemble", "territoire")  # the heat map's rows: highest ensemble first, or by name
_YEAR = re.compile(r"[0-9]{4}")
_ID = re.compile(r"[0-9]{1,10}")
_QUOTED = 60  # characters of a refused value quoted back


def may_see_regional_dashboard(user) -> bool:
    """Administrators and gestionnaires: those whose scope is the province or regions. The
    regional dashboard is a regional steering tool (the issue names these two roles);
    coordonnateurs compare their territory with the cohort on its own dashboard and in the
    comparison."""
    return bool(user.is_authenticated) and access.scope_kind(user) in ("all", "regions")


bp.add_app_template_global(may_see_regional_dashboard)


@dataclass(frozen=True)
class Shown:
    """A chart as the page shows it: its data (title, summary, table) and its plotly figure."""

    chart: charts.ChartData
    figure: Markup  # JSON, safe inside <script type="application/json">


def _shown(chart: charts.ChartData) -> Shown:
    text = json.dumps(charts.to_plotly(chart), ensure_ascii=False, separators=(",", ":"))
    # As Jinja's tojson escapes: nothing in a name can close the script element.
    for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("'", "\\u0027")):
        text = text.replace(char, escaped)
    return Shown(chart, Markup(text))


def _today() -> dt.date:
    """Today in Québec (BABEL_DEFAULT_TIMEZONE), for what is overdue."""
    return dt.datetime.now(get_timezone()).date()


# --- A territory ------------------------------------------------------------------------------

def _labels(history: list[services.PlacedAssessment]) -> list[str]:
    """Each assessment's label: its year, or its date when the year has several."""
    per_year = Counter(p.date.year for p in history)
    return [str(p.date.year) if per_year[p.date.year] == 1 else p.date.isoformat() for p in history]


def territory_charts(board: services.TerritoryDashboard) -> list[Shown]:
    latest = board.latest
    if latest is None:
        return []
    locale, grids = current_locale(), grid_catalog()
    labels = _labels(board.history)
    rated_on = grids.of(latest.grid_version)
    return [_shown(chart) for chart in (
        charts.theme_scores_by_year(list(zip(labels, (p.results for p in board.history))), _=_, locale=locale),
        charts.level_counts(latest.results, rated_on, label=latest.date.isoformat(), _=_, locale=locale),
        charts.ensemble_by_year([charts.Placed(label, p.date.year, p.results, p.standing, p.reference)
                                 for label, p in zip(labels, board.history)], grids.current, _=_, locale=locale),
        charts.standing_against_cohort(latest.results, latest.statistics, latest.reference, _=_, locale=locale,
                                       year=latest.date.year),
        charts.action_plan(board.plan, rated_on, today=_today(), label=latest.date.isoformat(), _=_, locale=locale),
    )]


@bp.get(f"/territoires/<string(maxlength={limits.TERRITORY_CODE_LENGTH}):code>/tableau-de-bord")
def territory(code: str):
    """Whoever may read the territory; 404 otherwise, as for an unknown code."""
    found = services.territory_summary(code)
    if found is None or not access.can(current_user, access.READ, found):
        forbid(404)
    board = services.territory_dashboard(found, grid_catalog())
    return render_template("dashboard_territory.html", board=board, territory=found, shown=territory_charts(board),
                           plotly_js=PLOTLY_JS)


# --- The region -------------------------------------------------------------------------------

def _quoted(value: str) -> str:
    return value if len(value) <= _QUOTED else value[:_QUOTED] + "…"


def regional_filters(args) -> tuple[services.RegionalFilters, str, dict[str, str]]:
    """The filters asked for, the heat map's order, and the values that are not even of the right
    form (by parameter), which the page names as ignored."""
    malformed = {}
    year = args.get("annee", "").strip()
    if year and not _YEAR.fullmatch(year):
        malformed["annee"] = year
    perspective = args.get("perspective", "").strip() or COLLECTIVE
    if perspective not in PERSPECTIVES:
        malformed["perspective"] = perspective
        perspective = COLLECTIVE
    organisation = args.get("organisation", "").strip()
    if organisation and not (_ID.fullmatch(organisation) and int(organisation) <= limits.ID_MAX):
        malformed["organisation"] = organisation
    sort = args.get("tri", "").strip() or SORTS[0]
    if sort not in SORTS:
        malformed["tri"] = sort
        sort = SORTS[0]
    asked = services.RegionalFilters(
        year=int(year) if year and "annee" not in malformed else None,
        region=args.get("region", "").strip() or None,
        perspective=perspective,
        organisation=int(organisation) if organisation and "organisation" not in malformed else None)
    return asked, sort, malformed


def _notices(args, board: services.RegionalDashboard, malformed: dict[str, str]) -> list[str]:
    """What the page says about each filter it could not apply (it shows the rest)."""
    ignored = set(board.ignored) | set(malformed)
    notices = []
    if "annee" in ignored:
        value = _quoted(args.get("annee", ""))
        notices.append(_("Année « %(value)s » : aucune évaluation finalisée de ce point de vue cette année-là ; "
                         "la page montre %(year)s.", value=value, year=board.filters.year)
                       if board.filters.year else
                       _("Année « %(value)s » : aucune évaluation finalisée de ce point de vue.", value=value))
    if "perspective" in ignored:
        notices.append(_("Point de vue « %(value)s » inconnu : la page montre la vue collective des territoires.",
                         value=_quoted(malformed["perspective"])))
    if "region" in ignored:
        notices.append(_("Région « %(value)s » : aucun territoire évalué en %(year)s ; le filtre de région "
                         "n'est pas appliqué.", value=_quoted(args.get("region", "")), year=board.filters.year))
    if "organisation" in ignored:
        notices.append(_("L'organisme demandé ne fait pas partie de ceux rencontrés cette année dans les "
                         "territoires que vous suivez : le filtre d'organisme n'est pas appliqué."))
    if "tri" in ignored:
        notices.append(_("Tri « %(value)s » inconnu : la carte de chaleur est triée par ensemble.",
                         value=_quoted(malformed["tri"])))
    return notices


def _row_label(shown, group: services.dashboard.Group) -> str:
    """A row as this person may see it: by name in their scope, else under the comparison's
    anonymous label; a partner's point of view names its organisation only where the territory
    is named."""
    territory = shown.row.assessment.territory
    name = _("Territoire %(label)s", label=shown.label) if shown.label else territory.name
    organisation = group.organisations.get(shown.row.assessment.id)
    if organisation is None:
        return name
    if shown.label:
        return _("%(territory)s, point de vue d'un partenaire", territory=name)
    return f"{name} — {organisation[1]}"


def regional_charts(board: services.RegionalDashboard, sort: str) -> list[Shown]:
    group, previous = board.current, board.previous
    if group is None:
        return []
    locale, grids = current_locale(), grid_catalog()
    partner = group.perspective == PARTNER
    kind = group.comparison.reference.kind
    rows = [charts.Row(_row_label(shown, group), shown.row.results, shown.row.standing)
            for shown in shown_rows(group.comparison, None)]
    before = {previous.key(row): row for row in previous.rows} if previous else {}
    pairs = [(before[group.key(row)].results, row.results) for row in group.rows if group.key(row) in before]
    year, previous_year = group.year, previous.year if previous else None
    return [_shown(chart) for chart in (
        charts.heatmap(charts.by_ensemble(rows) if sort == "ensemble" else rows, grids.current, year=year,
                       reference_kind=kind, _=_, locale=locale, partner=partner),
        charts.profile_distribution(
            rows, [charts.Row("", row.results, row.standing) for row in previous.rows] if previous else None,
            grids.current, year=year, previous_year=previous_year, reference_kind=kind, _=_, locale=locale,
            partner=partner),
        charts.hard_statements(board.tallies, grids, year=year, _=_, locale=locale, partner=partner),
        charts.movement(pairs, grids.current, year=year, previous_year=previous_year, _=_, locale=locale,
                        partner=partner),
    )]


@bp.get("/tableau-de-bord")
@allowed_if(access.may_see_regional_dashboard)
def region():
    """For a year: the heat map, the profiles, the hard statements, the movement since the
    previous year; filters as query parameters, so that a view can be bookmarked. A filter that
    names nothing there is (as on the comparison page) is not applied, and the page says so."""
    asked, sort, malformed = regional_filters(request.args)
    board = services.regional_dashboard(asked, access.scope_kind(current_user), current_user.id, grid_catalog())
    organisation = dict(board.organisations).get(board.filters.organisation)
    return render_template("dashboard_region.html", board=board, filters=board.filters, sort=sort,
                           notices=_notices(request.args, board, malformed), organisation=organisation,
                           shown=regional_charts(board, sort), partner=board.filters.perspective == PARTNER,
                           plotly_js=PLOTLY_JS)
