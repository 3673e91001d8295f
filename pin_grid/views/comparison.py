"""The comparison of territories for a year (INESSS's table)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from .. import access, limits, services, text
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


_NONE = Markup('<span class="none">—</span>')


def table_rows(rows: list[ShownRow], symbol_cells: dict, profile_cells: dict, components, language: str) -> Markup:
    """The table's rows, written with plain string formatting from cells the template rendered
    once (each symbol, each profile): through Jinja, 5,000 rows were most of the page's time."""
    out = []
    for shown in rows:
        row, standing = shown.row, shown.row.standing
        if shown.label:
            name = escape(_("Territoire %(label)s", label=shown.label))
        else:
            territory = row.assessment.territory
            name = f'<a href="{escape(shown.url)}">{escape(territory.name)}</a>' if shown.url else escape(territory.name)
            name = f'{name} <span class="hint">{row.assessment.date.isoformat()}</span>'
        cells = "".join(f'<td class="num">{symbol_cells[standing.symbols[theme.id]]}</td>' for theme in components)
        ensemble = _NONE if standing.ensemble is None else text.one_decimal(standing.ensemble, language)
        profile = standing.profile
        out.append(f'<tr><th scope="row">{name}</th>{cells}'
                   f'<td class="num">{symbol_cells[standing.ensemble_symbol]} <span class="score">{ensemble}</span></td>'
                   f'<td>{profile_cells[(profile.letter, profile.subprofile) if profile else None]}</td></tr>\n')
    return Markup("".join(out))


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
        table_rows=table_rows,
    )
