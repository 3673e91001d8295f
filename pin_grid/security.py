"""The web layer's safety: sign-in required, inactivity timeout that keeps what was typed,
session cookies, security headers, and refusing to run in production without a secret."""
from __future__ import annotations

import datetime as dt
import json
import secrets

from flask import Flask, abort, current_app, g, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import delete
from werkzeug.datastructures import MultiDict

from . import accounts
from .extensions import db, login_manager
from .models import PendingForm, utcnow
from .services import begin_write

# Reachable without signing in.
PUBLIC_ENDPOINTS = {"static", "auth.login", "auth.setup", "main.set_language"}
CSP = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
    "connect-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'",
])
MAX_PENDING_FORM = 2 * 1024 * 1024  # larger submissions are not kept across a sign-in


class ConfigurationError(RuntimeError):
    pass


def serving() -> bool:
    """Whether this process serves web requests (gunicorn, `flask run`), rather than running
    another command of `flask --app app …`, which needs no secret and reports problems itself."""
    import click

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
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_HOPS"], x_proto=app.config["PROXY_HOPS"])

    login_manager.init_app(app)
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_sign_in_needed)
    app.before_request(_require_sign_in)
    app.after_request(_security_headers)


def client_address() -> str:
    return request.remote_addr or "unknown"


def _load_user(user_id: str):
    """Flask-Login's loader: the session token in the cookie must still be in the table."""
    user, expired = accounts.session_user(user_id, session.get("sid"), current_app.config["SESSION_IDLE_MINUTES"])
    if expired:
        g.session_expired = True
        session.pop("sid", None)
    return user


def sign_in(user) -> None:
    """A new session for a new sign-in: nothing from before carries over but what was typed
    before the previous session expired."""
    pending = session.get("pending_form")
    accounts.close_session(session.get("sid"))
    session.clear()
    if pending:
        session["pending_form"] = pending
    session["sid"] = accounts.open_session(user)
    login_user(user)


def sign_out() -> None:
    accounts.close_session(session.get("sid"))
    logout_user()
    session.clear()


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
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        # The page keeps what was typed; its « Enregistrer » button brings it through sign-in.
        return jsonify(error=_("Votre session a expiré : reconnectez-vous."), login=url_for("auth.login")), 401
    if request.method == "POST" and request.form and g.get("session_expired"):
        _keep_pending_form()
    expired = "1" if g.get("session_expired") else None
    return redirect(url_for("auth.login", next=request.path, expiree=expired))


def _keep_pending_form() -> None:
    """Keep what a person was sending when their own session had just ended, for them only:
    the form must carry their valid CSRF token (no other site can plant data this way)."""
    from flask_wtf.csrf import ValidationError, validate_csrf

    user_id = session.get("_user_id")
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return
    data = json.dumps(list(request.form.items(multi=True)), ensure_ascii=False)
    if not user_id or len(data) > MAX_PENDING_FORM:
        return
    token = secrets.token_urlsafe(32)
    begin_write()
    # Kept for a day at most: whoever has not signed in again by then has moved on.
    db.session.execute(delete(PendingForm).where(PendingForm.created_at < utcnow() - dt.timedelta(days=1)))
    db.session.add(PendingForm(token=token, user_id=int(user_id), path=request.path, data=data, created_at=utcnow()))
    db.session.commit()
    session["pending_form"] = token


def pending_formdata(path: str) -> MultiDict | None:
    """What this browser had typed on `path` before its session expired, once."""
    token = session.get("pending_form")
    if not token:
        return None
    begin_write()
    pending = db.session.get(PendingForm, token)
    if pending is None or pending.path != path or pending.user_id != current_user.id:
        return None
    session.pop("pending_form", None)
    data = MultiDict([(k, v) for k, v in json.loads(pending.data) if k != "csrf_token"])
    db.session.delete(pending)
    db.session.commit()
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
    from .services import record_event

    who = current_user.email if current_user.is_authenticated else "anonyme"
    record_event(who, "access_denied", detail=f"{request.method} {request.path} -> {status}")
    abort(status)
