"""Two people, one draft, through a real server: gunicorn with two worker processes on a fresh
database (SQLite and PostgreSQL), and simulated people speaking plain HTTP (standard library only).

What must hold (issue): saving is per statement, each save carries the version it was based on;
changes to different statements are all kept; a change to a statement someone else changed
meanwhile comes back as a conflict with both values, never a silent overwrite; no acknowledged
answer is ever lost. Failed sign-ins are counted in the database, so the limit holds whichever
worker process answers.

Which worker answers is not left to chance where it matters: a worker of the sync kind serves one
connection at a time, so a request whose end is held back (`Stall`) keeps its worker busy and the
next connection goes to the other one (`TwoWorkers`). The access log names the process (pid) of
every request, which the tests check.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from sqlalchemy import select

from pin_grid import accounts, services
from pin_grid.context import current_grid, grid_catalog
from pin_grid.extensions import db
from pin_grid.models import Answer, AuditEvent, LoginThrottle
from pin_grid.services import AnswerData, AssessmentDetails, ParticipantData

from ..conftest import ROOT
from .conftest import ADMIN, PASSWORD, make_app
from .test_web import TOKEN, form_fields

HOST = "127.0.0.1"
MEMBER = "lea.membre@cisss.example"  # a second person, a member of the territory's team
TERRITORY = "MTL-NORD"
REQUEST_TIMEOUT = 15  # seconds, for every socket operation of every request
BOOT_TIMEOUT = 30
WORKLOAD_SECONDS = 25  # the threads stop starting new saves after this long, whatever is left
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
# pid, method, path, query string, status
ACCESS_FORMAT = "%(p)s %(m)s %(U)s ?%(q)s %(s)s"
ACCESS_LINE = re.compile(r"^<(\d+)> (\S+) (\S+) \?(\S*) (\d{3})$")


# --- The server -----------------------------------------------------------------------------

@dataclasses.dataclass
class AccessLine:
    pid: int
    method: str
    path: str
    query: str
    status: int


@dataclasses.dataclass
class Server:
    port: int
    db_url: str
    assessment_id: int
    access_log: Path
    error_log: Path
    process: subprocess.Popen
    pids: frozenset[int] = frozenset()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def access(self) -> list[AccessLine]:
        lines = []
        for raw in self.access_log.read_text(encoding="utf-8", errors="replace").splitlines():
            m = ACCESS_LINE.match(raw.strip())
            if m:
                lines.append(AccessLine(int(m[1]), m[2], m[3], m[4], int(m[5])))
        return lines

    def pid_of(self, query: str) -> int:
        """The worker process that served the request tagged with this query string (gunicorn
        writes the line just after the response, so it may be a moment late)."""
        deadline = time.monotonic() + 5
        while True:
            found = [line.pid for line in self.access() if line.query == query]
            if found or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert len(found) == 1, (query, found)
        return found[0]

    def log(self) -> str:
        return self.error_log.read_text(encoding="utf-8", errors="replace")

    def assert_no_server_error(self) -> None:
        log = self.log()
        assert "Traceback" not in log and "WORKER TIMEOUT" not in log, log[-6000:]
        assert not [line for line in self.access() if line.status >= 500]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _seed(db_url: str) -> int:
    """Two accounts, a territory and a draft assessment; the assessment's id."""
    app = make_app(db_url)
    with app.app_context():
        accounts.create_user(ADMIN, PASSWORD, "admin")
        territory = services.create_territory(TERRITORY, "Montréal-Nord", "Montréal")
        accounts.create_user(MEMBER, PASSWORD, "membre", territories=[TERRITORY])
        assessment = services.start_assessment(
            AssessmentDetails(territory_id=territory.id, date=dt.date(2024, 3, 14), perspective=None,
                              participants=[ParticipantData(role="intervenante", sector="cisss", name="Ana")]),
            grid_catalog(),
        )
        assessment_id = assessment.id
        db.session.remove()
        db.engine.dispose()
    return assessment_id


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_both_workers_answer(server: Server) -> None:
    """Poll until the server answers, then until a second request is answered while a first is
    held back: two workers are up. Records their pids."""
    deadline = time.monotonic() + BOOT_TIMEOUT
    while True:
        if server.process.poll() is not None:
            pytest.fail(f"gunicorn stopped (exit {server.process.returncode}):\n{server.log()[-4000:]}")
        try:  # once the port is open, the request waits in the queue until a worker is up
            assert Browser(server, timeout=BOOT_TIMEOUT).get("/static/favicon.svg?ping").status == 200
            break
        except ConnectionRefusedError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"gunicorn did not open its port within {BOOT_TIMEOUT} s:\n{server.log()[-4000:]}")
        time.sleep(0.1)
    stall = Stall(server, "boot")
    try:
        assert Browser(server, timeout=BOOT_TIMEOUT).get("/static/favicon.svg?second").status == 200
    finally:
        assert stall.finish() == 200
    server.pids = frozenset({server.pid_of("stall=boot"), server.pid_of("second")})
    assert len(server.pids) == 2, server.access()


