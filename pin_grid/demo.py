"""Plausible demonstration data: territories, partner organisations and finalised assessments
over several years, built as a `pin-grid/1` document so that it goes through the same checks
and the same import as real data."""
from __future__ import annotations

import datetime as dt
import random
import unicodedata

from .grid import Grid

REGIONS = {
    "Montréal": ["Montréal-Nord", "Saint-Michel", "Hochelaga-Maisonneuve", "Côte-des-Neiges", "Verdun", "Pointe-aux-Trembles"],
    "Capitale-Nationale": ["Limoilou", "Charlesbourg", "Portneuf", "Charlevoix"],
    "Laurentides": ["Saint-Jérôme", "Antoine-Labelle", "Thérèse-De Blainville"],
    "Montérégie": ["Longueuil", "Saint-Hyacinthe", "Haut-Richelieu", "Vaudreuil-Soulanges"],
    "Mauricie-et-Centre-du-Québec": ["Trois-Rivières", "Drummond", "Arthabaska"],
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
ROLES = [
    ("intervenante sociale", "cisss"), ("éducatrice spécialisée", "cisss"), ("chef de service", "cisss"),
    ("coordonnatrice PIN", "cisss"), ("psychoéducateur", "cisss"), ("directrice", "communautaire"),
    ("intervenant communautaire", "communautaire"), ("travailleuse sociale", "pediatrie_sociale"),
    ("enseignante", "scolaire"), ("éducatrice", "garde_educative"), ("parent-partenaire", "parent_partenaire"),
]
PEOPLE = ["Ana", "Benoît", "Chantal", "Dominique", "Élise", "François", "Geneviève", "Hugo", "Isabelle",
          "Jacinthe", "Karim", "Louise", "Mathieu", "Nadia", "Olivier", "Patricia", "Rémi", "Sophie"]


def _code(name: str, used: set[str]) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    words = [w for w in "".join(c if c.isalnum() else " " for c in ascii_name).split() if w not in {"DE", "DU", "LA", "LE", "DES", "ET"}]
    code = "-".join(w[:4] for w in words[:3])[:20]
    base, n = code, 2
    while code in used:
        code = f"{base[:17]}-{n}"
        n += 1
    used.add(code)
    return code


def _level(rng: random.Random, quality: float) -> str:
    """A level drawn around a quality between 0 and 1 (one in twenty is « ne sais pas »)."""
    if rng.random() < 0.05:
        return "ne_sais_pas"
    x = quality + rng.gauss(0, 0.22)
    return "implante" if x > 0.66 else "partiel" if x > 0.33 else "non_implante"


def demo_document(grid: Grid, territories: int = 22, years: int = 4, seed: int = 2024,
                  last_year: int | None = None) -> dict:
    rng = random.Random(seed)
    last_year = last_year or dt.date.today().year
    places = [(region, name) for region, names in REGIONS.items() for name in names]
    rng.shuffle(places)
    used: set[str] = set()
    assessments = []
    for index in range(territories):
        region, name = places[index % len(places)]
        if index >= len(places):
            name = f"{name} {index // len(places) + 1}"
        territory = {"code": _code(name, used), "name": name, "region": region}
        organizations = [{"name": pattern.format(place=name)[:200], "sector": sector}
                         for pattern, sector in rng.sample(ORGANIZATIONS, k=rng.randint(2, 4))]
        # Each territory has its own strengths, and most improve a little every year.
        quality = {theme.id: min(0.95, max(0.05, rng.gauss(0.5, 0.2))) for theme in grid.themes}
        drift = rng.gauss(0.04, 0.05)
        for year in range(last_year - years + 1, last_year + 1):
            step = year - (last_year - years + 1)
            date = dt.date(year, rng.randint(2, 6), rng.randint(1, 28))
            participants = []
            for _ in range(rng.randint(4, 9)):
                role, sector = rng.choice(ROLES)
                participants.append({"name": rng.choice(PEOPLE + [None]), "role": role, "sector": sector})
            answers = {}
            for theme in grid.themes:
                for item in theme.items:
                    answers[item.id] = {
                        "level": _level(rng, quality[theme.id] + drift * step),
                        "comment": "", "priority": False, "action": "", "action_owner": "", "action_due": None,
                    }
            weakest = min(grid.items, key=lambda i: (answers[i]["level"] != "non_implante", rng.random()))
            answers[weakest].update(priority=True, action="Planifier une formation commune avec les partenaires",
                                    action_owner="Coordination PIN", action_due=f"{year}-12-15")
            assessments.append({
                "territory": territory, "date": date.isoformat(), "perspective": None, "status": "finalized",
                "grid_version": grid.version, "participants": participants, "organizations": organizations,
                "answers": answers,
            })
    return {"format": "pin-grid/1", "assessments": assessments}
