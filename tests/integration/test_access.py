"""Who may see and do what, by role and territory, through real HTTP (issue: accounts and roles).

Two territories in two regions, each with a draft and a finalised assessment:

    MTL-NORD  « Montréal-Nord »       region Montréal
    LAV-01    « Laval-des-Rapides »   region Laval

and one account per role: the administrator, a gestionnaire of Montréal, a coordonnateur and a
membre of MTL-NORD. The expected statuses below are written from the rules of the issue, not
read from pin_grid/access.py.
"""
from __future__ import annotations

import html
import io
import re
import shutil
from pathlib import Path

import openpyxl
import pypdf
import pytest
from sqlalchemy import select

from pin_grid import access
from pin_grid.views import dashboard
from pin_grid.extensions import db
from pin_grid.models import AuditEvent, Assessment, Organization, Territory, User

from .conftest import ADMIN, add_user, import_document, make_app, sign_in
from .test_web import form_fields, page, visible

GEST = "gestion@cisss.example"
COORD = "coord@cisss.example"
COORD2 = "coord2@cisss.example"
MEMBRE = "membre@cisss.example"
VICTIM = "membre.laval@cisss.example"  # the account the user routes are tried on

MTL_NAME, LAV_NAME = "Montréal-Nord", "Laval-des-Rapides"
MTL_SECRET, LAV_SECRET = "Note montréalaise 1234", "Secret lavallois 5678"
LAV_DRAFT_SECRET = "Brouillon lavallois 9012"
# Nothing of the other territory may reach someone who may not read it.
LAV_WORDS = (LAV_NAME, LAV_SECRET, LAV_DRAFT_SECRET, "LAV-01")
# Who met in each territory's assessments (every record of build_world names them): no page
# shows them to someone outside that territory's scope.
PEOPLE = {"own": ("Personne-MTL-NORD", "Organisme-MTL-NORD"), "other": ("Personne-LAV-01", "Organisme-LAV-01")}
# The pages without an id, as each role receives them (200, or the refusal of its role).
PAGES = ("/", "/evaluations/nouvelle", "/evaluations/nouvelle?territoire={lav}", "/comparaison/",
         "/comparaison/?annee=2024", "/comparaison/?annee=2024&region=Laval", "/comparaison/?annee=2025",
         "/territoires/nouveau", "/admin/comptes", "/mot-de-passe", "/admin/territoires", "/admin/organisations",
         "/admin/organisations?q=organisme",
         "/exports/", "/exports/resultats?format=csv", "/exports/reponses?format=csv",
         "/exports/comparaison?annee=2024&format=csv", "/exports/evaluations",
         "/tableau-de-bord", "/tableau-de-bord?annee=2024&region=Laval", "/tableau-de-bord?perspective=partner",
         "/territoires/LAV-01/tableau-de-bord")

ANY_TOKEN = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


def csrf(client) -> str:
    """A CSRF token of this browser's session (the sign-out form of every page carries one)."""
    return ANY_TOKEN.search(client.get("/").get_data(as_text=True)).group(1)


def _record(grid, code, name, region, date, status, levels, comment):
    return {
        "territory": {"code": code, "name": name, "region": region}, "date": date, "perspective": None,
        "status": status, "grid_version": grid.version,
        "participants": [{"name": f"Personne-{code}", "role": "intervenante", "sector": "cisss"}],
        "organizations": [{"name": f"Organisme-{code}", "sector": "communautaire"}],
        "answers": {i: {"level": lv, "comment": comment if n == 0 else "", "priority": False, "action": "",
                        "action_owner": "", "action_due": None} for n, (i, lv) in enumerate(levels.items())},
    }