@pytest.fixture
def server(new_database, tmp_path):
    """gunicorn, two worker processes, on a fresh migrated database with two accounts and a draft."""
    db_url = new_database()
    with running_server(db_url, tmp_path, _seed(db_url)) as srv:
        yield srv


@contextlib.contextmanager
def running_server(db_url: str, tmp_path: Path, assessment_id: int = 0):
    """gunicorn, two worker processes, on `db_url`, until the block ends."""
    access_log, error_log = tmp_path / "access.log", tmp_path / "gunicorn.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOGIN_", "FLASK_", "SESSION_", "PROXY_"))}
    env.update(DATABASE_URL=db_url, SECRET_KEY="concurrency-test-secret", PIN_ENV="development",
               LOGIN_MAX_FAILURES_PER_ACCOUNT=str(ACCOUNT_LIMIT), LOGIN_MAX_FAILURES_PER_ADDRESS=str(ADDRESS_LIMIT),
               LOGIN_WINDOW_MINUTES="15", PYTHONUNBUFFERED="1")
    port = _free_port()
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--worker-class", "sync",
               "--bind", f"{HOST}:{port}", "--timeout", "30", "--graceful-timeout", "5",
               "--access-logfile", str(access_log), "--access-logformat", ACCESS_FORMAT,
               "--log-level", "info", "--no-control-socket",  # not the one shared socket in ~/.gunicorn
               "app:create_app()"]
    with open(error_log, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        srv = Server(port, db_url, assessment_id, access_log, error_log, process)
        _wait_until_both_workers_answer(srv)
        yield srv
    finally:
        _stop(process)


def read_db(db_url: str, operation):
    """Run `operation()` in an app context on the server's database (straight from the tables)."""
    app = make_app(db_url)
    with app.app_context():
        try:
            return operation()
        finally:
            db.session.remove()
            db.engine.dispose()


def stored_answers(server: Server) -> dict[str, AnswerData]:
    return read_db(server.db_url, lambda: {
        a.item_id: AnswerData.of(a)
        for a in db.session.scalars(select(Answer).where(Answer.assessment_id == server.assessment_id))
    })


def throttle_rows(server: Server) -> dict[str, int]:
    return read_db(server.db_url, lambda: {
        row.key: row.failures for row in db.session.scalars(select(LoginThrottle))
    })


# --- A person's browser, in the standard library --------------------------------------------

@dataclasses.dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    text: str

    def json(self) -> dict:
        return json.loads(self.text)


class Browser:
    """Cookies and plain HTTP/1.1 over a new connection per request (sync workers close each one)."""

    def __init__(self, server: Server, timeout: float = REQUEST_TIMEOUT):
        self.server, self.timeout = server, timeout
        self.cookies: dict[str, str] = {}
        self.csrf: str | None = None

    def build(self, method: str, path: str, fields: dict | None = None, accept: str = "text/html") -> bytes:
        body = urllib.parse.urlencode(fields or {}).encode() if method == "POST" else b""
        head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.server.port}", "Connection: close",
                f"Accept: {accept}", "User-Agent: test-concurrency"]
        if self.cookies:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if method == "POST":
            head += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body

    def connect(self) -> socket.socket:
        return socket.create_connection((HOST, self.server.port), timeout=self.timeout)

    def receive(self, sock: socket.socket, method: str) -> Reply:
        try:
            response = http.client.HTTPResponse(sock, method=method)
            try:
                response.begin()
                body = response.read()
                headers = response.headers
            finally:
                response.close()
        finally:
            sock.close()
        for header in headers.get_all("Set-Cookie") or ():
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Reply(response.status, headers, body.decode("utf-8", errors="replace"))

    def send(self, request: bytes, method: str) -> Reply:
        sock = self.connect()
        try:
            sock.sendall(request)
        except BaseException:
            sock.close()
            raise
        return self.receive(sock, method)

    def get(self, path: str) -> Reply:
        return self.send(self.build("GET", path), "GET")

    def post(self, path: str, fields: dict, accept: str = "text/html") -> Reply:
        return self.send(self.build("POST", path, fields, accept), "POST")

    # what a person does

    def login_fields(self, email: str, password: str) -> dict:
        if self.csrf is None:
            page = self.get("/connexion")
            assert page.status == 200, page.text[:500]
            self.csrf = TOKEN.search(page.text).group(1)
        return {"csrf_token": self.csrf, "email": email, "password": password}

    def sign_in(self, email: str, password: str = PASSWORD) -> Browser:
        reply = self.post("/connexion", self.login_fields(email, password))
        assert reply.status == 302, (reply.status, reply.text[:500])
        self.csrf = None  # a new session: the grid page gives the token from now on
        return self

    def open_grid(self) -> dict[str, str]:
        """The grid page's form, as a browser would submit it."""
        reply = self.get(f"/evaluations/{self.server.assessment_id}/grille")
        assert reply.status == 200, (reply.status, reply.text[:500])
        # A browser drops the line break that follows <textarea>, "\r\n" as well as "\n".
        fields = {k: v.removeprefix("\r\n") for k, v in form_fields(reply.text).items()}
        self.csrf = fields["csrf_token"]
        return fields

    def save_statement(self, fields: dict[str, str], item: str, level: str | None, comment: str, base: str) -> Reply:
        """What the page's script posts on a change: the token and the statement's own fields."""
        data = {k: v for k, v in fields.items() if k.startswith(f"{item}-")}
        data.update({"csrf_token": self.csrf, f"{item}-comment": comment, f"{item}-base": base})
        data.pop(f"{item}-level", None)
        if level:
            data[f"{item}-level"] = level
        return self.post(f"/evaluations/{self.server.assessment_id}/enonces/{item}", data, accept="application/json")


