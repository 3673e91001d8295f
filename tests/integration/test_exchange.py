"""The pin-grid/1 format through the real commands, on SQLite and PostgreSQL."""
import copy
import json

from pin_grid.extensions import db

from .conftest import make_app


def _document(grid):
    blank = {"level": "implante", "comment": "", "priority": False, "action": "", "action_owner": "", "action_due": None}
    answers = {item_id: dict(blank) for item_id in grid.items}
    answers["ECO-1"].update(comment="Portrait commun « complet »", priority=True, action="Former l'équipe",
                            action_owner="Coordonnatrice", action_due="2024-09-30")
    answers["STR-5"]["level"] = "ne_sais_pas"
    finalized = {
        "territory": {"code": "MTL-NORD", "name": "Montréal-Nord", "region": "Montréal"},
        "date": "2024-03-14",
        "perspective": None,
        "status": "finalized",
        "grid_version": grid.version,
        "participants": [{"name": "Ana", "role": "intervenante", "sector": "cisss"},
                         {"name": None, "role": "parent-partenaire", "sector": "parent_partenaire"}],
        "organizations": [{"name": "Maison de la Famille", "sector": "communautaire"}],
        "answers": answers,
    }
    draft = copy.deepcopy(finalized)
    draft.update(date="2025-03-20", status="draft", perspective={"organization": "Maison de la Famille"},
                 answers={"PAR-2": {**blank, "level": None, "comment": "à discuter"}})
    other = copy.deepcopy(finalized)
    other["territory"] = {"code": "LAV-01", "name": "Laval", "region": "Laval"}
    return {"format": "pin-grid/1", "assessments": [other, finalized, draft]}


def _run(app, *args):
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
        db.session.remove()
    return result


def _write(path, document):
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_export_then_import_into_an_empty_database_then_export_gives_the_same_document(
        app, grid, tmp_path, new_database):
    result = _run(app, "import-assessments", _write(tmp_path / "in.json", _document(grid)))
    assert result.exit_code == 0, result.output
    exported = tmp_path / "export.json"
    assert _run(app, "export-assessments", "-o", str(exported)).exit_code == 0
    document = json.loads(exported.read_text(encoding="utf-8"))
    assert document == _document(grid)

    empty = make_app(new_database())
    assert _run(empty, "import-assessments", str(exported)).exit_code == 0
    again = _run(empty, "export-assessments")
    assert again.output == exported.read_text(encoding="utf-8")
    with empty.app_context():
        db.engine.dispose()


def test_a_file_with_any_error_imports_nothing_and_names_each_place(app, grid, tmp_path):
    document = _document(grid)
    document["assessments"][1]["answers"]["ECO-2"]["level"] = "presque"
    document["assessments"][1]["answers"]["XYZ-9"] = document["assessments"][1]["answers"]["ECO-3"]
    document["assessments"][2]["date"] = "14/03/2024"
    document["assessments"][0]["participants"][0]["sector"] = "hopital"
    document["assessments"][0]["territory"]["code"] = "Laval Nord"
    result = _run(app, "import-assessments", _write(tmp_path / "bad.json", document))
    assert result.exit_code != 0
    for place in ("assessments[2].date", "assessments[0].participants[0].sector", "assessments[0].territory.code"):
        assert place in result.output, result.output
    # The grid checks come after the format checks: fix those first, then the grid ones show.
    document["assessments"][2]["date"] = "2025-03-20"
    document["assessments"][0]["participants"][0]["sector"] = "cisss"
    document["assessments"][0]["territory"]["code"] = "LAV-01"
    result = _run(app, "import-assessments", _write(tmp_path / "bad.json", document))
    assert result.exit_code != 0
    assert "assessments[1].answers.ECO-2.level" in result.output and "presque" in result.output
    assert "assessments[1].answers.XYZ-9" in result.output
    assert json.loads(_run(app, "export-assessments").output)["assessments"] == []


def test_wrong_dates_and_incomplete_finalised_assessments_are_refused(app, grid, tmp_path):
    document = _document(grid)
    document["assessments"][0]["date"] = "2024-02-30"
    del document["assessments"][1]["answers"]["ENF-2"]
    result = _run(app, "import-assessments", _write(tmp_path / "bad.json", document))
    assert result.exit_code != 0
    assert "assessments[0].date" in result.output
    result = _run(app, "import-assessments", _write(tmp_path / "bad.json", {**document, "assessments": document["assessments"][1:]}))
    assert "ENF-2" in result.output and result.exit_code != 0


def test_an_assessment_already_there_is_skipped_unless_replace(app, grid, tmp_path):
    path = _write(tmp_path / "in.json", _document(grid))
    assert _run(app, "import-assessments", path).exit_code == 0
    changed = _document(grid)
    changed["assessments"][1]["answers"]["ECO-1"]["comment"] = "Nouvelle version finalisée"
    changed["assessments"][2]["answers"]["PAR-2"]["comment"] = "Nouveau brouillon"
    changed_path = _write(tmp_path / "changed.json", changed)
    result = _run(app, "import-assessments", changed_path)
    assert result.exit_code == 0
    assert "ignorées : 3" in result.output and "MTL-NORD 2024-03-14" in result.output
    assert "Nouveau" not in _run(app, "export-assessments").output
    # --replace replaces a draft, never a finalised assessment (that is what revisions are for)
    result = _run(app, "import-assessments", "--replace", changed_path)
    assert result.exit_code != 0
    assert "remplacées : 1" in result.output
    assert result.output.count("finalisée, donc non remplacée") == 2
    exported = json.loads(_run(app, "export-assessments").output)
    assert exported["assessments"][2] == changed["assessments"][2]
    assert exported["assessments"][:2] == _document(grid)["assessments"][:2]


def test_not_json_and_wrong_format_are_refused(app, tmp_path):
    (tmp_path / "x.json").write_text("{not json", encoding="utf-8")
    result = _run(app, "import-assessments", str(tmp_path / "x.json"))
    assert result.exit_code != 0 and "JSON invalide" in result.output
    result = _run(app, "import-assessments", _write(tmp_path / "y.json", {"format": "pin-grid/9", "assessments": []}))
    assert result.exit_code != 0 and "pin-grid/1" in result.output
