"""The scoring rules of DESIGN.md §4, on their own (no app, no database)."""
import ast
import random
from pathlib import Path

import pytest

from pin_grid import scoring
from pin_grid.scoring import ensemble, score_theme


def test_two_implemented_two_partial_is_75_partial():
    result = score_theme(["implante", "implante", "partiel", "partiel"])
    assert result.score == 75.0
    assert result.status == "partiel"
    assert result.answered == 4
    assert result.counts == {"implante": 2, "partiel": 2, "non_implante": 0, "ne_sais_pas": 0}


def test_counts_name_every_level_even_when_zero():
    assert score_theme([None, None, None]).counts == {"implante": 0, "partiel": 0, "non_implante": 0, "ne_sais_pas": 0}


def test_all_implemented_and_all_not_implemented():
    assert score_theme(["implante"] * 4).status == "implante"
    assert score_theme(["implante"] * 4).score == 100.0
    assert score_theme(["non_implante"] * 3).status == "non_implante"
    assert score_theme(["non_implante"] * 3).score == 0.0


def test_ne_sais_pas_is_counted_but_excluded_from_the_score():
    result = score_theme(["implante", "partiel", "ne_sais_pas", "ne_sais_pas"])
    assert result.counts["ne_sais_pas"] == 2
    assert result.answered == 2
    assert result.score == 75.0  # (2 + 1) / (2 × 2)


def test_status_ignores_ne_sais_pas():
    assert score_theme(["implante", "implante", "ne_sais_pas"]).status == "implante"


@pytest.mark.parametrize(
    "levels, has_score",
    [
        (["implante", None, None, None], False),  # 1 of 4: fewer than half
        (["implante", "partiel", None, None], True),  # 2 of 4: exactly half
        (["implante", None, None], False),  # 1 of 3
        (["implante", "ne_sais_pas", "ne_sais_pas"], False),  # 1 answered of 3
        (["implante", "partiel", None], True),  # 2 of 3
        (["implante", "partiel", None, None, None], False),  # 2 of 5
        (["implante", "partiel", "partiel", None, None], True),  # 3 of 5
        (["ne_sais_pas"] * 4, False),
    ],
)
def test_fewer_than_half_answered_gives_no_score(levels, has_score):
    result = score_theme(levels)
    assert (result.score is not None) is has_score
    assert (result.status == "insuffisant") is (not has_score)


def test_points_come_from_the_grid():
    points = {"implante": 4, "partiel": 1, "non_implante": 0, "ne_sais_pas": None}
    assert score_theme(["implante", "partiel"], points).score == pytest.approx(100 * 5 / 8)


def test_unknown_level_is_refused():
    with pytest.raises(ValueError):
        score_theme(["implante", "bogus"])


def test_ensemble_is_the_plain_mean_of_the_components():
    assert ensemble([100.0, 75.0, 50.0, 25.0, 0.0]) == 50.0
    assert ensemble({"a": 80.0, "b": 60.0}) == 70.0


def test_ensemble_is_none_when_a_component_has_no_score():
    assert ensemble([100.0, None, 50.0, 25.0, 0.0]) is None
    assert ensemble([]) is None


def test_scoring_imports_neither_flask_nor_sqlalchemy():
    tree = ast.parse(Path(scoring.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {m for m in imported if m.split(".")[0] in {"flask", "flask_sqlalchemy", "sqlalchemy"}}


@pytest.mark.parametrize("locale", ["fr_CA", "en"])
def test_scores_are_written_as_babel_writes_them(locale):
    """The fast one-decimal formatting of scores gives Babel's text, ties and signs included."""
    from babel.numbers import format_decimal

    from pin_grid.text import one_decimal

    rng = random.Random(7)
    values = [0, 100, 62.25, 62.35, 0.05, 0.15, 99.95, -2.25, -0.04, 1e-9, 33.333333333333336, 66.66666666666667]
    values += [rng.uniform(-100, 100) for _ in range(2000)] + [round(rng.uniform(0, 100), 2) for _ in range(2000)]
    for value in values:
        assert one_decimal(value, locale) == format_decimal(value, "0.0", locale=locale), value
