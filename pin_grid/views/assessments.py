"""Starting an assessment, the team's grid form, finalising, results."""
from __future__ import annotations

import re

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import access, current_grid, services
from ..forms import AssessmentForm, RevisionForm, grid_form_class
from ..security import forbid, pending_formdata
from ..services import AnswerData
from . import actor, assessment_for, current_locale, form_status, show_service_error

bp = Blueprint("assessments", __name__, url_prefix="/evaluations")

# A posted statement field is named "<item id>-<field>", e.g. "ECO-1-level".
_ITEM_FIELD = re.compile(r"^([A-Za-z]{2,5}-\d{1,3})-(level|comment|priority|action|action_owner|action_due|base)$")


def _details_page(form: AssessmentForm, assessment=None, status: int | None = None):
    form.add_blank_rows()
    return render_template(
        "assessment_form.html",
        form=form,
        assessment=assessment,
        organizations=services.all_organizations(),
    ), status or form_status(form)


def _results_if_finalized(assessment_id: int):
    """The forms of a finalised assessment only send to its results (for whoever may read them)."""
    if assessment_for(assessment_id, access.READ).is_draft:
        return None
    flash(_("Cette évaluation est finalisée : voici ses résultats."), "info")
    return redirect(url_for(".results", assessment_id=assessment_id))


def _territories_for(action: str):
    return [t for t in services.all_territories() if access.can(current_user, action, t)]


@bp.route("/nouvelle", methods=["GET", "POST"])
def new():
    territories = _territories_for(access.CREATE)
    if not territories:
        if access.may_manage(current_user):
            flash(_("Créez d'abord le territoire de l'évaluation."), "info")
            return redirect(url_for("main.new_territory"))
        forbid(403)
    form = AssessmentForm(territories=territories)
    if request.method == "GET":
        form.territory.data = request.args.get("territoire", type=int)
    if form.validate_on_submit():
        try:
            assessment = services.start_assessment(form.details(), current_grid(), carry_over=form.carry_over.data,
                                                   actor=actor())
        except services.ServiceError as exc:
            show_service_error(form, exc)
            return _details_page(form, status=exc.status)
        return redirect(url_for(".grid", assessment_id=assessment.id))
    return _details_page(form)


@bp.route("/<int:assessment_id>/details", methods=["GET", "POST"])
def details(assessment_id: int):
    if request.method == "GET" and (to_results := _results_if_finalized(assessment_id)):
        return to_results
    assessment = assessment_for(assessment_id, access.EDIT)
    form = AssessmentForm(territories=_territories_for(access.CREATE))
    recovered = pending_formdata(request.path) if request.method == "GET" else None
    if recovered is not None:
        form.process(formdata=recovered)
        flash(_("Ce que vous aviez saisi avant la fin de votre session est rétabli : vérifiez-le puis enregistrez."), "info")
    elif request.method == "GET":
        form.process(data={
            "territory": assessment.territory_id,
            "date": assessment.date,
            "perspective": assessment.perspective.name if assessment.perspective else "",
            "participants": [{"name": p.name or "", "role": p.role, "sector": p.sector} for p in assessment.participants],
            "organizations": [{"name": o.name, "sector": o.sector} for o in assessment.organizations],
        })
    if form.validate_on_submit():
        try:
            services.update_details(assessment_id, form.details(), actor=actor())
        except services.ServiceError as exc:
            show_service_error(form, exc)
            return _details_page(form, assessment, status=exc.status)
        flash(_("Renseignements enregistrés."), "success")
        return redirect(url_for(".grid", assessment_id=assessment_id))
    return _details_page(form, assessment)


def _stored_data(assessment) -> dict:
    """The grid form's initial data: each stored answer and the fingerprint it was read with."""
    stored = assessment.answers_by_item
    data = {}
    for item_id in current_grid().items:
        answer = AnswerData.of(stored.get(item_id))
        data[item_id] = {**answer.__dict__, "base": answer.fingerprint()}
    return data


def _grid_page(assessment, form, *, status=200, unknown_items=(), conflicts=(), problem=None, problem_items=()):
    grid = current_grid()
    unanswered = [item_id for item_id in grid.items if not form[item_id].form.level.data]
    return render_template(
        "grid_form.html",
        assessment=assessment,
        form=form,
        answered=len(grid.items) - len(unanswered),
        next_unanswered=unanswered[0] if unanswered else None,
        unknown_items=unknown_items,
        conflicts={c.item_id: c for c in conflicts},
        carried={a.item_id for a in assessment.answers if a.carried_over},
        may_finalize=access.can(current_user, access.FINALIZE, assessment.territory),
        problem=problem,
        problem_items=problem_items,
    ), status


@bp.get("/<int:assessment_id>/grille")
def grid(assessment_id: int):
    if to_results := _results_if_finalized(assessment_id):
        return to_results
    assessment = assessment_for(assessment_id, access.EDIT)
    recovered = pending_formdata(request.path)
    if recovered is not None:
        form = grid_form_class(current_grid())(formdata=recovered)
        flash(_("Ce que vous aviez saisi avant la fin de votre session est rétabli : vérifiez-le puis enregistrez."), "info")
    else:
        form = grid_form_class(current_grid())(data=_stored_data(assessment))
    return _grid_page(assessment, form)


