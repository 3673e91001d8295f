"""The audit trail as people read it: one sentence per event, values in words.

The services store each event with codes and, for lists and summaries, JSON text (that is what
`backup` keeps and what the tests of the services check). This module only reads them back for
the journal page: level labels from the grid, oui/non, field names in words, participants' sectors
by name, times in the zone set by BABEL_DEFAULT_TIMEZONE (America/Montreal). Nothing here writes.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field

from flask_babel import format_date, format_time, gettext as _, lazy_gettext as _l, ngettext

from .. import services
from ..context import current_locale, page_grid
from ..forms import SECTOR_LABELS

ANSWER_FIELDS = {
    "level": _l("niveau"),
    "comment": _l("commentaire"),
    "priority": _l("priorité"),
    "action": _l("piste d'action"),
    "action_owner": _l("responsable de l'action"),
    "action_due": _l("échéance"),
    "target": _l("cible"),
}
DETAIL_FIELDS = {
    "territory": _l("territoire"),
    "date": _l("date de la rencontre"),
    "perspective": _l("point de vue"),
    "participants": _l("personnes participantes"),
    "organizations": _l("organismes présents"),
}

_PARTICIPANT = re.compile(r"^(?P<name>.*?) \((?P<role>.*), (?P<sector>[a-z_]+)\)$")
_IMPORT_LABEL = re.compile(r"^assessments\[\d+\] (?P<what>.*?)(?: \(replaces assessment (?P<ids>[\d, ]+)\))?$")
_REVISION_OF = re.compile(r"^revision (?P<n>\d+) of assessment (?P<id>\d+): ?(?P<reason>.*)$", re.S)
_NUMBER = re.compile(r"(\d+)")


@dataclass
class Entry:
    """One line of the journal, ready to show: every value is text a person reads."""

    iso: str  # the moment in UTC, for <time datetime>
    when: str
    actor: str
    sentence: str
    item_id: str | None = None
    item_text: str | None = None
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)


def sector_label(code: str | None) -> str:
    label = SECTOR_LABELS.get(code or "")
    return str(label) if label is not None else (code or "")


def when(at) -> str:
    """The date and time of `at` (stored in UTC) on a clock in Montréal."""
    return _("%(date)s à %(time)s", date=format_date(at, "long"), time=format_time(at, "HH:mm"))


def entries(events) -> list[Entry]:
    return [_entry(e) for e in events]


# --- Values -------------------------------------------------------------------------------

def _json(raw):
    """A value stored as JSON text (lists, summaries, booleans, dates), read back; else as is."""
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return raw


def _lines(value) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def level_label(code: str | None) -> str:
    if not code:
        return _("sans réponse")
    level = page_grid().level.get(code)
    return level.label.get(current_locale()) if level else code


def _yes_no(value) -> str:
    return _("oui") if value in (True, "true", "1", 1) else _("non")


def participant(text: str) -> str:
    """ "Ana (intervenante, cisss)" as stored → "Ana — intervenante, CISSS / CIUSSS"."""
    match = _PARTICIPANT.match(str(text))
    if not match:
        return str(text)
    role_and_sector = f"{match['role']}, {sector_label(match['sector'])}"
    name = match["name"].strip()
    return f"{name} — {role_and_sector}" if name and name != "—" else role_and_sector


def _answer_value(name: str, raw) -> list[str]:
    if name == "level":
        return [level_label(raw)]
    if name == "target":
        return [level_label(raw) if raw else _("Pas de cible")]
    if name == "priority":
        return [_yes_no(_json(raw))]
    if name == "action_due":
        return _lines(_json(raw))
    return _lines(raw)


def _detail_value(name: str, raw) -> list[str]:
    if name == "perspective":
        return [_("Vue collective du territoire") if raw in (None, "") else str(raw)]
    if name in ("participants", "organizations"):
        value = _json(raw)
        values = value if isinstance(value, list) else _lines(value)
        if not values:
            return ["—"]
        return [participant(v) for v in values] if name == "participants" else [str(v) for v in values]
    return _lines(_json(raw) if name == "territory" else raw)


def _details_summary(summary: dict) -> list[str]:
    lines = []
    for name, label in DETAIL_FIELDS.items():
        if name not in summary:
            continue
        values = _detail_value(name, json.dumps(summary[name]) if isinstance(summary[name], list) else summary[name])
        label = str(label)
        lines.append(_("%(field)s : %(value)s", field=label[:1].upper() + label[1:], value=" ; ".join(values)))
    return lines


def _answers_summary(summary: dict) -> list[str]:
    """{"ECO-1": {"level": …, "comment": …, …}, …} in the grid's order → one line per statement."""
    order = page_grid().position
    lines = []
    for item_id in sorted(summary, key=lambda i: (order.get(i, len(order)), i)):
        answer = summary[item_id] if isinstance(summary[item_id], dict) else {}
        parts = [level_label(answer.get("level"))]
        if answer.get("comment"):
            parts.append(_("« %(text)s »", text=answer["comment"]))
        if answer.get("priority"):
            parts.append(_("%(field)s : %(value)s", field=ANSWER_FIELDS["priority"], value=_yes_no(True)))
        for name in ("action", "action_owner", "action_due"):
            if answer.get(name):
                parts.append(_("%(field)s : %(value)s", field=ANSWER_FIELDS[name], value=answer[name]))
        if answer.get("target"):
            parts.append(_("%(field)s : %(value)s", field=ANSWER_FIELDS["target"], value=level_label(answer["target"])))
        lines.append(f"{item_id} : " + " — ".join(parts))
    return lines


