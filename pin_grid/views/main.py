"""Home (the territories and their latest assessments), a territory's page, new territories, language."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import access, limits, services
from ..forms import TerritoryForm
from ..security import forbid
from . import actor, allowed_if, form_status, local_path, show_service_error

bp = Blueprint("main", __name__)


PAGE_SIZE = 25  # territories per page of the home page


@bp.get("/")
def index():
    """The territories in the person's scope, a page at a time, searched by name or code and
    filtered by region (`q`, `region`, `page`: a view can be bookmarked)."""
    listing = services.territory_listing(
        access.scope_kind(current_user), current_user.id, search=request.args.get("q", ""),
        region=request.args.get("region") or None, page=request.args.get("page", 1, type=int), per_page=PAGE_SIZE)
    return render_template(
        "territories.html",
        listing=listing,
        may_create={r.territory.id for r in listing.rows if access.can(current_user, access.CREATE, r.territory)},
        may_edit={r.territory.id for r in listing.rows if access.can(current_user, access.EDIT, r.territory)},
    )


@bp.get(f"/territoires/<string(maxlength={limits.TERRITORY_CODE_LENGTH}):code>")
def territory(code: str):
    """A territory and all its assessments; 404 outside the person's scope, as for an unknown code."""
    found = services.territory_assessments(code)
    if found is None or not access.can(current_user, access.READ, found.territory):
        forbid(404)
    return render_template(
        "territory.html",
        territory=found.territory,
        assessments=found.assessments,
        territorial_unit=found.territorial_unit,
        may_create=access.can(current_user, access.CREATE, found.territory),
        may_edit=access.can(current_user, access.EDIT, found.territory),
    )


@bp.route("/territoires/nouveau", methods=["GET", "POST"])
@allowed_if(access.may_manage)
def new_territory():
    form = TerritoryForm(regions=services.region_names())
    if form.validate_on_submit():
        try:
            territory = services.create_territory(form.code.data, form.name.data, form.region.data, actor=actor())
        except services.ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("Territoire « %(name)s » créé.", name=territory.name), "success")
            return redirect(url_for("main.index"))
    return render_template("territory_form.html", form=form), form_status(form)


@bp.get("/langue/<code>")
def set_language(code: str):
    """Switch the interface language and remember it in a cookie."""
    response = make_response(redirect(local_path(request.args.get("next")) or url_for("main.index")))
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


@bp.get("/a-propos-de-la-grille")
def about_grid():
    """What the grid is for and how a team fills it; the levels come from the grid in force.
    Any signed-in person (the app-wide sign-in check), like the other pages of this blueprint."""
    return render_template("about_grid.html")
