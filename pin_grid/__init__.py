"""Grille PIN — the INESSS self-assessment grid of the PIN, filled by teams together."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, has_request_context, request
from flask_babel.speaklater import LazyString
from jinja2 import pass_eval_context
from markupsafe import Markup

from . import access, cli, limits, reports, security, text
from .config import INSTANCE, ROOT, Config
from .context import current_grid, current_locale, page_grid, translations
from .extensions import babel, csrf, db
from .forms import ROLE_LABELS
from .grid import GridError, load_catalog
from .views import admin, assessments, auth, comparison, errors, journal, main
from .views import dashboard as dashboard_views
from .views import exports as export_views
from .views import reports as report_views


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
    security.init_app(app)
    _init_templates(app)
    _register_blueprints(app)
    _check_reports(app)
    cli.init_app(app)
    return app


def _init_grid(app: Flask) -> None:
    """Load and check the grid; an invalid grid stops start-up, naming each fault.

    Under a command line other than `flask run` the error is kept instead, so that
    `flask grid check` and `flask db upgrade` can still run and report it.
    """
    try:
        app.extensions["pin_grid"] = load_catalog(app.config["GRID_FILE"], app.config["GRID_ARCHIVE"])
    except GridError as exc:
        if security.serving():
            raise
        app.extensions["pin_grid"] = exc


def _check_reports(app: Flask) -> None:
    """PDF reports need Pango from the system. Without it the app still starts and says so here
    once; the report routes then answer 503, and `flask doctor` lists what to install."""
    missing = reports.missing_libraries()
    if missing:
        app.logger.warning(reports.unavailable_message(missing))


def _select_locale() -> str:
    wanted = request.cookies.get("lang") if has_request_context() else None
    return wanted if wanted in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    # The templates' _() and ngettext() through the catalogue looked up once per language, in
    # place of those Flask-Babel installed (same « newstyle » rule, without their context look-ups).
    gettext = _template_gettext()
    app.jinja_env.globals.update(_=gettext, gettext=gettext, ngettext=_template_ngettext)


def _formatted(eval_ctx, message: str, variables: dict):
    """Jinja's « newstyle » rule: the message is markup in an HTML template (what it quotes is
    escaped) and always a format string, even without variables (« %% » is « % »)."""
    return (Markup(message) if eval_ctx.autoescape else message) % variables


def _template_gettext():
    """The templates' _(): what Jinja's installed one does, without its two context look-ups per
    call (10 µs, and a results page has two hundred messages); a message without variables is
    formatted once per language."""
    done: dict[tuple, str] = {}

    @pass_eval_context
    def gettext(eval_ctx, message: str, **variables):
        catalogue = translations()
        if variables:
            return _formatted(eval_ctx, catalogue.ugettext(message), variables)
        key = (catalogue, message, eval_ctx.autoescape)
        found = done.get(key)
        if found is None:
            found = _formatted(eval_ctx, catalogue.ugettext(message), {})
            if len(done) < 8192:  # the templates' literal messages, in two languages
                done[key] = found
        return found

    return gettext


@pass_eval_context
def _template_ngettext(eval_ctx, singular: str, plural: str, num: int, **variables):
    return _formatted(eval_ctx, translations().ungettext(singular, plural, num), {"num": num, **variables})


def _init_templates(app: Flask) -> None:
    def tr(bilingual) -> str:
        """A bilingual text of the grid in the language of the page."""
        return bilingual.get(current_locale())

    # Templates ask `access` what the person may do (never a role string) and read `limits`.
    app.jinja_env.globals.update(tr=tr, grid=page_grid, current_grid=current_grid, locale=current_locale, access=access, limits=limits,
                                 role_label=lambda role: ROLE_LABELS.get(role, role),
                                 sector_label=journal.sector_label)
    # A page of thousands of scores looks its language up once and passes it (`locale()`).
    app.jinja_env.filters["one_decimal"] = lambda value, language=None: text.one_decimal(value, language or current_locale())
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    # Flask-Babel's lazy strings pass for safe markup; a message may quote what someone typed
    # (« Niveau inconnu : « … » »), so they are escaped like any other text.
    app.jinja_env.finalize = lambda value: str(value) if isinstance(value, LazyString) else value


def _register_blueprints(app: Flask) -> None:
    app.register_blueprint(auth.bp)
    app.register_blueprint(main.bp)
    app.register_blueprint(assessments.bp)
    app.register_blueprint(comparison.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(dashboard_views.bp)
    app.register_blueprint(export_views.bp)
    app.register_blueprint(report_views.bp)
    errors.init_app(app)
