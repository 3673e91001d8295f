"""Starting an assessment, the team's grid form, finalising, deleting a draft, results."""
from __future__ import annotations

import functools
import re
from dataclasses import replace

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import ValidationError, validate_csrf
from werkzeug.datastructures import MultiDict

from .. import access, accounts, scoring, services
from ..context import current_locale, grid_catalog, grid_of
from ..forms import AssessmentForm, ConfirmForm, RevisionForm, StatementFields, grid_form_class, typed_statements
from ..security import pending_formdata
from ..transactions import writes_in_one_transaction
from ..services import AnswerData
from . import actor, allowed, allowed_if, assessment_for, form_status, grid_page, journal, show_service_error, with_assessment

bp = Blueprint("assessments", __name__, url_prefix="/evaluations")

# A posted statement field is named "<item id>-<field>", e.g. "ECO-1-level".
_ITEM_FIELD = re.compile(r"^([A-Za-z]{2,5}-\d{1,3})-(level|comment|priority|action|action_owner|action_due|target|base)$")


def _restored_message() -> str:
    return _("Ce que vous aviez saisi avant la fin de votre session est rétabli : vérifiez-le puis enregistrez.")


def draft_view(action: str = access.EDIT):
    """A view that changes a draft, given the assessment once `action` on it is allowed; for a
    finalised assessment a GET goes to its results instead (for whoever may read them)."""
    def decorate(view):
        @functools.wraps(view)
        def checked(assessment_id: int, **kwargs):
            assessment = assessment_for(assessment_id, access.READ)
            if request.method == "GET" and not assessment.is_draft:
                flash(_("Cette évaluation est finalisée : voici ses résultats."), "info")
                return redirect(url_for(".results", assessment_id=assessment_id))
            return view(allowed(assessment, action), **kwargs)
        return checked
    return decorate


def _territories_for(action: str):
    return [t for t in services.all_territories() if access.can(current_user, action, t)]


def _details_page(form: AssessmentForm, assessment=None, status: int | None = None, existing_id: int | None = None):
    form.add_blank_rows()
    # Suggestions: only the organisations met in the territories this person may read.
    visible = None if access.may_manage(current_user) else {t.id for t in _territories_for(access.READ)}
    return render_template(
        "assessment_form.html",
        form=form,
        assessment=assessment,
        organizations=services.organizations_of(visible),
        existing=services.get_assessment(existing_id) if existing_id else None,
    ), status or form_status(form)


def _refused(form: AssessmentForm, exc: services.ServiceError, assessment=None):
    show_service_error(form, exc)
    return _details_page(form, assessment, status=exc.status, existing_id=exc.details.get("existing_id"))


@bp.route("/nouvelle", methods=["GET", "POST"])
@allowed_if(access.may_start_assessments)
def new():
    territories = _territories_for(access.CREATE)
    if not territories:
        if access.may_manage(current_user):
            flash(_("Créez d'abord le territoire de l'évaluation."), "info")
            return redirect(url_for("main.new_territory"))
        return render_template("no_territory.html", administrators=accounts.administrators()), 403
    form = AssessmentForm(territories=territories)
    if request.method == "GET":
        form.territory.data = request.args.get("territoire", type=int)
    if form.validate_on_submit():
        try:
            assessment = services.start_assessment(form.details(), grid_catalog(), carry_over=form.carry_over.data,
                                                   actor=actor())
        except services.ServiceError as exc:
            return _refused(form, exc)
        return redirect(url_for(".grid", assessment_id=assessment.id))
    return _details_page(form)


@bp.route("/<int:assessment_id>/details", methods=["GET", "POST"])
@draft_view()
def details(assessment):
    form = AssessmentForm(territories=_territories_for(access.CREATE))
    recovered = pending_formdata(request.path) if request.method == "GET" else None
    if recovered is not None:
        form.process(formdata=recovered)
        flash(_restored_message(), "info")
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
            services.update_details(assessment.id, form.details(), actor=actor())
        except services.ServiceError as exc:
            return _refused(form, exc, assessment)
        flash(_("Renseignements enregistrés."), "success")
        return redirect(url_for(".grid", assessment_id=assessment.id))
    return _details_page(form, assessment)


