"""Identical submissions at the same moment, and a whole-page save beside a colleague's, through
gunicorn with two workers on SQLite and PostgreSQL (issue 8: D5, D6, D7).

What must hold: the database keeps one assessment per meeting, one organisation per name, one
territory per code and one first administrator however many identical forms arrive at once,
and every extra one gets the message a duplicate gets (never a 500); a whole-page save never
erases what someone else saved on a statement the person did not touch.
"""
from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from pin_grid.extensions import db
from pin_grid.models import Assessment, Installation, Organization, Territory, User
from pin_grid.services import AnswerData

from .conftest import ADMIN, PASSWORD
from .test_concurrency import MEMBER, Browser, Reply, read_db, running_server, server, stored_answers  # noqa: F401
from .test_web import TOKEN, form_fields

SAME_MOMENT = 12


def _copy(browser: Browser) -> Browser:
    """Another connection of the same browser (same cookies), for requests sent together."""
    twin = Browser(browser.server)
    twin.cookies, twin.csrf = dict(browser.cookies), browser.csrf
    return twin


def at_once(browser: Browser, path: str, bodies: list[dict]) -> list[Reply]:
    """Post every body at the same moment, each from its own connection of `browser`."""
    start = threading.Barrier(len(bodies))

    def post(body: dict) -> Reply:
        twin = _copy(browser)
        start.wait()
        return twin.post(path, body)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(post, bodies))


def _count(server, model, *where) -> int:
    return read_db(server.db_url, lambda: db.session.scalar(select(func.count()).select_from(model).where(*where)))


def _new_assessment_form(browser: Browser, date: str, organization: str) -> dict:
    fields = form_fields(browser.get("/evaluations/nouvelle").text)
    fields.update({"territory": "1", "date": date, "participants-0-name": "Ana", "participants-0-role": "intervenante",
                   "participants-0-sector": "cisss", "organizations-0-name": organization,
                   "organizations-0-sector": "communautaire"})
    return fields


def test_identical_new_assessments_sent_at_once_make_one(server):
    me = Browser(server).sign_in(ADMIN)
    body = _new_assessment_form(me, "2024-06-01", "Maison des familles du Nord")
    replies = at_once(me, "/evaluations/nouvelle", [body] * SAME_MOMENT)
    assert sorted(r.status for r in replies) == [302] + [409] * (SAME_MOMENT - 1), [r.status for r in replies]
    for refused in (r for r in replies if r.status == 409):
        assert "Une évaluation existe déjà pour ce territoire, à cette date et de ce point de vue." in refused.text
    assert _count(server, Assessment, Assessment.date == dt.date(2024, 6, 1)) == 1
    assert _count(server, Organization, Organization.name == "Maison des familles du Nord") == 1
    server.assert_no_server_error()


def test_the_same_new_organisation_typed_in_assessments_sent_at_once_is_one_organisation(server):
    me = Browser(server).sign_in(ADMIN)
    # The same organisation, written a little differently each time, in twelve meetings.
    bodies = [_new_assessment_form(me, f"2024-05-{day:02d}", name) for day, name in
              enumerate(["Carrefour jeunesse-emploi", "carrefour jeunesse-emploi", "Carrefour  Jeunesse-Emploi"] * 4,
                        start=1)]
    replies = at_once(me, "/evaluations/nouvelle", bodies)
    assert [r.status for r in replies] == [302] * SAME_MOMENT, [(r.status, r.text[-2000:]) for r in replies]
    assert _count(server, Organization, Organization.name_key == "carrefour jeunesse-emploi") == 1
    server.assert_no_server_error()


