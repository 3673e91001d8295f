"""Blueprints: each view parses the request, calls one service, renders or redirects."""
from flask import request
from flask_wtf import FlaskForm


def form_status(form: FlaskForm) -> int:
    """HTTP status of a page that shows `form`: 200, or 400/422 when a submission was refused."""
    if request.method != "POST" or not form.errors:
        return 200
    return 400 if "csrf_token" in form.errors else 422


def show_service_error(form: FlaskForm, exc) -> None:
    """Show a service's refusal beside the field it is about, or at the top of the form."""
    field = exc.details.get("field")
    (form[field].errors if field and field in form else form.form_errors).append(exc.message)
