"""Results with symbols and profile, the comparison page, and the yearly follow-up, through HTTP."""

import pytest


from .conftest import import_document
from .test_web import confirm_finalize, form_fields, grid_post, page, token, visible


def _import(web_app, tmp_path, grid, rows):
    assessments = []
    for code, date, levels in rows:
        assessments.append({
            "territory": {"code": code, "name": f"Territoire {code}", "region": "Estrie"}, "date": date,
            "perspective": None, "status": "finalized", "grid_version": grid.version, "participants": [],
            "organizations": [], "answers": {i: {"level": levels.get(i, "implante"), "comment": "", "priority": False,
                                                 "action": "", "action_owner": "", "action_due": None} for i in grid.items},
        })
    import_document(web_app, tmp_path / "doc.json", assessments)


@pytest.fixture
def two_years(web_app, tmp_path, grid):
    """MTL-NORD in 2023 (all implemented but partnership) and 2024 (partnership improved)."""
    weak = {"PRT-1": "non_implante", "PRT-2": "non_implante", "PRT-3": "partiel", "PRT-5": "partiel"}
    _import(web_app, tmp_path, grid, [("MTL-NORD", "2023-03-10", weak), ("MTL-NORD", "2024-03-14", {"PRT-1": "partiel"})])
    return web_app


def test_results_show_symbols_profile_and_the_reference(client, two_years):
    text = visible(page(client.get("/evaluations/2/resultats")))
    assert "seuils absolus" in text and "ne compte que 1 territoire" in text
    assert "Profil A Intégration supérieure aux seuils — sous-profil Exemplaire" in text  # no cohort: no mean
    assert "Structures de soutien" in text


def test_results_show_the_change_since_last_year(client, two_years):
    text = visible(page(client.get("/evaluations/2/resultats")))
    assert "Évolution depuis l'évaluation du 2023-03-10" in text
    assert "C Partenariat 25,0 87,5 ▲ +62,5" in text
    assert "A Approche écosystémique 100,0 100,0 =" in text
    assert "PRT-1" in text and "Non implanté → Partiellement implanté" in text
    changes = text.split("Énoncés dont le niveau a changé")[1].split("Réponses, énoncé par énoncé")[0]
    assert "PRT-2" in changes and "ECO-1 " not in changes


def test_the_first_assessment_has_no_follow_up(client, two_years):
    assert "Évolution depuis" not in page(client.get("/evaluations/1/resultats"))


def test_comparison_page_defaults_to_the_latest_year_and_sorts(client, web_app, tmp_path, grid):
    rows = [(f"T{n}", "2024-05-01", {"ECO-1": "non_implante"} if n % 2 else {}) for n in range(6)]
    rows.append(("OLD", "2022-05-01", {}))
    _import(web_app, tmp_path, grid, rows)
    text = visible(page(client.get("/comparaison/")))
    assert "Comparaison des territoires — 2024" in text
    assert "la cohorte 2024, 6 territoires" in text
    assert "Territoire OLD" not in text
    assert "Répartition des profils" in text
    ascending = page(client.get("/comparaison/?annee=2024&tri=ecosystemique&ordre=asc"))
    assert ascending.index("Territoire T1") < ascending.index("Territoire T0")
    descending = page(client.get("/comparaison/?annee=2024&tri=ecosystemique&ordre=desc"))
    assert descending.index("Territoire T0") < descending.index("Territoire T1")
    assert "Territoire OLD" in page(client.get("/comparaison/?annee=2022"))


def test_comparison_page_without_data(client):
    assert "Aucune évaluation collective finalisée" in page(client.get("/comparaison/"))


def test_a_new_assessment_can_start_from_last_year_and_must_confirm_each_carried_answer(client, two_years, grid):
    response = client.post("/evaluations/nouvelle", data={
        "csrf_token": token(client), "territory": "1", "date": "2025-03-20", "carry_over": "y"})
    assert response.status_code == 302, page(response)
    url = response.location
    form = page(client.get(url))
    assert form.count("Réponse reprise de l'évaluation précédente") == 24
    assert "24 / 24" in visible(form)
    # Finalising before the team has looked at them is refused.
    response = grid_post(client, 3, {}, intent="finalize")
    assert response.status_code == 422 and "24 réponses reprises de l'évaluation précédente sont à confirmer" in page(response)
    # The counter says how many are left to confirm, apart from those answered, with a link to the next one.
    counter = visible(form)
    assert "À confirmer : 24" in counter and "Prochain énoncé à confirmer" in counter
    assert 'data-next-to-confirm href="#item-ECO-1"' in form
    # Change one, confirm one: the two are no longer marked.
    grid_post(client, 3, {"ECO-1": {"level": "partiel"}, "ECO-2": {"confirm": "y"}})
    form = page(client.get(url))
    assert form.count("Réponse reprise de l'évaluation précédente") == 22
    assert 'name="ECO-1-level" value="partiel" checked' in form
    assert "À confirmer : 22" in visible(form) and 'data-next-to-confirm href="#item-ECO-3"' in form
    # A statement saved as people go says what is left to confirm, and where.
    saved = client.post("/evaluations/3/enonces/ECO-3", data={"csrf_token": token(client), "ECO-3-confirm": "y",
                                                             **{k: v for k, v in form_fields(form).items() if k.startswith("ECO-3-")}},
                        headers={"Accept": "application/json"})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.get_json()["to_confirm"] == 21 and saved.get_json()["next_to_confirm"] == "ECO-5"
    confirm_all = {i: {"confirm": "y"} for i in grid.items}
    response = grid_post(client, 3, confirm_all, intent="finalize", confirm=False)
    assert response.status_code == 302 and response.location.endswith("/finaliser")
    assert visible(page(client.get(response.location))).count("Oui, finaliser l'évaluation") == 1
    response = confirm_finalize(client, 3)
    assert response.status_code == 302 and response.location.endswith("/resultats")


def test_starting_from_last_year_without_a_previous_assessment_is_explained(client):
    t = token(client)
    client.post("/territoires/nouveau", data={"csrf_token": t, "code": "NEUF", "name": "Neuf", "region": "Estrie"})
    response = client.post("/evaluations/nouvelle", data={"csrf_token": t, "territory": "1", "date": "2025-03-20",
                                                          "carry_over": "y", "participants-0-role": "membre",
                                                          "participants-0-sector": "autre"})
    assert response.status_code == 422
    text = page(response)
    assert "pas encore d'évaluation finalisée antérieure" in text and 'value="membre"' in text
