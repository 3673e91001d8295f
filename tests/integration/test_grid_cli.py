"""`flask grid check` / `grid show --json`, and an invalid grid stopping start-up."""
import json
import os
import subprocess
import sys

import pytest

from pin_grid import create_app
from pin_grid.grid import GridError

from ..conftest import ROOT

INVALID = ROOT / "tests" / "unit" / "grids" / "invalid"


def flask(*args, grid_file=None, tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}"}
    if grid_file:
        env["GRID_FILE"] = str(grid_file)
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_grid_check_prints_one_line_per_version_and_exits_0(tmp_path):
    result = flask("grid", "check", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert [line.split(" : ")[0] for line in lines] == ["2026.2", "2026.1"]
    assert all("24 énoncés" in line for line in lines)


def test_grid_check_lists_every_problem_with_its_line_and_exits_1(tmp_path):
    bad = INVALID / "missing_english_text.yaml"
    result = flask("grid", "check", grid_file=bad, tmp_path=tmp_path)
    assert result.returncode == 1
    assert "line " in result.stderr and "themes[2].items[1].text.en" in result.stderr
    # also when the file is given as an argument
    result = flask("grid", "check", str(INVALID / "wrong_item_count.yaml"), tmp_path=tmp_path)
    assert result.returncode == 1 and "structures" in result.stderr


def test_grid_show_json_has_the_documented_shape(tmp_path, grid):
    result = flask("grid", "show", "--json", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data == grid.as_json()
    assert [len(t["items"]) for t in data["themes"]] == [4, 4, 4, 3, 4, 5]
    assert data["themes"][0]["items"][0]["text"]["fr"]


def test_an_invalid_grid_stops_start_up(tmp_path):
    with pytest.raises(GridError) as info:
        create_app({"GRID_FILE": str(INVALID / "duplicate_item_id.yaml"),
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}"})
    assert "ECO-1" in str(info.value)
    result = subprocess.run(
        [sys.executable, "-c", "from app import create_app; create_app()"], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "GRID_FILE": str(INVALID / "duplicate_item_id.yaml")}, timeout=60,
    )
    assert result.returncode != 0 and "already used" in result.stderr
