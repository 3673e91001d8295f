"""Symbols against a cohort or the absolute bands, and profiles A/B/C (DESIGN.md §4–§5)."""
import itertools
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pin_grid.scoring import (
    SYMBOLS,
    absolute_symbol,
    classify_profile,
    cohort_statistics,
    cohort_symbol,
    reference_for,
    standing,
    symbol_from_z,
)

COMPONENTS = ("ecosystemique", "participative", "partenariat", "actions_enfants", "actions_parents")


def comps(default="=", **symbols):
    return {c: symbols.get(c, default) for c in COMPONENTS}


# --- the table of DESIGN.md §5, row by row ----------------------------------------------

@pytest.mark.parametrize("ensemble", ["+", "++"])
def test_a_exemplaire_above_average_and_nothing_below(ensemble):
    result = classify_profile(comps("=", ecosystemique="++", partenariat="+"), ensemble)
    assert (result.letter, result.subprofile) == ("A", "exemplaire")


@pytest.mark.parametrize("ensemble", ["+", "++"])
@pytest.mark.parametrize("low", ["-", "--"])
def test_a_se_demarque_above_average_with_one_component_below(ensemble, low):
    result = classify_profile(comps("++", actions_enfants=low), ensemble)
    assert (result.letter, result.subprofile) == ("A", "se_demarque")


@pytest.mark.parametrize("eco", ["+", "++"])
def test_b_posture_ecosystemique(eco):
    result = classify_profile(comps("=", ecosystemique=eco), "=")
    assert (result.letter, result.subprofile) == ("B", "posture_ecosystemique")


def test_b_dans_la_moyenne():
    assert classify_profile(comps("="), "=").subprofile == "dans_la_moyenne"
    # another component above, but not the ecosystemic one: still « dans la moyenne »
    result = classify_profile(comps("=", partenariat="++"), "=")
    assert (result.letter, result.subprofile) == ("B", "dans_la_moyenne")


@pytest.mark.parametrize("low", ["-", "--"])
def test_c_avec_difficultes_average_with_one_component_below(low):
    result = classify_profile(comps("=", ecosystemique="++", participative=low), "=")
    assert (result.letter, result.subprofile) == ("C", "avec_difficultes")


@pytest.mark.parametrize("ensemble", ["-", "--"])
def test_c_difficile_below_average_whatever_the_components(ensemble):
    for components in (comps("++"), comps("="), comps("--")):
        result = classify_profile(components, ensemble)
        assert (result.letter, result.subprofile) == ("C", "difficile")


def test_no_profile_without_an_ensemble_or_with_a_component_missing():
    assert classify_profile(comps("="), None) is None
    assert classify_profile(comps("=", partenariat=None), "=") is None


def test_an_unknown_symbol_is_refused():
    with pytest.raises(ValueError):
        classify_profile(comps("="), "+++")


# --- properties over every combination ---------------------------------------------------

def test_every_combination_of_symbols_gets_exactly_one_profile():
    seen = set()
    for combo in itertools.product(SYMBOLS, repeat=6):
        result = classify_profile(dict(zip(COMPONENTS, combo[:5])), combo[5])
        assert result.letter in "ABC"
        assert result.subprofile in {"exemplaire", "se_demarque", "posture_ecosystemique", "dans_la_moyenne",
                                     "avec_difficultes", "difficile"}
        seen.add((result.letter, result.subprofile))
    assert len(seen) == 6


symbol = st.sampled_from(SYMBOLS)


@given(st.lists(symbol, min_size=5, max_size=5), symbol)
def test_the_profile_letter_follows_the_ensemble_and_the_lowest_component(components, ensemble):
    result = classify_profile(dict(zip(COMPONENTS, components)), ensemble)
    any_below = any(s in ("-", "--") for s in components)
    expected = "A" if ensemble in ("+", "++") else "C" if ensemble in ("-", "--") or any_below else "B"
    assert result.letter == expected
    # the sub-profile always belongs to its letter
    assert result.subprofile in {
        "A": {"exemplaire", "se_demarque"},
        "B": {"posture_ecosystemique", "dans_la_moyenne"},
        "C": {"avec_difficultes", "difficile"},
    }[result.letter]


# --- symbols ------------------------------------------------------------------------------

@pytest.mark.parametrize("z, expected", [
    (2.0, "++"), (3.5, "++"), (1.0, "+"), (1.99, "+"), (0.99, "="), (0.0, "="), (-0.99, "="),
    (-1.0, "-"), (-1.99, "-"), (-2.0, "--"), (-4.0, "--"),
])
def test_z_bands(z, expected):
    assert symbol_from_z(z) == expected


