"""The administration of territories and partner organisations (issue 10, part C), through real
HTTP on SQLite and on PostgreSQL.

Administrators change a territory's name, region (from the managed list) and territorial unit,
never its code; they rename organisations, change their sector and merge two entries of the same
organisation. Everything they change is in the audit trail; nobody else may change any of it.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from pin_grid.extensions import db
from pin_grid.models import Assessment, AuditEvent, Organization, Territory

from .conftest import ADMIN, add_user, sign_in
from .test_access import csrf
from .test_web import form_fields, page, visible

COORD = "coord@cisss.example"
GEST = "gestion@cisss.example"
FAMILY, FAMILY_INC = "Maison de la famille", "Maison de la famille inc."
ROW = re.compile(r"<tr>(.*?)</tr>", re.S)


@pytest.fixture
def app(web_app_on_each_database):
    """The app on SQLite, then on PostgreSQL, with an administrator."""
    return web_app_on_each_database


@pytest.fixture
def admin(app):
    """A browser signed in as the administrator, with two territories."""
    client = sign_in(app.test_client(), ADMIN)
    new_territory(client, "MTL-NORD", "Montréal-Nord", "Montréal")
    new_territory(client, "LAV-01", "Laval-des-Rapides", "Laval")
    return client


def new_territory(client, code, name, region):
    response = client.post("/territoires/nouveau", data={"csrf_token": csrf(client), "code": code, "name": name,
                                                         "region": region})
    assert response.status_code == 302, page(response)


def start(client, app, code, date, perspective="", present=()):
    """Start an assessment as the form of « Commencer une évaluation » does; its id."""
    data = {"csrf_token": csrf(client), "territory": str(territory_of(app, code).id), "date": date,
            "perspective": perspective}
    for n, (name, sector) in enumerate(present):
        data.update({f"organizations-{n}-name": name, f"organizations-{n}-sector": sector})
    response = client.post("/evaluations/nouvelle", data=data)
    assert response.status_code == 302, page(response)
    return int(response.location.split("/")[2])


def read(app, query):
    """`query()` run in its own app context (what the database holds now)."""
    with app.app_context():
        try:
            return query()
        finally:
            db.session.remove()


def territory_of(app, code) -> Territory:
    return read(app, lambda: db.session.scalars(select(Territory).where(Territory.code == code)).first())


def organizations(app) -> dict[str, tuple[int, str]]:
    """name -> (id, sector) of every organisation."""
    return read(app, lambda: {o.name: (o.id, o.sector) for o in db.session.scalars(select(Organization))})


def org_id(app, name) -> int:
    return organizations(app)[name][0]


def assessment_orgs(app, assessment_id) -> tuple[str | None, list[str]]:
    """The point of view of an assessment and the organisations it lists as present."""
    def query():
        assessment = db.session.get(Assessment, assessment_id)
        return (assessment.perspective.name if assessment.perspective else None,
                sorted(o.name for o in assessment.organizations))
    return read(app, query)


def events(app, action) -> list[tuple]:
    return read(app, lambda: [(e.actor, e.assessment_id, e.field, e.old_value, e.new_value, e.detail)
                              for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                                          .order_by(AuditEvent.id))])


def table_rows(response) -> list[str]:
    """The visible text of each row of the page's table."""
    assert response.status_code == 200, response.status_code
    return [visible(row) for row in ROW.findall(page(response))]


def options(response, name) -> list[str]:
    """The values a <select name=…> of the page offers."""
    found = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page(response), re.S)
    assert found, f"no select {name}"
    return re.findall(r'<option[^>]*value="([^"]*)"', found.group(1))


# --- territories ----------------------------------------------------------------------------

