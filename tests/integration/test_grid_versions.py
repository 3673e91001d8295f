"""Grid versions side by side: an assessment is shown, scored, exported and compared with the
version it was rated on; follow-up carries over only the statements whose meaning was kept; the
team's target (« cible ») per statement; the wording of profiles when no cohort was used."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from pin_grid import services
from pin_grid.extensions import db

from .conftest import import_document
from .test_web import form_fields, grid_post, page, token, visible

OLD, NEW = "2026.1", "2026.2"


def _record(grids, version, date, levels=None, code="MTL-NORD", comments=None, status="finalized"):
    grid = grids[version]
    levels = levels or {i: "implante" for i in grid.items}
    return {
        "territory": {"code": code, "name": f"Territoire {code}", "region": "Montréal"},
        "date": date, "perspective": None, "status": status, "grid_version": version,
        "participants": [], "organizations": [],
        "answers": {i: {"level": lv, "comment": (comments or {}).get(i, "")} for i, lv in levels.items()},
    }


def _start(client, date, carry_over=False):
    data = {"csrf_token": token(client), "territory": "1", "date": date}
    if carry_over:
        data["carry_over"] = "y"
    response = client.post("/evaluations/nouvelle", data=data)
    assert response.status_code == 302, page(response)
    return int(response.location.split("/")[2])


def _cli(app, *args):
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
        db.session.remove()
    return result


def test_an_old_and_a_new_assessment_side_by_side_each_with_its_own_wording(web_app, client, grids, tmp_path):
    old_grid, new_grid = grids[OLD], grids[NEW]
    removed = sorted(set(old_grid.items) - set(new_grid.items))
    added = sorted(set(new_grid.items) - set(old_grid.items))
    assert removed and added  # the two versions differ: the test below means something
    old_levels = {i: "partiel" for i in old_grid.items}
    import_document(web_app, tmp_path / "old.json", [_record(
        grids, OLD, "2025-03-14", old_levels, comments={removed[0]: "Un énoncé qui n'existe plus"})])
    with web_app.app_context():
        old_id = services.find_assessments(services.territory_by_code("MTL-NORD").id, dt.date(2025, 3, 14), None)[0].id
        db.session.remove()

    # The old one reads with 2026.1: its statements, its four levels (no « Sans objet »).
    old_page = page(client.get(f"/evaluations/{old_id}/resultats"))
    assert old_grid.items[removed[0]].text.fr in old_page and "Un énoncé qui n'existe plus" in old_page
    assert all(new_grid.items[i].text.fr not in old_page for i in added)
    assert "grille version 2026.1" in visible(old_page)
    assert "Sans objet" not in old_page

    # A new one starts on the version in force, from last year's answers: only the statements
    # whose meaning was kept come back (to confirm); the new ones are marked as such.
    new_id = _start(client, "2026-01-15", carry_over=True)
    with web_app.app_context():
        started = services.get_assessment(new_id)
        carried = {a.item_id: (a.level, a.carried_over) for a in started.answers}
        assert started.grid_version == NEW
        db.session.remove()
    kept = {i for i, item in new_grid.items.items() if item.change in ("same", "reworded")}
    assert set(carried) == kept and all(v == ("partiel", True) for v in carried.values())
    assert not set(carried) & set(added)
    form = page(client.get(f"/evaluations/{new_id}/grille"))
    assert form.count("Nouvel énoncé") == len(new_grid.items) - len(kept)
    assert all(new_grid.items[i].text.fr in form for i in added)
    assert old_grid.items[removed[0]].text.fr not in form
    assert "Sans objet" in form and "grille 2026.2" in visible(form)
    for lv in new_grid.levels:  # the definitions a group applies the same way each time
        assert lv.definition.fr in form

    # Finalised, its results compare themes with last year and say the versions differ.
    response = grid_post(client, new_id, {i: {"level": "implante", "confirm": "y"} for i in new_grid.items},
                         intent="finalize")
    assert response.status_code == 302, page(response)
    results = visible(page(client.get(f"/evaluations/{new_id}/resultats")))
    assert "L'évaluation précédente a été faite avec la grille 2026.1, celle-ci avec la grille 2026.2" in results
    assert "A Approche écosystémique 50,0 100,0 ▲ +50,0" in results
    # Statement by statement, only the kept meanings are compared.
    changes = re.findall(r"<li><strong>([A-Z]{3}-\d+)</strong>", page(client.get(f"/evaluations/{new_id}/resultats")))
    assert set(changes) == kept

    # Exported, each keeps its version and its own statements.
    exported = tmp_path / "export.json"
    assert _cli(web_app, "export-assessments", "-o", str(exported)).exit_code == 0
    records = {r["date"]: r for r in json.loads(exported.read_text(encoding="utf-8"))["assessments"]}
    assert records["2025-03-14"]["grid_version"] == OLD and set(records["2025-03-14"]["answers"]) == set(old_grid.items)
    assert records["2026-01-15"]["grid_version"] == NEW and set(records["2026-01-15"]["answers"]) == set(new_grid.items)


def test_import_checks_answers_against_the_version_of_each_record(web_app, grids, tmp_path):
    old_only = sorted(set(grids[OLD].items) - set(grids[NEW].items))[0]
    import_document(web_app, tmp_path / "old.json", [_record(grids, OLD, "2024-03-14")])

    wrong = _record(grids, NEW, "2025-03-14")
    wrong["answers"][old_only] = {"level": "implante"}
    unknown = _record(grids, OLD, "2025-04-14", code="LAV-01")
    unknown["grid_version"] = "1999.9"
    sans_objet_in_old = _record(grids, OLD, "2025-05-14", code="LAV-02")
    sans_objet_in_old["answers"]["ECO-1"]["level"] = "sans_objet"
    for name, record, expected in (
            ("wrong", wrong, f"assessments[0].answers.{old_only} : cet énoncé n'est pas dans la grille (version 2026.2)"),
            ("unknown", unknown, "assessments[0].grid_version : version de grille inconnue « 1999.9 » (connues : 2026.1, 2026.2)"),
            ("sans-objet", sans_objet_in_old, "assessments[0].answers.ECO-1.level : niveau inconnu « sans_objet »")):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"format": "pin-grid/1", "assessments": [record]}), encoding="utf-8")
        result = _cli(web_app, "import-assessments", str(path))
        assert result.exit_code == 1 and expected in result.output, result.output
    with web_app.app_context():
        assert len(services.version_chains()) == 1
        db.session.remove()


def test_grid_diff_says_what_changed_and_what_carries_over(web_app, grids):
    result = _cli(web_app, "grid", "diff", OLD, NEW)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Grille 2026.1 → 2026.2"
    for item in grids[NEW].items.values():
        label = {"same": "identique", "reworded": "reformulé", "split": "scindé", "merged": "fusionné",
                 "new": "nouveau"}[item.change]
        assert any(line.split()[:2] == [label, item.id] for line in lines), (item.id, label)
    for item_id in grids[NEW].removed:
        assert any(line.split()[:2] == ["retiré", item_id] for line in lines), item_id
    kept = sum(1 for item in grids[NEW].items.values() if item.change in ("same", "reworded"))
    assert lines[-1] == f"Réponses reprises d'une version à l'autre : {kept} énoncés sur 24."

    unknown = _cli(web_app, "grid", "diff", OLD, "2030.1")
    assert unknown.exit_code == 1 and "Version de grille inconnue : 2030.1 (connues : 2026.1, 2026.2)." in unknown.output
    backwards = _cli(web_app, "grid", "diff", NEW, OLD)
    assert backwards.exit_code == 1 and "La version 2026.2 ne précède pas la version 2026.1." in backwards.output


def test_the_comparison_says_when_a_year_mixes_versions(web_app, client, grids, tmp_path):
    import_document(web_app, tmp_path / "mixed.json", [
        _record(grids, OLD, "2025-03-14", code="MTL-NORD"), _record(grids, NEW, "2025-06-14", code="LAV-01")])
    text = visible(page(client.get("/comparaison/?annee=2025")))
    assert "ont rempli des versions différentes de la grille (2026.1, 2026.2)" in text
    with web_app.app_context():
        rows = {r.assessment.territory.code: r for r in services.compare_year(2025, web_app.extensions["pin_grid"]).rows}
        db.session.remove()
    # Theme scores stay comparable: all « implanté » is 100 in either version.
    assert rows["MTL-NORD"].standing.ensemble == rows["LAV-01"].standing.ensemble == 100
    import_document(web_app, tmp_path / "one.json", [_record(grids, NEW, "2024-06-14", code="LAV-01")])
    assert "versions différentes" not in visible(page(client.get("/comparaison/?annee=2024")))


def test_without_a_cohort_profiles_speak_of_thresholds_not_of_the_mean(web_app, client, grids, tmp_path):
    import_document(web_app, tmp_path / "one.json", [_record(grids, NEW, "2025-03-14")])
    with web_app.app_context():
        assessment_id = services.find_assessments(services.territory_by_code("MTL-NORD").id, dt.date(2025, 3, 14),
                                                  None)[0].id
        db.session.remove()
    text = page(client.get(f"/evaluations/{assessment_id}/resultats"))
    card = visible(re.search(r'<section class="profile-card".*?</section>', text, re.S).group(0))
    profile = grids[NEW].profiles["A"]
    assert profile.label_bands.fr in card and profile.subprofiles["exemplaire"].explanation_bands.fr in card
    assert "moyenne" not in card
    assert "Lecture proposée par Grille PIN" in card
    assert "seuils absolus" in visible(text)


@pytest.fixture
def draft(web_app, client):
    client.post("/territoires/nouveau", data={"csrf_token": token(client), "code": "MTL-NORD",
                                              "name": "Montréal-Nord", "region": "Montréal"})
    return _start(client, "2026-01-15")


def test_a_target_is_saved_shown_and_refused_when_it_is_not_a_scored_level(web_app, client, draft):
    t = token(client, f"/evaluations/{draft}/grille")
    saved = client.post(f"/evaluations/{draft}/enonces/ECO-1",
                        data={"csrf_token": t, "ECO-1-level": "partiel", "ECO-1-target": "implante"})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    for forged in ("excellent", "ne_sais_pas", "sans_objet"):
        refused = client.post(f"/evaluations/{draft}/enonces/ECO-2",
                              data={"csrf_token": t, "ECO-2-level": "partiel", "ECO-2-target": forged})
        assert refused.status_code == 422 and "Cible inconnue" in refused.get_json()["error"], forged
    with web_app.app_context():
        answers = services.get_assessment(draft).answers_by_item
        assert answers["ECO-1"].target == "implante" and "ECO-2" not in answers
        db.session.remove()

    # The page shows it chosen, and a page save keeps it (a browser sends the chosen option).
    form = page(client.get(f"/evaluations/{draft}/grille"))
    assert form_fields(form)["ECO-1-target"] == "implante"
    assert re.search(r'<details class="action" open>.*?name="ECO-1-target"', form, re.S)
    response = grid_post(client, draft, {"ECO-2": {"level": "non_implante", "target": "partiel"},
                                         "ECO-3": {"level": "partiel", "target": "bidon"}})
    assert response.status_code == 422
    shown = page(response)
    assert "Cible inconnue : « bidon »" in shown and 'id="ECO-3-target-error"' in shown
    with web_app.app_context():
        answers = services.get_assessment(draft).answers_by_item
        assert (answers["ECO-1"].target, answers["ECO-2"].target) == ("implante", "partiel")
        assert "ECO-3" not in answers  # refused, still on the page as typed
        db.session.remove()
    assert 'name="ECO-3-level" value="partiel" checked' in shown
