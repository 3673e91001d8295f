"""Every French text of the interface has its English translation (no app, no database)."""
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "_ln": (1, 2), "lazy_ngettext": (1, 2)}


def _source_messages() -> set[str]:
    found = set()
    for subdir, method in (("pin_grid", "python"), ("templates", "jinja2")):
        pattern = "**.py" if method == "python" else "**.html"
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / subdir, [(pattern, method)], keywords=KEYWORDS
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_interface_text_is_translated_to_english():
    with open(ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalog = read_po(po)
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and m.string and all(m.string if isinstance(m.string, tuple) else [m.string]) and not m.fuzzy
    }
    missing = sorted(_source_messages() - translated)
    assert not missing, "run `make messages` and translate:\n" + "\n".join(missing)