def test_an_administrator_edits_a_territory_but_never_its_code(app, admin):
    form = admin.get("/admin/territoires/MTL-NORD/modifier")
    assert form.status_code == 200
    regions = options(form, "region")
    # the managed list: the 17 administrative regions, though no territory is in most of them
    assert {"Mauricie", "Centre-du-Québec", "Côte-Nord", "Laval", "Montréal"} <= set(regions)
    assert re.search(r'<option selected value="Montréal">', page(form))
    assert 'value="Montréal-Nord"' in page(form) and "MTL-NORD" in visible(page(form))

    response = admin.post("/admin/territoires/MTL-NORD/modifier", data={
        "csrf_token": csrf(admin), "code": "AUTRE", "name": "  Montréal-Nord et Rivière-des-Prairies ",
        "region": "Laval", "territorial_unit": "RLS de Montréal-Nord"})
    assert response.status_code == 302 and response.location == "/territoires/MTL-NORD"

    shown = visible(page(admin.get("/territoires/MTL-NORD")))
    assert "Montréal-Nord et Rivière-des-Prairies" in shown and "Laval" in shown
    assert "Unité territoriale : RLS de Montréal-Nord" in shown
    assert admin.get("/territoires/AUTRE").status_code == 404  # the code posted was not taken
    stored = territory_of(app, "MTL-NORD")
    assert (stored.name, stored.region, stored.territorial_unit) == (
        "Montréal-Nord et Rivière-des-Prairies", "Laval", "RLS de Montréal-Nord")
    assert events(app, "territory_update") == [
        (ADMIN, None, "name", "Montréal-Nord", "Montréal-Nord et Rivière-des-Prairies", "MTL-NORD"),
        (ADMIN, None, "region", "Montréal", "Laval", "MTL-NORD"),
        (ADMIN, None, "territorial_unit", "", "RLS de Montréal-Nord", "MTL-NORD"),
    ]
    # the territories' administration page lists it as it is now
    assert any("Montréal-Nord et Rivière-des-Prairies" in row and "RLS de Montréal-Nord" in row
               for row in table_rows(admin.get("/admin/territoires")))


def test_adding_a_territory_is_in_the_audit_trail(app, admin):
    # The fixture added two; the trail says who, with what name and region. A refused one is not.
    assert events(app, "territory_create") == [
        (ADMIN, None, None, None, '{"name": "Montréal-Nord", "region": "Montréal"}', "MTL-NORD"),
        (ADMIN, None, None, None, '{"name": "Laval-des-Rapides", "region": "Laval"}', "LAV-01"),
    ]
    response = admin.post("/territoires/nouveau", data={"csrf_token": csrf(admin), "code": "LAV-01",
                                                        "name": "Doublon", "region": "Laval"})
    assert response.status_code == 422 and "déjà utilisé" in page(response)
    assert len(events(app, "territory_create")) == 2


def test_a_territory_without_a_unit_says_nothing_about_it(admin):
    assert "Unité territoriale" not in visible(page(admin.get("/territoires/LAV-01")))


def test_a_region_outside_the_list_is_refused_and_what_was_typed_is_kept(app, admin):
    response = admin.post("/admin/territoires/LAV-01/modifier", data={
        "csrf_token": csrf(admin), "name": "Laval-Ouest", "region": "Atlantide", "territorial_unit": "CLSC"})
    assert response.status_code == 422
    text = page(response)
    assert "Région inconnue : « Atlantide ». Choisissez une région de la liste." in text
    assert 'value="Laval-Ouest"' in text and 'value="CLSC"' in text
    stored = territory_of(app, "LAV-01")
    assert (stored.name, stored.region, stored.territorial_unit) == ("Laval-des-Rapides", "Laval", "")
    assert events(app, "territory_update") == []

    # … and so is creating a territory in it, and giving it to a gestionnaire.
    response = admin.post("/territoires/nouveau", data={"csrf_token": csrf(admin), "code": "ATL",
                                                        "name": "Atlantis", "region": "Atlantide"})
    assert response.status_code == 422 and "Région inconnue : « Atlantide »" in page(response)
    assert 'value="Atlantis"' in page(response) and territory_of(app, "ATL") is None
    assert "Atlantide" not in options(admin.get("/admin/comptes"), "regions")


def test_the_refusal_is_in_english_when_the_page_is(admin):
    admin.get("/langue/en?next=/")
    response = admin.post("/admin/territoires/LAV-01/modifier", data={
        "csrf_token": csrf(admin), "name": "", "region": "Atlantide"})
    assert response.status_code == 422
    text = page(response)
    assert "The name is required." in text and "Unknown region: “Atlantide”. Choose a region from the list." in text
    assert "Région inconnue" not in text


@pytest.mark.parametrize("name, message", [("", "Le nom est obligatoire."),
                                           ("   ", "Le nom est obligatoire."),
                                           ("L" * 201, "200 caractères au plus.")])
def test_a_missing_or_too_long_name_is_refused(app, admin, name, message):
    response = admin.post("/admin/territoires/LAV-01/modifier", data={
        "csrf_token": csrf(admin), "name": name, "region": "Laval", "territorial_unit": "RLS de Laval"})
    assert response.status_code == 422
    text = page(response)
    assert message in text and 'value="RLS de Laval"' in text
    assert territory_of(app, "LAV-01").name == "Laval-des-Rapides"


