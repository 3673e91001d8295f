"""Every French text of the interface has its English translation (no app, no database)."""
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "_ln": (1, 2), "lazy_ngettext": (1, 2)}


def _extracted():
    """Every message of the sources: a string, or a tuple (singular, plural) for a plural."""
    for subdir, method in (("pin_grid", "python"), ("templates", "jinja2")):
        pattern = "**.py" if method == "python" else "**.html"
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / subdir, [(pattern, method)], keywords=KEYWORDS
        ):
            yield message


def _source_messages() -> set[str]:
    return {message[0] if isinstance(message, tuple) else message for message in _extracted()}


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


def test_french_takes_the_singular_for_zero_and_one():
    """French is the interface's own language, but gettext without a French catalogue would say
    « 0 énoncés cotés »: `make translations` writes one with French's plural rule."""
    from babel.support import Translations

    french = Translations.load(ROOT / "translations", ["fr"])
    assert isinstance(french, Translations), "no French catalogue: run `make translations`"
    with open(ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po", "rb") as po:
        plurals = [m.id for m in read_po(po) if m.id and m.pluralizable]
    assert plurals
    for singular, plural in plurals:
        assert [french.ungettext(singular, plural, n) for n in (0, 1, 2, 24)] == [singular, singular, plural, plural]
    # Every message with a plural in the sources is in the catalogue (through the English one).
    sources = {message[0] for message in _extracted() if isinstance(message, tuple) and message[1]}
    assert sources and sources <= {singular for singular, _plural in plurals}