@bp.post("/<int:assessment_id>/grille")
def save_grid(assessment_id: int):
    """Save what the team typed; finalise when asked. Nothing typed is dropped on an error."""
    grid = current_grid()
    assessment = assessment_for(assessment_id, access.EDIT)
    form = grid_form_class(grid)()
    unknown_items = sorted({m.group(1) for key in request.form if (m := _ITEM_FIELD.match(key))} - set(grid.items))
    valid = form.validate()
    if "csrf_token" in form.errors:
        return _grid_page(assessment, form, status=400)
    try:
        result = services.save_answers(assessment_id, form.valid_answers(), form.bases(), form.confirmed(),
                                       actor=actor())
    except services.Locked as exc:
        return _grid_page(assessment, form, status=exc.status, problem=exc.message)
    # What is now stored is what the next save is based on: the person's own saved answers, and
    # for a conflict the other person's value, which the page shows beside theirs.
    for item_id in result.saved:
        form[item_id].form.base.data = form[item_id].form.answer().fingerprint()
    for conflict in result.conflicts:
        form[conflict.item_id].form.base.data = conflict.theirs.fingerprint()
    if result.conflicts:
        return _grid_page(assessment, form, status=409, conflicts=result.conflicts, unknown_items=unknown_items)
    if not valid or unknown_items:
        return _grid_page(assessment, form, status=422, unknown_items=unknown_items)
    if request.form.get("intent") == "finalize":
        if not access.can(current_user, access.FINALIZE, assessment.territory):
            return _grid_page(assessment, form, status=403, problem=_(
                "Vos réponses sont enregistrées, mais seul·e une coordonnatrice ou un coordonnateur peut finaliser."))
        try:
            services.finalize(assessment_id, grid, actor=actor())
        except services.ServiceError as exc:
            items = exc.details.get("missing") or exc.details.get("carried") or ()
            return _grid_page(assessment, form, status=exc.status, problem=exc.message, problem_items=items)
        flash(_("Évaluation finalisée."), "success")
        return redirect(url_for(".results", assessment_id=assessment_id))
    flash(_("Réponses enregistrées. Vous pouvez quitter et reprendre plus tard."), "success")
    return redirect(url_for(".grid", assessment_id=assessment_id))


@bp.post("/<int:assessment_id>/enonces/<item_id>")
def save_statement(assessment_id: int, item_id: str):
    """Save one statement as people go (the page calls this on every change). JSON answers:
    200 saved, 409 someone else changed it meanwhile (both values), 422 invalid, 400 CSRF."""
    grid = current_grid()
    if item_id not in grid.items:
        return jsonify(error=_("Cet énoncé ne fait pas partie de la grille : %(item)s.", item=item_id[:20])), 404
    assessment = assessment_for(assessment_id, access.EDIT)
    form = grid_form_class(grid)()
    if not form.csrf_token.validate(form):
        return jsonify(error=_("Le formulaire a expiré : rechargez la page (vos réponses restent affichées).")), 400
    statement = form[item_id]
    if not statement.validate(form):
        return jsonify(errors=statement.errors), 422
    # Without the version it was based on, a save counts as based on an empty answer: it can
    # fill a blank statement but never overwrite someone's answer unseen.
    base = statement.form.base.data or AnswerData().fingerprint()
    try:
        result = services.save_answers(assessment.id, {item_id: statement.form.answer()}, {item_id: base},
                                       {item_id} if statement.form.confirm.data else (), actor=actor())
    except services.Locked as exc:
        return jsonify(error=str(exc.message)), exc.status
    stored = services.get_assessment(assessment_id)
    answered = services.answered_count(stored, grid)
    if result.conflicts:
        conflict = result.conflicts[0]
        return jsonify(
            error=_("Quelqu'un d'autre a modifié cet énoncé pendant que vous travailliez."),
            theirs=_answer_json(conflict.theirs), yours=_answer_json(conflict.yours),
            base=conflict.theirs.fingerprint(), answered=answered,
        ), 409
    return jsonify(saved=True, base=statement.form.answer().fingerprint(), answered=answered,
                   version=stored.version)


def _answer_json(answer: AnswerData) -> dict:
    grid = current_grid()
    level = grid.level.get(answer.level) if answer.level else None
    return {"level": answer.level, "label": level.label.get(current_locale()) if level else None, "comment": answer.comment,
            "action": answer.action}


def _results_page(assessment, revision_form=None, status=200):
    grid = current_grid()
    results = services.results_of(assessment, grid)
    standing, reference = services.standing_of(assessment, results, grid)
    may_revise = access.can(current_user, access.REVISE, assessment.territory)
    return render_template(
        "results.html",
        assessment=assessment,
        results=results,
        standing=standing,
        reference=reference,
        follow_up=services.follow_up(assessment, results, grid),
        answered=services.answered_count(assessment, grid),
        revision_form=revision_form or (RevisionForm() if may_revise else None),
        may_audit=access.can(current_user, access.AUDIT, assessment.territory),
        versions=services.versions_of(assessment),
    ), status


@bp.get("/<int:assessment_id>/resultats")
def results(assessment_id: int):
    return _results_page(assessment_for(assessment_id, access.READ))


@bp.post("/<int:assessment_id>/revision")
def revise(assessment_id: int):
    """Correct a finalised assessment: a new draft revision, with the reason, opens."""
    assessment = assessment_for(assessment_id, access.REVISE)
    form = RevisionForm()
    if form.validate_on_submit():
        try:
            revision = services.open_revision(assessment_id, form.reason.data, actor=actor())
        except services.ServiceError as exc:
            show_service_error(form, exc)
            return _results_page(assessment, form, exc.status)
        flash(_("Révision ouverte : corrigez puis finalisez-la ; la version précédente reste consultable."), "success")
        return redirect(url_for(".grid", assessment_id=revision.id))
    return _results_page(assessment, form, form_status(form))


@bp.get("/<int:assessment_id>/journal")
def audit(assessment_id: int):
    assessment = assessment_for(assessment_id, access.AUDIT)
    return render_template("audit.html", assessment=assessment, events=services.audit_trail(assessment_id))