def build_world(web_app, tmp_path, grid) -> dict:
    """Import the four assessments with `flask import-assessments`, then create the accounts."""
    everything = {i: "implante" for i in grid.items}
    first_two = dict(list(everything.items())[:2])
    records = [
        _record(grid, "MTL-NORD", MTL_NAME, "Montréal", "2024-03-14", "finalized", everything, MTL_SECRET),
        _record(grid, "MTL-NORD", MTL_NAME, "Montréal", "2025-02-01", "draft", first_two, MTL_SECRET),
        _record(grid, "LAV-01", LAV_NAME, "Laval", "2024-04-02", "finalized", everything, LAV_SECRET),
        _record(grid, "LAV-01", LAV_NAME, "Laval", "2025-02-03", "draft", first_two, LAV_DRAFT_SECRET),
    ]
    import_document(web_app, tmp_path / "world.json", records)

    add_user(web_app, GEST, "gestionnaire", regions=["Montréal"])
    add_user(web_app, COORD, "coordonnateur", territories=["MTL-NORD"])
    add_user(web_app, MEMBRE, "membre", territories=["MTL-NORD"])
    add_user(web_app, VICTIM, "membre", territories=["LAV-01"])
    with web_app.app_context():
        ids = {}
        for a in db.session.scalars(select(Assessment)):
            side = "own" if a.territory.code == "MTL-NORD" else "other"
            ids[f"{side}_{'draft' if a.is_draft else 'final'}"] = a.id
        ids["mtl"] = db.session.scalar(select(Territory.id).where(Territory.code == "MTL-NORD"))
        ids["lav"] = db.session.scalar(select(Territory.id).where(Territory.code == "LAV-01"))
        ids["victim"] = db.session.scalar(select(User.id).where(User.email == VICTIM))
        db.session.remove()
    assert set(ids) >= {"own_draft", "own_final", "other_draft", "other_final"}
    return ids


def organization_ids(app) -> dict:
    """The organisation the routes with an organisation id are tried on (LAV-01's), and the one
    it is merged into (MTL-NORD's)."""
    with app.app_context():
        ids = {key: db.session.scalar(select(Organization.id).where(Organization.name == f"Organisme-{code}"))
               for key, code in (("organization", "LAV-01"), ("kept_organization", "MTL-NORD"))}
        db.session.remove()
    assert all(ids.values()), ids
    return ids


def _copy_database(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", f"{target}{suffix}")


@pytest.fixture(scope="module")
def world_template(sqlite_template, tmp_path_factory, grid):
    """The territories, assessments and accounts, made once (hashing passwords takes time);
    each test works on its own copy."""
    path = tmp_path_factory.mktemp("world") / "world.sqlite"
    _copy_database(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    add_user(app, ADMIN, "admin")
    ids = build_world(app, path.parent, grid)
    ids.update(organization_ids(app))
    add_user(app, COORD2, "coordonnateur", territories=["MTL-NORD"])
    # Each person signed in once: their sessions are in the database every test copies.
    cookies = {email: sign_in(app.test_client(), email).get_cookie("session").value
               for email in (ADMIN, GEST, COORD, COORD2, MEMBRE)}
    with app.app_context():
        db.engine.dispose()
    return path, ids, cookies


@pytest.fixture
def web_app(world_template, tmp_path):
    """Overrides conftest's web_app: a fresh copy of the world, with its administrator."""
    source = world_template[0]
    path = tmp_path / "pin_grid.sqlite"
    _copy_database(source, path)
    app = make_app(f"sqlite:///{path}")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def world(world_template):
    return dict(world_template[1])


@pytest.fixture
def browser(web_app, world_template):
    """browser(email): a browser signed in as that person."""
    def open_as(email):
        client = web_app.test_client()
        client.set_cookie("session", world_template[2][email])
        assert client.get("/").status_code == 200, email
        return client

    return open_as


def denied_events(web_app, email):
    with web_app.app_context():
        events = [(e.action, e.detail) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.actor == email, AuditEvent.action == "access_denied"))]
        db.session.remove()
    return events


# --- the whole table: every route that takes an id, for every role ------------------------

ROLES = {"admin": ADMIN, "gestionnaire": GEST, "coordonnateur": COORD, "membre": MEMBRE}

# What each role may do in the territories it works with (the table).
MAY = {
    "admin": {"read", "create", "edit", "finalize", "revise", "audit", "delete", "manage", "regional"},
    "gestionnaire": {"read", "regional"},  # « regional »: the regional dashboard
    "coordonnateur": {"read", "create", "edit", "finalize", "revise", "audit", "delete"},
    "membre": {"read", "create", "edit"},
}
# MTL-NORD is in everyone's scope here; LAV-01 only in the administrator's.
IN_SCOPE = {"admin": {"own", "other"}, "gestionnaire": {"own"}, "coordonnateur": {"own"}, "membre": {"own"}}

