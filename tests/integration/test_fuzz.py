"""Hostile and clumsy input never breaks, leaks or overwrites (issue 8): every POST route, fuzzed.

The world is test_access.py's (two territories, MTL-NORD and LAV-01, each with a draft and a
finalised assessment), with an administrator, a membre of MTL-NORD, a browser not signed in, and
a browser whose membre session ended by inactivity (what it sends is kept for after signing in).

Every route of `app.url_map` that accepts POST is its own test, for each of these four people.
An example is one to three requests (the first to that route, by that person), each either
clumsy (the route's own form as its page sends it, real CSRF token and ids, some values changed)
or hostile: the route's real field names (read from its page) and random ones, values with
control characters and NUL, values of up to about 100 KB, duplicated keys, the real CSRF token,
a wrong one or none, sent form-urlencoded, multipart (with a file part or not), as JSON of any
shape, as plain text, as bytes without a content type, with a broken encoding or parts without
a name; random query strings; in the address real ids (drafts, finalised assessments, accounts,
statements) or hostile ones (0, negative, past 2^31 − 1, unknown statements, any text). It proves:

- every answer is below 500, and a redirect never leaves the site;
- nobody who may not read LAV-01 receives a page that names it, unless they typed the name;
- someone not signed in changes no assessment and no account; a membre never changes LAV-01's
  assessments nor any account but their own password;
- what the timed-out session sent comes back after signing in again without an error;
- the database stays consistent: `PRAGMA integrity_check` and `foreign_key_check` pass, every
  answer's level is one of the grid's level codes or empty, every status is draft, finalized or
  superseded, no text holds NUL or is longer than its column (PostgreSQL would refuse it); and the
  home page and the seeded draft's pages are still served.

Each example starts from a fresh copy of the world, so that a failure replays on its own
(`derandomize`: the same examples on every run, in CI too); the database and pages are checked
after every example that changed something, and once more after each run.
"""
from __future__ import annotations

import datetime as dt
import functools
import html
import io
import json
import re
import shutil
import sqlite3
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote_plus, urlencode, urlsplit

import openpyxl
import pypdf
import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import update
from werkzeug.datastructures import MultiDict

from pin_grid.extensions import db
from pin_grid.models import DRAFT, FINALIZED, SUPERSEDED, User, UserSession, utcnow

from .conftest import ADMIN, PASSWORD, add_user, make_app, sign_in
from .test_access import ANY_TOKEN, COORD, GEST, LAV_WORDS, MEMBRE, PEOPLE, VICTIM, build_world, csrf, organization_ids
from .test_web import form_fields

OBSERVER = "observateur@cisss.example"  # an administrator the fuzzed requests never name: checks the pages
HIDDEN = (*LAV_WORDS, *PEOPLE["other"])  # what only the administrator may read

