"""Home (territories and their assessments), territories, language."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import access, services
from ..forms import TerritoryForm
from . import allowed_if, form_status, local_path, show_service_error

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    territories = [t for t in services.territories_with_assessments() if access.in_scope(current_user, t)]
    return render_template(
        "territories.html",
        territories=territories,
        answered=services.answered_counts(),
        may_create={t.id for t in territories if access.can(current_user, access.CREATE, t)},
    )


@bp.route("/territoires/nouveau", methods=["GET", "POST"])
@allowed_if(access.may_manage)
def new_territory():
    form = TerritoryForm()
    if form.validate_on_submit():
        try:
            territory = services.create_territory(form.code.data, form.name.data, form.region.data)
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
