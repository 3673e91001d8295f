"""The web layer's safety: sign-in required, inactivity timeout that keeps what was typed,
session cookies, security headers, and refusing to run in production without a secret."""
from __future__ import annotations

import datetime as dt
import json
import secrets

import click
from flask import Flask, abort, current_app, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy import delete, select
from flask_wtf.csrf import ValidationError, validate_csrf
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import accounts, limits
from .extensions import db, login_manager
from .models import PendingForm, utcnow
from .services import record_event
from .text import has_control_characters, normalized
from .transactions import begin_writing, write_transaction

# Reachable without signing in.
PUBLIC_ENDPOINTS = {"static", "auth.login", "auth.setup", "main.set_language"}
CSP = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
    "connect-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'",
])
MAX_PENDING_FORM = 512 * 1024  # a whole grid page filled to every limit is about 200 KB
MAX_PENDING_PER_PERSON = 3  # forms kept per person (the newest): a replayed cookie cannot pile them up
ENDED_SESSION = "ended_session"  # in the cookie after a session ends by inactivity: its token
# What a request sends is kept for the page it came from (see _kept_for).
KEPT_FOR_PAGE = {"assessments.save_statement": lambda args: url_for("assessments.grid", assessment_id=args["assessment_id"])}


# What the forms of the app send; anything else (JSON, XML, plain text) is refused before a form reads it.
FORM_BODIES = {"application/x-www-form-urlencoded", "multipart/form-data"}


class ConfigurationError(RuntimeError):
    pass


class RefusedInput(HTTPException):
    """A request refused for what it carries, with a title and a message for the person."""

    def __init__(self, code: int, title, message):
        super().__init__(str(message))
        self.code, self.title, self.message = code, title, message


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: an id the database cannot hold is simply not found (404)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", limits.ID_MAX)
        super().__init__(url_map, *args, **kwargs)


def serving() -> bool:
    """Whether this process serves web requests (gunicorn, `flask run`), rather than running
    another command of `flask --app app …`, which needs no secret and reports problems itself."""
    ctx = click.get_current_context(silent=True)
    return ctx is None or ctx.info_name == "run"


def init_app(app: Flask) -> None:
    production = app.config["PIN_ENV"] != "development"
    if production and not app.config.get("SECRET_KEY") and serving():
        raise ConfigurationError(
            "SECRET_KEY is not set: in production the app refuses to start without one "
            "(set PIN_ENV=development to try it on your own machine)."
        )
    if production and app.debug:
        raise ConfigurationError("Debug mode is not allowed in production (unset FLASK_DEBUG).")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secrets.token_hex(32)  # development: sessions end at restart
    app.config["SESSION_COOKIE_SECURE"] = production
    if app.config.get("PROXY_HOPS"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_HOPS"], x_proto=app.config["PROXY_HOPS"])

    app.url_map.converters["int"] = IdConverter
    login_manager.init_app(app)
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_sign_in_needed)
    app.before_request(_check_input)  # first: nothing below reads a body or a text it would refuse
    app.before_request(_begin_writing_if_marked)  # before the sign-in check reads the session
    app.before_request(_require_sign_in)
    app.after_request(_security_headers)


def client_address() -> str:
    return request.remote_addr or "unknown"


def _load_user(user_id: str):
    """Flask-Login's loader: the session token in the cookie must still be in the table."""
    token = session.get("sid")
    user, expired = accounts.session_user(user_id, token, current_app.config["SESSION_IDLE_MINUTES"])
    if expired:
        # Which session this browser had, until someone signs in: while that session has only
        # timed out (not signed out, account still active), what is typed is kept for its owner.
        session.pop("sid", None)
        session[ENDED_SESSION] = token
    return user


def sign_in(user) -> None:
    """A new session for a new sign-in: nothing from before carries over but what was typed
    before the previous session ended (restored only to the person who typed it)."""
    _end_session()
    session["sid"] = accounts.open_session(user)
    login_user(user)


def sign_out() -> None:
    """End the session on purpose: nothing this person typed is kept for later any more, from
    this tab or another (what someone else typed on this browser still waits for them)."""
    user_id = current_user.id
    logout_user()
    _end_session()
    accounts.discard_pending_forms(user_id)


def _end_session() -> None:
    """Close this browser's session (and the one that had timed out) and empty its cookie, but
    for what was typed after a session ended: it waits there for its owner (restored to them only)."""
    pending = session.get("pending_form")
    accounts.close_session(session.get("sid"))
    accounts.close_session(session.get(ENDED_SESSION))
    session.clear()
    if pending:
        session["pending_form"] = pending