# endpoint -> (permission needed, {state of the assessment: status when permitted}).
# Not permitted: 404 outside one's territories (the existence is no business of theirs), 403 inside.
# A change to a finalised assessment is refused by its state (409 locked), not by the role.
# « global »: what belongs to no territory (accounts, organisations) and the administration of
# territories: administrators only, 403 for everyone else.
EXPECTED = {
    ("assessments.details", "GET"): ("edit", {"draft": 200, "final": 302}),  # a finalised one shows its results
    ("assessments.details", "POST"): ("edit", {"draft": 302, "final": 409}),
    ("assessments.grid", "GET"): ("edit", {"draft": 200, "final": 302}),  # a finalised one: its results
    ("assessments.save_grid", "POST"): ("edit", {"draft": 302, "final": 409}),
    ("assessments.save_statement", "POST"): ("edit", {"draft": 200, "final": 409}),
    # The page that sums up what finalising locks; the drafts here miss answers: 422 with the list.
    ("assessments.finalize", "GET"): ("finalize", {"draft": 422, "final": 302}),
    ("assessments.finalize", "POST"): ("finalize", {"draft": 422, "final": 409}),
    # Deleting a draft started by mistake; a finalised assessment never.
    ("assessments.delete", "GET"): ("delete", {"draft": 200, "final": 409}),
    ("assessments.delete", "POST"): ("delete", {"draft": 302, "final": 409}),
    ("assessments.results", "GET"): ("read", {"draft": 200, "final": 200}),
    ("assessments.revise", "POST"): ("revise", {"draft": 409, "final": 302}),  # only a finalised one is revised
    ("assessments.audit", "GET"): ("audit", {"draft": 200, "final": 200}),
    ("auth.set_active", "POST"): ("manage", {"global": 302}),
    ("auth.edit_user", "GET"): ("manage", {"global": 200}),
    ("auth.edit_user", "POST"): ("manage", {"global": 302}),
    ("admin.territories", "GET"): ("manage", {"global": 200}),
    ("admin.edit_territory", "GET"): ("manage", {"global": 200}),
    ("admin.edit_territory", "POST"): ("manage", {"global": 302}),
    ("admin.organizations", "GET"): ("manage", {"global": 200}),
    ("admin.edit_organization", "GET"): ("manage", {"global": 200}),
    ("admin.edit_organization", "POST"): ("manage", {"global": 302}),
    ("admin.merge_organization", "GET"): ("manage", {"global": 200}),
    ("admin.merge_organization", "POST"): ("manage", {"global": 302}),  # LAV-01's into MTL-NORD's, confirmed
    # The dashboards: a territory's for whoever may read it; the regional one for administrators
    # and gestionnaires.
    ("dashboard.territory", "GET"): ("read", {"territory": 200}),
    ("dashboard.region", "GET"): ("regional", {"global": 200}),
    # The PDF reports: the profile for whoever may read the results; the regional report as the
    # regional dashboard.
    ("reports.profile", "GET"): ("read", {"draft": 200, "final": 200}),
    ("reports.regional", "GET"): ("regional", {"global": 200}),
}
# A statement the drafts leave blank: a save without its base version may fill it (never overwrite).
URL_VALUES = {"item_id": "PAR-1", "change": "activer"}
# The « global » routes' arguments: a key of the world's ids, or the value itself.
GLOBAL_VALUES = {"user_id": "victim", "organization_id": "organization", "code": "MTL-NORD"}


def pdf_text(response) -> str:
    """What a PDF report says (its text, as a reader copies it)."""
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    return " ".join((p.extract_text() or "").replace("\u00a0", " ") for p in reader.pages)


def expected_status(role, endpoint, method, side, state):
    permission, when_permitted = EXPECTED[(endpoint, method)]
    if state == "global":
        return when_permitted["global"] if permission in MAY[role] else 403
    if side not in IN_SCOPE[role]:
        return 404
    if permission in MAY[role]:
        return when_permitted[state]
    if (endpoint, method) in (("assessments.grid", "GET"), ("assessments.details", "GET"), ("assessments.finalize", "GET")) \
            and state == "final" and "read" in MAY[role]:
        return 302  # the forms of a finalised assessment only send to its results, which they may read
    return 403


