"""Plausible demonstration data: territories, partner organisations and finalised assessments
over several years, written with bulk inserts so that 5,000 territories take well under a minute.

`demo_territories` draws the data (same seed, same data); `write_demo` writes it in one
transaction, a few executemany INSERTs per few hundred territories instead of one object per
answer, and records one audit event (an `import`) for the whole demo. The rows respect what the
schema asks: territory codes unique and of the exchange format's pattern, organisations unique by
name and by `name_key`, one collective assessment per territory and date.
"""
from __future__ import annotations

import datetime as dt
import itertools
import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import insert, select

from . import limits
from .extensions import db
from .grid import Grid
from .models import FINALIZED, Answer, Assessment, Organization, Participant, Territory, assessment_organization
from .services.audit import SYSTEM, add_audit
from .services.territories import name_key
from .transactions import write_transaction

REGIONS = {
    "Montréal": ["Montréal-Nord", "Saint-Michel", "Hochelaga-Maisonneuve", "Côte-des-Neiges", "Verdun", "Pointe-aux-Trembles"],
    "Capitale-Nationale": ["Limoilou", "Charlesbourg", "Portneuf", "Charlevoix"],
    "Laurentides": ["Saint-Jérôme", "Antoine-Labelle", "Thérèse-De Blainville"],
    "Montérégie": ["Longueuil", "Saint-Hyacinthe", "Haut-Richelieu", "Vaudreuil-Soulanges"],
    "Mauricie": ["Trois-Rivières"],
    "Centre-du-Québec": ["Drummond", "Arthabaska"],
    "Saguenay–Lac-Saint-Jean": ["Chicoutimi", "Jonquière", "Lac-Saint-Jean-Est"],
    "Estrie": ["Sherbrooke", "Memphrémagog", "Granit"],
    "Outaouais": ["Gatineau", "Pontiac", "Vallée-de-la-Gatineau"],
    "Bas-Saint-Laurent": ["Rimouski-Neigette", "Rivière-du-Loup", "Matane"],
}
ORGANIZATIONS = [
    ("Maison de la Famille {place}", "communautaire"),
    ("Centre de pédiatrie sociale {place}", "pediatrie_sociale"),
    ("CPE Les Petits Pas de {place}", "garde_educative"),
    ("École primaire de {place}", "scolaire"),
    ("Carrefour jeunesse-emploi {place}", "communautaire"),
    ("Comptoir alimentaire {place}", "communautaire"),
]
# Each role in the feminine and the masculine, so that a participant's role agrees with their name.
ROLES = [
    ("intervenante sociale", "intervenant social", "cisss"),
    ("éducatrice spécialisée", "éducateur spécialisé", "cisss"),
    ("chef de service", "chef de service", "cisss"),
    ("coordonnatrice PIN", "coordonnateur PIN", "cisss"),
    ("psychoéducatrice", "psychoéducateur", "cisss"),
    ("directrice", "directeur", "communautaire"),
    ("intervenante communautaire", "intervenant communautaire", "communautaire"),
    ("travailleuse sociale", "travailleur social", "pediatrie_sociale"),
    ("enseignante", "enseignant", "scolaire"),
    ("éducatrice", "éducateur", "garde_educative"),
    ("parent-partenaire", "parent-partenaire", "parent_partenaire"),
]
PEOPLE = ["Ana", "Benoît", "Chantal", "Dominique", "Élise", "François", "Geneviève", "Hugo", "Isabelle",
          "Jacinthe", "Karim", "Louise", "Mathieu", "Nadia", "Olivier", "Patricia", "Rémi", "Sophie"]
MEN = {"Benoît", "François", "Hugo", "Karim", "Mathieu", "Olivier", "Rémi"}
WOMEN = set(PEOPLE) - MEN - {"Dominique"}  # Dominique, and the unnamed, take either form
ACTION = "Planifier une formation commune avec les partenaires"
ACTION_OWNER = "Coordination PIN"
# Territories written per round of INSERTs: a few thousand rows of answers in memory at a time.
CHUNK = 250


@dataclass(frozen=True)
class DemoAssessment:
    date: dt.date
    participants: list[tuple[str | None, str, str]]  # name, role, sector
    answers: dict[str, dict]  # item id -> the Answer columns but the ids


