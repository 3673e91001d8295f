"""Fixtures for end-to-end tests: the real app on a free loopback port, driven by Debian's Chromium.

Playwright's own browser download cannot work here, so the plain sync API launches
/usr/bin/chromium (see ../shared/RECIPES.md); the pytest-playwright plugin is not used.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from pin_grid import create_app
from pin_grid.context import current_grid, grid_catalog
from pin_grid.extensions import bind_migrations, db

from ..conftest import ROOT, unavailable

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "Trois pommes vertes au marché!"  # gitignored: screenshots for a human to look at


@dataclass
class LiveApp:
    app: Flask
    url: str

    def seed(self, *, admin: str = "admin@cisss.example", password: str = PASSWORD, code: str = "MTL-NORD",
             date: str = "2025-03-14") -> int:
        """An administrator, a territory and a draft assessment of it (collective view); the assessment id."""
        from pin_grid import accounts, services

        with self.app.app_context():
            if accounts.user_count() == 0:
                accounts.create_user(admin, password, "admin")
            territory = services.territory_by_code(code) or services.create_territory(code, f"Territoire {code}", "Montréal")
            assessment = services.start_assessment(
                services.AssessmentDetails(territory_id=territory.id, date=dt.date.fromisoformat(date), perspective=None,
                                           participants=[services.ParticipantData("Intervenante PIN", "cisss", "Sophie")]),
                grid_catalog())
            assessment_id = assessment.id
            db.session.remove()
        return assessment_id


def sign_in(page, url: str, email: str = "admin@cisss.example", password: str = PASSWORD) -> None:
    """Sign in through the real page."""
    page.goto(url + "/connexion")
    page.get_by_label("Adresse courriel").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda u: "/connexion" not in u)


_RESPONSE = "e2e.response"


class _ClosingRequestHandler(WSGIRequestHandler):
    """Werkzeug's development server skips closing a response when the browser drops the
    connection while the server drains the request (an open static file, then a ResourceWarning
    that fails whichever test is running): the response is closed here instead."""

    def connection_dropped(self, error, environ=None) -> None:
        response = (environ or {}).get(_RESPONSE)
        if hasattr(response, "close"):
            response.close()


def _keeping_response(app):
    def wsgi(environ, start_response):
        environ[_RESPONSE] = response = app(environ, start_response)
        return response
    return wsgi


@pytest.fixture
def live_app(tmp_path):
    """The app on a fresh SQLite file built by the real migrations, served in a thread.

    CSRF stays on: the browser posts the real forms, token included.
    """
    path = tmp_path / "pin_grid.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "TESTING": True, "SECRET_KEY": "e2e"})
    bind_migrations(app)
    with app.app_context():
        upgrade()
    server = make_server("127.0.0.1", 0, _keeping_response(app), threaded=True,
                         request_handler=_ClosingRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield LiveApp(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def live_server(live_app):
    """The base URL of the live app."""
    return live_app.url


@pytest.fixture(scope="session")
def chromium():
    """Playwright, and Debian's Chromium launched once for the session (again if it ever quits:
    one browser crash must not fail every test after it)."""
    if not os.path.exists(CHROMIUM):
        unavailable("Debian's Chromium is not installed: apt-get install chromium")
    with sync_playwright() as playwright:
        launched = {}

        def current():
            if "browser" not in launched or not launched["browser"].is_connected():
                launched["browser"] = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                                 args=CHROMIUM_ARGS)
            return launched["browser"]

        try:
            yield current
        finally:
            if "browser" in launched and launched["browser"].is_connected():
                launched["browser"].close()


@pytest.fixture
def browser(chromium):
    return chromium()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies: French, the default language) and its page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-CA")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def screenshot(request):
    """`screenshot(page, "step")` saves test-artifacts/<test name>-<nn>-<step>.png (whole page)."""
    ARTIFACTS.mkdir(exist_ok=True)
    test = re.sub(r"[^\w.-]+", "_", request.node.name)
    counter = iter(range(1, 100))

    def take(page, step: str, full_page: bool = True) -> Path:
        target = ARTIFACTS / f"{test}-{next(counter):02d}-{step}.png"
        page.screenshot(path=str(target), full_page=full_page)
        return target

    return take