def id_routes(web_app):
    """Every route of the app that takes an id, and every administration page, with each of its methods."""
    routes = []
    for rule in web_app.url_map.iter_rules():
        if not any(arg.endswith("_id") for arg in rule.arguments) and not rule.endpoint.startswith(
                ("admin.", "dashboard.", "reports.")):
            continue
        unknown = rule.arguments - {"assessment_id", *GLOBAL_VALUES, *URL_VALUES}
        assert not unknown, f"{rule.rule}: teach test_access.py how to build {unknown}"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            assert (rule.endpoint, method) in EXPECTED, (
                f"new route {method} {rule.rule} ({rule.endpoint}): add who may use it to EXPECTED")
            routes.append((rule, method))
    return routes


def post_body(endpoint, token, ids, side, state):
    territory = ids["mtl" if side == "own" else "lav"]
    date = {("own", "draft"): "2025-02-01", ("own", "final"): "2024-03-14",
            ("other", "draft"): "2025-02-03", ("other", "final"): "2024-04-02"}.get((side, state))
    return {
        "assessments.details": {"csrf_token": token, "territory": str(territory), "date": date},
        "assessments.save_grid": {"csrf_token": token, "ECO-3-level": "partiel", "ECO-3-comment": "essai",
                                  "intent": "save"},
        "assessments.save_statement": {"csrf_token": token, "PAR-1-level": "partiel"},
        "assessments.revise": {"csrf_token": token, "reason": "Correction d'une coquille"},
        "assessments.finalize": {"csrf_token": token},
        "assessments.delete": {"csrf_token": token},
        "auth.set_active": {"csrf_token": token},
        "auth.edit_user": {"csrf_token": token, "role": "membre", "territories": "LAV-01"},
        "admin.edit_territory": {"csrf_token": token, "code": "CHANGE", "name": MTL_NAME, "region": "Montréal",
                                 "territorial_unit": "RLS de Montréal-Nord"},
        "admin.edit_organization": {"csrf_token": token, "name": "Organisme-LAV-01", "sector": "autre"},
        "admin.merge_organization": {"csrf_token": token, "keep": str(ids["kept_organization"]), "confirm": "y"},
    }[endpoint]


@pytest.mark.parametrize("role", list(ROLES))
def test_every_route_with_an_id_for_every_role(web_app, world, role, browser):
    client = browser(ROLES[role])
    token = csrf(client)
    cases = []
    for rule, method in id_routes(web_app):
        if rule.endpoint == "dashboard.territory":  # by territory code: MTL-NORD in everyone's scope, LAV-01 not
            cases += [(rule, method, side, "territory", {"code": code}) for side, code in (("own", "MTL-NORD"),
                                                                                            ("other", "LAV-01"))]
            continue
        if rule.arguments & {"user_id", "organization_id"} or rule.endpoint.startswith(("admin.", "dashboard.")) \
                or rule.endpoint == "reports.regional":
            values = {arg: world.get(key, key) for arg, key in GLOBAL_VALUES.items() if arg in rule.arguments}
            cases.append((rule, method, "global", "global", values))
            continue
        for side in ("own", "other"):
            for state in ("draft", "final"):
                cases.append((rule, method, side, state, {"assessment_id": world[f"{side}_{state}"]}))
    # Reads first, then changes; opening a revision (which adds an assessment), then deleting, then
    # merging an organisation (which deletes it), last.
    cases.sort(key=lambda c: (c[1] != "GET", c[0].endpoint == "admin.merge_organization",
                              c[0].endpoint == "assessments.delete", c[0].endpoint == "assessments.revise"))
    assert {c[0].endpoint for c in cases} >= {e for e, _ in EXPECTED}

    problems = []
    # The people and organisations of the territories outside this role's scope: on no page.
    hidden = [name for side, names in PEOPLE.items() if side not in IN_SCOPE[role] for name in names]
    seen = []
    for url in (p.format(**world) for p in PAGES):
        response = client.get(url)
        seen.append(page(response))
        if leaked := [w for w in hidden if w in seen[-1]]:
            problems.append(f"{role} GET {url}: {response.status_code} page shows {leaked}")
    for rule, method, side, state, values in cases:
        url = rule.build({**URL_VALUES, **values})[1]
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data=post_body(rule.endpoint, token, world, side, state))
        wanted = expected_status(role, rule.endpoint, method, side, state)
        if response.status_code != wanted:
            problems.append(f"{role} {method} {url} ({side} {state}): {response.status_code}, expected {wanted}")
        text = pdf_text(response) if response.mimetype == "application/pdf" else page(response)
        seen.append(text)
        if response.status_code in (403, 404) or side == "other" and role != "admin":
            leaked = [w for w in LAV_WORDS if w in text and w not in url]  # the page may quote its address
            if leaked:
                problems.append(f"{role} {method} {url}: {response.status_code} page shows {leaked}")
        if leaked := [w for w in hidden if w in text]:
            problems.append(f"{role} {method} {url}: {response.status_code} page shows {leaked}")
    # … while those of the territories in scope are shown (the check above is not empty-handed).
    unseen = [name for side in IN_SCOPE[role] for name in PEOPLE[side] if not any(name in text for text in seen)]
    if unseen:
        problems.append(f"{role}: no page shows {unseen}")
    assert not problems, "\n".join(problems)


