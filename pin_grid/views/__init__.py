"""Blueprints: each view parses the request, calls one service, renders or redirects. Access is
checked by the decorators below, before the view runs."""
from __future__ import annotations

import functools
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import g, request
from flask_login import current_user
from flask_wtf import FlaskForm

from .. import access, services
from ..context import grid_of
from ..security import forbid


def local_path(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: redirects never leave the site (no
    scheme, no host, no control characters or backslashes that browsers would reinterpret)."""
    if not target or not target.startswith("/") or any(ord(c) < 0x20 or c in "\x7f\\" for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return None
    return target


def form_status(form: FlaskForm) -> int:
    """HTTP status of a page that shows `form`: 200, or 400/422 when a submission was refused."""
    if request.method != "POST" or not form.errors:
        return 200
    return 400 if "csrf_token" in form.errors else 422


def show_service_error(form: FlaskForm, exc) -> None:
    """Show a service's refusal beside the field it is about, or at the top of the form."""
    field = exc.details.get("field")
    (form[field].errors if field and field in form else form.form_errors).append(exc.message)


def actor() -> str:
    """Who is acting, for the audit trail."""
    return current_user.email if current_user.is_authenticated else "anonyme"


def assessment_for(assessment_id: int, action: str, **lookup):
    """The assessment, if the signed-in person may do `action` on it: 404 when they may not
    even read it (its existence is not theirs to know), 403 when they may only read it.
    `lookup`: how to read it (`services.get_assessment`)."""
    try:
        assessment = services.get_assessment(assessment_id, **lookup)
    except services.NotFound:
        forbid(404)  # the same answer as for another territory's assessment: ids cannot be probed
    return allowed(assessment, action)


def allowed(assessment, action: str):
    """`assessment`, if the signed-in person may do `action` on it (404 / 403 as above)."""
    if not access.can(current_user, access.READ, assessment.territory):
        forbid(404)
    if action != access.READ and not access.can(current_user, action, assessment.territory):
        forbid(403)
    g.assessment_grid = grid_of(assessment)  # its pages show the wording it was rated on
    return assessment


def allowed_if(may: Callable[[object], bool]):
    """A view open only to people for whom `may(user)` holds (a predicate of `access`); 403 otherwise."""
    def decorate(view):
        @functools.wraps(view)
        def checked(*args, **kwargs):
            if not may(current_user):
                forbid(403)
            return view(*args, **kwargs)
        return checked
    return decorate


def with_assessment(action: str, **lookup):
    """A view of one assessment: it receives the assessment, once `action` on it is allowed."""
    def decorate(view):
        @functools.wraps(view)
        def checked(assessment_id: int, **kwargs):
            return view(assessment_for(assessment_id, action, **lookup), **kwargs)
        return checked
    return decorate
