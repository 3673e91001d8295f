"""The comparison of territories for a year (INESSS's table)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user

from .. import access, limits, services
from ..context import grid_catalog
from . import allowed_if

bp = Blueprint("comparison", __name__, url_prefix="/comparaison")

PROFILE_ORDER = ("exemplaire", "se_demarque", "posture_ecosystemique", "dans_la_moyenne", "avec_difficultes", "difficile")


@dataclass(frozen=True)
class ShownRow:
    """A row of the table as this person may see it: under an anonymous label outside their scope."""

    row: services.ComparisonRow
    label: str | None  # shown instead of the territory's name
    url: str | None  # its results page, when it is open to this person
    sort_name: tuple[str, str]


def shown_rows(comparison: services.Comparison, region: str | None) -> list[ShownRow]:
    secret = current_app.config["SECRET_KEY"]
    user = current_user._get_current_object()  # once, not through the proxy for each of 5,000 rows
    # One address built, then each row's id put in: building 5,000 cost more than the rest of the page.
    results_url = url_for("assessments.results", assessment_id=limits.ID_MAX)
    rows = []
    for row in comparison.rows:
        territory = row.assessment.territory
        if region and territory.region != region:
            continue
        if access.sees_names_in_comparison(user, territory):
            readable = access.can(user, access.READ, territory)
            rows.append(ShownRow(row, None, results_url.replace(str(limits.ID_MAX), str(row.assessment.id))
                                 if readable else None, (territory.name.casefold(), territory.code)))
        else:
            label = access.anonymous_label(territory.id, secret)
            rows.append(ShownRow(row, label, None, ("~" + label, "")))  # after the named ones, by label
    return sorted(rows, key=lambda shown: shown.sort_name)


def sorted_rows(rows: list[ShownRow], key: str, descending: bool) -> list[ShownRow]:
    """Rows sorted by territory, a component's score, the ensemble or the profile; rows with
    nothing to sort on come last either way."""
    def value(shown: ShownRow):
        standing = shown.row.standing
        if key == "ensemble":
            return standing.ensemble
        if key == "profile":
            p = standing.profile
            return (p.letter, PROFILE_ORDER.index(p.subprofile)) if p else None
        if key in standing.symbols:
            return shown.row.score(key)
        return shown.sort_name

    present = [r for r in rows if value(r) is not None]
    absent = [r for r in rows if value(r) is None]
    return sorted(present, key=value, reverse=descending) + absent


@bp.get("/")
@allowed_if(access.may_compare)
def table():
    years = services.comparison_years()
    year = request.args.get("annee", type=int)
    if year is None or not 1900 <= year <= 2999:
        year = years[0] if years else None
    comparison = services.compare_year(year, grid_catalog()) if year else None
    regions = sorted({r.assessment.territory.region for r in comparison.rows}) if comparison else []
    region = request.args.get("region") or None
    if region not in regions:
        region = None
    rows = shown_rows(comparison, region) if comparison else []
    key = request.args.get("tri", "territory")
    descending = request.args.get("ordre") == "desc"
    return render_template(
        "comparison.html",
        years=years,
        year=year,
        regions=regions,
        region=region,
        comparison=comparison,
        rows=sorted_rows(rows, key, descending),
        counts=services.profile_counts([shown.row for shown in rows]),
        sort_key=key,
        descending=descending,
    )