def test_the_expected_table_agrees_with_the_rules_module():
    """The table above is written from the issue; the app's own rules must say the same."""
    class Person:
        def __init__(self, role):
            self.role, self.territories, self.region_names = role, [], set()

    for role, allowed in MAY.items():
        person = Person(role)
        for action in (access.READ, access.CREATE, access.EDIT, access.FINALIZE, access.REVISE, access.AUDIT,
                       access.DELETE):
            territory = type("T", (), {"id": 1, "region": "Montréal"})()
            person.territories, person.region_names = [territory], {"Montréal"}
            assert access.can(person, action, territory) == (action in allowed), (role, action)
        assert access.may_manage(person) == ("manage" in allowed)
        person.is_authenticated = True
        assert access.may_see_regional_dashboard(person) == ("regional" in allowed)
        assert access.may_compare(person) == (role != "membre")


# --- what each role sees and may do --------------------------------------------------------

def test_home_lists_only_the_territories_in_scope(web_app, world, browser):
    for email, names in [(ADMIN, {MTL_NAME, LAV_NAME}), (GEST, {MTL_NAME}), (COORD, {MTL_NAME}),
                         (MEMBRE, {MTL_NAME})]:
        text = visible(page(browser(email).get("/")))
        for name in (MTL_NAME, LAV_NAME):
            assert (name in text) == (name in names), (email, name)
        if email != ADMIN:
            assert not [w for w in LAV_WORDS if w in text], email


def test_gestionnaire_reads_but_changes_nothing(web_app, world, grid, browser):
    client = browser(GEST)
    token = csrf(client)
    # reads
    assert client.get(f"/evaluations/{world['own_final']}/resultats").status_code == 200
    assert client.get(f"/evaluations/{world['own_draft']}/resultats").status_code == 200
    assert client.get("/comparaison/").status_code == 200
    # no creating
    assert client.get("/evaluations/nouvelle").status_code == 403
    response = client.post("/evaluations/nouvelle", data={"csrf_token": token, "territory": str(world["mtl"]),
                                                          "date": "2025-03-01"})
    assert response.status_code == 403
    # no editing, no finalising
    answers = {f"{i}-level": "implante" for i in grid.items}
    for intent in ("save", "finalize"):
        response = client.post(f"/evaluations/{world['own_draft']}/grille",
                               data={"csrf_token": token, **answers, "intent": intent})
        assert response.status_code == 403, intent
    assert client.get(f"/evaluations/{world['own_draft']}/grille").status_code == 403
    assert client.get(f"/evaluations/{world['own_draft']}/details").status_code == 403
    assert client.post(f"/evaluations/{world['own_final']}/revision",
                       data={"csrf_token": token, "reason": "non"}).status_code == 403
    assert client.get("/territoires/nouveau").status_code == 403
    assert client.get("/admin/comptes").status_code == 403
    with web_app.app_context():
        draft = db.session.get(Assessment, world["own_draft"])
        assert draft.is_draft and len([a for a in draft.answers if a.level]) == 2
        assert db.session.scalar(select(db.func.count(Assessment.id))) == 4
        db.session.remove()