class Stall:
    """A request whose last bytes are held back: the worker that accepted it waits on it and
    serves nothing else until `finish()`."""

    def __init__(self, server: Server, tag: str):
        self.sock = socket.create_connection((HOST, server.port), timeout=REQUEST_TIMEOUT)
        self.sock.sendall(f"GET /static/favicon.svg?stall={tag} HTTP/1.1\r\nHost: {HOST}:{server.port}\r\n"
                          "Connection: close\r\n".encode())
        self.browser = Browser(server)

    def release(self) -> None:
        self.sock.sendall(b"\r\n")

    def finish(self) -> int:
        self.release()
        return self.browser.receive(self.sock, "GET").status

    def close(self) -> None:
        self.sock.close()


def _waiting_connections(port: int) -> int | None:
    """How many connections wait in the queue of the server's listening socket, not yet taken
    by a worker (Linux: /proc/net/tcp); None when that cannot be known."""
    try:
        table = Path("/proc/net/tcp").read_text()
    except OSError:
        return None
    local = f"0100007F:{port:04X}"
    for line in table.splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[3] == "0A":  # 0A: listening
            return int(fields[4].split(":")[1], 16)
    return None


def _wait_until_taken(port: int) -> None:
    """Until every connection made so far has been taken by a worker."""
    deadline = time.monotonic() + REQUEST_TIMEOUT
    while (waiting := _waiting_connections(port)) != 0:
        if waiting is None:
            time.sleep(0.3)  # no way to know: leave the worker time enough
            return
        assert time.monotonic() < deadline, "no worker took the connection"
        time.sleep(0.002)


