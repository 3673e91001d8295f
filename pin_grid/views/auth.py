"""Signing in and out, the first administrator, passwords, and the administration of accounts."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import access, accounts, services
from ..forms import ConfirmForm, LoginForm, PasswordChangeForm, SetupForm, UserEditForm, UserForm
from ..security import client_address, sign_in, sign_out
from . import allowed_if, form_status, local_path, show_service_error

bp = Blueprint("auth", __name__)


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    if accounts.needs_first_admin():
        return redirect(url_for(".setup"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data, client_address(), current_app.config)
        except accounts.Throttled as exc:
            form.form_errors.append(exc.message)
            status = exc.status
        else:
            if user is not None:
                sign_in(user)
                return redirect(local_path(request.args.get("next")) or url_for("main.index"))
            # The same words whether the account exists or not.
            form.form_errors.append(_("Adresse courriel ou mot de passe incorrect."))
            status = 401
    return render_template(
        "login.html", form=form, expired=request.args.get("expiree") == "1",
        kept=bool(session.get("pending_form")),
    ), status if status != 200 else form_status(form)


@bp.post("/deconnexion")
def logout():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    sign_out()
    flash(_("Déconnexion réussie."), "info")
    return redirect(url_for(".login"))


@bp.route("/installation", methods=["GET", "POST"])
def setup():
    """The one-time page that creates the first administrator; gone once any account exists."""
    if not accounts.needs_first_admin():
        abort(404)
    form = SetupForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.email.data, form.password.data, "admin", actor=form.email.data,
                                        display_name=form.display_name.data or "", first_admin=True)
        except services.ServiceError as exc:
            show_service_error(form, exc)
        else:
            sign_in(user)
            flash(_("Compte administrateur créé. Créez maintenant les territoires et les comptes de l'équipe."), "success")
            return redirect(url_for("main.index"))
    return render_template("setup.html", form=form), form_status(form)


@bp.route("/mot-de-passe", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            user = accounts.change_password(current_user.id, form.current.data, form.password.data,
                                            actor=current_user.email)
        except services.ServiceError as exc:
            show_service_error(form, exc)
        else:
            sign_in(user)  # this session goes on; every other one of the account ends
            flash(_("Mot de passe changé."), "success")
            return redirect(url_for("main.index"))
    return render_template("password.html", form=form), form_status(form)


def _user_form(form_class=UserForm, kept_regions=(), **kwargs):
    """The account form; its regions are the managed list, and those the account already has."""
    regions = services.region_names()
    regions += sorted(set(kept_regions) - set(regions))
    return form_class(territories=services.all_territories(), regions=regions, **kwargs)


@bp.route("/admin/comptes", methods=["GET", "POST"])
@allowed_if(access.may_manage)
def users():
    form = _user_form()
    if form.validate_on_submit():
        try:
            accounts.create_user(form.email.data, form.password.data, form.role.data,
                                 territories=form.territories.data, regions=form.regions.data,
                                 display_name=form.display_name.data or "", actor=current_user.email)
        except services.ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("Compte créé pour %(email)s.", email=form.email.data), "success")
            return redirect(url_for(".users"))
    return _users_page(form, form_status(form))


def _users_page(form, status: int):
    return render_template("users.html", form=form, users=accounts.all_users(), toggle=ConfirmForm()), status


@bp.route("/admin/comptes/<int:user_id>", methods=["GET", "POST"])
@allowed_if(access.may_manage)
def edit_user(user_id: int):
    """Change an account's role, territories and regions, or give it a new password."""
    user = accounts.get_user(user_id)
    form = _user_form(UserEditForm, kept_regions=user.region_names)
    if request.method == "GET":
        form.process(data={"display_name": user.display_name, "role": user.role, "territories": [t.code for t in user.territories],
                           "regions": sorted(user.region_names)})
    if form.validate_on_submit():
        try:
            accounts.update_user(user_id, form.role.data, territories=form.territories.data,
                                 regions=form.regions.data, display_name=form.display_name.data or "",
                                 actor=current_user.email)
            if form.password.data:
                accounts.set_password(user_id, form.password.data, actor=current_user.email)
        except services.ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("Compte %(email)s mis à jour.", email=user.email), "success")
            return redirect(url_for(".users"))
    return render_template("user_edit.html", form=form, user=user), form_status(form)


@bp.post("/admin/comptes/<int:user_id>/<any(activer, desactiver):change>")
@allowed_if(access.may_manage)
def set_active(user_id: int, change: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if user_id == current_user.id:
        flash(_("Vous ne pouvez pas désactiver votre propre compte."), "info")
        return redirect(url_for(".users"))
    try:
        user = accounts.set_active(user_id, change == "activer", actor=current_user.email)
    except services.ServiceError as exc:
        flash(str(exc.message), "error")
        return _users_page(_user_form(), exc.status)
    flash(_("Compte %(email)s activé.", email=user.email) if user.active
          else _("Compte %(email)s désactivé : ses sessions sont terminées.", email=user.email), "success")
    return redirect(url_for(".users"))
