"""The comparison of territories for a year (INESSS's table)."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from .. import current_grid, services

bp = Blueprint("comparison", __name__, url_prefix="/comparaison")


@bp.get("/")
def table():
    years = services.comparison_years()
    year = request.args.get("annee", type=int)
    if year is None or not 1900 <= year <= 2999:
        year = years[0] if years else None
    comparison = services.compare_year(year, current_grid()) if year else None
    key = request.args.get("tri", "territory")
    descending = request.args.get("ordre") == "desc"
    return render_template(
        "comparison.html",
        years=years,
        year=year,
        comparison=comparison,
        rows=comparison.sorted_rows(key, descending) if comparison else [],
        sort_key=key,
        descending=descending,
    )