@dataclass(frozen=True)
class DemoTerritory:
    code: str
    name: str
    region: str
    organizations: list[tuple[str, str]]  # name, sector
    assessments: list[DemoAssessment]


@dataclass
class DemoReport:
    created: int = 0  # finalised assessments written
    skipped: int = 0  # already stored for that territory and date
    assessment_ids: list[int] = field(default_factory=list)


def _code(name: str, copy: int, used: set[str]) -> str:
    """A unique territory code of the exchange format's pattern, e.g. MONT-NORD or MONT-NORD-7."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    words = [w for w in "".join(c if c.isalnum() else " " for c in ascii_name).split() if w not in {"DE", "DU", "LA", "LE", "DES", "ET"}]
    base = "-".join(w[:4] for w in words[:3])
    code = _fit(base, f"-{copy}" if copy > 1 else "")
    for n in itertools.count(2):
        if code not in used:
            break
        code = _fit(base, f"-{copy}-{n}" if copy > 1 else f"-{n}")
    used.add(code)
    return code


def _fit(base: str, suffix: str) -> str:
    return base[:limits.TERRITORY_CODE_LENGTH - len(suffix)].rstrip("-") + suffix


def _level(rng: random.Random, quality: float) -> str:
    """A level drawn around a quality between 0 and 1 (one in twenty is « ne sais pas »)."""
    if rng.random() < 0.05:
        return "ne_sais_pas"
    x = quality + rng.gauss(0, 0.22)
    return "implante" if x > 0.66 else "partiel" if x > 0.33 else "non_implante"


def demo_territories(grid: Grid, territories: int = 22, years: int = 4, seed: int = 2024,
                     last_year: int | None = None) -> Iterator[DemoTerritory]:
    """The demo's territories, one at a time, each with its organisations and one finalised
    collective assessment a year up to `last_year` (this year by default)."""
    rng = random.Random(seed)
    last_year = last_year or dt.date.today().year
    first_year = last_year - years + 1
    places = [(region, name) for region, names in REGIONS.items() for name in names]
    rng.shuffle(places)
    used: set[str] = set()
    for index in range(territories):
        region, place = places[index % len(places)]
        copy = index // len(places) + 1
        name = f"{place} {copy}" if copy > 1 else place
        organizations = [(pattern.format(place=name)[:limits.NAME], sector)
                         for pattern, sector in rng.sample(ORGANIZATIONS, k=rng.randint(2, 4))]
        # Each territory has its own strengths, and most improve a little every year.
        quality = {theme.id: min(0.95, max(0.05, rng.gauss(0.5, 0.2))) for theme in grid.themes}
        drift = rng.gauss(0.04, 0.05)
        assessments = []
        for year in range(first_year, last_year + 1):
            date = dt.date(year, rng.randint(2, 6), rng.randint(1, 28))
            participants = []
            for _ in range(rng.randint(4, 9)):
                feminine, masculine, sector = rng.choice(ROLES)
                person = rng.choice(PEOPLE + [None])
                woman = person in WOMEN or (person not in MEN and len(participants) % 2 == 0)
                participants.append((person, feminine if woman else masculine, sector))
            answers = {
                item.id: {"level": _level(rng, quality[theme.id] + drift * (year - first_year)), "comment": "",
                          "priority": False, "action": "", "action_owner": "", "action_due": None,
                          "carried_over": False}
                for theme in grid.themes for item in theme.items
            }
            weakest = min(grid.items, key=lambda i: (answers[i]["level"] != "non_implante", rng.random()))
            answers[weakest].update(priority=True, action=ACTION, action_owner=ACTION_OWNER,
                                    action_due=dt.date(year, 12, 15))
            assessments.append(DemoAssessment(date, participants, answers))
        yield DemoTerritory(_code(place, copy, used), name, region, organizations, assessments)


def write_demo(grid: Grid, territories: int = 22, years: int = 4, seed: int = 2024, last_year: int | None = None,
               *, actor: str = SYSTEM) -> DemoReport:
    """Write the demo in one transaction. A territory whose code is stored already is used as
    it is, an organisation likewise (by `name_key`); an assessment of a territory at a date
    that already has a collective assessment is skipped."""
    report = DemoReport()
    with write_transaction():
        territory_ids = dict(db.session.execute(select(Territory.code, Territory.id)).all())
        organization_ids = dict(db.session.execute(select(Organization.name_key, Organization.id)).all())
        stored_codes = set(territory_ids)
        drawn = demo_territories(grid, territories, years, seed, last_year)
        while chunk := list(itertools.islice(drawn, CHUNK)):
            _write_chunk(chunk, grid, territory_ids, organization_ids, stored_codes, report)
        # One line for the whole demo (an "import", as the demo always was), not one per assessment.
        ids = report.assessment_ids
        add_audit(actor, "import", new={"territories": territories, "years": years, "seed": seed,
                                      "created": report.created, "skipped": report.skipped,
                                      "assessment_ids": [min(ids), max(ids)] if ids else []},
                  detail=f"flask demo: {report.created} finalised assessments of {territories} territories "
                         f"over {years} years (seed {seed}), {report.skipped} already present")
    return report


def _insert(table, rows: list[dict], *returning):
    """The rows in one executemany (the driver's own; with `returning`, SQLAlchemy's INSERT … VALUES
    of many rows at once … RETURNING), and the `returning` columns of the rows written."""
    if not rows:
        return []
    statement = insert(table)
    if returning:
        return db.session.execute(statement.returning(*returning), rows).all()
    db.session.execute(statement, rows)
    return []


def _write_chunk(chunk: list[DemoTerritory], grid: Grid, territory_ids: dict[str, int],
                 organization_ids: dict[str, int], stored_codes: set[str], report: DemoReport) -> None:
    t, o, a = Territory.__table__, Organization.__table__, Assessment.__table__
    new = {d.code: {"code": d.code, "name": d.name, "region": d.region} for d in chunk if d.code not in territory_ids}
    territory_ids.update(_insert(t, list(new.values()), t.c.code, t.c.id))

    names = {}
    for d in chunk:
        for name, sector in d.organizations:
            key = name_key(name)
            if key not in organization_ids:
                names.setdefault(key, {"name": name, "name_key": key, "sector": sector})
    organization_ids.update(_insert(o, list(names.values()), o.c.name_key, o.c.id))

    # Collective assessments already stored (only a territory that was there before can have one).
    reused = [territory_ids[d.code] for d in chunk if d.code in stored_codes]
    taken = set()
    if reused:
        taken = set(db.session.execute(
            select(Assessment.territory_id, Assessment.date)
            .where(Assessment.territory_id.in_(reused), Assessment.perspective_id.is_(None))).all())

    now = dt.datetime.now(dt.timezone.utc)
    meetings = []  # (territory, assessment) to write, in order
    for d in chunk:
        for assessment in d.assessments:
            if (territory_ids[d.code], assessment.date) in taken:
                report.skipped += 1
            else:
                meetings.append((d, assessment))
    written = _insert(a, [
        {"territory_id": territory_ids[d.code], "date": m.date, "perspective_id": None, "status": FINALIZED,
         "grid_version": grid.version, "created_at": now, "updated_at": now, "version": 1, "revision": 1,
         "supersedes_id": None, "revision_reason": ""}
        for d, m in meetings
    ], a.c.territory_id, a.c.date, a.c.id)
    assessment_ids = {(territory_id, date): id_ for territory_id, date, id_ in written}

    participants, answers, present = [], [], []
    for d, m in meetings:
        assessment_id = assessment_ids[(territory_ids[d.code], m.date)]
        report.assessment_ids.append(assessment_id)
        participants += [{"assessment_id": assessment_id, "position": i, "name": name, "role": role,
                          "sector": sector} for i, (name, role, sector) in enumerate(m.participants)]
        answers += [{"assessment_id": assessment_id, "item_id": item_id, **answer}
                    for item_id, answer in m.answers.items()]
        present += [{"assessment_id": assessment_id, "organization_id": organization_id}
                    for organization_id in dict.fromkeys(organization_ids[name_key(name)]
                                                         for name, _ in d.organizations)]
    _insert(Participant.__table__, participants)
    _insert(Answer.__table__, answers)
    _insert(assessment_organization, present)
    report.created += len(meetings)
