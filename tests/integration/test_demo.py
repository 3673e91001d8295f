"""`flask demo`: bulk inserts that write what they say, on SQLite and PostgreSQL."""
import json
import re

from sqlalchemy import func, select

from pin_grid import limits
from pin_grid.demo import demo_territories
from pin_grid.extensions import db
from pin_grid.models import (Answer, Assessment, AuditEvent, Organization, Participant, Territory,
                             assessment_organization)


def _run(app, *args):
    result = app.test_cli_runner().invoke(args=[str(a) for a in args])
    db.session.remove()
    return result


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_demo_of_300_territories_over_2_years_writes_what_it_says(app, grid):
    result = _run(app, "demo", "--territories", 300, "--years", 2)
    assert result.exit_code == 0, result.output
    assert "300" in result.output and "600" in result.output

    assert _count(Territory) == 300 and _count(Assessment) == 600
    assert _count(Answer) == 600 * len(grid.items)
    assert db.session.scalar(select(func.count(func.distinct(Answer.assessment_id)))) == 600
    assert _count(Participant) >= 600 * 4 and _count(Organization) >= 300 * 2
    assert _count(assessment_organization) >= 600 * 2
    assert set(db.session.scalars(select(Assessment.status))) == {"finalized"}
    codes = list(db.session.scalars(select(Territory.code)))
    assert all(re.match(limits.TERRITORY_CODE, code) for code in codes)
    # One line in the audit trail for the whole demo.
    events = list(db.session.scalars(select(AuditEvent)))
    assert len(events) == 1 and json.loads(events[0].new_value)["created"] == 600
    db.session.remove()

    years = sorted({a["date"][:4] for a in json.loads(_run(app, "export-assessments").output)["assessments"]})
    assert len(years) == 2
    for year in years:
        compared = json.loads(_run(app, "compare", "--year", year, "--json").output)
        assert len(compared["rows"]) == 300 and compared["cohort_size"] == 300

    # Again with --force and the same seed: the same meetings, so nothing new.
    again = _run(app, "demo", "--territories", 300, "--years", 2, "--force")
    assert again.exit_code == 0, again.output
    assert re.search(r": 0\b.*: 600\b", again.output), again.output
    assert _count(Territory) == 300 and _count(Assessment) == 600 and _count(Answer) == 600 * len(grid.items)


def test_same_seed_same_data_and_every_name_fits(grid):
    first = list(demo_territories(grid, 120, 3, seed=5, last_year=2024))
    assert first == list(demo_territories(grid, 120, 3, seed=5, last_year=2024))
    assert first != list(demo_territories(grid, 120, 3, seed=6, last_year=2024))
    assert len({t.code for t in first}) == 120 and len({t.name for t in first}) == 120
    for territory in first:
        assert re.match(limits.TERRITORY_CODE, territory.code)
        assert len(territory.name) <= limits.NAME and len(territory.region) <= limits.REGION
        assert all(len(name) <= limits.NAME for name, _ in territory.organizations)
        assert [a.date.year for a in territory.assessments] == [2022, 2023, 2024]
        assert all(set(a.answers) == set(grid.items) for a in territory.assessments)


def test_codes_stay_valid_for_10_000_territories(grid):
    codes = [t.code for t in demo_territories(grid, 10_000, 1)]
    assert len(set(codes)) == 10_000
    assert all(re.match(limits.TERRITORY_CODE, code) for code in codes)


def test_a_participant_s_role_agrees_with_their_name(grid):
    from pin_grid.demo import MEN, ROLES, WOMEN

    feminine = {f for f, m, _sector in ROLES if f != m}
    masculine = {m for f, m, _sector in ROLES if f != m}
    seen = [(person, role) for territory in demo_territories(grid, 60, 2, seed=3, last_year=2024)
            for assessment in territory.assessments for person, role, _sector in assessment.participants]
    assert not [(p, r) for p, r in seen if p in MEN and r in feminine]
    assert not [(p, r) for p, r in seen if p in WOMEN and r in masculine]
    # Both forms are used, by the named and the unnamed alike.
    assert {r for p, r in seen if p is None} & feminine and {r for p, r in seen if p is None} & masculine
