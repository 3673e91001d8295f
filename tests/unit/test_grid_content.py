"""What grid 2026.2 promises about its content (no app, no database): one idea per statement,
levels a group applies the same way, « On ne sait pas » apart from « Sans objet », no
« référence » in the sense of referral, profile texts worded for the thresholds when no cohort
was used, and honest links to the previous version (grids/2026.1.yaml, kept as it was)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from pin_grid.grid import GridCatalog, Text, load_catalog, load_grid

ROOT = Path(__file__).resolve().parents[2]
CURRENT = ROOT / "grid_items.yaml"
ARCHIVE = ROOT / "grids"

REFERRAL = re.compile(r"r[ée]f[ée]r|r[ée]f[èe]re", re.IGNORECASE)  # référence, référer, référé, réfère
FIRST_PERSON = re.compile(r"\b(je|j'|j’|me|moi|mon|ma|mes)\b", re.IGNORECASE)
MEAN = re.compile(r"moyenne|average|\bmean\b", re.IGNORECASE)
MEDIAN_DOT = re.compile(r"\w[·⋅]\w")
PARENTHESISED = re.compile(r"\w\((?:e|s|es|x|ne|nes)\)", re.IGNORECASE)
PARENT_TOPICS = {
    "santé mentale": re.compile(r"santé mentale", re.IGNORECASE),
    "enfance": re.compile(r"\benfance\b", re.IGNORECASE),
    "couple": re.compile(r"\bcouple\b", re.IGNORECASE),
    "logement": re.compile(r"\blogement\b", re.IGNORECASE),
}


@pytest.fixture(scope="module")
def grid():
    return load_grid(CURRENT)


@pytest.fixture(scope="module")
def catalog() -> GridCatalog:
    return load_catalog(CURRENT, ARCHIVE)


@pytest.fixture(scope="module")
def previous():
    return load_grid(ARCHIVE / "2026.1.yaml")


def _texts(grid):
    """(where, Text) of every bilingual text of the grid."""
    for level in grid.levels:
        yield f"level {level.code} label", level.label
        if level.definition:
            yield f"level {level.code} definition", level.definition
    for theme in grid.themes:
        yield f"theme {theme.id}", theme.name
        for item in theme.items:
            yield f"{item.id} text", item.text
            yield f"{item.id} help", item.help
    for letter, profile in grid.profiles.items():
        for where, worded in [(letter, profile), *((f"{letter}/{slug}", sub) for slug, sub in profile.subprofiles.items())]:
            for field in ("label", "explanation", "label_bands", "explanation_bands"):
                text = getattr(worded, field)
                if text is not None:
                    yield f"profile {where} {field}", text


def _worded(grid):
    """Every profile and sub-profile, with where it is."""
    for letter, profile in grid.profiles.items():
        yield letter, profile
        for slug, sub in profile.subprofiles.items():
            yield f"{letter}/{slug}", sub


def _theme_texts(grid, theme_id):
    return [item.text.fr for item in grid.theme(theme_id).items]


# --- the version in force and its shape ---------------------------------------------------

def test_the_version_in_force_follows_2026_1(grid, catalog):
    assert grid.version == "2026.2"
    assert grid.previous == "2026.1"
    assert catalog.current.version == "2026.2"
    assert set(catalog.versions) == {"2026.1", "2026.2"}


def test_every_text_is_in_both_languages_and_translated(grid):
    for where, text in _texts(grid):
        assert isinstance(text, Text)
        assert text.fr.strip() and text.en.strip(), where
    for item in grid.items.values():
        assert item.text.fr != item.text.en and item.help.fr != item.help.en, item.id


# --- levels -------------------------------------------------------------------------------

def test_the_five_levels_and_their_points(grid):
    assert grid.points == {"implante": 2, "partiel": 1, "non_implante": 0, "ne_sais_pas": None, "sans_objet": None}


def test_every_level_has_a_one_line_definition_in_both_languages(grid):
    for level in grid.levels:
        assert level.definition is not None, level.code
        for text in (level.definition.fr, level.definition.en):
            assert text.strip() and "\n" not in text, level.code
        assert level.definition.fr != level.definition.en, level.code
        assert level.definition.fr != level.label.fr, level.code


def test_the_definitions_say_how_often_the_practice_is_done(grid):
    assert re.search(r"plupart des familles", grid.level["implante"].definition.fr)
    assert re.search(r"certaines familles", grid.level["partiel"].definition.fr)
    assert re.search(r"exceptionnel", grid.level["non_implante"].definition.fr)


def test_unknown_and_not_applicable_are_two_levels_worded_for_a_group(grid):
    unknown, not_applicable = grid.level["ne_sais_pas"], grid.level["sans_objet"]
    assert unknown.points is None and not_applicable.points is None
    assert unknown.label.fr == "On ne sait pas"
    assert not_applicable.label.fr == "Sans objet"
    assert unknown.label.fr != not_applicable.label.fr and unknown.label.en != not_applicable.label.en
    for level in (unknown, not_applicable):
        assert not FIRST_PERSON.search(level.label.fr), level.label.fr
        assert not re.search(r"\bI\b|\bI'", level.label.en), level.label.en
    # « On ne sait pas » is a signal in itself: a knowledge gap to close.
    assert "connaissance" in unknown.definition.fr and "knowledge gap" in unknown.definition.en
    for level in (unknown, not_applicable):
        assert "score" in level.definition.fr and "compté" in level.definition.fr, level.code


# --- wording ------------------------------------------------------------------------------

def test_no_french_text_speaks_of_reference_in_the_sense_of_referral(grid):
    bad = [f"{where}: {text.fr}" for where, text in _texts(grid) if REFERRAL.search(text.fr)]
    assert not bad, "« orienter », « orientation », « personne pivot »… instead:\n" + "\n".join(bad)


def test_the_referral_pattern_catches_every_form():
    for bad in ("référence", "Référence", "RÉFÉRER", "référé", "il réfère", "references"):
        assert REFERRAL.search(bad), bad
    assert not REFERRAL.search("orienté vers une ressource")


def test_inclusive_forms_without_median_dot_or_parentheses(grid):
    bad = [f"{where}: {text.fr}" for where, text in _texts(grid)
           if MEDIAN_DOT.search(text.fr) or PARENTHESISED.search(text.fr)]
    assert not bad, "\n".join(bad)


# --- theme by theme -----------------------------------------------------------------------

def test_parent_statements_name_exactly_one_of_the_four_topics_each(grid):
    found = []
    for text in _theme_texts(grid, "actions_parents"):
        topics = [name for name, pattern in PARENT_TOPICS.items() if pattern.search(text)]
        assert len(topics) == 1, f"{text} → {topics}"
        found += topics
    assert sorted(found) == sorted(PARENT_TOPICS)
    housing = next(t for t in _theme_texts(grid, "actions_parents") if "logement" in t)
    assert "ressources du quartier" in housing
    childhood = next(t for t in _theme_texts(grid, "actions_parents") if "enfance" in t)
    assert "difficiles" in childhood
    assert any("coparentalité" in t for t in _theme_texts(grid, "actions_parents"))


def test_individual_or_group_support_is_in_the_help_not_in_the_parent_statements(grid):
    items = grid.theme("actions_parents").items
    assert not [i.id for i in items if re.search(r"individuel|groupe", i.text.fr)]
    assert [i.id for i in items if re.search(r"individuel", i.help.fr) and re.search(r"groupe", i.help.fr)]


def test_participation_is_a_practice_and_never_confused_with_volunteering(grid):
    items = grid.theme("participative").items
    adapting = [i for i in items if all(w in i.text.fr for w in ("horaire", "lieu", "rythme"))]
    assert len(adapting) == 1
    item = adapting[0]
    assert "hésit" in item.text.fr
    assert "mobilisation" in item.help.fr and "volontariat" in item.help.fr
    for i in items:
        for text in (i.text.fr, i.help.fr, i.text.en, i.help.en):
            assert not re.search(r"bénévol|volunteer", text, re.IGNORECASE), i.id
    # The help never blames the parent.
    assert not re.search(r"difficiles? à|résistant|refus", item.help.fr, re.IGNORECASE)


def test_ecosystemic_needs_are_those_of_child_family_and_living_environment(grid):
    texts = _theme_texts(grid, "ecosystemique")
    needs = next(t for t in texts if t.startswith("Les besoins de l'enfant"))
    assert "famille" in needs and "milieu de vie" in needs
    for text in texts:
        assert not re.search(r"besoins (de|du) (son |leur )?(environnement|milieu)", text), text
        assert "outil" not in text, "the needs-analysis tool is rated in the structures"
    assert any("compréhension" in t and "approche écosystémique" in t and "actions concrètes" in t for t in texts)
    assert any("outil" in t for t in _theme_texts(grid, "structures"))


def test_partnership_quality_help_maps_the_three_levels(grid):
    quality = [i for i in grid.theme("partenariat").items if "synergie" in i.text.fr]
    assert len(quality) == 1
    help_fr, help_en = quality[0].help.fr, quality[0].help.en
    for word in ("coordination", "action concertée", "synergie", "mandat"):
        assert word in help_fr, word
    for word in ("coordination", "concerted action", "synergy", "mandate"):
        assert word in help_en, word
    for code in ("implante", "partiel", "non_implante"):
        label = grid.level[code].label
        assert f"« {label.fr} »" in help_fr, label.fr
        assert f'"{label.en}"' in help_en, label.en
    # In that order: coordination → non implanté, action concertée → partiellement, synergie → implanté.
    order = [help_fr.index(w) for w in ("coordination seule", "« Non implanté »", "action concertée",
                                          "« Partiellement implanté »", "la synergie (", "« Implanté »")]
    assert order == sorted(order)


def test_roles_and_staff_turnover_are_not_asked_in_one_statement(grid):
    for text in _theme_texts(grid, "partenariat"):
        assert not ("rôles" in text and "personnel" in text), text


def test_children_activities_and_orientation(grid):
    texts = _theme_texts(grid, "actions_enfants")
    assert any("social, éducatif et clinique" in t for t in texts)
    assert any("orientés vers des services spécialisés" in t for t in texts)


def test_monitoring_statement_rates_a_practice_not_the_app(grid):
    monitoring = [i for i in grid.theme("structures").items if "suivi" in i.text.fr]
    assert len(monitoring) == 1
    text = monitoring[0].text.fr
    assert "ensemble" in text and "décisions" in text
    assert not re.search(r"tableau de bord|application|grille", text)


# --- profiles -----------------------------------------------------------------------------

def test_every_profile_and_subprofile_has_a_wording_for_the_thresholds(grid):
    seen = 0
    for where, worded in _worded(grid):
        seen += 1
        assert worded.label_bands is not None and worded.explanation_bands is not None, where
        for text in (worded.label_bands, worded.explanation_bands):
            for language in (text.fr, text.en):
                assert not MEAN.search(language), f"{where}: {language}"
        assert "seuil" in worded.explanation_bands.fr, where
        assert "threshold" in worded.explanation_bands.en, where
        assert worded.label_for("absolute") == worded.label_bands
        assert worded.explanation_for("absolute") == worded.explanation_bands
        assert worded.explanation_for("cohort") == worded.explanation
    assert seen == 9


def test_profile_labels_for_the_thresholds_say_seuils(grid):
    for letter, profile in grid.profiles.items():
        assert "seuils" in profile.label_bands.fr and "thresholds" in profile.label_bands.en, letter
    assert grid.profiles["B"].subprofiles["dans_la_moyenne"].label_bands.fr == "Entre les seuils"


def test_profile_explanations_report_what_the_establishments_of_the_profile_reported(grid):
    for letter, profile in grid.profiles.items():
        for text in (profile.explanation.fr, profile.explanation_bands.fr):
            assert "INESSS" in text and "établissements de ce profil" in text, letter


def test_profile_texts_never_blame_families_nor_rank_a_component(grid):
    for where, text in _texts(grid):
        if not where.startswith("profile"):
            continue
        assert not re.search(r"parents (étaient |sont )?difficiles", text.fr), where
        assert not re.search(r"parents (were |are )?hard to", text.en), where
        assert not re.search(r"à commencer par|commencez par", text.fr, re.IGNORECASE), where
    assert "difficulté à associer les parents" in grid.profiles["C"].explanation.fr
    assert "difficulté à associer les parents" in grid.profiles["C"].explanation_bands.fr


# --- links with 2026.1 --------------------------------------------------------------------

def test_a_statement_keeps_its_id_only_when_its_meaning_is_kept(grid, previous):
    for item in grid.items.values():
        if item.change in ("same", "reworded"):
            assert item.origins == (item.id,), item.id
        if item.id in previous.items:
            assert item.change in ("same", "reworded"), item.id
        else:
            assert item.change in ("split", "merged", "new"), item.id


def test_same_means_the_same_wording_and_reworded_a_new_one(grid, previous):
    for item in grid.items.values():
        if item.change == "same":
            assert item.text == previous.items[item.id].text, item.id
        elif item.change == "reworded":
            assert item.text.fr != previous.items[item.id].text.fr, item.id


def test_every_2026_1_statement_is_continued_or_removed(grid, previous, catalog):
    continued = {origin for item in grid.items.values() for origin in item.origins}
    assert set(previous.items) == continued | set(grid.removed)
    assert not continued & set(grid.removed)
    changes = {c.item_id or c.origins[0]: c.change for c in catalog.diff("2026.1", "2026.2")}
    assert changes["PRN-5"] == changes["PRN-6"] == "split"
    assert sorted(old for old, new in catalog.same_meaning("2026.1", "2026.2").items() if old == new) == sorted(
        i.id for i in grid.items.values() if i.change in ("same", "reworded"))


def test_the_previous_version_is_kept_as_it_was(previous):
    assert previous.version == "2026.1"
    assert previous.previous is None and previous.removed == ()
    assert [lv.code for lv in previous.levels] == ["implante", "partiel", "non_implante", "ne_sais_pas"]
    assert previous.level["ne_sais_pas"].label.fr == "Ne sais pas / ne s'applique pas"
    assert all(lv.definition is None for lv in previous.levels)
    assert len(previous.items) == 24
    assert all(item.change is None and item.origins == () for item in previous.items.values())
    assert "ECO-4" in previous.items and "PRN-4" in previous.items