def test_cohort_symbol_uses_the_population_standard_deviation():
    cohort = [40.0, 60.0, 50.0, 50.0]  # mean 50, population sd √50 ≈ 7.07 (sample sd would be 8.16)
    sd = statistics.pstdev(cohort)
    assert cohort_symbol(50 + 1.0 * sd, cohort) == "+"
    assert cohort_symbol(50 + 0.999 * sd, cohort) == "="
    # 58 is 1.13 population-sd above the mean ("+"), but only 0.98 sample-sd ("=")
    assert cohort_symbol(58.0, cohort) == "+"
    assert cohort_symbol(50 - 2 * sd, cohort) == "--"


def test_cohort_symbol_is_equal_when_the_deviation_is_zero():
    assert cohort_symbol(70.0, [70.0, 70.0, 70.0]) == "="
    assert cohort_symbol(90.0, [70.0] * 5) == "="


@pytest.mark.parametrize("score, expected", [
    (100, "++"), (90, "++"), (89.9, "+"), (75, "+"), (74.9, "="), (40, "="), (39.9, "-"), (15, "-"), (14.9, "--"), (0, "--"),
])
def test_absolute_bands(score, expected):
    assert absolute_symbol(score) == expected


def test_absolute_bands_come_from_the_settings():
    bands = {"++": 95, "+": 80, "-": 50, "--": 20}
    assert absolute_symbol(90, bands) == "+"
    assert absolute_symbol(45, bands) == "-"


def test_reference_switches_to_absolute_below_min_cohort():
    assert reference_for(4, min_cohort=5).kind == "absolute"
    assert reference_for(5, min_cohort=5).kind == "cohort"
    assert reference_for(2, min_cohort=2).kind == "cohort"


def _sheet(*scores):
    return dict(zip(COMPONENTS, scores))


def test_standing_in_a_cohort():
    cohort = [_sheet(80, 80, 80, 80, 80), _sheet(60, 60, 60, 60, 60), _sheet(70, 70, 70, 70, 70),
              _sheet(70, 70, 70, 70, 70), _sheet(70, 70, 70, 70, 70)]
    result = standing(cohort[0], cohort_statistics(cohort), reference_for(len(cohort)))
    # mean 70, population sd √40 ≈ 6.32: 80 is z ≈ 1.58
    assert set(result.symbols.values()) == {"+"}
    assert result.ensemble == 80.0 and result.ensemble_symbol == "+"
    assert (result.profile.letter, result.profile.subprofile) == ("A", "exemplaire")


def test_standing_with_a_missing_component_has_no_ensemble_and_no_profile():
    cohort = [_sheet(80, 80, 80, 80, None)] + [_sheet(70, 70, 70, 70, 70)] * 4
    result = standing(cohort[0], cohort_statistics(cohort), reference_for(len(cohort)))
    assert result.symbols["actions_parents"] is None
    assert result.ensemble is None and result.ensemble_symbol is None and result.profile is None


def test_standing_against_the_absolute_bands_in_a_small_cohort():
    cohort = [_sheet(95, 80, 50, 30, 10)]
    result = standing(cohort[0], cohort_statistics(cohort), reference_for(1))
    assert list(result.symbols.values()) == ["++", "+", "=", "-", "--"]
    assert result.ensemble == 53.0 and result.ensemble_symbol == "="
    assert result.profile.subprofile == "avec_difficultes"


def test_floating_point_noise_does_not_cross_a_band_edge():
    assert symbol_from_z(1.9999999999999996) == "++"
    assert symbol_from_z(-1.9999999999999996) == "--"
    assert absolute_symbol(74.99999999999999) == "+"
    assert absolute_symbol(14.999999999999998) == "-"


def test_cohort_statistics_leave_out_missing_scores_and_count_every_member():
    cohort = [_sheet(80, 60, 50, 40, None), _sheet(60, 60, 50, 40, 70), _sheet(None, 60, 50, 40, 90)]
    stats = cohort_statistics(cohort)
    assert stats.size == 3
    assert stats.components["ecosystemique"].mean == 70 and stats.components["ecosystemique"].deviation == 10
    assert stats.components["participative"].deviation == 0
    assert stats.components["actions_parents"].mean == 80
    # Only the member with every component has an ensemble.
    assert stats.ensemble.mean == 56 and stats.ensemble.deviation == 0
    assert cohort_statistics([_sheet(None, None, None, None, None)]).ensemble is None


@given(st.lists(st.lists(st.one_of(st.none(), st.integers(0, 100).map(float)), min_size=5, max_size=5),
                min_size=1, max_size=12))
def test_statistics_computed_once_give_the_symbols_of_each_member_against_the_others(rows):
    """The cohort's spread is computed once; each member's symbols are those of its score
    against every member's scores, as the rule says."""
    cohort = [_sheet(*row) for row in rows]
    reference = reference_for(len(cohort), min_cohort=1)
    stats = cohort_statistics(cohort)
    for sheet in cohort:
        result = standing(sheet, stats, reference)
        for theme_id, score in sheet.items():
            expected = None if score is None else cohort_symbol(score, [m[theme_id] for m in cohort if m[theme_id] is not None])
            assert result.symbols[theme_id] == expected