# 15 routes × 4 people × 15 examples: about a minute on two cores. Without shrinking, a failure is
# reported at once with the requests it sent (shrinking one takes minutes, and most fail alike).
FUZZ = settings(max_examples=15, deadline=None, database=None, derandomize=True,
                phases=[Phase.explicit, Phase.reuse, Phase.generate],
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

# The page whose form each POST route receives (its real field names and values are read there).
FORM_PAGES = {
    "auth.setup": "/installation",  # read before the first account exists
    "auth.login": "/connexion",
    "auth.logout": "/",
    "auth.password": "/mot-de-passe",
    "auth.users": "/admin/comptes",
    "auth.edit_user": "/admin/comptes/{victim}",
    "auth.set_active": "/admin/comptes",
    "main.new_territory": "/territoires/nouveau",
    "assessments.new": "/evaluations/nouvelle",
    "assessments.details": "/evaluations/{own_draft}/details",
    "assessments.save_grid": "/evaluations/{own_draft}/grille",
    "assessments.save_statement": "/evaluations/{own_draft}/grille",
    "assessments.finalize": "/evaluations/{own_draft}/finaliser",
    "assessments.delete": "/evaluations/{own_draft}/supprimer",
    "assessments.revise": "/evaluations/{own_final}/resultats",
    "admin.edit_territory": "/admin/territoires/MTL-NORD/modifier",
    "admin.edit_organization": "/admin/organisations/{organization}/modifier",
    "admin.merge_organization": "/admin/organisations/{organization}/fusionner",
}
# What a person types in the empty fields a form needs, before the clumsy changes.
TYPED = {
    "assessments.new": {"date": "2024-06-01", "participants-0-role": "intervenante", "participants-0-sector": "cisss",
                        "organizations-1-name": "Maison de la famille", "organizations-1-sector": "communautaire"},
    "assessments.details": {"organizations-1-name": "Maison de la famille", "organizations-1-sector": "autre"},
    "assessments.revise": {"reason": "Une coquille"},
    "main.new_territory": {"code": "TEST-1", "name": "Territoire d'essai", "region": "Laval"},
    "auth.users": {"email": "nouveau@cisss.example", "password": "Une phrase de passe tout à fait correcte",
                   "confirm": "Une phrase de passe tout à fait correcte", "role": "membre", "territories": "MTL-NORD"},
    "auth.login": {"email": MEMBRE, "password": PASSWORD},
}
IDENTITIES = ("admin", "membre", "anonyme", "session-expiree")
STATUSES = {DRAFT, FINALIZED, SUPERSEDED}

HOSTILE_IDS = ["0", "-1", "007", "2147483647", "2147483648", "9223372036854775808", "9" * 40, "1.5", "1e3",
               "\u0661", "１", " 1", "abc"]
HOSTILE_TEXTS = ["<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "' OR 1=1 --", "../../etc/passwd",
                 "%00", "\x00", "\r\nSet-Cookie: x=1", "{{ 7*7 }}", "${7*7}", "%(name)s", "\u202eevil", "\ufeff",
                 "\u200b", "\u00a0", "ﷺ" * 20, "e\u0301" * 30, "9" * 5000, "-0", "NaN", "null", "true", "[]", "{}",
                 "//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
HOSTILE_NAMES = ["csrf_token", "", "[]", "a[b]", "x" * 300, "\r", "a\r\nb", 'a"b', "\x00", "ECO-1-level-level"]
NOISE = "\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x85\x9f\u2028\u2029\t\r\n \u00a0\u200b\ufeff\U0001f600éÉß<>&\"'%;=+/\\"
URLENCODED, MULTIPART_X = "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"
CONTENT_TYPES = [None, URLENCODED, "application/x-www-form-urlencoded; charset=utf-16",
                 "multipart/form-data", "multipart/form-data; boundary=", MULTIPART_X,
                 "application/json", "application/octet-stream", "text/plain", "text/xml", "*/*", ";;", "\u00e9/x"]
# Bodies no browser sends: broken encodings, parts without a name, a file where text is expected.
RAW_BODIES = [
    (b"a=%ff%fe&%zz=1&&=&csrf_token&=x", URLENCODED), (b"\xff\xfe=\x00&email=\xc3", URLENCODED),
    (b"=" * 5000, URLENCODED),
    (b"--x\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--x--\r\n", MULTIPART_X),
    (b"--x\r\nContent-Disposition: form-data; name=\"email\"; filename=\"a\"\r\n\r\nx\r\n--x--\r\n", MULTIPART_X),
    (b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated", MULTIPART_X),
    (b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--x--\r\n", "multipart/form-data"),
    (b"--y\r\n\r\n--y--", MULTIPART_X),
]
ACCEPTS = [None, "application/json", "text/html", "*/*", "application/json;q=0.1, text/html"]
QUERY_KEYS = ["next", "expiree", "territoire", "annee", "region"]


# --- what the pages offer ---------------------------------------------------------------------

class _Fields(HTMLParser):
    """Every field name a page's forms may send, every value they offer, and what their
    selects send as the page comes (form_fields reads the inputs and textareas)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.names, self.values, self.selected = set(), set(), []
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("input", "select", "textarea", "button") and a.get("name"):
            self.names.add(a["name"])
        if tag in ("input", "option", "button") and a.get("value"):
            self.values.add(a["value"])
        if tag == "select" and a.get("name"):
            self._select = (a["name"], "multiple" in a, [])
        elif tag == "option" and self._select:
            self._select[2].append((a.get("value", ""), "selected" in a))

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            name, multiple, options = self._select
            chosen = [v for v, selected in options if selected] or ([options[0][0]] if options and not multiple else [])
            self.selected += [(name, value) for value in chosen]
            self._select = None


@dataclass
class FormPage:
    """A route's form: what a browser sends from it as it comes, every name and value it knows."""

    sent: list[tuple[str, str]]
    names: list[str]
    values: list[str]

    @classmethod
    def of(cls, text: str) -> FormPage:
        parser = _Fields()
        parser.feed(text)
        return cls([*form_fields(text).items(), *parser.selected], sorted(parser.names), sorted(parser.values))


@dataclass
class Identity:
    """A browser: its session cookie and the CSRF token of its forms."""

    cookie: str | None
    token: str | None


@dataclass
class World:
    """The seeded database (a template each example copies), its ids, people, forms and values."""

    path: Path
    ids: dict[str, int]
    identities: dict[str, Identity]
    forms: dict[str, FormPage]
    values: list[str]  # what the grid and the world know: levels, sectors, ids, codes, emails


def _cookie(client) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def _signed_in(app, email) -> Identity:
    client = sign_in(app.test_client(), email)
    token = csrf(client)  # the page puts the CSRF token in the session: taken after it
    return Identity(_cookie(client), token)


def _timed_out(app, email) -> Identity:
    """A browser whose session ended by inactivity: what it sends is kept for its owner. Every
    session open so far went idle an hour ago: open this one before the others."""
    identity = _signed_in(app, email)
    with app.app_context():
        db.session.execute(update(UserSession).values(last_seen_at=utcnow() - dt.timedelta(hours=1)))
        db.session.commit()
        db.session.remove()
    return identity


def _anonymous(app) -> Identity:
    client = app.test_client()
    token = ANY_TOKEN.search(client.get("/connexion").get_data(as_text=True)).group(1)
    return Identity(_cookie(client), token)


@pytest.fixture(scope="module")
def world(sqlite_template, tmp_path_factory, grid) -> World:
    """The seeded world, made once (hashing passwords takes time); each example copies it."""
    path = tmp_path_factory.mktemp("fuzz") / "world.sqlite"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    first_admin_page = app.test_client().get("/installation")
    assert first_admin_page.status_code == 200
    add_user(app, ADMIN, "admin")
    ids = build_world(app, path.parent, grid)
    ids.update(organization_ids(app))
    add_user(app, OBSERVER, "admin")
    with app.app_context():
        for email, key in ((ADMIN, "admin"), (MEMBRE, "membre"), (OBSERVER, "observer")):
            ids[key] = db.session.query(User.id).filter_by(email=email).scalar()
        db.session.remove()
    identities = {"session-expiree": _timed_out(app, MEMBRE), "admin": _signed_in(app, ADMIN),
                  "membre": _signed_in(app, MEMBRE), "anonyme": _anonymous(app), "observer": _signed_in(app, OBSERVER)}

    admin = app.test_client()
    admin.set_cookie("session", identities["admin"].cookie)
    forms = {}
    for endpoint, page in FORM_PAGES.items():
        response = first_admin_page if page == "/installation" else admin.get(page.format(**ids))
        assert response.status_code in (200, 422), (endpoint, response.status_code)  # 422: the draft is incomplete
        forms[endpoint] = FormPage.of(response.get_data(as_text=True))
    values = sorted({
        *(lv.code for lv in grid.levels), *grid.items, "cisss", "communautaire", "autre", "admin", "gestionnaire",
        "coordonnateur", "membre", "save", "finalize", "y", "on", "1", "0", "MTL-NORD", "LAV-01", "Montréal", "Laval",
        "2024-03-14", "2025-02-01", "2000-01-01", "1999-12-31", "2999-01-01", "2024-02-30", "0001-01-01",
        ADMIN, MEMBRE, GEST, COORD, VICTIM, PASSWORD, "Une phrase de passe tout à fait correcte",
        *(str(i) for i in ids.values()),
    })
    with app.app_context():
        db.engine.dispose()
    return World(path, ids, identities, forms, values)


@dataclass
class Live:
    """The app on its own copy of the world; `restore()` brings the world back as it was seeded."""

    app: object
    path: Path
    template: Path

    def restore(self) -> None:
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
        for suffix in ("-journal", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        shutil.copy(self.template, self.path)


@pytest.fixture(scope="module")
def live(world, tmp_path_factory):
    path = tmp_path_factory.mktemp("live") / "pin_grid.sqlite"
    shutil.copy(world.path, path)
    app = make_app(f"sqlite:///{path}")
    yield Live(app, path, world.path)
    with app.app_context():
        db.engine.dispose()


# --- what Hypothesis sends ---------------------------------------------------------------------

def huge_texts() -> st.SearchStrategy[str]:
    """Up to about 100 KB: a short random text repeated (Hypothesis need not draw every character)."""
    return st.builds(lambda text, times: text * times, st.text(min_size=1, max_size=10), st.integers(1000, 10_000))


@functools.cache
def texts(known: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Values: real ones, real ones with noise, any text, hostile ones, huge ones."""
    real = st.sampled_from(known)
    noisy = st.text(alphabet=NOISE, max_size=12)
    return st.one_of(
        real,
        st.builds(lambda a, noise, b: a + noise + b, real | st.just(""), noisy, real | st.just("")),
        st.text(max_size=300),
        noisy,
        st.sampled_from(HOSTILE_TEXTS),
        huge_texts(),
    )


@functools.cache
def json_values() -> st.SearchStrategy:
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(
        st.text(max_size=12), inner, max_size=5), max_leaves=20)


@functools.cache
def field_pairs(names: tuple[str, ...], values: tuple[str, ...]) -> st.SearchStrategy[list[tuple[str, str]]]:
    name = st.sampled_from(names) | st.text(max_size=30) | st.sampled_from(HOSTILE_NAMES)
    return st.lists(st.tuples(name, texts(values)), max_size=12)


@dataclass
class Request:
    """One request, and how to read it back in a failure."""

    who: str
    endpoint: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: object = None
    content_type: str | None = None

    def send(self, client):
        return client.post(self.url, data=self.body, content_type=self.content_type, headers=self.headers)

    def typed(self) -> str:
        """Everything the request carries, as text (to tell what it typed from what a page leaks)."""
        if isinstance(self.body, MultiDict):
            body = " ".join(f"{k} {v}" for k, v in self.body.items(multi=True) if isinstance(v, str))
        elif isinstance(self.body, bytes):
            body = self.body.decode("utf-8", "replace")
        else:
            body = str(self.body)
        return f"{unquote_plus(self.url)} {body}"

    def __str__(self):
        body = repr(self.body)
        return f"{self.who}: POST {self.url} ({self.content_type}) {body[:300]}{'…' if len(body) > 300 else ''}"


def address(data, rule, world: World, hostile: bool) -> str:
    """The rule's address with each of its parts filled by a real value or, when `hostile`, as
    often by a hostile one, and then a query string every other time."""
    ids = world.ids
    real = {
        "assessment_id": st.sampled_from([ids[k] for k in ("own_draft", "own_final", "other_draft", "other_final")])
        .map(str),
        "user_id": st.sampled_from([ids[k] for k in ("victim", "admin", "membre")]).map(str),
        "item_id": st.sampled_from(["ECO-1", "ECO-3", "PRN-6", "STR-6"]),
        "change": st.sampled_from(["activer", "desactiver"]),
        "code": st.sampled_from(["MTL-NORD", "LAV-01"]),
        "organization_id": st.sampled_from([ids["organization"], ids["kept_organization"]]).map(str),
    }
    fake = {
        "assessment_id": st.sampled_from(HOSTILE_IDS),
        "user_id": st.sampled_from(HOSTILE_IDS),
        "item_id": st.sampled_from(["ZZZ-9", "eco-1", "ECO-1-level", "ECO-01", "ECO-999", "."])
        | st.text(min_size=1, max_size=30),
        "change": st.just("supprimer"),
        "code": st.sampled_from(["ZZZ", "mtl-nord", "MTL NORD", "../MTL-NORD", "X" * 21]) | st.text(min_size=1, max_size=30),
        "organization_id": st.sampled_from(HOSTILE_IDS),
    }
    unknown = rule.arguments - set(real)
    assert not unknown, f"{rule.rule}: teach test_fuzz.py how to fill {unknown}"

    def fill(match):
        part = match.group(1)
        return quote(data.draw(real[part] | fake[part] if hostile else real[part], label=part), safe="")

    path = re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?(\w+)>", fill, rule.rule)
    if not hostile:
        return path
    value = st.sampled_from(["1", "2", "2024", "Montréal", "/", "/evaluations/2/grille"]) | st.sampled_from(
        HOSTILE_IDS + HOSTILE_TEXTS) | st.text(max_size=30)
    query = data.draw(st.just([]) | st.lists(st.tuples(st.sampled_from(QUERY_KEYS) | st.text(max_size=10), value),
                                             min_size=1, max_size=3), label="query")
    return f"{path}?{urlencode(query)}" if query else path


def fuzzed_request(data, rule, who: str, world: World) -> Request:
    """Half the time a clumsy request: the route's own form as its page sends it, with the real
    CSRF token and real ids, some values changed; else a hostile one, anything."""
    form = world.forms[rule.endpoint]
    names, values = tuple(form.names or ["csrf_token"]), tuple(sorted({*form.values, *world.values}))
    real_token = world.identities[who].token
    clumsy = data.draw(st.booleans(), label="clumsy")
    request = Request(who, rule.endpoint, address(data, rule, world, hostile=not clumsy))
    if clumsy:
        request.body = MultiDict(form.sent)
        for name, value in TYPED.get(rule.endpoint, {}).items():
            request.body.setlist(name, [value])
        for name, value in data.draw(st.lists(st.tuples(st.sampled_from(names), texts(values)), max_size=6),
                                     label="changes"):
            request.body.setlist(name, [value])
        request.body.setlist("csrf_token", [real_token])
        if data.draw(st.booleans(), label="multipart"):
            request.content_type = "multipart/form-data"
        return request

    if accept := data.draw(st.sampled_from(ACCEPTS), label="accept"):
        request.headers["Accept"] = accept
    kind = data.draw(st.sampled_from(["page", "fields", "json", "text", "bytes"]), label="kind")
    if kind in ("page", "fields"):
        pairs = [(k, v) for k, v in form.sent if k != "csrf_token"] if kind == "page" else []
        pairs += data.draw(field_pairs(names, values), label="fields")
        if pairs and data.draw(st.booleans(), label="duplicate a key"):
            pairs.append((pairs[0][0], data.draw(texts(values), label="second value")))
        token = data.draw(st.sampled_from(["real", "wrong", "none", "twice"]), label="csrf")
        pairs += {"real": [("csrf_token", real_token)], "wrong": [("csrf_token", "IjAxMjM0NTY3ODki.Zm9v.YmFy")],
                  "none": [], "twice": [("csrf_token", "faux"), ("csrf_token", real_token)]}[token]
        request.body = MultiDict(pairs)
        if data.draw(st.booleans(), label="multipart"):
            request.content_type = "multipart/form-data"
            if data.draw(st.booleans(), label="with a file"):
                request.body.add(data.draw(st.sampled_from(names), label="file field"),
                                 (io.BytesIO(data.draw(st.binary(max_size=200), label="file")), "x\x00.txt"))
    elif kind == "json":
        request.body = json.dumps(data.draw(json_values(), label="json"))
        request.content_type = data.draw(st.sampled_from(["application/json", "application/json; charset=utf-8",
                                                          "application/problem+json"]), label="json type")
    elif kind == "text":
        request.body = data.draw(texts(values), label="text").encode()
        request.content_type = "text/plain"
    else:
        request.body, request.content_type = data.draw(
            st.tuples(st.binary(max_size=300), st.sampled_from(CONTENT_TYPES)) | st.sampled_from(RAW_BODIES),
            label="raw")
    return request


# --- what is checked ---------------------------------------------------------------------------

def snapshot(path: Path, ids: dict[str, int]) -> dict[str, object]:
    """What must not change behind someone's back: the assessments (all of them, and LAV-01's),
    the accounts and their scopes, and each account's password."""
    with _connection(path) as conn:
        def rows(sql, *args):
            return sorted(conn.execute(sql, args).fetchall(), key=repr)

        lav = "SELECT id FROM assessment WHERE territory_id = ?"
        return {
            "assessments": rows("SELECT * FROM assessment") + rows("SELECT * FROM answer")
            + rows("SELECT * FROM participant") + rows("SELECT * FROM assessment_organization")
            + rows("SELECT * FROM territory"),
            "lav": rows("SELECT * FROM assessment WHERE territory_id = ?", ids["lav"])
            + rows(f"SELECT * FROM answer WHERE assessment_id IN ({lav})", ids["lav"])
            + rows(f"SELECT * FROM participant WHERE assessment_id IN ({lav})", ids["lav"])
            + rows(f"SELECT * FROM assessment_organization WHERE assessment_id IN ({lav})", ids["lav"]),
            "accounts": rows("SELECT id, email, display_name, role, active FROM user_account")
            + rows("SELECT * FROM user_territory") + rows("SELECT * FROM user_region"),
            "passwords": dict(conn.execute("SELECT id, password_hash FROM user_account").fetchall()),
        }


class _connection:
    """A plain sqlite3 connection to the file, closed after the block."""

    def __init__(self, path: Path):
        self.conn = sqlite3.connect(path)

    def __enter__(self):
        return self.conn

    def __exit__(self, *exc):
        self.conn.close()


def database_problems(path: Path, level_codes: set[str]) -> list[str]:
    """What a consistent database holds: intact, every foreign key resolved, known levels and
    statuses, no NUL, and no text longer than its column (PostgreSQL refuses it; SQLite not)."""
    problems = []
    with _connection(path) as conn:
        integrity = conn.execute("PRAGMA integrity_check").fetchall()
        if integrity != [("ok",)]:
            problems.append(f"integrity_check: {integrity}")
        if foreign := conn.execute("PRAGMA foreign_key_check").fetchall():
            problems.append(f"foreign_key_check: {foreign}")
        levels = {level for (level,) in conn.execute("SELECT DISTINCT level FROM answer")} - level_codes - {None}
        if levels:
            problems.append(f"answers with unknown levels: {levels}")
        statuses = {status for (status,) in conn.execute("SELECT DISTINCT status FROM assessment")} - STATUSES
        if statuses:
            problems.append(f"assessments with unknown statuses: {statuses}")
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for _cid, column, declared, *_rest in conn.execute(f'PRAGMA table_info("{table}")'):
                cells = [text for (text,) in conn.execute(
                    f'SELECT "{column}" FROM "{table}" WHERE typeof("{column}") = \'text\'')]
                if found := next((text for text in cells if "\x00" in text), None):
                    problems.append(f"NUL in {table}.{column}: {found[:80]!r}")
                size = re.fullmatch(r"VARCHAR\((\d+)\)", declared.upper())
                if size and (found := next((text for text in cells if len(text) > int(size.group(1))), None)):
                    problems.append(f"{table}.{column} is {declared}, holds {len(found)} characters: {found[:80]!r}")
    return problems


def changes_problems(before: dict, after: dict, acted: set[str], ids: dict[str, int]) -> list[str]:
    """Only those who may change something changed it."""
    problems = []
    if "admin" in acted:
        return problems  # the administrator may change anything
    if before["accounts"] != after["accounts"]:
        problems.append(f"accounts changed by {acted}")
    own = {ids["membre"]} if "membre" in acted else set()
    changed = {i for i in before["passwords"] if before["passwords"][i] != after["passwords"].get(i)}
    if changed - own:
        problems.append(f"passwords of accounts {changed - own} changed by {acted}")
    if "membre" not in acted and before["assessments"] != after["assessments"]:
        problems.append(f"assessments changed by {acted}")
    if before["lav"] != after["lav"]:
        problems.append(f"LAV-01's assessments changed by {acted}")
    return problems


def served_problems(live: Live, world: World, every_page: bool = True) -> list[str]:
    """The home page and the seeded draft's pages still open (for an administrator the fuzzed
    requests never named); with `every_page`, the comparison and results pages too."""
    observer = live.app.test_client()
    observer.set_cookie("session", world.identities["observer"].cookie)
    with _connection(live.path) as conn:
        draft = conn.execute("SELECT status FROM assessment WHERE id = ?", (world.ids["own_draft"],)).fetchone()
    pages = {"/": 200}
    if draft and draft[0] == DRAFT:  # a fuzzed request may have deleted it, as the administrator may
        pages |= {f"/evaluations/{world.ids['own_draft']}/grille": 200,
                  f"/evaluations/{world.ids['own_draft']}/details": 200}
    if every_page:
        pages |= {"/comparaison/": 200, f"/evaluations/{world.ids['own_final']}/resultats": 200,
                  f"/evaluations/{world.ids['own_draft']}/resultats": 200 if draft else 404}
    problems = []
    for url, wanted in pages.items():
        status = observer.get(url).status_code
        if status != wanted:
            problems.append(f"GET {url} as an administrator: {status}, expected {wanted}")
    return problems


def response_problems(response, hidden: list[str]) -> list[str]:
    """A 5xx, a redirect off the site, a page or a file that shows one of the `hidden` words."""
    problems = []
    if response.status_code >= 500:
        problems.append(f"{response.status_code}")
    location = response.headers.get("Location")
    if location and (urlsplit(location).netloc not in ("", "localhost") or location.startswith("//")
                     or "\\" in location):
        problems.append(f"redirects off the site to {location!r}")
    text = shown_text(response).casefold()
    if leaked := [w for w in hidden if w.casefold() in text]:
        problems.append(f"page shows {leaked}")
    return problems


def shown_text(response) -> str:
    """What a page, a spreadsheet (read with openpyxl) or a PDF (pypdf) shows, as text."""
    if response.mimetype.endswith("spreadsheetml.sheet"):
        book = openpyxl.load_workbook(io.BytesIO(response.data))
        return " ".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v)
    if response.mimetype == "application/pdf":
        reader = pypdf.PdfReader(io.BytesIO(response.data))
        return " ".join(page.extract_text() or "" for page in reader.pages)
    return html.unescape(response.get_data(as_text=True))


def hostile_query(values: dict[str, list[str]], organisations: list[str], keys=()):
    """A query string of up to four parameters: the route's own names with real, hostile or random
    values, other known names (`keys`), random names."""
    key = st.sampled_from([*values, "organisation"]) | st.text(max_size=10)
    if keys:
        key = key | st.sampled_from(keys)

    def pair(name):
        value = st.sampled_from(values.get(name, organisations)) | st.sampled_from(
            HOSTILE_IDS + HOSTILE_TEXTS) | st.text(max_size=20)
        return st.tuples(st.just(name), value)

    return st.lists(key.flatmap(pair), max_size=4)


def hidden_from(who: str, address: str) -> list[str]:
    """What of LAV-01 `who` must not see at `address` (an administrator sees all; what one typed
    may be quoted back in a message)."""
    typed = unquote_plus(address).casefold()
    return [w for w in HIDDEN if w.casefold() not in typed] if who != "admin" else []


def kept_form_problems(live: Live, world: World) -> list[str]:
    """What the ended session sent, kept for the membre, comes back on their page after signing in."""
    problems = []
    with _connection(live.path) as conn:
        kept = conn.execute("SELECT token, path FROM pending_form WHERE user_id = ?", (world.ids["membre"],)).fetchall()
    for token, path in kept:
        membre = live.app.test_client()
        membre.set_cookie("session", world.identities["membre"].cookie)
        with membre.session_transaction() as session:
            session["pending_form"] = token  # as signing in again keeps it
        status = membre.get(path).status_code
        if status >= 500:
            problems.append(f"GET {path} restoring the kept form: {status}")
    return problems


# --- the fuzz test ---------------------------------------------------------------------------

def post_rules(app) -> list:
    """Every rule of the app that accepts POST."""
    return sorted((r for r in app.url_map.iter_rules() if "POST" in r.methods), key=lambda r: (r.rule, r.endpoint))


# The routes, read from the app's url_map (collected once: each route is its own test).
POST_ENDPOINTS = sorted({rule.endpoint for rule in post_rules(make_app("sqlite://"))})


def test_every_post_route_has_its_form_page():
    missing = set(POST_ENDPOINTS) - set(FORM_PAGES)
    assert not missing, f"new POST routes {missing}: add the page of their form to FORM_PAGES"


@pytest.mark.parametrize("who", IDENTITIES)
@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_hostile_posts_never_break_leak_or_overwrite(endpoint, who, live, world, grid):
    """Sequences of one to three requests: the first by `who` to `endpoint`, the others by anyone
    to any POST route."""
    rules = post_rules(live.app)
    first = [r for r in rules if r.endpoint == endpoint]
    level_codes = {lv.code for lv in grid.levels}

    @FUZZ
    @given(data=st.data())
    def example(data):
        live.restore()
        before = snapshot(live.path, world.ids)
        clients, acted, typed = {}, set(), ""
        for step in range(data.draw(st.integers(1, 3), label="requests")):
            person = who if step == 0 else data.draw(st.sampled_from(IDENTITIES), label="who")
            rule = first[0] if step == 0 and len(first) == 1 else data.draw(
                st.sampled_from(first if step == 0 else rules), label="route")
            request = fuzzed_request(data, rule, person, world)
            if person not in clients:
                clients[person] = live.app.test_client()
                clients[person].set_cookie("session", world.identities[person].cookie)
                if language := data.draw(st.sampled_from([None, "en", "xx"]), label="language"):
                    clients[person].set_cookie("lang", language)
            note(f"request {step + 1}: {request}")
            response = request.send(clients[person])
            # Only the administrator reads LAV-01: unless an administrator's request changed who
            # reads what, or this example typed the words itself.
            typed += request.typed().casefold()
            hidden = [w for w in HIDDEN if w.casefold() not in typed] if "admin" not in {person, *acted} else []
            problems = response_problems(response, hidden)
            acted.add(person)
            if rule.endpoint in ("auth.login", "auth.setup") and response.status_code == 302:
                acted.add("admin")  # signed in as someone, possibly an administrator
            assert not problems, f"{request}: {'; '.join(problems)}\n{response.get_data(as_text=True)[:2000]}"
        after = snapshot(live.path, world.ids)
        problems = (database_problems(live.path, level_codes) + changes_problems(before, after, acted, world.ids)
                    + kept_form_problems(live, world))
        if after != before:  # what was stored is shown (unchanged, the pages are as checked when seeded)
            problems += served_problems(live, world, every_page=False)
        assert not problems, "\n".join(problems)

    example()

    # After the whole run: the database is consistent and the app still serves its pages.
    assert not database_problems(live.path, level_codes)
    assert not served_problems(live, world)


# --- the exports (GET only): hostile query strings ---------------------------------------------

EXPORT_URLS = ("/exports/", "/exports/comparaison", "/exports/resultats", "/exports/reponses", "/exports/evaluations")
EXPORT_VALUES = {"annee": ["2024", "2025", "", "0", "99999"], "region": ["Montréal", "Laval", ""],
                 "perspective": ["collective", "partner", ""], "format": ["xlsx", "csv", "json", ""],
                 "dialect": ["rfc4180", "excel"]}


@pytest.mark.parametrize("who", ("admin", "membre", "anonyme"))
def test_hostile_export_queries_never_break_or_leak(who, live, world):
    """Any query string on any export: below 500, never off the site, and nothing of LAV-01 for
    the membre (unless they typed it, and the message quotes it back)."""
    client = live.app.test_client()
    client.set_cookie("session", world.identities[who].cookie)
    organizations = [str(world.ids["organization"]), str(world.ids["kept_organization"])]

    @FUZZ
    @given(data=st.data())
    def example(data):
        url = data.draw(st.sampled_from(EXPORT_URLS), label="export")
        query = data.draw(hostile_query(EXPORT_VALUES, organizations, QUERY_KEYS), label="query")
        address = f"{url}?{urlencode(query)}" if query else url
        note(f"{who}: GET {address}")
        problems = response_problems(client.get(address), hidden_from(who, address))
        assert not problems, f"{who}: GET {address}: {'; '.join(problems)}"

    example()


# --- the dashboards (GET only): hostile addresses and query strings ---------------------------

DASHBOARD_VALUES = {"annee": ["2024", "2025", "", "0", "99999", "abc"], "region": ["Montréal", "Laval", "", "Nulle"],
                    "perspective": ["collective", "partner", "", "tous"], "tri": ["ensemble", "territoire", ""]}


@pytest.mark.parametrize("who", ("admin", "membre", "anonyme"))
def test_hostile_dashboard_addresses_never_break_or_leak(who, live, world):
    """Either dashboard, with real or hostile territory codes and any query string: below 500,
    never off the site, and nothing of LAV-01 for the membre (unless they typed it)."""
    rules = sorted((r for r in live.app.url_map.iter_rules() if r.endpoint.startswith("dashboard.")),
                   key=lambda r: r.rule)
    client = live.app.test_client()
    client.set_cookie("session", world.identities[who].cookie)
    organisations = [str(world.ids["organization"]), str(world.ids["kept_organization"])]

    @FUZZ
    @given(data=st.data())
    def example(data):
        rule = data.draw(st.sampled_from(rules), label="dashboard")
        path = address(data, rule, world, hostile=data.draw(st.booleans(), label="hostile"))
        query = data.draw(hostile_query(DASHBOARD_VALUES, organisations), label="query")
        url = f"{path}{'&' if '?' in path else '?'}{urlencode(query)}" if query else path
        note(f"{who}: GET {url}")
        problems = response_problems(client.get(url), hidden_from(who, url))
        assert not problems, f"{who}: GET {url}: {'; '.join(problems)}"

    example()


# --- the PDF reports (GET only): hostile query strings and ids ----------------------------------

REPORT_VALUES = {"papier": ["letter", "a4", "A4", ""], "annee": ["2024", "2025", "", "0", "99999"],
                 "region": ["Montréal", "Laval", ""], "perspective": ["collective", "partner", ""]}
# Few examples: each one that is allowed makes a PDF (a second or so; a finalised profile is then
# served from the cache).
REPORT_FUZZ = settings(FUZZ, max_examples=8)


@pytest.mark.parametrize("who", ("admin", "membre", "anonyme"))
def test_hostile_report_queries_never_break_or_leak(who, live, world):
    """Any id and query string on the report routes: below 500, never off the site, and nothing
    of LAV-01 for the membre (unless they typed it, and the message quotes it back)."""
    client = live.app.test_client()
    client.set_cookie("session", world.identities[who].cookie)
    ids = [str(world.ids[k]) for k in ("own_draft", "own_final", "other_final")]
    organizations = [str(world.ids["organization"]), str(world.ids["kept_organization"])]

    @REPORT_FUZZ
    @given(data=st.data())
    def example(data):
        url = data.draw(st.sampled_from([f"/evaluations/{i}/profil.pdf" for i in ids] + ["/tableau-de-bord/rapport.pdf"])
                        | st.sampled_from(HOSTILE_IDS).map(lambda i: f"/evaluations/{quote(i, safe='')}/profil.pdf"),
                        label="report")
        query = data.draw(hostile_query(REPORT_VALUES, organizations, QUERY_KEYS), label="query")
        address = f"{url}?{urlencode(query)}" if query else url
        note(f"{who}: GET {address}")
        problems = response_problems(client.get(address), hidden_from(who, address))
        assert not problems, f"{who}: GET {address}: {'; '.join(problems)}"

    example()