def test_the_same_territory_code_sent_at_once_makes_one_territory(server):
    me = Browser(server).sign_in(ADMIN)
    fields = form_fields(me.get("/territoires/nouveau").text)
    fields.update(code="LAVAL", name="Laval", region="Laval")
    replies = at_once(me, "/territoires/nouveau", [fields] * SAME_MOMENT)
    # The extra ones get what a duplicate typed later gets: the form again, with the reason (422).
    assert sorted(r.status for r in replies) == [302] + [422] * (SAME_MOMENT - 1), [r.status for r in replies]
    for refused in (r for r in replies if r.status == 422):
        assert "Le code de territoire « LAVAL » est déjà utilisé." in refused.text
    assert _count(server, Territory, Territory.code == "LAVAL") == 1
    server.assert_no_server_error()


def test_the_first_administrator_page_sent_at_once_makes_one_administrator(new_database, tmp_path):
    with running_server(new_database(), tmp_path) as empty:
        browser = Browser(empty)
        page = browser.get("/installation")
        assert page.status == 200
        token = TOKEN.search(page.text).group(1)
        bodies = [{"csrf_token": token, "email": f"admin{n}@cisss.example", "display_name": "",
                   "password": PASSWORD, "confirm": PASSWORD} for n in range(SAME_MOMENT)]
        replies = at_once(browser, "/installation", bodies)
        statuses = [r.status for r in replies]
        assert statuses.count(302) == 1, statuses
        # Later ones find the page gone (404); those that arrived meanwhile are told why (422).
        assert set(statuses) <= {302, 404, 422}, statuses
        for refused in (r for r in replies if r.status == 422):
            assert "Un compte administrateur existe déjà : connectez-vous." in refused.text
        assert _count(empty, User) == 1 and _count(empty, Installation) == 1
        empty.assert_no_server_error()


def test_a_whole_page_save_keeps_what_a_colleague_saved_meanwhile(server):
    url = f"/evaluations/{server.assessment_id}/grille"
    a, b = Browser(server).sign_in(ADMIN), Browser(server).sign_in(MEMBER)
    earlier = b.open_grid()  # what B's script saved before: a comment on two lines (sent with LF)
    assert b.save_statement(earlier, "ECO-3", "partiel", "Ligne 1\nLigne 2", earlier["ECO-3-base"]).status == 200
    a_page = a.open_grid()
    b_page = b.open_grid()
    assert b.save_statement(b_page, "ECO-2", "implante", "Avis de B", b_page["ECO-2-base"]).status == 200

    # A changes ECO-1 only and saves the page, sent as a browser sends a form (CR LF in textareas).
    sent = {k: v.replace("\n", "\r\n") for k, v in a_page.items()}
    sent.update({"ECO-1-level": "non_implante", "intent": "save"})
    reply = a.post(url, sent)
    assert reply.status == 302, reply.text[-3000:]
    expected = {"ECO-1": AnswerData("non_implante"), "ECO-2": AnswerData("implante", "Avis de B"),
                "ECO-3": AnswerData("partiel", "Ligne 1\nLigne 2")}
    assert stored_answers(server) == expected
    # The same stale page saved once more: still nothing of B's is erased.
    assert a.post(url, sent).status == 302
    assert stored_answers(server) == expected
    server.assert_no_server_error()


def test_a_whole_page_save_without_base_versions_never_overwrites(server):
    url = f"/evaluations/{server.assessment_id}/grille"
    b = Browser(server).sign_in(MEMBER)
    b_page = b.open_grid()
    assert b.save_statement(b_page, "ECO-2", "implante", "Avis de B", b_page["ECO-2-base"]).status == 200
    a = Browser(server).sign_in(ADMIN)
    a.open_grid()
    # A hand-made request: no « -base » field, one answered statement, one blank one.
    reply = a.post(url, {"csrf_token": a.csrf, "ECO-2-level": "non_implante", "ECO-2-comment": "Écrasé ?",
                         "PAR-1-level": "implante", "intent": "save"})
    assert reply.status == 409, reply.text[-3000:]
    assert "Quelqu'un d'autre a modifié" in reply.text or "modifié" in reply.text
    assert stored_answers(server) == {"ECO-2": AnswerData("implante", "Avis de B"), "PAR-1": AnswerData("implante")}
    server.assert_no_server_error()
