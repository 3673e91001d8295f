"""The comparison of territories for a year (INESSS's table)."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from .. import access, current_grid, services
from ..security import forbid

bp = Blueprint("comparison", __name__, url_prefix="/comparaison")


@bp.get("/")
def table():
    if not access.may_compare(current_user):
        forbid(403)
    years = services.comparison_years()
    year = request.args.get("annee", type=int)
    if year is None or not 1900 <= year <= 2999:
        year = years[0] if years else None
    comparison = services.compare_year(year, current_grid()) if year else None
    if comparison:
        # Territories outside one's scope appear under stable anonymous labels, never by name.
        secret = current_app.config["SECRET_KEY"]
        comparison = comparison.labelled(lambda t: None if access.sees_names_in_comparison(current_user, t)
                                         else access.anonymous_label(t.id, secret))
    key = request.args.get("tri", "territory")
    descending = request.args.get("ordre") == "desc"
    return render_template(
        "comparison.html",
        years=years,
        year=year,
        comparison=comparison,
        rows=comparison.sorted_rows(key, descending) if comparison else [],
        readable={r.assessment.territory_id for r in comparison.rows
                  if access.can(current_user, access.READ, r.assessment.territory)} if comparison else set(),
        sort_key=key,
        descending=descending,
    )