class TwoWorkers:
    """Chooses which worker serves a request. Both workers are kept busy with a stall each; to
    send through worker i, the request is queued, then stall i is let go: that worker, the only
    one free, takes it (the kernel hands out waiting connections in order). A new stall then
    keeps it busy again; it must be taken before anything else is queued, or the other worker,
    once free, could take it instead."""

    def __init__(self, server: Server):
        self.server, self.count = server, 0
        self.stalls = [self._stall(), self._stall()]

    def _stall(self) -> Stall:
        self.count += 1
        stall = Stall(self.server, str(self.count))
        try:
            _wait_until_taken(self.server.port)
        except BaseException:
            stall.close()
            raise
        return stall

    def send(self, which: int, browser: Browser, request: bytes, method: str = "POST") -> Reply:
        sock = browser.connect()
        try:
            sock.sendall(request)
            assert self.stalls[which].finish() == 200
        except BaseException:
            sock.close()
            raise
        reply = browser.receive(sock, method)
        self.stalls[which] = self._stall()
        return reply

    def send_both(self, requests: list[tuple[Browser, bytes]], method: str = "POST") -> list[Reply]:
        """Two requests at the same moment, one on each worker. Each is first held back by its last
        byte, like a stall, on the worker its stall freed: released together, neither worker can
        take the other's (when both were simply queued, a worker quick enough took both)."""
        socks = []
        try:
            for (browser, request), stall in zip(requests, self.stalls):
                socks.append(browser.connect())
                socks[-1].sendall(request[:-1])
                assert stall.finish() == 200  # its worker, the only one free, takes the request
                _wait_until_taken(self.server.port)
            for (_browser, request), sock in zip(requests, socks):
                sock.sendall(request[-1:])
        except BaseException:
            for sock in socks:
                sock.close()
            raise
        replies = [browser.receive(sock, method) for (browser, _), sock in zip(requests, socks)]
        self.stalls = [self._stall(), self._stall()]
        return replies

    def close(self) -> None:
        for stall in self.stalls:
            try:
                stall.finish()
            except OSError:
                stall.close()


@contextlib.contextmanager
def two_workers(server: Server):
    """Both workers held, for `TwoWorkers.send`; nothing else gets through meanwhile."""
    pinned = TwoWorkers(server)
    try:
        yield pinned
    finally:
        pinned.close()


# --- Many people saving at once -------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Ack:
    person: int
    item: str
    base_sent: str
    base_returned: str
    value: AnswerData


@dataclasses.dataclass(frozen=True)
class Refusal:
    person: int
    item: str
    base_sent: str
    yours: AnswerData
    body: dict


@dataclasses.dataclass
class Journal:
    """What one person's browser saw, in its own order."""
    person: int
    acks: list[Ack] = dataclasses.field(default_factory=list)
    conflicts: list[Refusal] = dataclasses.field(default_factory=list)
    errors: list = dataclasses.field(default_factory=list)
    attempts: int = 0


def _person(server: Server, person: int, email: str, plan: list[str], levels: list[str],
            start: threading.Barrier, deadline: float) -> Journal:
    journal = Journal(person)
    try:
        browser = Browser(server).sign_in(email)
        fields = browser.open_grid()
        bases = {k[: -len("-base")]: v for k, v in fields.items() if k.endswith("-base")}
    except BaseException as exc:
        start.abort()
        journal.errors.append(("sign-in or grid", repr(exc)))
        return journal
    try:
        start.wait()
    except threading.BrokenBarrierError:
        journal.errors.append(("start", "another person could not start"))
        return journal
    for turn, item in enumerate(plan):
        mine = AnswerData(level=levels[(person + turn) % len(levels)], comment=f"personne {person}, essai {turn}")
        for _ in range(2):  # on a conflict, once more: "keep mine", on the base the conflict gave
            if time.monotonic() > deadline:
                return journal
            journal.attempts += 1
            try:
                reply = browser.save_statement(fields, item, mine.level, mine.comment, bases[item])
            except (OSError, http.client.HTTPException) as exc:
                journal.errors.append((item, repr(exc)))
                return journal
            if reply.status == 200:
                body = reply.json()
                journal.acks.append(Ack(person, item, bases[item], body["base"], mine))
                bases[item] = body["base"]
                break
            if reply.status != 409:
                journal.errors.append((item, reply.status, reply.text[:500]))
                break
            body = reply.json()
            journal.conflicts.append(Refusal(person, item, bases[item], mine, body))
            bases[item] = body["base"]  # as the page does: what is stored now is the next base
    return journal