def summary_lines(raw) -> list[str]:
    """A stored summary (assessment details, answers, or anything else) as lines of text."""
    value = _json(raw)
    if isinstance(value, dict):
        if value and set(value) <= {*DETAIL_FIELDS, "answers"}:
            answers = value.get("answers")
            return _details_summary(value) + (_answers_summary(answers) if isinstance(answers, dict) else [])
        if value and all(isinstance(v, dict) for v in value.values()):
            return _answers_summary(value)
        return [_("%(field)s : %(value)s", field=k, value=" ; ".join(summary_lines(json.dumps(v))) if isinstance(
            v, (dict, list)) else v) for k, v in value.items()]
    if isinstance(value, list):
        return [str(v) if not isinstance(v, (dict, list)) else " ; ".join(summary_lines(json.dumps(v)))
                for v in value]
    if isinstance(value, bool):
        return [_yes_no(value)]
    return _lines(value)


# --- Sentences ----------------------------------------------------------------------------

def _number(text: str | None) -> str:
    match = _NUMBER.search(text or "")
    return match.group(1) if match else ""


def _import_what(detail: str) -> tuple[str, list[str]]:
    """The label the import wrote ("assessments[0] MTL-NORD 2025-02-01 (persp)") without its
    position in the file, and the ids of the assessments it replaced."""
    match = _IMPORT_LABEL.match(detail or "")
    if not match:
        return detail or "", []
    ids = [i.strip() for i in (match["ids"] or "").split(",") if i.strip()]
    return match["what"], ids


def _entry(event) -> Entry:
    at = event.at if event.at.tzinfo else event.at.replace(tzinfo=dt.timezone.utc)
    entry = Entry(iso=at.astimezone(dt.timezone.utc).isoformat(timespec="seconds"), when=when(at),
                  actor=_("système (ligne de commande)") if event.actor == services.SYSTEM else event.actor,
                  sentence="")
    if event.item_id:
        entry.item_id = event.item_id
        item = page_grid().items.get(event.item_id)
        entry.item_text = item.text.get(current_locale()) if item else None
    action, detail = event.action, event.detail or ""

    if action == "create":
        revision = _REVISION_OF.match(detail)
        if revision:
            entry.sentence = _("Révision %(n)s créée pour corriger l'évaluation nº %(id)s. Raison : « %(reason)s »",
                               n=revision["n"], id=revision["id"], reason=revision["reason"])
        else:
            entry.sentence = _("Évaluation créée.")
        entry.after = summary_lines(event.new_value)
    elif action == "carry_over":
        entry.sentence = _("Réponses reprises de l'évaluation précédente (nº %(id)s) : chacune est à confirmer "
                           "ou à modifier.", id=_number(detail))
    elif action == "details":
        label = DETAIL_FIELDS.get(event.field or "", event.field or "")
        entry.sentence = _("Renseignements modifiés : %(field)s.", field=label)
        entry.before = _detail_value(event.field or "", event.old_value)
        entry.after = _detail_value(event.field or "", event.new_value)
    elif action == "answer":
        label = ANSWER_FIELDS.get(event.field or "", event.field or "")
        entry.sentence = _("Réponse modifiée : %(field)s.", field=label)
        entry.before = _answer_value(event.field or "", event.old_value)
        entry.after = _answer_value(event.field or "", event.new_value)
    elif action == "confirm":
        entry.sentence = _("Réponse reprise de l'évaluation précédente, confirmée telle quelle.")
        entry.after = [level_label(event.new_value)]
    elif action == "finalize":
        entry.sentence = _("Évaluation finalisée (révision %(n)s) : ses réponses sont verrouillées.",
                           n=_number(detail) or "1")
    elif action == "supersede":
        entry.sentence = _("Version remplacée par la révision finalisée (évaluation nº %(id)s) ; elle reste "
                           "consultable.", id=_number(detail))
    elif action == "revise":
        entry.sentence = _("Révision ouverte pour corriger cette évaluation (nouvelle version : évaluation "
                           "nº %(id)s). Raison : « %(reason)s »", id=event.new_value or "", reason=detail)
    elif action == "import":
        what, replaced = _import_what(detail)
        entry.sentence = _("Importée d'un fichier d'échange (%(what)s).", what=what)
        if replaced:
            entry.sentence += " " + ngettext("Elle remplace l'évaluation nº %(ids)s.",
                                             "Elle remplace les évaluations nº %(ids)s.",
                                             len(replaced), ids=", ".join(replaced))
        entry.after = summary_lines(event.new_value)
    elif action == "replaced_by_import":
        what, _ids = _import_what(detail)
        entry.sentence = _("Remplacée par une évaluation importée d'un fichier d'échange (%(what)s).", what=what)
        entry.before = summary_lines(event.old_value)
    elif action == "delete":
        entry.sentence = _("Brouillon supprimé.")
        if detail:
            entry.sentence += " " + _("Raison : « %(reason)s »", reason=detail)
        entry.before = summary_lines(event.old_value)
    else:
        entry.sentence = _("Autre modification.") + (f" {detail}" if detail else "")
        entry.before = summary_lines(event.old_value)
        entry.after = summary_lines(event.new_value)
    return entry
