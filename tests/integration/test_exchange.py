"""The pin-grid/1 format through the real commands, on SQLite and PostgreSQL."""
import copy
import datetime as dt
import json

from sqlalchemy import select

from pin_grid import services
from pin_grid.extensions import db
from pin_grid.models import Assessment
from pin_grid.services import AnswerData, AssessmentDetails, OrganizationData, ParticipantData

from .conftest import make_app


def _document(grid):
    blank = {"level": "implante", "comment": "", "priority": False, "action": "", "action_owner": "", "action_due": None}
    answers = {item_id: dict(blank) for item_id in grid.items}
    answers["ECO-1"].update(comment="Portrait commun « complet »", priority=True, action="Former l'équipe",
                            action_owner="Coordonnatrice", action_due="2024-09-30")
    answers["STR-6"]["level"] = "ne_sais_pas"
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


def _old_style(document):
    """The document without what pin-grid/1 gained with revisions, once their values are
    checked to be those of an assessment that never had a revision."""
    document = copy.deepcopy(document)
    for record in document["assessments"]:
        assert (record.pop("revision"), record.pop("revision_reason"), record.pop("versions")) == (1, "", [])
        for name in ("created_at", "updated_at"):
            assert dt.datetime.fromisoformat(record.pop(name)).utcoffset() == dt.timedelta(0)
        for answer in record["answers"].values():
            assert answer.pop("carried_over") is False
            assert answer.pop("target") is None  # no target was set: the old documents had none
    return document


def test_an_old_style_document_imports_as_before_and_comes_back_the_same(app, grid, tmp_path, new_database):
    """A document without versions, revisions, timestamps or carried_over: one assessment per
    record, revision 1, no earlier version, nothing awaiting confirmation; export, import into
    an empty database, export gives the same document."""
    result = _run(app, "import-assessments", _write(tmp_path / "in.json", _document(grid)))
    assert result.exit_code == 0, result.output
    assert "créées : 3, remplacées : 0, ignorées : 0" in result.output
    with app.app_context():
        stored = db.session.scalars(select(Assessment)).all()
        assert len(stored) == 3 and {(a.revision, a.supersedes_id, a.revision_reason) for a in stored} == {(1, None, "")}
        assert not any(answer.carried_over for a in stored for answer in a.answers)
        db.session.remove()
    exported = tmp_path / "export.json"
    assert _run(app, "export-assessments", "-o", str(exported)).exit_code == 0
    document = json.loads(exported.read_text(encoding="utf-8"))
    assert _old_style(document) == _document(grid)

    empty = make_app(new_database())
    assert _run(empty, "import-assessments", str(exported)).exit_code == 0
    again = _run(empty, "export-assessments")
    assert again.output == exported.read_text(encoding="utf-8")
    with empty.app_context():
        db.engine.dispose()


def test_a_file_saved_with_a_byte_order_mark_imports(app, grid, tmp_path):
    """Notepad (before 2019) and some Windows tools begin a UTF-8 file with a byte-order mark."""
    path = tmp_path / "notepad.json"
    path.write_bytes("\ufeff".encode() + json.dumps(_document(grid), ensure_ascii=False).encode())
    result = _run(app, "import-assessments", str(path))
    assert result.exit_code == 0, result.output
    assert "créées : 3" in result.output


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
    exported = _old_style(json.loads(_run(app, "export-assessments").output))
    assert exported["assessments"][2] == changed["assessments"][2]
    assert exported["assessments"][:2] == _document(grid)["assessments"][:2]


def test_not_json_and_wrong_format_are_refused(app, tmp_path):
    (tmp_path / "x.json").write_text("{not json", encoding="utf-8")
    result = _run(app, "import-assessments", str(tmp_path / "x.json"))
    assert result.exit_code != 0 and "JSON invalide" in result.output
    result = _run(app, "import-assessments", _write(tmp_path / "y.json", {"format": "pin-grid/9", "assessments": []}))
    assert result.exit_code != 0 and "pin-grid/1" in result.output