def _chain(item: str, acks: list[Ack]) -> list[Ack]:
    """The acknowledged saves of a statement, each based on the one before, from the empty
    answer. Two acknowledged saves based on the same version: one overwrote the other."""
    by_base = defaultdict(list)
    for ack in acks:
        by_base[ack.base_sent].append(ack)
    forks = {base: found for base, found in by_base.items() if len(found) > 1}
    assert not forks, f"{item}: acknowledged saves based on the same version (one was lost): {forks}"
    chain, current = [], AnswerData().fingerprint()
    while current in by_base and len(chain) <= len(acks):
        chain.append(by_base[current][0])
        current = chain[-1].base_returned
    assert len(chain) == len(acks), (
        f"{item}: acknowledged saves outside the chain of versions: {[a for a in acks if a not in chain]}")
    return chain


def test_concurrent_saves_through_two_workers_lose_no_acknowledged_answer(server, grid):
    items, levels = list(grid.items), [level.code for level in grid.levels]
    assert len(items) == 24
    contested = items[:6]  # everyone fights over these
    people = 8
    owners = {k: items[6 + 3 * k: 9 + 3 * k] for k in range(6)}  # six people own three statements each
    plans = {}
    for k in range(people):
        own = owners.get(k)
        plans[k] = [own[(turn // 2) % 3] if own and turn % 2 == 0 else contested[(k + turn) % len(contested)]
                    for turn in range(24)]
    start = threading.Barrier(people, timeout=60)
    began = time.monotonic()
    deadline = began + WORKLOAD_SECONDS
    with ThreadPoolExecutor(max_workers=people) as pool:
        futures = [pool.submit(_person, server, k, ADMIN if k % 2 == 0 else MEMBER, plans[k], levels, start, deadline)
                   for k in range(people)]
        journals = [f.result(timeout=WORKLOAD_SECONDS + 4 * REQUEST_TIMEOUT + 60) for f in futures]
    elapsed = time.monotonic() - began

    errors = [(j.person, e) for j in journals for e in j.errors]
    assert not errors, errors  # no 5xx, no 4xx other than 409, no time-out
    assert all(j.attempts >= 5 for j in journals), [(j.person, j.attempts) for j in journals]
    acks = [a for j in journals for a in j.acks]
    conflicts = [c for j in journals for c in j.conflicts]
    assert conflicts, "the people never got in each other's way: nothing was tested"

    # Every acknowledged save answered with the version of what was saved.
    for ack in acks:
        assert ack.base_returned == ack.value.fingerprint(), ack

    stored = stored_answers(server)
    acks_of = defaultdict(list)
    for ack in acks:
        acks_of[ack.item].append(ack)
    for item in items:
        chain = _chain(item, acks_of[item])
        assert stored.get(item, AnswerData()) == (chain[-1].value if chain else AnswerData()), item
    # A statement only one person changes: exactly that person's last acknowledged value.
    for k, own in owners.items():
        for item in own:
            mine = [a for a in journals[k].acks if a.item == item]
            assert mine and stored[item] == mine[-1].value, (item, mine[-1:], stored.get(item))
            assert not [c for c in conflicts if c.item == item]

    # Every conflict names the other value (one that was really saved) and the person's own.
    acked_values = defaultdict(set)
    for ack in acks:
        acked_values[ack.item].add(ack.value)
    for conflict in conflicts:
        body = conflict.body
        theirs = AnswerData(level=body["theirs"]["level"], comment=body["theirs"]["comment"],
                            action=body["theirs"]["action"])
        assert body["yours"]["level"] == conflict.yours.level and body["yours"]["comment"] == conflict.yours.comment
        assert theirs in acked_values[conflict.item] and theirs != conflict.yours, conflict
        assert body["theirs"]["label"] and body["base"] == theirs.fingerprint() != conflict.base_sent, conflict
        assert "Quelqu'un d'autre a modifié" in body["error"]

    # The audit trail has every acknowledged change, in the order they were made.
    trail = read_db(server.db_url, lambda: [
        (e.item_id, e.new_value) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.assessment_id == server.assessment_id, AuditEvent.action == "answer",
                                     AuditEvent.field == "comment").order_by(AuditEvent.id))
    ])
    for item in items:
        assert [new for it, new in trail if it == item] == [a.value.comment for a in _chain(item, acks_of[item])]

    # Both worker processes served saves; nothing went wrong on the server's side.
    savers = {line.pid for line in server.access() if "/enonces/" in line.path}
    assert savers == server.pids
    server.assert_no_server_error()
    assert elapsed < WORKLOAD_SECONDS + 15


# --- Two people, different statements and the same statement --------------------------------

