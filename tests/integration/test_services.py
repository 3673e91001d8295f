"""Use-cases against a real database, on SQLite and on PostgreSQL."""
import datetime as dt

import pytest

from pin_grid import services
from pin_grid.context import grid_catalog
from pin_grid.services import AnswerData, AssessmentDetails, OrganizationData, ParticipantData


def _start(grid, code="MTL-NORD", date=dt.date(2024, 3, 14), perspective=None):
    territory = services.territory_by_code(code) or services.create_territory(code, "Montréal-Nord", "Montréal")
    return services.start_assessment(
        AssessmentDetails(
            territory_id=territory.id,
            date=date,
            perspective=perspective,
            participants=[ParticipantData("intervenante", "cisss", "Ana"), ParticipantData("parent-partenaire", "parent_partenaire")],
            organizations=[OrganizationData("Maison de la Famille", "communautaire")],
        ),
        grid_catalog(),
    )


def test_a_draft_is_saved_over_several_sittings_then_finalised(app, grid):
    assessment = _start(grid)
    items = list(grid.items)
    services.save_answers(assessment.id, {i: AnswerData(level="implante") for i in items[:12]})
    services.save_answers(assessment.id, {i: AnswerData(level="partiel", comment="à revoir") for i in items[12:]})
    stored = services.get_assessment(assessment.id)
    assert services.answered_count(stored, grid) == 24
    assert stored.answers_by_item[items[-1]].comment == "à revoir"
    assert stored.grid_version == grid.version
    services.finalize(assessment.id, grid)
    assert services.get_assessment(assessment.id).status == "finalized"


def test_finalising_with_unanswered_statements_is_refused_and_keeps_the_draft(app, grid):
    assessment = _start(grid)
    services.save_answers(assessment.id, {"ECO-1": AnswerData(level="ne_sais_pas")})
    with pytest.raises(services.ServiceError) as info:
        services.finalize(assessment.id, grid)
    assert len(info.value.details["missing"]) == 23
    assert "ECO-1" not in info.value.details["missing"]  # « Ne sais pas » counts as an answer
    assert services.get_assessment(assessment.id).status == "draft"


def test_a_finalised_assessment_cannot_be_changed(app, grid):
    assessment = _start(grid)
    services.save_answers(assessment.id, {i: AnswerData(level="implante") for i in grid.items})
    services.finalize(assessment.id, grid)
    with pytest.raises(services.Locked):
        services.save_answers(assessment.id, {"ECO-1": AnswerData(level="partiel")})
    assert services.get_assessment(assessment.id).answers_by_item["ECO-1"].level == "implante"


def test_two_people_changing_different_statements_both_keep_their_change(app, grid):
    assessment = _start(grid)
    base = AnswerData().fingerprint()
    services.save_answers(assessment.id, {"ECO-1": AnswerData(level="implante")}, {"ECO-1": base})
    result = services.save_answers(assessment.id, {"ECO-2": AnswerData(level="partiel"), "ECO-1": AnswerData()},
                                   {"ECO-2": base, "ECO-1": base})
    # The second person left ECO-1 as they loaded it (empty): not a change of theirs, so no
    # conflict and nothing erased; their page learns what ECO-1 holds now.
    stored = services.get_assessment(assessment.id).answers_by_item
    assert result.conflicts == [] and result.saved == ["ECO-2"]
    assert result.changed_by_others == {"ECO-1": AnswerData(level="implante")}
    assert stored["ECO-1"].level == "implante" and stored["ECO-2"].level == "partiel"


def test_the_same_statement_changed_by_two_people_is_a_conflict_not_an_overwrite(app, grid):
    assessment = _start(grid)
    base = AnswerData().fingerprint()
    services.save_answers(assessment.id, {"PAR-1": AnswerData(level="implante", comment="Mine")}, {"PAR-1": base})
    result = services.save_answers(assessment.id, {"PAR-1": AnswerData(level="non_implante", comment="Theirs")},
                                   {"PAR-1": base})
    assert [c.item_id for c in result.conflicts] == ["PAR-1"]
    assert result.conflicts[0].theirs.comment == "Mine"
    assert result.conflicts[0].yours.comment == "Theirs"
    assert services.get_assessment(assessment.id).answers_by_item["PAR-1"].comment == "Mine"
    # Having seen the other value, saving again on top of it is deliberate and goes through.
    again = services.save_answers(assessment.id, {"PAR-1": AnswerData(level="non_implante", comment="Theirs")},
                                  {"PAR-1": result.conflicts[0].theirs.fingerprint()})
    assert again.saved == ["PAR-1"]


def test_same_territory_date_and_perspective_cannot_be_started_twice(app, grid):
    _start(grid)
    with pytest.raises(services.Conflict):
        _start(grid)
    _start(grid, perspective="Maison de la Famille")  # another point of view is another assessment
    with pytest.raises(services.Conflict):
        _start(grid, perspective="maison de la famille")


def test_results_follow_the_rules(app, grid):
    assessment = _start(grid)
    levels = {"ECO-1": "implante", "ECO-2": "implante", "ECO-3": "partiel", "ECO-5": "partiel"}
    services.save_answers(assessment.id, {i: AnswerData(level=lv) for i, lv in levels.items()})
    results = services.results_of(services.get_assessment(assessment.id), grid)
    eco = results.themes[0]
    assert eco.theme.id == "ecosystemique"
    assert (eco.score.score, eco.score.status, eco.score.answered) == (75.0, "partiel", 4)
    assert results.ensemble is None  # the other components are not answered yet
    assert results.themes[1].score.status == "insuffisant"


def test_the_previous_assessment_is_the_latest_finalised_one_of_the_same_view_before_it(app, grid):
    """What the results compare with (« depuis la précédente »): same territory, same point of
    view (the collective one or the same partner's), finalised, earlier (or the same day, started
    before), and never a version of the assessment itself."""
    def finalised(date, perspective=None):
        assessment = _start(grid, date=date, perspective=perspective)
        services.save_answers(assessment.id, {i: AnswerData(level="implante") for i in grid.items})
        return services.finalize(assessment.id, grid)

    def previous(assessment):
        found = services.previous_assessment(services.get_assessment(assessment.id))
        return found.id if found else None

    first = finalised(dt.date(2023, 3, 1))
    partner_before = finalised(dt.date(2023, 6, 1), perspective="Maison de la Famille")
    _start(grid, date=dt.date(2024, 1, 10))  # a draft: never a reference
    collective = finalised(dt.date(2024, 3, 14))
    partner = finalised(dt.date(2024, 3, 14), perspective="Maison de la Famille")
    assert previous(first) is None
    assert previous(collective) == first.id  # not the partner's, later though it is
    assert previous(partner) == partner_before.id
    # A revision compares with what came before the version it corrects, not with that version.
    revision = services.open_revision(collective.id, "Une cote mal saisie")
    services.save_answers(revision.id, {"ECO-1": AnswerData(level="partiel")})
    revision = services.finalize(revision.id, grid)
    assert previous(revision) == first.id
