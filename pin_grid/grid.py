"""The grid (`grid_items.yaml`): loaded once, checked by a strict schema then by a second pass
for what a schema cannot say, and turned into frozen objects.

No Flask import: the CLI, the app and the tests all call `load_grid(path)`.
"""
from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from .scoring import LEVEL_CODES, NE_SAIS_PAS, SYMBOLS

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# Expected number of statements per theme (DESIGN.md §2): the grid is INESSS's, not ours to resize.
EXPECTED_THEMES = {
    "ecosystemique": ("A", "component", 4),
    "participative": ("B", "component", 4),
    "partenariat": ("C", "component", 4),
    "actions_enfants": ("D", "component", 3),
    "actions_parents": ("E", "component", 4),
    "structures": ("S", "structures", 5),
}
SUBPROFILES = {
    "A": ("exemplaire", "se_demarque"),
    "B": ("posture_ecosystemique", "dans_la_moyenne"),
    "C": ("avec_difficultes", "difficile"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    """A text in both languages of the product."""

    fr: NonEmpty
    en: NonEmpty

    def get(self, locale: str) -> str:
        return self.en if str(locale).startswith("en") else self.fr


class Level(_Strict):
    code: str
    points: int | None = Field(ge=0)
    label: Text


class Item(_Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}-[0-9]+$")]
    text: Text
    help: Text


class Theme(_Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z_]+$")]
    letter: Annotated[str, StringConstraints(pattern=r"^[A-Z]$")]
    kind: Literal["component", "structures"]
    name: Text
    items: tuple[Item, ...] = Field(min_length=1)

    @property
    def is_component(self) -> bool:
        return self.kind == "component"


class Comparison(_Strict):
    min_cohort: int = Field(ge=2)
    absolute_bands: dict[str, float]

    @field_validator("absolute_bands")
    @classmethod
    def _four_bands(cls, bands: dict[str, float]) -> dict[str, float]:
        expected = {s for s in SYMBOLS if s != "="}
        if set(bands) != expected:
            raise ValueError(f"expected exactly the bands {sorted(expected)}, got {sorted(bands)}")
        if not bands["--"] < bands["-"] <= bands["+"] < bands["++"]:
            raise ValueError("bands must satisfy '--' < '-' <= '+' < '++'")
        return bands


class Subprofile(_Strict):
    label: Text
    explanation: Text


class Profile(_Strict):
    label: Text
    explanation: Text
    subprofiles: dict[str, Subprofile]


class Grid(_Strict):
    version: NonEmpty
    levels: tuple[Level, ...]
    comparison: Comparison
    themes: tuple[Theme, ...]
    profiles: dict[str, Profile]

    # Derived look-ups (cheap; the grid is frozen and cached).
    @functools.cached_property
    def items(self) -> dict[str, Item]:
        return {item.id: item for theme in self.themes for item in theme.items}

    @functools.cached_property
    def level(self) -> dict[str, Level]:
        return {level.code: level for level in self.levels}

    @property
    def points(self) -> dict[str, int | None]:
        return {level.code: level.points for level in self.levels}

    @property
    def components(self) -> tuple[Theme, ...]:
        return tuple(t for t in self.themes if t.is_component)

    def theme(self, theme_id: str) -> Theme:
        return next(t for t in self.themes if t.id == theme_id)

    def as_json(self) -> dict:
        """The public JSON shape of `flask grid show --json`."""
        return {
            "version": self.version,
            "levels": [{"code": lv.code, "points": lv.points, "label": lv.label.model_dump()} for lv in self.levels],
            "themes": [
                {
                    "id": t.id,
                    "letter": t.letter,
                    "kind": t.kind,
                    "name": t.name.model_dump(),
                    "items": [{"id": i.id, "text": i.text.model_dump(), "help": i.help.model_dump()} for i in t.items],
                }
                for t in self.themes
            ],
        }


class GridError(Exception):
    """The grid file is invalid; `problems` holds one readable line per fault."""

    def __init__(self, path: str | Path, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


def _lines(node: yaml.Node, path: tuple = ()) -> dict[tuple, int]:
    """Map each path in the YAML document (keys and list indexes) to its 1-based line."""
    found = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            found.update(_lines(value, (*path, key.value)))
            found[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            found.update(_lines(value, (*path, index)))
    return found


def _line_of(lines: dict[tuple, int], loc: tuple) -> int | None:
    """Line of the deepest existing prefix of `loc` (a missing field points at its parent)."""
    loc = tuple(str(p) if not isinstance(p, int) else p for p in loc)
    while loc not in lines and loc:
        loc = loc[:-1]
    return lines.get(loc)


def _where(loc: tuple) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(loc)) or "(root)"


def _semantic_problems(grid: Grid) -> list[tuple[tuple, str]]:
    """What the schema cannot say: unique ids, the fixed themes and counts, the scale, profiles."""
    problems: list[tuple[tuple, str]] = []
    codes = [lv.code for lv in grid.levels]
    if sorted(codes) != sorted(LEVEL_CODES) or len(codes) != len(LEVEL_CODES):
        problems.append((("levels",), f"levels must be exactly {list(LEVEL_CODES)}, got {codes}"))
    for i, lv in enumerate(grid.levels):
        if (lv.code == NE_SAIS_PAS) != (lv.points is None):
            problems.append((("levels", i, "points"), f"level '{lv.code}': only '{NE_SAIS_PAS}' has no points"))
    scored = [lv.points for lv in grid.levels if lv.points is not None]
    if scored and (len(set(scored)) != len(scored) or min(scored) != 0):
        problems.append((("levels",), "scored levels need distinct points, the lowest being 0"))

    theme_ids = [t.id for t in grid.themes]
    for theme_id, count in Counter(theme_ids).items():
        if count > 1:
            problems.append((("themes",), f"theme id '{theme_id}' appears {count} times"))
    if set(theme_ids) != set(EXPECTED_THEMES):
        missing = sorted(set(EXPECTED_THEMES) - set(theme_ids))
        unknown = sorted(set(theme_ids) - set(EXPECTED_THEMES))
        problems.append((("themes",), f"themes must be {list(EXPECTED_THEMES)}; missing {missing}, unknown {unknown}"))
    for i, theme in enumerate(grid.themes):
        if theme.id not in EXPECTED_THEMES:
            continue
        letter, kind, count = EXPECTED_THEMES[theme.id]
        if theme.letter != letter:
            problems.append((("themes", i, "letter"), f"theme '{theme.id}' has letter '{letter}', not '{theme.letter}'"))
        if theme.kind != kind:
            problems.append((("themes", i, "kind"), f"theme '{theme.id}' is of kind '{kind}', not '{theme.kind}'"))
        if len(theme.items) != count:
            problems.append((("themes", i, "items"), f"theme '{theme.id}' needs {count} items, has {len(theme.items)}"))

    seen: dict[str, tuple] = {}
    for i, theme in enumerate(grid.themes):
        for j, item in enumerate(theme.items):
            if item.id in seen:
                problems.append((("themes", i, "items", j, "id"), f"item id '{item.id}' is already used"))
            seen[item.id] = ("themes", i, "items", j)

    if set(grid.profiles) != set(SUBPROFILES):
        problems.append((("profiles",), f"profiles must be {sorted(SUBPROFILES)}, got {sorted(grid.profiles)}"))
    for letter, profile in grid.profiles.items():
        expected = set(SUBPROFILES.get(letter, ()))
        if set(profile.subprofiles) != expected:
            problems.append(
                (("profiles", letter, "subprofiles"),
                 f"profile {letter} needs sub-profiles {sorted(expected)}, got {sorted(profile.subprofiles)}")
            )
    return problems


def parse_grid(text: str, path: str | Path = "grid_items.yaml") -> Grid:
    """Parse and check the grid; raise GridError naming every problem with its field and line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark else ""
        raise GridError(path, [f"{line}not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    if not isinstance(data, dict):
        raise GridError(path, ["line 1: the file must be a mapping with version, levels, comparison, themes, profiles"])
    lines = _lines(node)
    try:
        grid = Grid.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line = _line_of(lines, loc)
            problems.append(f"line {line}: {_where(loc)}: {err['msg']}" if line else f"{_where(loc)}: {err['msg']}")
        raise GridError(path, problems) from None
    semantic = _semantic_problems(grid)
    if semantic:
        raise GridError(path, [f"line {_line_of(lines, loc)}: {_where(loc)}: {msg}" for loc, msg in semantic])
    return grid


@functools.lru_cache(maxsize=8)
def load_grid(path: str | Path) -> Grid:
    """Read, check and cache the grid file (one parse per path per process)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GridError(path, [f"cannot read the file: {exc.strerror}"]) from None
    return parse_grid(text, path)