def test_an_expired_form_changes_nothing_and_keeps_what_was_typed(app, admin):
    response = admin.post("/admin/territoires/LAV-01/modifier", data={
        "csrf_token": "périmé", "name": "Laval-Est", "region": "Laval", "territorial_unit": "RLS de Laval"})
    assert response.status_code == 400
    text = page(response)
    assert "Le formulaire a expiré" in text and 'value="Laval-Est"' in text
    assert territory_of(app, "LAV-01").name == "Laval-des-Rapides"


def test_a_territory_whose_region_is_not_in_the_list_keeps_it(app, admin):
    def old_territory():
        db.session.add(Territory(code="ANCIEN", name="Ancien territoire", region="Mtl"))
        db.session.commit()
    read(app, old_territory)  # as a territory from before the list (or an import) has it
    form = admin.get("/admin/territoires/ANCIEN/modifier")
    assert re.search(r'<option selected value="Mtl">', page(form))
    data = form_fields(page(form)) | {"region": "Mtl", "name": "Ancien territoire renommé"}
    response = admin.post("/admin/territoires/ANCIEN/modifier", data=data)
    assert response.status_code == 302, page(response)
    stored = territory_of(app, "ANCIEN")
    assert (stored.name, stored.region) == ("Ancien territoire renommé", "Mtl")


def test_regions_are_chosen_from_the_list_in_the_accounts_too(app, admin):
    regions = options(admin.get("/admin/comptes"), "regions")
    assert "Abitibi-Témiscamingue" in regions and "Mauricie-et-Centre-du-Québec" not in regions
    response = admin.post("/admin/comptes", data={
        "csrf_token": csrf(admin), "email": GEST, "role": "gestionnaire", "regions": "Abitibi-Témiscamingue",
        "password": "Une phrase de passe tout à fait correcte", "confirm": "Une phrase de passe tout à fait correcte"})
    assert response.status_code == 302, page(response)
    response = admin.post("/admin/comptes", data={
        "csrf_token": csrf(admin), "email": "autre@cisss.example", "role": "gestionnaire", "regions": "Atlantide",
        "password": "Une phrase de passe tout à fait correcte", "confirm": "Une phrase de passe tout à fait correcte"})
    assert response.status_code == 422 and 'value="autre@cisss.example"' in page(response)


def test_an_unknown_territory_or_organisation_is_not_found(admin):
    for url in ("/admin/territoires/NULLE-PART/modifier", "/admin/organisations/999999/modifier",
                "/admin/organisations/999999/fusionner", "/admin/organisations/99999999999/modifier",
                "/admin/organisations/-1/fusionner", "/admin/organisations/abc/modifier"):
        assert admin.get(url).status_code == 404, url
        assert admin.post(url, data={"csrf_token": csrf(admin), "name": "x", "sector": "autre"}).status_code == 404


def test_only_administrators_change_territories_and_organisations(app, admin):
    start(admin, app, "MTL-NORD", "2024-03-14", present=[(FAMILY, "communautaire")])
    add_user(app, COORD, "coordonnateur", territories=["MTL-NORD"])
    add_user(app, GEST, "gestionnaire", regions=["Montréal"])
    family = org_id(app, FAMILY)
    for email in (COORD, GEST):
        client = sign_in(app.test_client(), email)
        token = csrf(client)
        assert "/admin/organisations" not in page(client.get("/"))  # not offered
        assert "/admin/territoires" not in page(client.get("/territoires/MTL-NORD"))
        for url in ("/admin/territoires", "/admin/organisations", "/admin/territoires/MTL-NORD/modifier",
                    f"/admin/organisations/{family}/modifier", f"/admin/organisations/{family}/fusionner"):
            assert client.get(url).status_code == 403, (email, url)
        assert client.post("/admin/territoires/MTL-NORD/modifier", data={
            "csrf_token": token, "name": "Pris", "region": "Laval"}).status_code == 403
        assert client.post(f"/admin/organisations/{family}/modifier", data={
            "csrf_token": token, "name": "Pris", "sector": "autre"}).status_code == 403
    stored = territory_of(app, "MTL-NORD")
    assert (stored.name, stored.region) == ("Montréal-Nord", "Montréal")
    assert organizations(app) == {FAMILY: (family, "communautaire")}
    assert events(app, "territory_update") == events(app, "organization_update") == []


# --- organisations --------------------------------------------------------------------------