def test_membre_saves_but_may_not_finalise(web_app, world, grid, browser):
    client = browser(MEMBRE)
    draft = world["own_draft"]
    data = form_fields(client.get(f"/evaluations/{draft}/grille").get_data(as_text=True))
    for item_id in grid.items:
        data[f"{item_id}-level"] = "implante"
    data["PRN-6-comment"] = "Tapé par le membre"
    data["intent"] = "finalize"
    response = client.post(f"/evaluations/{draft}/grille", data=data)
    assert response.status_code == 403
    text = page(response)
    assert "la finalisation revient à une coordonnatrice ou à un coordonnateur" in text
    assert 'name="PRN-6-level" value="implante" checked' in text and "Tapé par le membre" in text
    with web_app.app_context():
        stored = db.session.get(Assessment, draft)
        assert stored.is_draft
        assert {a.item_id for a in stored.answers if a.level} == set(grid.items)  # the save happened
        db.session.remove()
    # … and a coordonnateur of the territory finalises it.
    coord = browser(COORD)
    data = form_fields(coord.get(f"/evaluations/{draft}/grille").get_data(as_text=True))
    response = coord.post(f"/evaluations/{draft}/grille", data={**data, "intent": "finalize"})
    assert response.status_code == 302 and response.location.endswith("/finaliser")
    response = coord.post(response.location, data={"csrf_token": csrf(coord)})
    assert response.status_code == 302 and response.location.endswith("/resultats")


def test_membre_may_not_open_the_comparison_nor_the_audit_trail(web_app, world, browser):
    client = browser(MEMBRE)
    assert client.get("/comparaison/").status_code == 403
    assert client.get("/comparaison/?annee=2024").status_code == 403
    assert "/comparaison/" not in page(client.get("/"))  # not offered either
    assert client.get(f"/evaluations/{world['own_final']}/journal").status_code == 403
    assert client.get(f"/evaluations/{world['other_final']}/journal").status_code == 404


def test_gestionnaire_may_not_open_the_audit_trail_but_coordonnateur_may(web_app, world, browser):
    gest = browser(GEST)
    assert gest.get(f"/evaluations/{world['own_final']}/journal").status_code == 403
    assert gest.get(f"/evaluations/{world['other_final']}/journal").status_code == 404
    coord = browser(COORD)
    assert coord.get(f"/evaluations/{world['own_final']}/journal").status_code == 200
    assert coord.get(f"/evaluations/{world['other_final']}/journal").status_code == 404


def test_membre_may_not_start_or_move_an_assessment_into_another_territory(web_app, world, browser):
    client = browser(MEMBRE)
    token = csrf(client)
    response = client.post("/evaluations/nouvelle", data={"csrf_token": token, "territory": str(world["lav"]),
                                                          "date": "2025-03-01"})
    assert response.status_code == 422 and LAV_NAME not in page(response)
    response = client.post(f"/evaluations/{world['own_draft']}/details",
                           data={"csrf_token": token, "territory": str(world["lav"]), "date": "2025-02-01"})
    assert response.status_code == 422 and LAV_NAME not in page(response)
    with web_app.app_context():
        assert db.session.get(Assessment, world["own_draft"]).territory_id == world["mtl"]
        assert db.session.scalar(select(db.func.count(Assessment.id))) == 4
        db.session.remove()
    # Within their territory they do start one.
    response = client.post("/evaluations/nouvelle", data={"csrf_token": token, "territory": str(world["mtl"]),
                                                          "date": "2025-03-01"})
    assert response.status_code == 302, page(response)


DATALIST = re.compile(r'<datalist id="organization-names">(.*?)</datalist>', re.S)


def suggested_organizations(response) -> set[str]:
    """The organisation names the page suggests (its <datalist>)."""
    assert response.status_code == 200, response.status_code
    found = DATALIST.search(response.get_data(as_text=True))
    assert found, "no organisation suggestions on the page"
    return {html.unescape(name) for name in re.findall(r'<option value="([^"]*)"', found.group(1))}


def test_organisation_suggestions_are_those_met_in_one_s_own_territories(web_app, world, grid, tmp_path, browser):
    """« Commencer une évaluation » and « Modifier les renseignements » suggest the organisations
    met in the assessments of one's territories (present, or the point of view of one), and no
    other territory's."""
    everything = {i: "implante" for i in grid.items}
    records = []
    for code, name, region in (("MTL-NORD", MTL_NAME, "Montréal"), ("LAV-01", LAV_NAME, "Laval")):
        record = _record(grid, code, name, region, "2024-06-01", "finalized", everything, "")
        record["perspective"] = {"organization": f"Point-de-vue-{code}"}
        records.append(record)
    import_document(web_app, tmp_path / "perspectives.json", records)
    mtl = {"Organisme-MTL-NORD", "Point-de-vue-MTL-NORD"}
    lav = {"Organisme-LAV-01", "Point-de-vue-LAV-01"}
    victim = sign_in(web_app.test_client(), VICTIM)
    for client, draft, expected in [(browser(MEMBRE), world["own_draft"], mtl),
                                    (browser(COORD), world["own_draft"], mtl),
                                    (victim, world["other_draft"], lav),
                                    (browser(ADMIN), world["own_draft"], mtl | lav)]:
        for url in ("/evaluations/nouvelle", f"/evaluations/{draft}/details"):
            assert suggested_organizations(client.get(url)) == expected, url


