"""The grid (`grid_items.yaml`): loaded once, checked by a strict schema then by a second pass
for what a schema cannot say, and turned into frozen objects.

No Flask import: the CLI, the app and the tests all call `load_grid(path)`.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from collections import Counter
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from .scoring import IMPLANTE, LEVEL_CODES, NE_SAIS_PAS, NON_IMPLANTE, PARTIEL, SYMBOLS, UNSCORED

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
# The levels every version has; `sans_objet` came with 2026.2.
REQUIRED_LEVELS = (IMPLANTE, PARTIEL, NON_IMPLANTE, NE_SAIS_PAS)
# How a statement relates to the previous version. Only an unchanged meaning carries an answer over.
CHANGES = ("same", "reworded", "split", "merged", "new")
SAME_MEANING = frozenset({"same", "reworded"})
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
    # One line a group can apply the same way every time (from 2026.2).
    definition: Text | None = None

    @property
    def is_scored(self) -> bool:
        return self.points is not None


ItemId = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}-[0-9]+$")]


class Item(_Strict):
    id: ItemId
    text: Text
    help: Text
    # Against the version named by the grid's `previous`: how it changed, from which statements.
    change: Literal[CHANGES] | None = None
    origins: tuple[ItemId, ...] = Field(default=(), alias="from")

    @property
    def keeps_meaning(self) -> bool:
        return self.change in SAME_MEANING


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


class _Worded(_Strict):
    """A profile's texts, worded for the cohort's mean and, when the absolute bands were used
    instead, for the thresholds (« seuils », never « moyenne »)."""

    label: Text
    explanation: Text
    label_bands: Text | None = None
    explanation_bands: Text | None = None

    def label_for(self, reference_kind: str) -> Text:
        return self.label_bands if reference_kind == "absolute" and self.label_bands else self.label

    def explanation_for(self, reference_kind: str) -> Text:
        return self.explanation_bands if reference_kind == "absolute" and self.explanation_bands else self.explanation


class Subprofile(_Worded):
    pass


class Profile(_Worded):
    subprofiles: dict[str, Subprofile]


class Grid(_Strict):
    version: NonEmpty
    # The version this one follows; its statements then say how they relate to it.
    previous: NonEmpty | None = None
    levels: tuple[Level, ...]
    comparison: Comparison
    themes: tuple[Theme, ...]
    # Statements of the previous version that no statement of this one continues.
    removed: tuple[ItemId, ...] = ()
    profiles: dict[str, Profile]

    # Derived look-ups (cheap; the grid is frozen and cached).
    @functools.cached_property
    def items(self) -> dict[str, Item]:
        return {item.id: item for theme in self.themes for item in theme.items}

    @functools.cached_property
    def position(self) -> dict[str, int]:
        """Each item id's place in the grid: lists of answers are sorted by it."""
        return {item_id: i for i, item_id in enumerate(self.items)}

    @functools.cached_property
    def level(self) -> dict[str, Level]:
        return {level.code: level for level in self.levels}

    @property
    def points(self) -> dict[str, int | None]:
        return {level.code: level.points for level in self.levels}

    @property
    def scored_levels(self) -> tuple[Level, ...]:
        return tuple(lv for lv in self.levels if lv.is_scored)

    @property
    def components(self) -> tuple[Theme, ...]:
        return tuple(t for t in self.themes if t.is_component)

    def theme(self, theme_id: str) -> Theme:
        return next(t for t in self.themes if t.id == theme_id)

    def as_json(self) -> dict:
        """The public JSON shape of `flask grid show --json`."""
        return {
            "version": self.version,
            "previous": self.previous,
            "levels": [{"code": lv.code, "points": lv.points, "label": lv.label.model_dump(),
                        "definition": lv.definition.model_dump() if lv.definition else None} for lv in self.levels],
            "removed": list(self.removed),
            "themes": [
                {
                    "id": t.id,
                    "letter": t.letter,
                    "kind": t.kind,
                    "name": t.name.model_dump(),
                    "items": [{"id": i.id, "text": i.text.model_dump(), "help": i.help.model_dump(),
                               "change": i.change, "from": list(i.origins)} for i in t.items],
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
    if not set(REQUIRED_LEVELS) <= set(codes) or not set(codes) <= set(LEVEL_CODES) or len(set(codes)) != len(codes):
        problems.append((("levels",), f"levels must be {list(REQUIRED_LEVELS)}, and may add "
                                      f"{sorted(set(LEVEL_CODES) - set(REQUIRED_LEVELS))}, once each; got {codes}"))
    for i, lv in enumerate(grid.levels):
        if (lv.code in UNSCORED) != (lv.points is None):
            problems.append((("levels", i, "points"), f"level '{lv.code}': only {list(UNSCORED)} have no points"))
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

    for i, theme in enumerate(grid.themes):
        for j, item in enumerate(theme.items):
            at = ("themes", i, "items", j)
            if grid.previous is None:
                if item.change or item.origins:
                    problems.append(((*at, "change"), f"item '{item.id}': 'change' and 'from' need a 'previous' version"))
                continue
            if item.change is None:
                problems.append(((*at, "id"), f"item '{item.id}': say how it relates to {grid.previous} ('change')"))
            elif (item.change == "new") != (not item.origins):
                problems.append(((*at, "from"), f"item '{item.id}': a 'new' statement has no 'from', any other has one"))
            elif item.change == "merged" and len(item.origins) < 2:
                problems.append(((*at, "from"), f"item '{item.id}': 'merged' needs at least two statements in 'from'"))
            elif item.change not in ("new", "merged") and len(item.origins) != 1:
                problems.append(((*at, "from"), f"item '{item.id}': '{item.change}' comes from exactly one statement"))
    if grid.removed and grid.previous is None:
        problems.append((("removed",), "'removed' needs a 'previous' version"))

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


# --- Versions side by side -----------------------------------------------------------------

@dataclass(frozen=True)
class StatementChange:
    """One line of `grid diff`: how a statement of the newer version relates to the older."""

    change: str  # same, reworded, split, merged, new, removed
    item_id: str | None  # in the newer version (None: removed)
    origins: tuple[str, ...]  # in the older version


@dataclass(frozen=True)
class GridCatalog:
    """Every grid version the app knows: the one in force and the earlier ones (`grids/`)."""

    current: Grid
    versions: dict[str, Grid]  # by version, the one in force included

    def get(self, version: str) -> Grid | None:
        return self.versions.get(version)

    def of(self, version: str) -> Grid:
        """The version an assessment was rated on. One this installation does not know (import
        refuses them: only a file removed from grids/ leaves one) is read with the version in
        force rather than not at all."""
        return self.versions.get(version) or self.current

    def __getitem__(self, version: str) -> Grid:
        return self.versions[version]

    def _path(self, older: str, newer: str) -> list[Grid] | None:
        """The versions after `older` up to `newer`, following `previous`; None if `older` is not before it."""
        path, grid = [], self.versions.get(newer)
        while grid is not None and grid.version != older:
            path.append(grid)
            grid = self.versions.get(grid.previous) if grid.previous else None
        return list(reversed(path)) if grid is not None else None

    def same_meaning(self, older: str, newer: str) -> dict[str, str]:
        """The statements of `older` whose meaning `newer` kept: older id -> newer id. Answers
        carry over only along these; every other statement of `newer` is a new one to rate."""
        if older == newer and older in self.versions:
            return {item_id: item_id for item_id in self.versions[older].items}
        mapping: dict[str, str] | None = None
        for grid in self._path(older, newer) or ():
            step = {item.origins[0]: item.id for item in grid.items.values() if item.keeps_meaning}
            mapping = step if mapping is None else {old: step[mid] for old, mid in mapping.items() if mid in step}
        return mapping or {}

    def diff(self, older: str, newer: str) -> list[StatementChange]:
        """How each statement changed from `older` to `newer` (adjacent or not)."""
        path = self._path(older, newer)
        if path is None:
            raise KeyError(f"{older} does not come before {newer}")
        if not path:
            return [StatementChange("same", item_id, (item_id,)) for item_id in self.versions[newer].items]
        # Trace each statement of `newer` back to `older`: its origins there, and whether every step kept it.
        lineage = {item_id: ((item_id,), "same") for item_id in self.versions[older].items}
        for grid in path:
            traced = {}
            for item in grid.items.values():
                origins = tuple(dict.fromkeys(o for mid in item.origins if mid in lineage for o in lineage[mid][0]))
                steps = [lineage[mid][1] for mid in item.origins if mid in lineage]
                if item.change == "new" or not origins:
                    traced[item.id] = ((), "new")
                elif item.keeps_meaning and steps == ["same"]:
                    traced[item.id] = (origins, item.change)
                elif item.keeps_meaning and steps[0] in SAME_MEANING:
                    traced[item.id] = (origins, "reworded")
                else:
                    traced[item.id] = (origins, item.change if item.change in ("split", "merged") else steps[0])
            lineage = traced
        changes = [StatementChange(change, item_id, origins) for item_id, (origins, change) in lineage.items()]
        continued = {o for _, (origins, _) in lineage.items() for o in origins}
        changes += [StatementChange("removed", None, (item_id,)) for item_id in self.versions[older].items
                    if item_id not in continued]
        return changes


def _version_problems(catalog: dict[str, Grid]) -> list[str]:
    """What no single file can say: each version's `previous` exists, its statements' `from`
    name statements of that version, and every statement there is continued or removed."""
    problems = []
    for grid in catalog.values():
        if grid.previous is None:
            continue
        before = catalog.get(grid.previous)
        if before is None:
            problems.append(f"{grid.version}: previous version '{grid.previous}' is not known (grids/)")
            continue
        continued: set[str] = set()
        for item in grid.items.values():
            unknown = [o for o in item.origins if o not in before.items]
            if unknown:
                problems.append(f"{grid.version}: item '{item.id}' comes from {unknown}, not in {before.version}")
            continued.update(item.origins)
            if item.id in before.items and not (item.keeps_meaning and item.origins == (item.id,)):
                problems.append(f"{grid.version}: item '{item.id}' keeps the id of a statement of {before.version}: "
                                f"it must then keep its meaning ('same' or 'reworded' from '{item.id}'), "
                                f"else take a new id")
        for item_id in grid.removed:
            if item_id not in before.items:
                problems.append(f"{grid.version}: removed item '{item_id}' is not in {before.version}")
            elif item_id in continued:
                problems.append(f"{grid.version}: item '{item_id}' is both removed and continued")
        forgotten = [i for i in before.items if i not in continued and i not in grid.removed]
        if forgotten:
            problems.append(f"{grid.version}: statements of {before.version} neither continued nor removed: {forgotten}")
    return problems


def load_catalog(current: str | Path, archive: str | Path) -> GridCatalog:
    """The grid in force and every earlier version in the `archive` folder (`*.yaml`), each
    checked alone then together; raise GridError naming every problem."""
    grids, problems = {}, []
    paths = [Path(current), *sorted(Path(archive).glob("*.yaml"))] if Path(archive).is_dir() else [Path(current)]
    for path in paths:
        try:
            grid = load_grid(path)
        except GridError as exc:
            problems += [f"{exc.path}: {p}" for p in exc.problems]
            continue
        if grid.version in grids:
            problems.append(f"{path}: version {grid.version} is already in {grids[grid.version][1]}")
            continue
        grids[grid.version] = (grid, path)
    if problems:
        raise GridError(current, problems)
    versions = {version: grid for version, (grid, _) in grids.items()}
    problems = _version_problems(versions)
    if problems:
        raise GridError(current, problems)
    return GridCatalog(versions[load_grid(Path(current)).version], versions)
