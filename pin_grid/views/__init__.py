"""Blueprints: each view parses the request, calls one service, renders or redirects."""
from flask import request
from flask_wtf import FlaskForm


def form_status(form: FlaskForm) -> int:
    """HTTP status of a page that shows `form`: 200, or 400/422 when a submission was refused."""
    if request.method != "POST" or not form.errors:
        return 200
    return 400 if "csrf_token" in form.errors else 422
