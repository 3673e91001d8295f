"""What every layer asks of the running app: the grid versions and the language of the request.

Kept low in the package (it imports only Flask and the grid) so that nothing imports upwards.
"""
from __future__ import annotations

import functools

from flask import current_app, g
from flask.globals import _cv_app  # the context variable behind `g`
from flask_babel import get_locale, get_translations

from .grid import Grid, GridCatalog, GridError


def grid_catalog() -> GridCatalog:
    catalog = current_app.extensions["pin_grid"]
    if isinstance(catalog, GridError):
        raise catalog
    return catalog


def current_grid() -> Grid:
    """The version in force: what a new assessment is rated on."""
    return grid_catalog().current


def grid_of(assessment) -> Grid:
    """The version `assessment` was rated on: it is always shown, scored and reported with that
    wording."""
    return grid_catalog().of(assessment.grid_version)


@functools.lru_cache(maxsize=8)
def _translations_of(locale):
    return get_translations()  # called with `locale` current: its catalogue


def translations():
    """The catalogue of the request's language. Flask-Babel's `get_translations` looks its
    context up three times per message (14 µs); a page of fifty messages paid for it."""
    return _translations_of(_request_locale())


def current_locale() -> str:
    locale = _request_locale()
    return _name(locale) if locale is not None else "fr"


def _request_locale():
    """Flask-Babel's locale of the request (or the one `force_locale` set), read where its
    `get_locale` keeps it once chosen: `get_locale` goes through the `g` proxy three times (4 µs),
    and a results page asks for the locale some 350 times (each grid text, each message)."""
    app_context = _cv_app.get(None)
    state = getattr(app_context.g, "_flask_babel", None) if app_context is not None else None
    chosen = getattr(state, "babel_locale", None)
    return chosen if chosen is not None else get_locale()


@functools.lru_cache(maxsize=16)
def _name(locale) -> str:
    return str(locale)


def page_grid() -> Grid:
    """The grid a page shows (the templates' `grid()`): the version of the assessment the page is
    about (`views.allowed` records it), else the version in force."""
    return g.get("assessment_grid") or current_grid()
