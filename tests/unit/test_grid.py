"""The grid file and its checks: the real grid_items.yaml, and one fixture per kind of fault."""
from pathlib import Path

import pytest
import yaml

from pin_grid.grid import GridError, load_grid, parse_grid

ROOT = Path(__file__).resolve().parents[2]
INVALID = Path(__file__).parent / "grids" / "invalid"


def test_the_grid_has_six_themes_and_24_statements(grid):
    assert [(t.id, t.letter, t.kind, len(t.items)) for t in grid.themes] == [
        ("ecosystemique", "A", "component", 4),
        ("participative", "B", "component", 4),
        ("partenariat", "C", "component", 4),
        ("actions_enfants", "D", "component", 3),
        ("actions_parents", "E", "component", 4),
        ("structures", "S", "structures", 5),
    ]
    assert len(grid.items) == 24
    assert grid.points == {"implante": 2, "partiel": 1, "non_implante": 0, "ne_sais_pas": None, "sans_objet": None}
    assert grid.version


def test_every_statement_has_text_and_help_in_both_languages(grid):
    for item in grid.items.values():
        for text in (item.text, item.help):
            assert text.fr.strip() and text.en.strip()
            assert text.fr != text.en


def test_grid_json_shape(grid):
    data = grid.as_json()
    assert set(data) == {"version", "previous", "levels", "removed", "themes"}
    assert data["levels"][3]["code"] == "ne_sais_pas" and data["levels"][3]["points"] is None
    assert data["levels"][3]["label"] == {"fr": "On ne sait pas", "en": grid.level["ne_sais_pas"].label.en}
    assert all(level["definition"]["fr"] and level["definition"]["en"] for level in data["levels"])
    theme = data["themes"][0]
    assert set(theme) == {"id", "letter", "kind", "name", "items"}
    assert set(theme["items"][0]) == {"id", "text", "help", "change", "from"}
    assert set(theme["items"][0]["text"]) == {"fr", "en"}


def _mutated(mutate) -> str:
    data = yaml.safe_load((ROOT / "grid_items.yaml").read_text(encoding="utf-8"))
    mutate(data)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@pytest.mark.parametrize("path", sorted(INVALID.glob("*.yaml")), ids=lambda p: p.stem)
def test_each_invalid_fixture_is_refused_with_its_line(path):
    expected = path.read_text(encoding="utf-8").splitlines()[0].removeprefix("# expect:").strip()
    with pytest.raises(GridError) as info:
        parse_grid(path.read_text(encoding="utf-8"), path)
    text = "\n".join(info.value.problems)
    assert expected in text, text
    assert all(p.startswith("line ") for p in info.value.problems), text


def test_every_problem_is_listed_not_just_the_first():
    def two_faults(data):
        data["themes"][0]["items"][0]["text"].pop("en")
        data["themes"][1]["items"][0]["help"]["fr"] = ""

    with pytest.raises(GridError) as info:
        parse_grid(_mutated(two_faults))
    assert len(info.value.problems) == 2
    assert "themes[0].items[0].text.en" in info.value.problems[0]
    assert "themes[1].items[0].help.fr" in info.value.problems[1]


def test_a_missing_file_is_reported(tmp_path):
    with pytest.raises(GridError) as info:
        load_grid(tmp_path / "nope.yaml")
    assert "cannot read" in info.value.problems[0]
