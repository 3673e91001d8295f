"""One inclusive style in the interface, as the OQLF recommends: full doublets (« coordonnatrice ou
coordonnateur ») or epicene words (« personne participante », « équipe »), never a point médian
inside a word (« participant·es », « seul·e ») nor a plural in parentheses (« territoire(s) »):
counts go through ngettext, or are written « nombre de territoires : 3 ».

« · » between spaces (` · `) separates items on a line and is fine.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "_ln": (1, 2), "lazy_ngettext": (1, 2)}
MEDIAN_DOT = re.compile(r"\w[·⋅]\w")  # a point médian (or dot operator) inside a word: participant·es, seul·e
PARENTHESISED_PLURAL = re.compile(r"\w\((?:e|s|es|x|ne|nes)\)", re.IGNORECASE)  # territoire(s), reçu(e)


def _messages() -> list[tuple[str, str]]:
    """(where, text) of every interface message, singular and plural forms both."""
    found = []
    for subdir, method in (("pin_grid", "python"), ("templates", "jinja2")):
        pattern = "**.py" if method == "python" else "**.html"
        for file, line, message, _comments, _context in extract_from_dir(
            ROOT / subdir, [(pattern, method)], keywords=KEYWORDS
        ):
            for text in message if isinstance(message, tuple) else (message,):
                if text:
                    found.append((f"{subdir}/{file}:{line}", text))
    return found


def _files() -> list[Path]:
    return sorted([*ROOT.glob("templates/**/*.html"), *ROOT.glob("pin_grid/**/*.py"), ROOT / "grid_items.yaml",
                   ROOT / "README.md", *ROOT.glob("static/*.js")])


def _lines(path: Path):
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        yield f"{path.relative_to(ROOT)}:{number}", line


def test_the_patterns_tell_a_separator_from_a_median_dot():
    for bad in ("2 participant·es", "seul·e", "Coordonnateur·rice", "déconnecté·e", "Administrateur·trice"):
        assert MEDIAN_DOT.search(bad), bad
    for fine in ("Résultats · Journal", "ECO-1 · ECO-2", "A : Approche · B : Partenariat", "«·»"):
        assert not MEDIAN_DOT.search(fine), fine
    assert PARENTHESISED_PLURAL.search("3 territoire(s)") and PARENTHESISED_PLURAL.search("créée(s)")
    assert not PARENTHESISED_PLURAL.search("Référence (seuils absolus)")


def test_the_messages_are_found():
    texts = {text for _where, text in _messages()}
    assert "Participantes et participants" in texts
    assert any("personnes participantes" in text for text in texts)  # the plural of an ngettext


def test_no_median_dot_in_any_interface_message():
    bad = [f"{where}: {text}" for where, text in _messages() if MEDIAN_DOT.search(text)]
    assert not bad, "write a doublet or an epicene word instead:\n" + "\n".join(bad)


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_median_dot_in_templates_code_grid_or_readme(path):
    bad = [f"{where}: {line.strip()}" for where, line in _lines(path) if MEDIAN_DOT.search(line)]
    assert not bad, "write a doublet or an epicene word instead:\n" + "\n".join(bad)


def test_counts_agree_with_their_number_instead_of_a_plural_in_parentheses():
    bad = [f"{where}: {text}" for where, text in _messages() if PARENTHESISED_PLURAL.search(text)]
    assert not bad, "use ngettext (or « nombre de … : %(n)d »):\n" + "\n".join(bad)