def test_organisations_are_listed_with_their_sector_and_territories(app, admin):
    start(admin, app, "MTL-NORD", "2024-03-14", perspective="CPE Les Lucioles",
          present=[(FAMILY, "communautaire")])
    start(admin, app, "LAV-01", "2024-04-02", present=[(FAMILY, "communautaire")])
    rows = table_rows(admin.get("/admin/organisations"))
    family = next(row for row in rows if row.startswith(FAMILY))
    assert "Organisme communautaire" in family
    assert "Laval-des-Rapides LAV-01" in family and "Montréal-Nord MTL-NORD" in family
    cpe = next(row for row in rows if row.startswith("CPE Les Lucioles"))  # the point of view counts too
    assert "Autre" in cpe and "Montréal-Nord" in cpe and "Laval" not in cpe
    searched = table_rows(admin.get("/admin/organisations?q=lucioles"))
    assert [row.split(" Autre")[0] for row in searched[1:]] == ["CPE Les Lucioles"]


def test_an_organisation_is_renamed_and_its_name_key_follows(app, admin):
    assessment = start(admin, app, "MTL-NORD", "2024-03-14", perspective="CPE Les Lucioles")
    cpe = org_id(app, "CPE Les Lucioles")
    response = admin.post(f"/admin/organisations/{cpe}/modifier", data={
        "csrf_token": csrf(admin), "name": "CPE Les Lucioles de Montréal-Nord", "sector": "garde_educative"})
    assert response.status_code == 302, page(response)
    assert organizations(app) == {"CPE Les Lucioles de Montréal-Nord": (cpe, "garde_educative")}
    assert "Point de vue : CPE Les Lucioles de Montréal-Nord" in visible(page(admin.get("/territoires/MTL-NORD")))
    assert any(row.startswith("CPE Les Lucioles de Montréal-Nord Service de garde éducatif")
               for row in table_rows(admin.get("/admin/organisations")))
    assert [(e[2], e[3], e[4]) for e in events(app, "organization_update")] == [
        ("name", "CPE Les Lucioles", "CPE Les Lucioles de Montréal-Nord"), ("sector", "autre", "garde_educative")]
    assert all(e[0] == ADMIN for e in events(app, "organization_update"))
    # The new name, typed differently, is the same organisation (its key followed the name).
    start(admin, app, "MTL-NORD", "2024-05-01", perspective="cpe les lucioles de montreal-nord")
    assert len(organizations(app)) == 1
    assert assessment_orgs(app, assessment)[0] == "CPE Les Lucioles de Montréal-Nord"


def test_a_name_another_organisation_has_is_refused(app, admin):
    start(admin, app, "MTL-NORD", "2024-03-14", present=[(FAMILY, "communautaire"), ("CPE Les Lucioles", "autre")])
    cpe = org_id(app, "CPE Les Lucioles")
    before = organizations(app)
    response = admin.post(f"/admin/organisations/{cpe}/modifier", data={
        "csrf_token": csrf(admin), "name": "MAISON  de la Famille", "sector": "garde_educative"})
    assert response.status_code == 409
    text = page(response)
    assert f"Un autre organisme porte déjà ce nom (« {FAMILY} »)" in text and "fusionnez" in text
    assert 'value="MAISON  de la Famille"' in text  # as typed
    assert re.search(r'<option selected value="garde_educative">', text)
    assert organizations(app) == before and events(app, "organization_update") == []


@pytest.mark.parametrize("data, message, status", [
    ({"name": "", "sector": "autre"}, "Le nom est obligatoire.", 422),
    ({"name": "N" * 201, "sector": "autre"}, "200 caractères au plus.", 422),
    ({"name": "CPE", "sector": "ovni"}, "Secteur inconnu : « ovni ».", 422),
    ({"name": "CPE", "sector": ""}, "Choisissez le secteur de cet organisme.", 422),
    ({"csrf_token": "", "name": "CPE des Lucioles", "sector": "autre"}, "Le formulaire a expiré", 400),
])
def test_bad_input_on_an_organisation_is_refused_with_a_message(app, admin, data, message, status):
    start(admin, app, "MTL-NORD", "2024-03-14", perspective="CPE Les Lucioles")
    cpe = org_id(app, "CPE Les Lucioles")
    response = admin.post(f"/admin/organisations/{cpe}/modifier", data={"csrf_token": csrf(admin), **data})
    assert response.status_code == status
    assert message in page(response) and f'value="{data["name"]}"' in page(response)
    assert organizations(app) == {"CPE Les Lucioles": (cpe, "autre")}


