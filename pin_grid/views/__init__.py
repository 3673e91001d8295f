"""Blueprints: each view parses the request, calls one service, renders or redirects."""
from flask import request
from flask_wtf import FlaskForm


def local_path(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: redirects never leave the site (no
    scheme, no host, no control characters or backslashes that browsers would reinterpret)."""
    from urllib.parse import urlsplit

    if not target or not target.startswith("/") or any(ord(c) < 0x20 or c in "\x7f\\" for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return None
    return target


def current_locale() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "fr")


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
    from flask_login import current_user

    return current_user.email if current_user.is_authenticated else "anonyme"


def assessment_for(assessment_id: int, action: str):
    """The assessment, if the signed-in person may do `action` on it: 404 when they may not
    even read it (its existence is not theirs to know), 403 when they may only read it."""
    from flask_login import current_user

    from .. import access, services
    from ..security import forbid

    assessment = services.get_assessment(assessment_id)
    if not access.can(current_user, access.READ, assessment.territory):
        forbid(404)
    if action != access.READ and not access.can(current_user, action, assessment.territory):
        forbid(403)
    return assessment
