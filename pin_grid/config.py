"""Configuration read from the environment; TestConfig for the test suite."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{INSTANCE / 'pin_grid.sqlite'}"
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the psycopg 3 driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


class Config:
    # "production" (the default: secure cookies, a SECRET_KEY required) or "development".
    PIN_ENV = os.environ.get("PIN_ENV", "production").strip().lower()
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    SQLALCHEMY_DATABASE_URI = _database_url()
    GRID_FILE = os.environ.get("GRID_FILE") or str(ROOT / "grid_items.yaml")
    # Earlier grid versions, one file each: assessments keep the wording they were rated on.
    GRID_ARCHIVE = os.environ.get("GRID_ARCHIVE") or str(ROOT / "grids")
    BABEL_DEFAULT_LOCALE = "fr"
    # Times are stored in UTC and shown as people in Québec read a clock.
    BABEL_DEFAULT_TIMEZONE = "America/Montreal"
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")
    LANGUAGES = ("fr", "en")
    # CSRF is checked by each form (every POST view validates a FlaskForm), so that a stale
    # token re-renders the page with what was typed instead of a bare error page.
    WTF_CSRF_CHECK_DEFAULT = False
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # Large enough that an over-long comment reaches the form validation (and comes back to
    # the user with a message) instead of being cut off by a bare 413.
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 32 * 1024 * 1024
    MAX_FORM_PARTS = 20_000

    # Sessions: cookie flags, and sign-out after this long without any request.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # SESSION_COOKIE_SECURE follows PIN_ENV (see security.init_app).
    SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", 30)
    # Failed sign-ins allowed per account and per address within the window.
    LOGIN_MAX_FAILURES_PER_ACCOUNT = _int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)
    LOGIN_MAX_FAILURES_PER_ADDRESS = _int("LOGIN_MAX_FAILURES_PER_ADDRESS", 20)
    LOGIN_WINDOW_MINUTES = _int("LOGIN_WINDOW_MINUTES", 15)
    PASSWORD_HASH_METHOD = "scrypt:32768:8:1"  # memory-hard (64 MB); Werkzeug's default
    # Behind a reverse proxy, how many X-Forwarded-For hops to trust for the client address.
    PROXY_HOPS = _int("PROXY_HOPS", 0)
    # PDF profiles of finalised assessments kept per worker (pin_grid/reports/documents.py).
    REPORT_CACHE_BYTES = _int("REPORT_CACHE_BYTES", 32 * 1024 * 1024)
    # Freeze what a worker keeps (the scored cohorts) out of the garbage collector's walks
    # (pin_grid/memory.py).
    FREEZE_KEPT_OBJECTS = True


class TestConfig(Config):
    TESTING = True
    # Still scrypt, at a 32nd of the cost: the suite creates and signs in thousands of accounts.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"
    PIN_ENV = "development"
    SECRET_KEY = "test-secret"
    # The suite makes and drops hundreds of apps in one process: an app frozen while alive
    # would never be collected once dropped (an app holds reference cycles).
    FREEZE_KEPT_OBJECTS = False
