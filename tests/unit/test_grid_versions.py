"""Grid versions without Flask: how statements follow from one version to the next, what
`grid diff` says, and what the catalog refuses."""
import pytest
import yaml

from pin_grid.grid import GridError, load_catalog, parse_grid
from pin_grid.scoring import DEFAULT_POINTS, target_gap

from ..conftest import ROOT


def _write_version(path, base, version, previous, change):
    """A copy of `base` as `version` following `previous`; `change(data)` edits it."""
    data = yaml.safe_load(base.read_text(encoding="utf-8"))
    data["version"], data["previous"] = version, previous
    for theme in data["themes"]:
        for item in theme["items"]:
            item["change"], item["from"] = "same", [item["id"]]
    data.pop("removed", None)
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _third(tmp_path, change):
    """2026.1 and 2026.2 as shipped, and a 2027.1 after 2026.2 in the same archive."""
    archive = tmp_path / "grids"
    archive.mkdir()
    (archive / "2026.1.yaml").write_text((ROOT / "grids" / "2026.1.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (archive / "2026.2.yaml").write_text((ROOT / "grid_items.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    current = tmp_path / "grid_items.yaml"
    _write_version(current, ROOT / "grid_items.yaml", "2027.1", "2026.2", change)
    return load_catalog(current, archive)


def _item(data, item_id):
    return next(i for t in data["themes"] for i in t["items"] if i["id"] == item_id)


def test_answers_follow_only_kept_meanings_across_two_steps(tmp_path):
    def reword_eco1_and_renew_eco2(data):
        _item(data, "ECO-1")["change"] = "reworded"
        eco2 = _item(data, "ECO-2")
        eco2.update(id="ECO-6", change="new")
        eco2.pop("from")
        data["removed"] = ["ECO-2"]

    catalog = _third(tmp_path, reword_eco1_and_renew_eco2)
    one_step = catalog.same_meaning("2026.2", "2027.1")
    two_steps = catalog.same_meaning("2026.1", "2027.1")
    assert one_step["ECO-1"] == "ECO-1" and "ECO-2" not in one_step and "ECO-6" not in one_step.values()
    kept_2026 = catalog.same_meaning("2026.1", "2026.2")
    assert two_steps == {old: new for old, new in kept_2026.items() if new in one_step}
    assert catalog.same_meaning("2027.1", "2026.1") == {}  # never backwards

    changes = {c.item_id: c for c in catalog.diff("2026.1", "2027.1")}
    assert changes["ECO-1"].change == "reworded" and changes["ECO-6"].change == "new"
    assert changes["ECO-3"].change == "same"
    assert {c.origins for c in catalog.diff("2026.1", "2027.1") if c.change == "removed"} >= {("ECO-2",), ("ECO-4",)}


@pytest.mark.parametrize("change, expected", [
    (lambda d: _item(d, "ECO-1").update(change="split"),
     None),  # a split keeps the id only if it keeps the meaning: refused below
    (lambda d: _item(d, "ECO-1").update(**{"from": ["ECO-99"], "change": "reworded", "id": "ECO-7"}),
     "item 'ECO-7' comes from ['ECO-99'], not in 2026.2"),
    (lambda d: _item(d, "ECO-2").update(**{"id": "ECO-7", "from": ["ECO-3"]}),
     "statements of 2026.2 neither continued nor removed: ['ECO-2']"),
    (lambda d: d.update(previous="2020.1"),
     "previous version '2020.1' is not known"),
])
def test_the_catalog_refuses_broken_links_naming_them(tmp_path, change, expected):
    with pytest.raises(GridError) as info:
        _third(tmp_path, change)
    text = "\n".join(info.value.problems)
    assert (expected or "item 'ECO-1' keeps the id of a statement of 2026.2") in text, text


def test_change_and_from_need_a_previous_version_and_merged_needs_two():
    data = yaml.safe_load((ROOT / "grid_items.yaml").read_text(encoding="utf-8"))
    data.pop("previous")
    with pytest.raises(GridError, match="need a 'previous' version"):
        parse_grid(yaml.safe_dump(data, allow_unicode=True))
    data = yaml.safe_load((ROOT / "grid_items.yaml").read_text(encoding="utf-8"))
    _item(data, "ECO-3").update(change="merged")
    with pytest.raises(GridError, match="'merged' needs at least two statements"):
        parse_grid(yaml.safe_dump(data, allow_unicode=True))


def test_a_target_gap_counts_levels_and_ignores_what_has_no_points():
    points = {**DEFAULT_POINTS, "sans_objet": None}
    assert target_gap("non_implante", "implante", points) == 2
    assert target_gap("partiel", "partiel", points) == 0
    assert target_gap("implante", "partiel", points) == -1
    assert target_gap("ne_sais_pas", "implante", points) is None
    assert target_gap("sans_objet", "implante", points) is None
    assert target_gap(None, "implante", points) is None and target_gap("partiel", None, points) is None
