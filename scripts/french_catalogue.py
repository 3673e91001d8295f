"""Write the French catalogue (translations/fr/LC_MESSAGES/messages.mo, build output like the
English one): `make translations` runs it after compiling the English catalogue.

The interface is written in French, so French needs no translation, but it needs its plural rule.
Without a catalogue, gettext takes the singular for 1 only: « 0 énoncés cotés ». French takes it
for 0 and 1 (« 0 énoncé coté », as CLDR and the OQLF have it), which gettext applies only to the
messages a catalogue holds. This one holds every message with a plural, each translated by itself,
under French's rule (n > 1); the messages of the English catalogue are the interface's (a test
keeps them complete)."""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def french_catalogue(english: Catalog) -> Catalog:
    french = Catalog(locale="fr")  # Plural-Forms: nplurals=2; plural=(n > 1)
    for message in english:
        if message.id and message.pluralizable:
            french.add(message.id, string=message.id)
    return french


def main(root: Path = TRANSLATIONS) -> None:
    with open(root / "en" / "LC_MESSAGES" / "messages.po", "rb") as po:
        french = french_catalogue(read_po(po))
    target = root / "fr" / "LC_MESSAGES" / "messages.mo"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as mo:
        write_mo(mo, french)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else TRANSLATIONS)