def test_merging_moves_the_assessments_and_deletes_the_duplicate(app, admin):
    both_present = start(admin, app, "MTL-NORD", "2024-03-14",
                         present=[(FAMILY, "communautaire"), (FAMILY_INC, "communautaire")])
    its_view = start(admin, app, "MTL-NORD", "2024-05-01", perspective=FAMILY_INC)
    elsewhere = start(admin, app, "MTL-NORD", "2024-06-01", present=[(FAMILY, "communautaire")])
    family, duplicate = org_id(app, FAMILY), org_id(app, FAMILY_INC)
    form = admin.get(f"/admin/organisations/{duplicate}/fusionner")
    assert str(family) in options(form, "keep") and str(duplicate) not in options(form, "keep")

    response = admin.post(f"/admin/organisations/{duplicate}/fusionner",
                          data={"csrf_token": csrf(admin), "keep": str(family)})
    assert response.status_code == 302, page(response)
    assert f"« {FAMILY_INC} » est fusionné dans « {FAMILY} »." in visible(page(admin.get(response.location)))
    assert set(organizations(app)) == {FAMILY}
    assert assessment_orgs(app, both_present) == (None, [FAMILY])  # listed once
    assert assessment_orgs(app, its_view) == (FAMILY, [FAMILY])
    assert assessment_orgs(app, elsewhere) == (None, [FAMILY])
    assert admin.get(f"/admin/organisations/{duplicate}/modifier").status_code == 404
    # audited: the merge, and each change in the trail of the assessment it changed
    merges = events(app, "organization_merge")
    assert len(merges) == 1 and merges[0][0] == ADMIN and FAMILY_INC in merges[0][3] and FAMILY in merges[0][4]
    details = [(e[1], e[2]) for e in events(app, "details")]
    assert details == [(both_present, "organizations"), (its_view, "perspective"), (its_view, "organizations")]
    trail = visible(page(admin.get(f"/evaluations/{its_view}/journal")))
    assert FAMILY_INC in trail and FAMILY in trail


def test_a_merge_across_territories_waits_for_a_confirmation(app, admin):
    in_montreal = start(admin, app, "MTL-NORD", "2024-03-14", present=[(FAMILY, "communautaire")])
    in_laval = start(admin, app, "LAV-01", "2024-04-02", perspective="Maison de la Famille de Laval")
    family, laval = org_id(app, FAMILY), org_id(app, "Maison de la Famille de Laval")

    response = admin.post(f"/admin/organisations/{laval}/fusionner",
                          data={"csrf_token": csrf(admin), "keep": str(family)})
    assert response.status_code == 422
    text = visible(page(response))
    assert "« Maison de la Famille de Laval » apparaît dans ces territoires : Laval-des-Rapides (LAV-01)" in text
    assert f"« {FAMILY} », dans ceux-ci : Montréal-Nord (MTL-NORD)" in text
    assert "cochez la case de confirmation" in text
    assert re.search(rf'<option selected value="{family}">', page(response))  # the choice is kept
    assert set(organizations(app)) == {FAMILY, "Maison de la Famille de Laval"}
    assert assessment_orgs(app, in_laval)[0] == "Maison de la Famille de Laval"
    assert events(app, "organization_merge") == []

    response = admin.post(f"/admin/organisations/{laval}/fusionner",
                          data={"csrf_token": csrf(admin), "keep": str(family), "confirm": "y"})
    assert response.status_code == 302, page(response)
    assert set(organizations(app)) == {FAMILY}
    assert assessment_orgs(app, in_laval) == (FAMILY, [FAMILY])
    assert assessment_orgs(app, in_montreal) == (None, [FAMILY])
    family_row = next(r for r in table_rows(admin.get("/admin/organisations")) if r.startswith(FAMILY))
    assert "Laval-des-Rapides" in family_row and "Montréal-Nord" in family_row