def _save_request(browser: Browser, page: dict[str, str], item: str, level: str, comment: str, base: str) -> bytes:
    return browser.build("POST", f"/evaluations/{browser.server.assessment_id}/enonces/{item}", {
        "csrf_token": browser.csrf, f"{item}-level": level, f"{item}-comment": comment, f"{item}-base": base,
    }, accept="application/json")


def test_two_people_on_one_draft_through_two_workers(server):
    me, other = Browser(server).sign_in(ADMIN), Browser(server).sign_in(MEMBER)
    my_page, their_page = me.open_grid(), other.open_grid()

    # Different statements, each person on another worker: both kept.
    with two_workers(server) as pinned:
        mine = pinned.send(0, me, _save_request(me, my_page, "ECO-1", "implante", "Mon avis", my_page["ECO-1-base"]))
        theirs = pinned.send(1, other, _save_request(other, their_page, "ECO-2", "partiel", "Leur avis",
                                                     their_page["ECO-2-base"]))
    assert (mine.status, theirs.status) == (200, 200), (mine.text, theirs.text)
    assert stored_answers(server) == {"ECO-1": AnswerData("implante", "Mon avis"),
                                      "ECO-2": AnswerData("partiel", "Leur avis")}
    for browser in (me, other):
        page = browser.open_grid()
        assert (page["ECO-1-level"], page["ECO-1-comment"]) == ("implante", "Mon avis")
        assert (page["ECO-2-level"], page["ECO-2-comment"]) == ("partiel", "Leur avis")

    # The same statement, from pages loaded before either change, each person on another worker.
    my_page, their_page = me.open_grid(), other.open_grid()
    with two_workers(server) as pinned:
        first = pinned.send(0, me, _save_request(me, my_page, "ECO-3", "implante", "Fait en 2023",
                                                 my_page["ECO-3-base"]))
        second = pinned.send(1, other, _save_request(other, their_page, "ECO-3", "non_implante", "Pas encore",
                                                     their_page["ECO-3-base"]))
    assert first.status == 200, first.text
    assert second.status == 409, second.text
    body = second.json()
    assert "Quelqu'un d'autre a modifié cet énoncé" in body["error"]
    assert body["theirs"] == {"level": "implante", "label": "Implanté", "comment": "Fait en 2023", "action": ""}
    assert body["yours"] == {"level": "non_implante", "label": "Non implanté", "comment": "Pas encore", "action": ""}
    assert body["base"] == AnswerData("implante", "Fait en 2023").fingerprint()
    assert stored_answers(server)["ECO-3"] == AnswerData("implante", "Fait en 2023")
    # Again from the same stale page: still refused, still nothing overwritten.
    assert other.save_statement(their_page, "ECO-3", "partiel", "Autre idée", their_page["ECO-3-base"]).status == 409
    assert stored_answers(server)["ECO-3"] == AnswerData("implante", "Fait en 2023")
    # The same change as the other person's is no conflict.
    same = other.save_statement(their_page, "ECO-3", "implante", "Fait en 2023", their_page["ECO-3-base"])
    assert same.status == 200 and same.json()["base"] == body["base"]
    # Having seen the other value, the person keeps theirs (the page's button): saved on that base.
    kept = other.save_statement(their_page, "ECO-3", "non_implante", "Pas encore", body["base"])
    assert kept.status == 200
    assert stored_answers(server)["ECO-3"] == AnswerData("non_implante", "Pas encore")
    # The first person's page is now stale in turn.
    assert me.save_statement(my_page, "ECO-3", "partiel", "", first.json()["base"]).status == 409
    assert stored_answers(server)["ECO-3"] == AnswerData("non_implante", "Pas encore")

    # Not signed in: 401 in JSON for the page's script, nothing saved.
    reply = Browser(server).post(f"/evaluations/{server.assessment_id}/enonces/ECO-5",
                                 {"csrf_token": me.csrf, "ECO-5-level": "implante"}, accept="application/json")
    assert reply.status == 401 and reply.json()["login"].startswith("/connexion")
    # An unknown level: 422, nothing saved.
    bad = me.save_statement(my_page, "ECO-5", "presque", "", my_page["ECO-5-base"])
    assert bad.status == 422 and "ECO-5" not in stored_answers(server)
    server.assert_no_server_error()


# --- Sign-in throttling across the two workers ----------------------------------------------