ROW_LABEL = re.compile(r"Territoire ([0-9A-F]{6})\b")


def comparison_rows(client, year=2024):
    response = client.get(f"/comparaison/?annee={year}")
    assert response.status_code == 200
    text = visible(page(response))
    return text, ROW_LABEL.findall(text)


def test_comparison_names_own_territories_and_labels_the_others(web_app, world, browser):
    lav_label = access.anonymous_label(world["lav"], web_app.config["SECRET_KEY"])
    coord_text, coord_labels = comparison_rows(browser(COORD))
    assert MTL_NAME in coord_text
    assert not [w for w in LAV_WORDS if w in coord_text]
    assert coord_labels == [lav_label]
    # stable: a second request, and another person of the same install
    assert comparison_rows(browser(COORD))[1] == [lav_label]
    other_text, other_labels = comparison_rows(browser(COORD2))
    assert other_labels == [lav_label] and MTL_NAME in other_text
    # the link of one's own row leads to results one may read; no link to the other's
    coord_page = page(browser(COORD).get("/comparaison/?annee=2024"))
    assert f"/evaluations/{world['own_final']}/resultats" in coord_page
    assert f"/evaluations/{world['other_final']}/resultats" not in coord_page


def test_administrator_sees_every_name_in_the_comparison(web_app, world, browser):
    text, labels = comparison_rows(browser(ADMIN))
    assert MTL_NAME in text and LAV_NAME in text and labels == []


def test_gestionnaire_sees_their_regions_by_name_and_the_others_anonymously(web_app, world, browser):
    text, labels = comparison_rows(browser(GEST))
    assert MTL_NAME in text and LAV_NAME not in text
    assert labels == [access.anonymous_label(world["lav"], web_app.config["SECRET_KEY"])]
    listing = page(browser(GEST).get("/comparaison/?annee=2024"))
    assert f"/evaluations/{world['own_final']}/resultats" in listing
    assert f"/evaluations/{world['other_final']}/resultats" not in listing


def test_the_comparison_filters_by_region_and_keeps_labels_anonymous(web_app, world, browser):
    lav_label = access.anonymous_label(world["lav"], web_app.config["SECRET_KEY"])
    coordinator = browser(COORD)
    laval = visible(page(coordinator.get("/comparaison/?annee=2024&region=Laval")))
    assert ROW_LABEL.findall(laval) == [lav_label] and MTL_NAME not in laval.split("Répartition")[0]
    montreal = visible(page(coordinator.get("/comparaison/?annee=2024&region=Montréal")))
    assert ROW_LABEL.findall(montreal) == [] and MTL_NAME in montreal
    # An unknown region shows every territory, as without a filter.
    assert ROW_LABEL.findall(visible(page(coordinator.get("/comparaison/?annee=2024&region=Nulle-part")))) == [lav_label]


def test_refused_accesses_are_recorded(web_app, world, browser):
    client = browser(MEMBRE)
    assert client.get(f"/evaluations/{world['other_final']}/resultats").status_code == 404
    assert client.get("/comparaison/").status_code == 403
    assert client.get("/admin/comptes").status_code == 403
    events = denied_events(web_app, MEMBRE)
    details = [detail for _action, detail in events]
    assert f"GET /evaluations/{world['other_final']}/resultats -> 404" in details
    assert "GET /comparaison/ -> 403" in details
    assert "GET /admin/comptes -> 403" in details
    assert len(events) == 3


