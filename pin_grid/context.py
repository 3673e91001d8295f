"""What every layer asks of the running app: the grid in force and the language of the request.

Kept low in the package (it imports only Flask and the grid) so that nothing imports upwards.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import get_locale

from .grid import Grid, GridError


def current_grid() -> Grid:
    grid = current_app.extensions["pin_grid"]
    if isinstance(grid, GridError):
        raise grid
    return grid


def current_locale() -> str:
    return str(get_locale() or "fr")