def _served(server: Server, replies_by_tag: dict[str, Reply]) -> dict[str, tuple[int, int]]:
    """tag -> (pid of the worker that answered, status)."""
    return {tag: (server.pid_of(tag), reply.status) for tag, reply in replies_by_tag.items()}


def test_failed_sign_ins_are_counted_across_both_workers(server):
    browser = Browser(server)
    wrong = browser.login_fields(ADMIN, "pas le bon mot de passe")
    right = browser.login_fields(ADMIN, PASSWORD)
    replies = {}
    with two_workers(server) as pinned:
        for n in range(ACCOUNT_LIMIT):  # alternately on each worker
            tag = f"wrong={n}"
            replies[tag] = pinned.send(n % 2, browser, browser.build("POST", f"/connexion?{tag}", wrong))
        for which in (0, 1):
            tag = f"right={which}"
            replies[tag] = pinned.send(which, browser, browser.build("POST", f"/connexion?{tag}", right))
    served = _served(server, replies)
    assert {pid for pid, _ in served.values()} == server.pids, served
    assert [served[f"wrong={n}"][1] for n in range(ACCOUNT_LIMIT)] == [401] * ACCOUNT_LIMIT, served
    assert served["right=0"][1] == served["right=1"][1] == 429, served
    assert served["right=0"][0] != served["right=1"][0]
    assert "Trop de tentatives de connexion" in replies["right=1"].text
    assert browser.get("/").status == 302  # not signed in
    # Refused attempts are not counted again; the other account is not affected.
    assert throttle_rows(server) == {f"account:{ADMIN}": ACCOUNT_LIMIT, f"address:{HOST}": ACCOUNT_LIMIT}
    Browser(server).sign_in(MEMBER)
    server.assert_no_server_error()


def test_failed_sign_ins_from_one_address_are_counted_across_both_workers(server):
    browser = Browser(server)
    attempts = [browser.login_fields(f"personne{n}@inconnu.example", "pas le bon mot de passe")
                for n in range(ADDRESS_LIMIT)]  # a different account each time
    right = browser.login_fields(MEMBER, PASSWORD)
    replies = {}
    with two_workers(server) as pinned:
        for n, fields in enumerate(attempts):  # alternately on each worker
            tag = f"wrong={n}"
            replies[tag] = pinned.send(n % 2, browser, browser.build("POST", f"/connexion?{tag}", fields))
        for which in (0, 1):
            tag = f"right={which}"
            replies[tag] = pinned.send(which, browser, browser.build("POST", f"/connexion?{tag}", right))
    served = _served(server, replies)
    assert {pid for pid, _ in served.values()} == server.pids, served
    assert [served[f"wrong={n}"][1] for n in range(ADDRESS_LIMIT)] == [401] * ADDRESS_LIMIT, served
    assert served["right=0"][1] == served["right=1"][1] == 429, served
    assert served["right=0"][0] != served["right=1"][0]
    assert throttle_rows(server)[f"address:{HOST}"] == ADDRESS_LIMIT
    server.assert_no_server_error()


def test_simultaneous_failed_sign_ins_on_both_workers_are_all_counted(server):
    """Someone guessing passwords sends them in parallel, so that both workers check one at once:
    every password actually checked is counted, and no more than the limit are checked."""
    browser = Browser(server)
    wrong = browser.login_fields(ADMIN, "pas le bon mot de passe")
    right = browser.login_fields(ADMIN, PASSWORD)
    with two_workers(server) as pinned:
        first = pinned.send(0, browser, browser.build("POST", "/connexion?wrong=0", wrong))  # the rows exist
        statuses = [first.status]
        for n in range(1, 9, 2):
            pair = pinned.send_both([(browser, browser.build("POST", f"/connexion?wrong={n + k}", wrong))
                                     for k in (0, 1)])
            statuses += [reply.status for reply in pair]
        last = pinned.send(1, browser, browser.build("POST", "/connexion?right", right))
    assert server.pid_of("wrong=1") != server.pid_of("wrong=2")  # the first pair: one on each worker
    checked = statuses.count(401)  # passwords actually checked
    assert not [s for s in statuses if s >= 500], statuses
    assert set(statuses) <= {401, 429}, statuses
    assert checked == ACCOUNT_LIMIT, statuses
    assert throttle_rows(server) == {f"account:{ADMIN}": checked, f"address:{HOST}": checked}, statuses
    assert last.status == 429
    server.assert_no_server_error()