def _stored_statements(stored: services.StoredAnswers, grid) -> dict[str, StatementFields]:
    """Each statement as stored, with the version it is read at."""
    unanswered = AnswerData()
    return {item_id: StatementFields.stored(stored.answers.get(item_id, unanswered)) for item_id in grid.items}


def _over_stored(recovered: MultiDict, stored: dict[str, StatementFields]) -> MultiDict:
    """What was typed before a session ended, over what is stored: a statement that was typed in
    comes back as typed (with the version it was based on); the others as they are stored."""
    typed = {m.group(1) for key in recovered if (m := _ITEM_FIELD.match(key))}
    merged = MultiDict(recovered)
    for item_id, statement in stored.items():
        if item_id in typed:
            continue
        for name, value in statement.__dict__.items():
            if name != "errors" and value not in ("", False):
                merged.add(f"{item_id}-{name}", "y" if value is True else value)
    return merged


def _grid_page(assessment, statements: dict[str, StatementFields], *, to_confirm: list[str] | None = None, status=200,
               expired=False, unknown_items=(), conflicts=(), problem=None, problem_items=()):
    """`to_confirm`: the carried-over answers not yet confirmed, when already read."""
    grid = grid_of(assessment)
    unanswered = [item_id for item_id in grid.items if not statements[item_id].level]
    if to_confirm is None:
        to_confirm = services.stored_answers(assessment, grid).to_confirm
    conflicts, carried = {c.item_id: c for c in conflicts}, set(to_confirm)
    return render_template(
        "grid_form.html",
        assessment=assessment,
        participants=services.participant_count(assessment),
        shown=grid_page.statements_markup(grid, statements, carried, conflicts),
        expired=expired,
        invalid=[item_id for item_id in grid.items if statements[item_id].errors],
        answered=len(grid.items) - len(unanswered),
        next_unanswered=unanswered[0] if unanswered else None,
        unknown_items=unknown_items,
        conflicts=conflicts,
        carried=carried,
        next_to_confirm=to_confirm[0] if to_confirm else None,
        may_finalize=access.can(current_user, access.FINALIZE, assessment.territory),
        may_delete=access.can(current_user, access.DELETE, assessment.territory),
        problem=problem,
        problem_items=problem_items,
    ), status


@bp.get("/<int:assessment_id>/grille")
@draft_view()
def grid(assessment):
    grid = grid_of(assessment)
    stored = services.stored_answers(assessment, grid)
    statements = _stored_statements(stored, grid)
    recovered = pending_formdata(request.path)
    if recovered is not None:  # rare: only then is a form built, to read what was typed
        form = grid_form_class(grid)(formdata=_over_stored(recovered, statements))
        statements = typed_statements(form, grid)
        flash(_restored_message(), "info")
    return _grid_page(assessment, statements, to_confirm=stored.to_confirm)