def _check_input() -> None:
    """Where all input enters: a body that is not a form is refused (415) before any form reads
    it; control characters in the address are refused (400); in what a form sends they are
    removed (text pasted from a word processor may carry some: it is not lost for that)."""
    # No page of the app sends a file: a file part would reach a text field as an object.
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and (
            request.mimetype and request.mimetype not in FORM_BODIES or request.files):
        raise RefusedInput(415, _l("Format d'envoi non accepté"), _l(
            "Grille PIN n'accepte que les formulaires envoyés par ses propres pages. "
            "Revenez à la page précédente et utilisez son bouton « Enregistrer »."))
    address = [*request.args.items(multi=True), *(request.view_args or {}).items()]
    if any(isinstance(v, str) and (has_control_characters(k) or has_control_characters(v)) for k, v in address):
        raise RefusedInput(400, _l("Adresse invalide"), _l(
            "L'adresse de la page contient des caractères invisibles qui ne peuvent pas y figurer. "
            "Revenez à l'accueil et suivez les liens de l'application."))
    sent = list(request.form.items(multi=True))
    # A part without a usable name (werkzeug gives it None) is no field of any form: dropped.
    cleaned = [(normalized(k), normalized(v)) for k, v in sent if isinstance(k, str)]
    if cleaned != sent:
        request.form = ImmutableMultiDict(cleaned)


def _begin_writing_if_marked() -> None:
    if request.method == "POST" and getattr(current_app.view_functions.get(request.endpoint), "one_write_transaction", False):
        begin_writing()


def _require_sign_in():
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if current_user.is_authenticated:
        return None
    return _sign_in_needed()


def _sign_in_needed():
    """Send to the sign-in page, keeping what a form carried so it can be restored after."""
    if accounts.needs_first_admin():
        return redirect(url_for("auth.setup"))
    if request.method == "POST" and request.form and session.get(ENDED_SESSION):
        _keep_pending_form()
    expired = "1" if session.get(ENDED_SESSION) else None
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        # The page keeps what was typed and says so; what was sent is kept too, for its page.
        return jsonify(error=_("Votre session a pris fin : reconnectez-vous, rien de ce que vous avez tapé n'est perdu."),
                       login=url_for("auth.login", next=_kept_for(), expiree=expired)), 401
    return redirect(url_for("auth.login", next=request.path, expiree=expired))


def _kept_for() -> str:
    """The page what this request sends belongs to: a statement saved by the grid page is kept
    for the grid page, where it comes back after signing in."""
    page_of = KEPT_FOR_PAGE.get(request.endpoint)
    return page_of(request.view_args) if page_of else request.path


def _field_group(name: str) -> str:
    """Fields sent together: « ECO-1-level » and « ECO-1-comment » belong to « ECO-1 »."""
    return name.rsplit("-", 1)[0]


def _keep_pending_form() -> None:
    """Keep what a person was sending after their own session timed out, for them only: the
    session must have ended by inactivity (not by signing out), the account be active, and the
    form carry their valid CSRF token (no other site can plant data this way). What a page
    sends in several requests (statement by statement, then the whole page) adds up: a group
    of fields sent again replaces the one kept before."""
    user_id = accounts.ended_session_owner(session.get(ENDED_SESSION), current_app.config["SESSION_IDLE_MINUTES"])
    if user_id is None:
        return
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return
    sent = list(request.form.items(multi=True))
    path = _kept_for()
    with write_transaction():
        # Kept for a day at most: whoever has not signed in again by then has moved on.
        db.session.execute(delete(PendingForm).where(PendingForm.created_at < utcnow() - dt.timedelta(days=1)))
        kept = db.session.get(PendingForm, session.get("pending_form") or "")
        if kept is not None and kept.user_id == user_id and kept.path == path:
            replaced = {_field_group(name) for name, _value in sent}
            sent = [(k, v) for k, v in json.loads(kept.data) if _field_group(k) not in replaced] + sent
        data = json.dumps(sent, ensure_ascii=False)
        if len(data) > MAX_PENDING_FORM:
            return
        # One kept form per person and page, and a few per person at most (the newest).
        db.session.execute(delete(PendingForm).where(PendingForm.user_id == user_id, PendingForm.path == path))
        token = secrets.token_urlsafe(32)
        db.session.add(PendingForm(token=token, user_id=user_id, path=path, data=data, created_at=utcnow()))
        db.session.flush()
        newest = (select(PendingForm.token).where(PendingForm.user_id == user_id)
                  .order_by(PendingForm.created_at.desc(), PendingForm.token).limit(MAX_PENDING_PER_PERSON))
        db.session.execute(delete(PendingForm).where(PendingForm.user_id == user_id, PendingForm.token.not_in(newest)))
    session["pending_form"] = token


def pending_formdata(path: str) -> MultiDict | None:
    """What this browser had typed on `path` before its session expired, once."""
    token = session.get("pending_form")
    if not token:
        return None
    with write_transaction():
        pending = db.session.get(PendingForm, token)
        if pending is None or pending.path != path or pending.user_id != current_user.id:
            return None
        session.pop("pending_form", None)
        data = MultiDict([(k, v) for k, v in json.loads(pending.data) if k != "csrf_token"])
        db.session.delete(pending)
    return data


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if request.endpoint != "static":
        # Pages carry assessment data or personal data: never kept by browsers or proxies.
        response.headers["Cache-Control"] = "no-store"
    return response


def forbid(status: int = 404):
    """Refuse, and record the refusal: 404 where even the existence is not to be known."""
    who = current_user.email if current_user.is_authenticated else "anonyme"
    record_event(who, "access_denied", detail=f"{request.method} {request.path} -> {status}")
    abort(status)
