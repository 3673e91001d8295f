"""Grille PIN — the INESSS self-assessment grid of the PIN, filled by teams together."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .config import INSTANCE, ROOT, Config
from .extensions import babel, csrf, db, migrate
from .grid import Grid, GridError, load_grid


def create_app(test_config: type | dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(INSTANCE),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(Config)
    if isinstance(test_config, dict):
        app.config.update(test_config)
    elif test_config is not None:
        app.config.from_object(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    _init_grid(app)
    _init_extensions(app)
    from . import security

    security.init_app(app)
    _init_templates(app)
    _register_blueprints(app)

    from .cli import init_app as init_cli

    init_cli(app)
    return app


def _init_grid(app: Flask) -> None:
    """Load and check the grid; an invalid grid stops start-up, naming each fault.

    Under a command line other than `flask run` the error is kept instead, so that
    `flask grid check` and `flask db upgrade` can still run and report it.
    """
    from .security import serving

    try:
        app.extensions["pin_grid"] = load_grid(app.config["GRID_FILE"])
    except GridError as exc:
        if serving():
            raise
        app.extensions["pin_grid"] = exc


def current_grid() -> Grid:
    grid = current_app.extensions["pin_grid"]
    if isinstance(grid, GridError):
        raise grid
    return grid


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers go on while a team saves; the busy timeout makes writers wait their turn.
    if isinstance(dbapi_connection, sqlite3.Connection):
        # SQLAlchemy, not the driver, says when a transaction begins (see _sqlite_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:
    # A write that first reads must hold the write lock from the start (BEGIN IMMEDIATE), or a
    # concurrent writer in another process makes it fail instead of wait.
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_immediate") else "BEGIN")


def _select_locale() -> str:
    wanted = request.cookies.get("lang") if has_request_context() else None
    return wanted if wanted in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)


def _init_templates(app: Flask) -> None:
    from .forms import ROLE_LABELS
    from .views import current_locale

    def tr(text) -> str:
        """A bilingual text of the grid in the language of the page."""
        return text.get(current_locale())

    app.jinja_env.globals.update(tr=tr, grid=current_grid, locale=current_locale,
                                 role_label=lambda role: ROLE_LABELS.get(role, role))
    app.jinja_env.policies["ext.i18n.trimmed"] = True


def _register_blueprints(app: Flask) -> None:
    from .views import assessments, auth, comparison, errors, main

    app.register_blueprint(auth.bp)
    app.register_blueprint(main.bp)
    app.register_blueprint(assessments.bp)
    app.register_blueprint(comparison.bp)
    errors.init_app(app)