@bp.post("/<int:assessment_id>/grille")
@writes_in_one_transaction
@with_assessment(access.EDIT, for_update=True, with_answers=True)
def save_grid(assessment):
    """Save what the team typed; on to the confirmation page when finalising is asked. Nothing
    typed is dropped on an error."""
    grid = grid_of(assessment)
    assessment_id = assessment.id  # read now: after the save's commit, reading it would read it again
    stored = services.stored_answers(assessment, grid)  # loaded with the assessment, under its lock
    statements = _stored_statements(stored, grid)
    # Only the statements sent otherwise than shown are read and checked: the page sends all 24,
    # and the others were saved as people went.
    Statement = grid_form_class(grid).Statement
    sent = {item_id: Statement(request.form, prefix=item_id) for item_id in grid.items
            if not statements[item_id].sent_as_shown(request.form, item_id)}
    unknown_items = sorted({m.group(1) for key in request.form if (m := _ITEM_FIELD.match(key))} - set(grid.items))
    valid = all([statement.validate() for statement in sent.values()])  # each one, for its messages
    statements.update({item_id: StatementFields.typed(statement) for item_id, statement in sent.items()})
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return _grid_page(assessment, statements, to_confirm=stored.to_confirm, status=400, expired=True)
    try:
        result = services.save_answers(
            assessment_id, {item_id: statement.answer() for item_id, statement in sent.items() if not statement.errors},
            {item_id: statement.base_version() for item_id, statement in sent.items()},
            {item_id for item_id, statement in sent.items() if statement.confirm.data}, actor=actor())
    except services.Locked as exc:
        return _grid_page(assessment, statements, to_confirm=stored.to_confirm, status=exc.status, problem=exc.message)
    # What is now stored is what the next save is based on: the person's own saved answers, and
    # for a conflict the other person's value, which the page shows beside theirs.
    for item_id in result.saved:
        statements[item_id] = replace(statements[item_id], base=sent[item_id].answer().fingerprint())
    for conflict in result.conflicts:
        statements[conflict.item_id] = replace(statements[conflict.item_id], base=conflict.theirs.fingerprint())
    # What the person left untouched and someone else changed meanwhile shows as it is now.
    for item_id, theirs in result.changed_by_others.items():
        statements[item_id] = StatementFields.stored(theirs)
    if result.conflicts:
        return _grid_page(assessment, statements, status=409, conflicts=result.conflicts, unknown_items=unknown_items)
    if not valid or unknown_items:
        return _grid_page(assessment, statements, status=422, unknown_items=unknown_items)
    if request.form.get("intent") == "finalize":
        if not access.can(current_user, access.FINALIZE, assessment.territory):
            return _grid_page(assessment, statements, status=403, problem=_(
                "Vos réponses sont enregistrées, mais la finalisation revient à une coordonnatrice ou à un coordonnateur."))
        blocker = services.finalize_blocker(assessment, grid)  # as just saved (reloaded after the commit)
        if blocker is not None:
            items = blocker.details.get("missing") or blocker.details.get("carried") or ()
            return _grid_page(assessment, statements, status=blocker.status, problem=blocker.message,
                              problem_items=items)
        return redirect(url_for(".finalize", assessment_id=assessment_id))
    flash(_("Réponses enregistrées. Vous pouvez quitter et reprendre plus tard."), "success")
    at = request.form.get("at")  # the statement the person was on: back there, not to the top
    return redirect(url_for(".grid", assessment_id=assessment_id, _anchor=f"item-{at}" if at in grid.items else None))


@bp.route("/<int:assessment_id>/finaliser", methods=["GET", "POST"])
@draft_view(access.FINALIZE)
def finalize(assessment):
    """Sum up what finalising will lock, and finalise once the person confirms."""
    grid = grid_of(assessment)
    form = ConfirmForm()
    problem = None
    if form.validate_on_submit():
        try:
            services.finalize(assessment.id, grid, actor=actor())
        except services.ServiceError as exc:
            problem = exc
        else:
            flash(_("Évaluation finalisée."), "success")
            return redirect(url_for(".results", assessment_id=assessment.id))
    problem = problem or services.finalize_blocker(assessment, grid)
    return render_template(
        "finalize.html", assessment=assessment, form=form, results=services.results_of(assessment, grid),
        priorities=sum(1 for a in assessment.answers if a.priority),
        actions=sum(1 for a in assessment.answers if a.action), problem=problem,
    ), form_status(form) if form.errors else problem.status if problem else 200


@bp.route("/<int:assessment_id>/supprimer", methods=["GET", "POST"])
@with_assessment(access.DELETE)
def delete(assessment):
    """Delete a draft started by mistake, after confirming; a finalised assessment never."""
    form = ConfirmForm()
    if assessment.is_draft and form.validate_on_submit():
        services.delete_draft(assessment.id, actor=actor())
        flash(_("Le brouillon du %(date)s de %(territory)s est supprimé.", date=assessment.date.isoformat(),
                territory=assessment.territory.name), "success")
        return redirect(url_for("main.index"))
    status = 409 if not assessment.is_draft else form_status(form)
    return render_template("delete.html", assessment=assessment, form=form,
                           answered=services.answered_count(assessment, grid_of(assessment))), status