def test_an_administrator_changes_an_account_scope_and_it_applies_at_once(web_app, world, browser):
    coordinator = browser(COORD)
    assert LAV_NAME not in visible(page(coordinator.get("/")))
    admin = browser(ADMIN)
    with web_app.app_context():
        coord_id = db.session.scalar(select(User.id).where(User.email == COORD))
        db.session.remove()
    form = page(admin.get(f"/admin/comptes/{coord_id}"))
    assert re.search(r'<option selected value="MTL-NORD">', form), form
    response = admin.post(f"/admin/comptes/{coord_id}", data={
        "csrf_token": csrf(admin), "role": "coordonnateur", "territories": ["MTL-NORD", "LAV-01"]})
    assert response.status_code == 302, page(response)
    # the coordinator's very next request sees the new territory
    assert LAV_NAME in visible(page(coordinator.get("/")))
    assert coordinator.get(f"/evaluations/{world['other_final']}/resultats").status_code == 200
    with web_app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user_update")).one()
        db.session.remove()
    assert event.actor == ADMIN and "LAV-01" in event.new_value and "LAV-01" not in event.old_value


def test_an_administrator_gives_a_new_password_which_ends_the_person_s_sessions(web_app, world, browser):
    membre = browser(MEMBRE)
    admin = browser(ADMIN)
    with web_app.app_context():
        membre_id = db.session.scalar(select(User.id).where(User.email == MEMBRE))
        db.session.remove()
    weak = admin.post(f"/admin/comptes/{membre_id}", data={
        "csrf_token": csrf(admin), "role": "membre", "territories": ["MTL-NORD"],
        "password": "password1234", "confirm": "password1234"})
    assert weak.status_code == 422 and "trop courant" in page(weak)
    response = admin.post(f"/admin/comptes/{membre_id}", data={
        "csrf_token": csrf(admin), "role": "membre", "territories": ["MTL-NORD"],
        "password": "Une autre phrase de passe, bien longue", "confirm": "Une autre phrase de passe, bien longue"})
    assert response.status_code == 302
    assert membre.get("/").status_code == 302  # signed out
    assert sign_in(web_app.test_client(), MEMBRE, "Une autre phrase de passe, bien longue")


# --- the exports: each one for each role, and whose territories it holds ---------------------

# Export -> status for each role: the comparison for those who may compare, `pin-grid/1` for
# administrators and coordonnateurs, the rest for everyone (issue 11).
EVERYONE = {"admin": 200, "gestionnaire": 200, "coordonnateur": 200, "membre": 200}
EXPORTS = {
    "/exports/": EVERYONE,
    "/exports/resultats?format=csv&dialect=rfc4180": EVERYONE,
    "/exports/reponses?format=csv&dialect=rfc4180": EVERYONE,
    "/exports/reponses?format=xlsx": EVERYONE,
    "/exports/comparaison?annee=2024&format=csv": {**EVERYONE, "membre": 403},
    "/exports/comparaison?annee=2024&format=xlsx": {**EVERYONE, "membre": 403},
    "/exports/evaluations": {**EVERYONE, "gestionnaire": 403, "membre": 403},
}


def export_text(response) -> str:
    if response.mimetype.endswith("spreadsheetml.sheet"):
        book = openpyxl.load_workbook(io.BytesIO(response.data))
        return " ".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v)
    return page(response)


@pytest.mark.parametrize("role", list(ROLES))
def test_every_export_for_every_role(web_app, world, role, browser):
    """Each export holds the territories in the person's scope by name; the comparison the
    others under their anonymous label, the rest not at all."""
    client = browser(ROLES[role])
    lav_label = access.anonymous_label(world["lav"], web_app.config["SECRET_KEY"])
    problems = []
    for url, statuses in EXPORTS.items():
        response = client.get(url)
        if response.status_code != statuses[role]:
            problems.append(f"{role} GET {url}: {response.status_code}, expected {statuses[role]}")
            continue
        text = export_text(response)
        if response.status_code != 200 or url == "/exports/":
            if role != "admin" and (leaked := [w for w in (*LAV_WORDS, *PEOPLE["other"]) if w in text]):
                problems.append(f"{role} GET {url}: shows {leaked}")
            continue
        for side, (name, code) in {"own": (MTL_NAME, "MTL-NORD"), "other": (LAV_NAME, "LAV-01")}.items():
            if (name in text) != (side in IN_SCOPE[role]) or (code in text) != (side in IN_SCOPE[role]):
                problems.append(f"{role} GET {url}: {name} shown: {name in text}, expected {side in IN_SCOPE[role]}")
        anonymous = "comparaison" in url and "other" not in IN_SCOPE[role]
        if (lav_label in text) != anonymous:
            problems.append(f"{role} GET {url}: label {lav_label} shown: {lav_label in text}, expected {anonymous}")
    assert not problems, "\n".join(problems)