# --- Versions: superseded ones, an open revision, carried-over answers ----------------------

def _details(territory_id, date, perspective=None, participants=(("Ana", "intervenante", "cisss"),),
             organizations=(("Maison de la Famille", "communautaire"),)):
    return AssessmentDetails(territory_id=territory_id, date=date, perspective=perspective,
                             participants=[ParticipantData(role, sector, name) for name, role, sector in participants],
                             organizations=[OrganizationData(name, sector) for name, sector in organizations])


def _build_versions(grid, grids):
    """Through the services: a finalised assessment corrected twice (two superseded versions),
    a finalised one with a revision still in draft that has edits, a draft whose answers were
    carried over and mostly await confirmation, and a partner's point of view in draft."""
    mtl = services.create_territory("MTL-NORD", "Montréal-Nord", "Montréal")
    lav = services.create_territory("LAV-01", "Laval", "Laval")
    first = services.start_assessment(_details(mtl.id, dt.date(2023, 3, 14)), grids).id
    services.save_answers(first, {item_id: AnswerData(level="implante") for item_id in grid.items})
    services.finalize(first, grid)
    second = services.open_revision(first, "ECO-1 mal saisi").id
    services.save_answers(second, {"ECO-1": AnswerData(level="partiel", comment="Corrigé")})
    services.finalize(second, grid)
    third = services.open_revision(second, "Participants incomplets").id
    services.update_details(third, _details(mtl.id, dt.date(2023, 3, 14), participants=(
        ("Ana", "intervenante", "cisss"), ("Zoé", "enseignante", "scolaire"))))
    services.finalize(third, grid)

    revised = services.start_assessment(_details(mtl.id, dt.date(2024, 3, 14)), grids, carry_over=True).id
    stored = services.get_assessment(revised).answers_by_item
    services.save_answers(revised, {**{item_id: AnswerData.of(stored[item_id]) for item_id in grid.items},
                                    "ECO-2": AnswerData(level="non_implante", comment="Recul")},
                          confirmed=list(grid.items))
    services.finalize(revised, grid)
    pending = services.open_revision(revised, "PRT-1 à vérifier").id
    services.save_answers(pending, {"PRT-1": AnswerData(level="partiel", comment="À confirmer", priority=True,
                                                        action="Appeler le CISSS", action_owner="Coordination",
                                                        action_due=dt.date(2024, 6, 30))})
    services.update_details(pending, _details(mtl.id, dt.date(2024, 3, 14), organizations=(
        ("Maison de la Famille", "communautaire"), ("École Des Pins", "scolaire"))))

    carried = services.start_assessment(_details(mtl.id, dt.date(2025, 3, 20)), grids, carry_over=True).id
    services.save_answers(carried, {"ECO-1": AnswerData(level="non_implante", comment="Changé")})
    services.start_assessment(_details(lav.id, dt.date(2025, 5, 2), perspective="Maison de la Famille"), grids)
    db.session.remove()