@bp.post("/<int:assessment_id>/enonces/<item_id>")
@writes_in_one_transaction
@with_assessment(access.EDIT, for_update=True, with_answers=True)
def save_statement(assessment, item_id: str):
    """Save one statement as people go (the page calls this on every change). JSON answers:
    200 saved, 409 someone else changed it meanwhile (both values), 422 invalid (with the
    reason), 400 CSRF. One transaction, from the sign-in check to the write; only this statement
    is read from the form, and the answer says what was just written."""
    grid = grid_of(assessment)
    if item_id not in grid.items:
        return jsonify(error=_("Cet énoncé ne fait pas partie de la grille : %(item)s.", item=item_id[:20])), 404
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return jsonify(error=_("Le formulaire a expiré : rechargez la page (vos réponses restent affichées).")), 400
    statement = grid_form_class(grid).Statement(request.form, prefix=item_id)
    if not statement.validate():
        reasons = [str(m) for messages in statement.errors.values() for m in messages]
        return jsonify(error=_("Non enregistré : %(reason)s", reason=" ".join(reasons)), errors=statement.errors), 422
    try:
        result = services.save_answers(assessment.id, {item_id: statement.answer()}, {item_id: statement.base_version()},
                                       {item_id} if statement.confirm.data else (), actor=actor())
    except services.Locked as exc:
        return jsonify(error=str(exc.message)), exc.status
    to_confirm = [i for i in grid.items if i in result.carried]
    progress = {"to_confirm": len(to_confirm), "next_to_confirm": to_confirm[0] if to_confirm else None}
    if result.conflicts:
        conflict = result.conflicts[0]
        return jsonify(
            error=_("Quelqu'un d'autre a modifié cet énoncé pendant que vous travailliez."),
            theirs=_answer_json(conflict.theirs, grid), yours=_answer_json(conflict.yours, grid),
            base=conflict.theirs.fingerprint(), **progress,
        ), 409
    return jsonify(saved=True, base=statement.answer().fingerprint(), **progress)


def _answer_json(answer: AnswerData, grid) -> dict:
    level = grid.level.get(answer.level) if answer.level else None
    return {"level": answer.level, "label": level.label.get(current_locale()) if level else None, "comment": answer.comment,
            "action": answer.action}


def _results_page(assessment, revision_form=None, status=200):
    grid = grid_of(assessment)
    results = services.results_of(assessment, grid)
    standing, reference = services.standing_of(assessment, results, grid_catalog())
    may_revise = access.can(current_user, access.REVISE, assessment.territory)
    return render_template(
        "results.html",
        plan=services.action_plan(assessment, grid),
        gaps={a.item_id: scoring.target_gap(a.level, a.target, grid.points) for a in assessment.answers if a.target},
        knowledge_gaps=services.knowledge_gaps(assessment, grid),
        assessment=assessment,
        results=results,
        standing=standing,
        reference=reference,
        follow_up=services.follow_up(assessment, results, grid_catalog()),
        answered=services.answered_count(assessment, grid),
        revision_form=revision_form or (RevisionForm() if may_revise else None),
        may_audit=access.can(current_user, access.AUDIT, assessment.territory),
        versions=services.versions_of(assessment),
    ), status


@bp.get("/<int:assessment_id>/resultats")
@with_assessment(access.READ)
def results(assessment):
    return _results_page(assessment)


@bp.post("/<int:assessment_id>/revision")
@with_assessment(access.REVISE)
def revise(assessment):
    """Correct a finalised assessment: a new draft revision, with the reason, opens."""
    form = RevisionForm()
    if form.validate_on_submit():
        try:
            revision = services.open_revision(assessment.id, form.reason.data, actor=actor())
        except services.ServiceError as exc:
            show_service_error(form, exc)
            return _results_page(assessment, form, exc.status)
        flash(_("Révision ouverte : corrigez puis finalisez-la ; la version précédente reste consultable."), "success")
        return redirect(url_for(".grid", assessment_id=revision.id))
    return _results_page(assessment, form, form_status(form))


@bp.get("/<int:assessment_id>/journal")
@with_assessment(access.AUDIT)
def audit(assessment):
    return render_template("audit.html", assessment=assessment, entries=journal.entries(services.audit_trail(assessment.id)))
