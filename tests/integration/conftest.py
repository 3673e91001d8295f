"""Fixtures for tests that use a real database: a migrated SQLite file, or a throwaway
PostgreSQL server that these fixtures start themselves (../shared/RECIPES.md)."""
from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile

import pytest
from flask_migrate import upgrade

from pin_grid import create_app
from pin_grid.config import TestConfig
from pin_grid.extensions import bind_migrations, db

from ..conftest import unavailable

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_app(url: str, **config):
    return create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                       "SQLALCHEMY_DATABASE_URI": url, **config})


def migrate_to_head(url: str) -> None:
    app = make_app(url)
    bind_migrations(app)
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server on a free loopback port for the whole session; its admin URL."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins or not os.path.exists(f"{bins[-1]}/initdb"):
        unavailable("PostgreSQL is not installed (apt-get install postgresql)")
    pgbin = bins[-1]
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    tmp = tempfile.mkdtemp(prefix="pgtest-")
    if as_pg:
        shutil.chown(tmp, "postgres", "postgres")
    data, port = os.path.join(tmp, "data"), _free_port()

    def run(*cmd):
        subprocess.run(cmd, check=True, capture_output=True)

    try:
        run(*as_pg, f"{pgbin}/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync")
        run(*as_pg, f"{pgbin}/pg_ctl", "-D", data, "-l", f"{tmp}/server.log", "-w", "-o",
            f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp} -c fsync=off -c max_connections=200", "start")
    except (subprocess.CalledProcessError, OSError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        unavailable(f"could not start PostgreSQL: {getattr(exc, 'stderr', b'') or exc}")
    yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    subprocess.run([*as_pg, f"{pgbin}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"], capture_output=True)
    shutil.rmtree(tmp, ignore_errors=True)


def _pg_admin(server: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(server.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True) as conn:
        conn.execute(sql)


_counter = itertools.count()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A SQLite file migrated once; each test copies it."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    migrate_to_head(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_server):
    _pg_admin(postgres_server, "CREATE DATABASE pin_template")
    migrate_to_head(f"{postgres_server}/pin_template")
    return "pin_template"


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def new_database(request, backend, tmp_path):
    """Makes fresh, migrated, empty databases of the test's kind; returns their URLs."""

    def make() -> str:
        number = next(_counter)
        if backend == "sqlite":
            path = tmp_path / f"pin_grid_{number}.sqlite"
            shutil.copy(request.getfixturevalue("sqlite_template"), path)
            return f"sqlite:///{path}"
        server = request.getfixturevalue("postgres_server")
        template = request.getfixturevalue("postgres_template")
        _pg_admin(server, f"CREATE DATABASE pin_test_{number} TEMPLATE {template}")
        return f"{server}/pin_test_{number}"

    return make


@pytest.fixture
def db_url(new_database):
    return new_database()


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path):
    """A fresh migrated SQLite database, for tests of the web layer."""
    path = tmp_path / "pin_grid.sqlite"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app(db_url):
    app = make_app(db_url)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


ADMIN = "admin@cisss.example"
PASSWORD = "Trois pommes vertes au marché!"


def add_user(app, email, role, territories=(), regions=(), password=PASSWORD):
    from pin_grid import accounts

    with app.app_context():
        user = accounts.create_user(email, password, role, territories=list(territories), regions=list(regions))
        db.session.remove()
    return user


def sign_in(client, email, password=PASSWORD):
    import re

    page = client.get("/connexion").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/connexion", data={"csrf_token": token, "email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def import_document(app, path, assessments):
    """Import `assessments` (pin-grid/1 records) through the real command; it must succeed."""
    import json

    path.write_text(json.dumps({"format": "pin-grid/1", "assessments": assessments}, ensure_ascii=False),
                    encoding="utf-8")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["import-assessments", str(path)])
        db.session.remove()
    assert result.exit_code == 0, result.output
    return result


def app_with_admin(url):
    """The app on `url` with an administrator, for a test client (no app context held open:
    each request has its own, as in production)."""
    app = make_app(url)
    add_user(app, ADMIN, "admin")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def web_app(sqlite_url):
    yield from app_with_admin(sqlite_url)


@pytest.fixture
def web_app_on_each_database(db_url):
    """`web_app` on SQLite and on PostgreSQL."""
    yield from app_with_admin(db_url)


@pytest.fixture
def client(web_app):
    """A browser signed in as an administrator."""
    return sign_in(web_app.test_client(), ADMIN)
