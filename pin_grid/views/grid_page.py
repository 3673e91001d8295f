"""The statements of the grid page, rendered fast. What a statement shows the same way on every
page (its text, help, labels, levels) is rendered once per grid and language from
`_statement_parts.html`, with named slots; a page then fills in what the team typed with plain
string formatting, every value escaped. Rendering 24 statements through Jinja and WTForms
widgets on each view cost most of the page's time."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask import get_template_attribute
from markupsafe import Markup, escape

from ..context import current_locale
from ..forms import StatementFields
from ..grid import Grid, Item

_SLOT = re.compile(r"\x00(\w+)\x00")


@dataclass(frozen=True)
class _Parts:
    markup: str  # the statement, as a format string with one field per slot
    levels: dict[str, Markup]  # its levels, with each code checked in turn ("": none)
    targets: dict[str, Markup]  # its target list, with each scored level selected in turn ("": none)
    carried: dict[bool, Markup]  # the box of an answer carried over, confirmed or not


_rendered: dict[tuple, tuple[dict[str, _Parts], Markup]] = {}


def _slot(name: str) -> Markup:
    return Markup(f"\x00{name}\x00")


def _parts(grid: Grid) -> tuple[dict[str, _Parts], Markup]:
    """Each statement's parts and the priority mark, for `grid` and the language of this request."""
    language = current_locale()
    key = (id(grid), grid.version, language)
    if key not in _rendered:
        macro = {name: get_template_attribute("_statement_parts.html", name)
                 for name in ("statement", "levels", "targets", "carried", "priority_mark")}

        def parts(item: Item) -> _Parts:
            text = str(macro["statement"](item, _slot, grid)).replace("{", "{{").replace("}", "}}")
            return _Parts(_SLOT.sub(r"{\1}", text),
                          {code: macro["levels"](item, code, grid) for code in ("", *grid.level)},
                          {lv: macro["targets"](item, lv, grid) for lv in ("", *(lv.code for lv in grid.scored_levels))},
                          {confirmed: macro["carried"](item, confirmed) for confirmed in (False, True)})

        _rendered[key] = ({item.id: parts(item) for theme in grid.themes for item in theme.items},
                          Markup(macro["priority_mark"]()))
    return _rendered[key]


def _errors(item_id: str, field: str, messages) -> Markup:
    return Markup("").join(Markup('<span class="error" id="{}-{}-error">{}</span>').format(item_id, field, str(m))
                           for m in messages or () if not isinstance(m, dict))


_FIELDS = ("level", "comment", "action", "action_owner", "action_due", "target")
_TYPED = ("comment", "action", "action_owner", "action_due")
_NO_ERRORS = {**{f"{field}_errors": "" for field in _FIELDS}, **{f"{field}_class": "" for field in _FIELDS}}


def statements_markup(grid: Grid, statements: dict[str, StatementFields], carried: set[str],
                      conflicts: dict) -> dict[str, Markup]:
    """The markup of each statement of the page, as typed or stored, with its errors."""
    parts, priority_mark = _parts(grid)
    conflict_box = get_template_attribute("_statement_parts.html", "conflict_box") if conflicts else None
    shown = {}
    for item_id, s in statements.items():
        part, e = parts[item_id], s.errors
        values = {
            "classes": (" invalid" if e else "") + (" conflict" if item_id in conflicts else ""),
            "described_by": f" {item_id}-level-error" if e.get("level") else "",
            "carried": part.carried[s.confirm] if item_id in carried else "",
            "conflict": conflict_box(conflicts[item_id]) if item_id in conflicts else "",
            "levels": part.levels.get(s.level) or part.levels[""],
            "targets": part.targets.get(s.target) or part.targets[""],
            "open": " open" if (s.priority or s.action or s.action_owner or s.action_due or s.target
                                or e.get("action") or e.get("action_owner") or e.get("action_due")
                                or e.get("target")) else "",
            "priority_mark": priority_mark if s.priority else "",
            "priority_checked": " checked" if s.priority else "",
            "base": escape(s.base),
        }
        if e:
            for field in _FIELDS:
                values[f"{field}_errors"] = _errors(item_id, field, e.get(field))
                values[f"{field}_class"] = " invalid" if e.get(field) else ""
        else:
            values.update(_NO_ERRORS)
        for field in _TYPED:  # the level and the target are chosen, not typed: their markup is ready
            values[field] = escape(getattr(s, field))
        shown[item_id] = Markup(part.markup.format_map(values))
    return shown