def test_a_merge_that_would_give_a_meeting_two_assessments_changes_nothing(app, admin):
    kept_view = start(admin, app, "MTL-NORD", "2024-03-14", perspective=FAMILY)
    clashing = start(admin, app, "MTL-NORD", "2024-03-14", perspective=FAMILY_INC)
    movable = start(admin, app, "MTL-NORD", "2024-05-01", perspective=FAMILY_INC)
    family, duplicate = org_id(app, FAMILY), org_id(app, FAMILY_INC)
    response = admin.post(f"/admin/organisations/{duplicate}/fusionner",
                          data={"csrf_token": csrf(admin), "keep": str(family), "confirm": "y"})
    assert response.status_code == 409
    text = visible(page(response))
    assert "Fusion impossible" in text and "MTL-NORD 2024-03-14" in text and "Rien n'a été changé." in text
    assert set(organizations(app)) == {FAMILY, FAMILY_INC}
    assert assessment_orgs(app, kept_view)[0] == FAMILY
    assert assessment_orgs(app, clashing)[0] == FAMILY_INC
    assert assessment_orgs(app, movable) == (FAMILY_INC, [FAMILY_INC])  # not moved either
    assert events(app, "organization_merge") == [] and events(app, "details") == []


@pytest.mark.parametrize("keep, message", [("", "Choisissez l'organisme à garder."),
                                           ("abc", "Choisissez un organisme de la liste."),
                                           ("self", "Choisissez un organisme de la liste."),
                                           ("99999999999999999999", "Choisissez un organisme de la liste.")])
def test_a_forged_organisation_to_keep_is_refused(app, admin, keep, message):
    start(admin, app, "MTL-NORD", "2024-03-14", present=[(FAMILY, "communautaire"), (FAMILY_INC, "communautaire")])
    duplicate = org_id(app, FAMILY_INC)
    response = admin.post(f"/admin/organisations/{duplicate}/fusionner", data={
        "csrf_token": csrf(admin), "keep": str(duplicate) if keep == "self" else keep})
    assert response.status_code == 422
    assert message in page(response)
    assert set(organizations(app)) == {FAMILY, FAMILY_INC}


def test_a_long_list_of_organisations_is_paged_with_numbered_pages(app, admin):
    with app.app_context():
        from pin_grid import services
        for n in range(120):
            services.organization_named(f"Organisme {n:03d}", "communautaire")
        db.session.commit()
        db.session.remove()
    first = page(admin.get("/admin/organisations"))
    assert "Organisme 000" in first and "Organisme 050" not in first
    second = page(admin.get("/admin/organisations?page=2"))
    assert "Organisme 050" in second and "Organisme 000" not in second
    nav = re.search(r'<nav class="pagination".*?</nav>', second, re.S).group(0)
    assert 'rel="prev"' in nav and 'rel="next"' in nav and 'aria-current="page"' in nav
    assert [visible(n) for n in re.findall(r"<a [^>]*>(.*?)</a>", nav)] == [
        "Page précédente", "Page 1", "Page 2", "Page 3", "Page suivante"]


def test_the_territories_administration_is_paged_searched_and_filtered_like_the_home_page(app, admin):
    with app.app_context():
        from pin_grid import services
        for n in range(70):
            services.create_territory(f"EST-{n:03d}", f"Sainte-Territoire {n:03d}", "Estrie", actor=ADMIN)
        db.session.remove()
    first = page(admin.get("/admin/territoires"))
    # In the order of names: the fixture's two (Laval-des-Rapides, Montréal-Nord), then « Sainte-… ».
    assert "LAV-01" in first and "MTL-NORD" in first and "EST-047" in first and "EST-048" not in first
    assert "72 territoires · page 1 sur 2" in visible(first)
    second = page(admin.get("/admin/territoires?page=2"))
    assert "EST-048" in second and "EST-069" in second and "EST-047" not in second and "MTL-NORD" not in second
    nav = re.search(r'<nav class="pagination".*?</nav>', second, re.S).group(0)
    assert [visible(n) for n in re.findall(r"<a [^>]*>(.*?)</a>", nav)] == ["Page précédente", "Page 1", "Page 2"]
    # A search by name (accents and hyphens aside) or by code, and a region, as on the home page.
    searched = page(admin.get("/admin/territoires?q=sainte territoire 06"))
    assert "10 territoires correspondent à la recherche" in visible(searched) and "EST-069" in searched
    assert "MTL-NORD" in page(admin.get("/admin/territoires?q=mtl-nord"))
    laval = page(admin.get("/admin/territoires?region=Laval"))
    assert "1 territoire correspond à la recherche" in visible(laval) and "LAV-01" in laval and "EST-000" not in laval
    assert "Aucun territoire ne correspond à cette recherche." in visible(page(admin.get("/admin/territoires?q=zzz")))
    # Each row still leads to the territory's form; a page beyond the last shows the last.
    assert '/admin/territoires/EST-050/modifier' in second
    assert "EST-050" in page(admin.get("/admin/territoires?page=9"))