def test_versions_revisions_and_carried_over_answers_come_back_the_same(app, grid, grids, tmp_path, new_database):
    _build_versions(grid, grids)
    exported = tmp_path / "export.json"
    assert _run(app, "export-assessments", "-o", str(exported)).exit_code == 0
    text = exported.read_text(encoding="utf-8")
    document = json.loads(text)
    records = {(r["territory"]["code"], r["date"]): r for r in document["assessments"]}
    assert list(records) == [("LAV-01", "2025-05-02"), ("MTL-NORD", "2023-03-14"), ("MTL-NORD", "2024-03-14"),
                             ("MTL-NORD", "2025-03-20")]

    # The record is the version in force; the others are in `versions`, oldest first.
    corrected = records["MTL-NORD", "2023-03-14"]
    assert (corrected["status"], corrected["revision"], corrected["revision_reason"]) == (
        "finalized", 3, "Participants incomplets")
    assert [(v["status"], v["revision"], v["revision_reason"]) for v in corrected["versions"]] == [
        ("superseded", 1, ""), ("superseded", 2, "ECO-1 mal saisi")]
    assert [v["answers"]["ECO-1"]["level"] for v in corrected["versions"]] == ["implante", "partiel"]
    assert corrected["versions"][1]["answers"]["ECO-1"]["comment"] == "Corrigé"
    assert [p["name"] for p in corrected["participants"]] == ["Ana", "Zoé"]
    assert [p["name"] for p in corrected["versions"][1]["participants"]] == ["Ana"]
    chain = [*corrected["versions"], corrected]
    assert [v["created_at"] for v in chain] == sorted(v["created_at"] for v in chain)
    assert all(v["created_at"].endswith("+00:00") and v["created_at"] <= v["updated_at"] for v in chain)

    # A finalised version with an open revision: the finalised one stays the record.
    revised = records["MTL-NORD", "2024-03-14"]
    assert (revised["status"], revised["revision"]) == ("finalized", 1)
    [pending] = revised["versions"]
    assert (pending["status"], pending["revision"], pending["revision_reason"]) == ("draft", 2, "PRT-1 à vérifier")
    assert pending["answers"]["PRT-1"] == {"level": "partiel", "comment": "À confirmer", "priority": True,
                                           "action": "Appeler le CISSS", "action_owner": "Coordination",
                                           "action_due": "2024-06-30", "carried_over": False, "target": None}
    assert revised["answers"]["PRT-1"]["comment"] == "" and revised["answers"]["ECO-2"]["comment"] == "Recul"
    assert {o["name"] for o in pending["organizations"]} == {"École Des Pins", "Maison de la Famille"}
    assert [o["name"] for o in revised["organizations"]] == ["Maison de la Famille"]

    carried = records["MTL-NORD", "2025-03-20"]
    waiting = [item_id for item_id, a in carried["answers"].items() if a["carried_over"]]
    assert waiting == [item_id for item_id in grid.items if item_id != "ECO-1"]

    # Imported again where it came from: every assessment is already there.
    again = _run(app, "import-assessments", str(exported))
    assert again.exit_code == 0 and "créées : 0, remplacées : 0, ignorées : 4" in again.output, again.output
    assert _run(app, "export-assessments").output == text

    target = make_app(new_database())
    result = _run(target, "import-assessments", str(exported))
    assert result.exit_code == 0 and "créées : 4" in result.output, result.output
    assert _run(target, "export-assessments").output == text
    with target.app_context():
        chains = {(a.territory.code, a.date.isoformat()): versions for a, versions in services.version_chains()}
        for versions in chains.values():
            assert [v.supersedes_id for v in versions] == [None] + [v.id for v in versions[:-1]]
        in_force, draft = chains["MTL-NORD", "2024-03-14"]
        assert (in_force.status, draft.status, draft.supersedes_id) == ("finalized", "draft", in_force.id)
        [next_year] = [a for a, _versions in services.version_chains() if a.date == dt.date(2025, 3, 20)]
        assert services.unconfirmed_items(next_year, grid) == waiting
        # The revision is still open: finalised, it supersedes the version it corrects.
        in_force_id = in_force.id
        services.finalize(draft.id, grid)
        db.session.remove()
        assert services.get_assessment(in_force_id).status == "superseded"
        db.session.remove()
        db.engine.dispose()


