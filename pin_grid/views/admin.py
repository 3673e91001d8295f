"""The administration of territories (name, region, territorial unit) and partner organisations
(name, sector, merging duplicates): administrators only, refused (403) before anything is looked up."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import access, limits, services
from ..forms import OrganizationEditForm, OrganizationMergeForm, TerritoryEditForm
from . import actor, allowed_if, form_status, show_service_error

bp = Blueprint("admin", __name__, url_prefix="/admin")

PAGE_SIZE = 50  # territories or organisations per page


@bp.get("/territoires")
@allowed_if(access.may_manage)
def territories():
    """Every territory, a page at a time, searched by name or code and filtered by region as on
    the home page (`q`, `region`, `page`)."""
    listing = services.territory_admin_listing(
        search=request.args.get("q", ""), region=request.args.get("region") or None,
        page=request.args.get("page", 1, type=int), per_page=PAGE_SIZE)
    return render_template("admin_territories.html", listing=listing)


@bp.route(f"/territoires/<string(maxlength={limits.TERRITORY_CODE_LENGTH}):code>/modifier", methods=["GET", "POST"])
@allowed_if(access.may_manage)
def edit_territory(code: str):
    """A territory's name, region and territorial unit; the code shown stays as it is."""
    territory = services.territory_by_code(code)
    if territory is None:
        raise services.NotFound(_("Ce territoire n'existe pas."))
    form = TerritoryEditForm(obj=territory if request.method == "GET" else None, regions=services.region_names())
    status = None
    if form.validate_on_submit():
        try:
            changed = services.update_territory(code, form.name.data, form.region.data,
                                                form.territorial_unit.data or "", actor=actor())
        except services.ServiceError as exc:
            show_service_error(form, exc)
            status = exc.status
        else:
            flash(_("Territoire « %(name)s » mis à jour.", name=changed.name), "success")
            return redirect(url_for("main.territory", code=code))
    return render_template("admin_territory.html", form=form, territory=territory), status or form_status(form)


@bp.get("/organisations")
@allowed_if(access.may_manage)
def organizations():
    listing = services.organization_listing(search=request.args.get("q", ""),
                                            page=request.args.get("page", 1, type=int), per_page=PAGE_SIZE)
    return render_template("admin_organizations.html", listing=listing)


@bp.route("/organisations/<int:organization_id>/modifier", methods=["GET", "POST"])
@allowed_if(access.may_manage)
def edit_organization(organization_id: int):
    """Rename an organisation, change its sector."""
    organization = services.organization_overview(organization_id)
    form = OrganizationEditForm(obj=organization if request.method == "GET" else None)
    status = None
    if form.validate_on_submit():
        try:
            changed = services.update_organization(organization_id, form.name.data, form.sector.data, actor=actor())
        except services.ServiceError as exc:
            show_service_error(form, exc)
            status = exc.status
        else:
            flash(_("Organisme « %(name)s » mis à jour.", name=changed.name), "success")
            return redirect(url_for(".organizations"))
    return render_template("admin_organization.html", form=form, organization=organization), status or form_status(form)


@bp.route("/organisations/<int:organization_id>/fusionner", methods=["GET", "POST"])
@allowed_if(access.may_manage)
def merge_organization(organization_id: int):
    """Merge this organisation (a duplicate) into another one, which is kept."""
    duplicate = services.organization_overview(organization_id)
    others = [o for o in services.organizations_of() if o.id != organization_id]
    form = OrganizationMergeForm(organizations=others)
    status = None
    if form.validate_on_submit():
        try:
            report = services.merge_organizations(organization_id, form.keep.data, confirmed=bool(form.confirm.data),
                                                  actor=actor())
        except services.ServiceError as exc:
            show_service_error(form, exc)
            status = exc.status
        else:
            flash(_("« %(duplicate)s » est fusionné dans « %(kept)s ».", duplicate=duplicate.name,
                    kept=report.kept.name), "success")
            return redirect(url_for(".organizations"))
    return render_template("admin_organization_merge.html", form=form, organization=duplicate), \
        status or form_status(form)
