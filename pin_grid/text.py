"""Text as it enters the app (forms, addresses, imported files): one kind of line break, and no
invisible control characters. PostgreSQL refuses the NUL character outright; the others are
noise that text pasted from a word processor sometimes carries. And text compared without its
accents (organisation names, passwords); scores written in the language of the page."""
from __future__ import annotations

import decimal
import functools
import re
import unicodedata

from babel import numbers

# Browsers send a textarea's line breaks as CR LF (while scripts read LF); word processors
# paste vertical tabs and form feeds; Unicode has its own separators: all become one LF, so
# that a comment sent back unchanged is the same comment.
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
# Control characters but tab and line feed, which people type.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def has_control_characters(text: str) -> bool:
    return _CONTROL.search(text) is not None


def normalized(text: str) -> str:
    """`text` with every line break an LF and every other control character removed."""
    return _CONTROL.sub("", _LINE_BREAKS.sub("\n", text))


def without_accents(text: str) -> str:
    """« Été » -> « Ete »: letters without their accents (compatibility forms decomposed too)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@functools.lru_cache(maxsize=16)
def _number_symbols(locale: str) -> tuple[str, str]:
    return numbers.get_decimal_symbol(locale), numbers.get_minus_sign_symbol(locale)


def one_decimal(value: float, locale: str) -> str:
    """A score with one decimal as Babel writes it in `locale` (« 62,5 » in French), rounded the
    same way (half to even on the decimal text of the number); without parsing a number
    pattern at each call, since a comparison writes thousands of them."""
    rounded = decimal.Decimal(str(value)).quantize(_TENTH, rounding=decimal.ROUND_HALF_EVEN)
    point, minus = _number_symbols(locale)
    text = f"{abs(rounded):f}".replace(".", point)
    return minus + text if rounded.is_signed() else text


_TENTH = decimal.Decimal("0.1")