def test_inconsistent_versions_are_refused_with_their_place_and_nothing_is_imported(app, grid, grids, tmp_path, new_database):
    _build_versions(grid, grids)
    document = json.loads(_run(app, "export-assessments").output)
    # assessments: [0] LAV-01 draft; [1] MTL-NORD 2023 finalised, revision 3, versions 1 and 2 superseded;
    # [2] MTL-NORD 2024 finalised, revision 1, versions: revision 2 in draft; [3] MTL-NORD 2025 draft.

    def duplicate(d):
        d[1]["versions"][1]["revision"] = 1

    def gap(d):
        del d[1]["versions"][1]

    def superseded_after(d):
        d[1]["revision"], d[1]["versions"][1]["revision"] = 2, 3

    def draft_with_versions(d):
        d[3]["versions"] = [{**copy.deepcopy(d[1]["versions"][0]), "date": d[3]["date"]}]
        d[3]["revision"] = 2

    def draft_before(d):
        d[2]["revision"], d[2]["versions"][0]["revision"] = 2, 1

    def two_finalised(d):
        d[2]["versions"][0]["status"] = "finalized"

    def confirmed_in_finalised(d):
        d[1]["answers"]["ECO-1"]["carried_over"] = True

    def no_time_zone(d):
        d[0]["created_at"] = "2025-05-02T10:00:00"

    def revision_zero(d):
        d[0]["revision"] = 0

    def same_meeting(d):
        d[2]["versions"][0]["date"] = "2023-03-14"

    def incomplete_superseded(d):
        del d[1]["versions"][0]["answers"]["ENF-2"]

    cases = [
        (duplicate, "assessments[1].versions[1].revision : deux versions portent le numéro de révision 1"),
        (gap, "assessments[1].revision : il manque la révision 2"),
        (superseded_after, "assessments[1].versions[1].status : une version remplacée précède la version en vigueur"),
        (draft_with_versions, "assessments[3].versions : un brouillon n'a pas d'autres versions"),
        (draft_before, "assessments[2].versions[0].revision : une révision en cours suit directement la version "
                       "en vigueur : révision 3 attendue"),
        (two_finalised, "assessments[2].versions[0].status : valeur inconnue"),
        (confirmed_in_finalised, "assessments[1].answers.ECO-1.carried_over : seul un brouillon"),
        (no_time_zone, "assessments[0].created_at : date et heure invalides"),
        (revision_zero, "assessments[0].revision : nombre trop petit (minimum 1)"),
        (same_meeting, "assessments[2].versions[0] : même territoire, même date et même point de vue que "
                       "assessments[1]"),
        (incomplete_superseded, "assessments[1].versions[0].answers : une évaluation finalisée a un niveau pour "
                                "chaque énoncé ; il manque ENF-2"),
    ]
    target = make_app(new_database())
    for mutate, message in cases:
        broken = copy.deepcopy(document)
        mutate(broken["assessments"])
        result = _run(target, "import-assessments", _write(tmp_path / f"{mutate.__name__}.json", broken))
        assert result.exit_code != 0 and "rien d'importé" in result.output, (mutate.__name__, result.output)
        assert message in result.output, (mutate.__name__, result.output)
    assert json.loads(_run(target, "export-assessments").output)["assessments"] == []
    with target.app_context():
        db.engine.dispose()


def test_control_characters_in_an_imported_file_are_removed_as_in_the_forms(app, grid, tmp_path):
    """A NUL would make PostgreSQL refuse the whole import; it goes, as it does from a form."""
    document = _document(grid)
    finalized = document["assessments"][1]
    finalized["territory"]["name"] = "Montréal\x00-Nord"
    finalized["participants"][0]["name"] = "A\x00na"
    finalized["answers"]["ECO-1"]["comment"] = "Ligne 1\r\nLigne 2\x0bLigne 3\x07"
    result = _run(app, "import-assessments", _write(tmp_path / "nul.json", document))
    assert result.exit_code == 0, result.output
    stored = db.session.scalars(select(Assessment).where(Assessment.date == dt.date(2024, 3, 14))
                                .order_by(Assessment.id)).all()
    mine = next(a for a in stored if a.territory.code == "MTL-NORD")
    assert mine.territory.name == "Montréal-Nord" and mine.participants[0].name == "Ana"
    assert mine.answers_by_item["ECO-1"].comment == "Ligne 1\nLigne 2\nLigne 3"
