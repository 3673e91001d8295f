"""Text as it enters the app (forms, addresses, imported files): invisible control characters
never reach the database. PostgreSQL refuses the NUL character outright; the others are noise
that text pasted from a word processor sometimes carries."""
from __future__ import annotations

import re

# Line breaks of other systems (vertical tab and form feed from word processors, NEL, the
# Unicode line and paragraph separators) become ordinary line breaks.
_OTHER_LINE_BREAKS = re.compile("[\x0b\x0c\x85\u2028\u2029]")
# Control characters but tab, line feed and carriage return, which people type.
_CONTROL = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_characters(text: str) -> bool:
    return _CONTROL.search(text) is not None


def without_control_characters(text: str) -> str:
    """`text` with other line breaks made ordinary and every other control character removed."""
    if not has_control_characters(text) and not _OTHER_LINE_BREAKS.search(text):
        return text
    return _CONTROL.sub("", _OTHER_LINE_BREAKS.sub("\n", text))
