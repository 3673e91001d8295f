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


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-not-secret"
    SQLALCHEMY_DATABASE_URI = _database_url()
    GRID_FILE = os.environ.get("GRID_FILE") or str(ROOT / "grid_items.yaml")
    BABEL_DEFAULT_LOCALE = "fr"
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


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
