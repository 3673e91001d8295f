"""Shared test helpers. Unit tests need neither app nor database; the rest start what they need."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# On CI every test must really run: a PostgreSQL or browser test that cannot is a failure there.
ON_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str):
    """Skip a test whose outside part (PostgreSQL, Chromium) is missing; fail instead on CI."""
    if ON_CI:
        pytest.fail(f"{reason} (CI=true: this test must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def grid():
    from pin_grid.grid import load_grid

    return load_grid(ROOT / "grid_items.yaml")


@pytest.fixture(scope="session")
def grids():
    """Every grid version: the one in force (`grid`) and the earlier ones of grids/."""
    from pin_grid.grid import load_catalog

    return load_catalog(ROOT / "grid_items.yaml", ROOT / "grids")
