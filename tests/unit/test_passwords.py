"""The password policy (pin_grid/passwords.py): each refusal with its reason, the passphrases it
lets through, the French list shipped with the app. No database; the messages are lazy texts,
read in French as they are (French is the source language) and in English through a bare
Flask app with Babel and the project's catalogue."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask_babel import Babel, force_locale

from pin_grid import accounts, passwords
from pin_grid.passwords import password_problems

ROOT = Path(__file__).resolve().parents[2]
STANDARD = "Trois pommes vertes au marché!"  # the password of the whole test suite
EMAIL = "marie.tremblay@cisss.example"

TOO_SHORT = "Le mot de passe doit avoir au moins 12 caractères."
TOO_COMMON = ("trop courant : il figure parmi les mots de passe ou les mots les plus fréquents, "
              "en français ou en anglais")
SEASON = "une saison ou un mois accompagné d'une année"
KEYBOARD = "il suit surtout des touches voisines d'une rangée du clavier"
EMAIL_NAME = "il contient le nom de l'adresse courriel du compte"
TOO_EASY = "trop facile à deviner : allongez-le ou mélangez davantage"


def reasons(password: str, email: str = EMAIL) -> list[str]:
    return [str(problem) for problem in password_problems(password, email)]


def the_reason(password: str, email: str = EMAIL) -> str:
    """The one reason given besides the length."""
    found = [text for text in reasons(password, email) if text != TOO_SHORT]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("password", [
    "Printemps2024!", "hiver-25", "2023Automne", "été 2024 !!", "Ete2024?", "AUTOMNE_2023", "Summer2024!",
    "winter-23", "Fall.2025!", "autumn2024", "spring 24", "Janvier2025!", "décembre-2024", "2024 Février",
    "Aout2023!!", "September2024", "may-24",
])
def test_a_season_or_a_month_with_a_year_is_refused(password):
    assert SEASON in the_reason(password, "")


@pytest.mark.parametrize("password", [
    "azertyuiopqsdf", "qwertyuiopasdf", "1234567890azer", "poiuytreza123", "qwertzuiopasdf", "AZERTYUIOP12",
    "wxcvbn123456", "mlkjhgfdsq0987", "asdfghjkl;123", "&é\"'(-è_çà)=aze", "!@#$%^&*()qwe", "azer-tyui-op12",
])
def test_a_keyboard_row_is_refused(password):
    assert KEYBOARD in the_reason(password, "")


@pytest.mark.parametrize("password", [
    "motdepasse", "motdepasse2024!", "Mot de passe 2024!", "password1234", "Marseille2024!", "Canadiens1909!",
    "Tabarnak2024!", "Poutine123!!", "Montréal1642!", "Montreal1642!", "Nordiques1995!", "jetaime12345",
    "Doudou!2024", "Chouchou-1234", "Grenouille2024!", "Écureuil2023!", "Ecureuil2023!", "Bibliothèque1987#",
])
def test_a_common_password_or_word_in_french_or_english_is_refused(password):
    assert TOO_COMMON in the_reason(password, "")


@pytest.mark.parametrize("password, email", [
    ("premier@cisss.example!", "premier@cisss.example"),  # the whole name before « @ »
    ("xx Marie.Tremblay xx", EMAIL),
    ("Tremblay2024!", EMAIL),  # mostly a part of it
    ("Marie Tremblay 1980", EMAIL),
    ("Hébert-Gagné!!", "helene.hebert-gagne@cisss.example"),  # accents do not hide it
])
def test_the_name_of_the_email_address_is_refused(password, email):
    assert EMAIL_NAME in the_reason(password, email)


@pytest.mark.parametrize("password", ["aaaaaaaaaaaaaaaa", "abababababab", "Soleil2024!!", "passwordpasswordpassword",
                                      "p@$$w0rdp@$$w0rd1234", "chatchienchatchien"])
def test_otherwise_a_password_too_easy_to_guess_is_refused(password):
    assert TOO_EASY in the_reason(password, "")


def test_a_short_password_is_refused_for_its_length_then_for_its_pattern():
    assert reasons("Tv8#kLq2!zR", "") == [TOO_SHORT]  # 11 characters, random
    assert reasons("Tv8#kLq2!zRw", "") == []
    short_season = reasons("hiver-25", "")
    assert short_season[0] == TOO_SHORT and SEASON in short_season[1] and len(short_season) == 2


@pytest.mark.parametrize("password", [
    STANDARD, "Le chat dort sur 4 coussins", "Quatre poires mûres au verger?", "Quatre poires jaunes au verger?",
    "Une autre phrase de passe, bien longue", "correct horse battery staple", "J'adore le printemps 2024 au chalet",
    "Mon été 2024 au lac Saint-Jean", "Grenouille bleue sur le quai", "Les Nordiques reviendront en 2030 !",
    "a83749201837", "Tv8#kLq2!zRw", "Azerty n'est pas mon clavier préféré",
])
def test_real_passphrases_are_accepted(password):
    assert reasons(password) == []


@pytest.mark.parametrize("email", ["admin@cisss.example", "marie@cisss.example", "marc.andre@cisss.example",
                                   "sans-mot-de-passe@cisss.example", ""])
def test_one_word_of_the_email_inside_a_longer_passphrase_is_accepted(email):
    assert reasons("Une autre phrase de passe, bien longue", email) == []
    assert reasons(STANDARD, email) == []


def test_no_message_repeats_the_password():
    for password in ("Printemps2024!", "qwertyuiopasdf", "motdepasse2024!", "Tremblay2024!", "Soleil2024!!"):
        for text in reasons(password):
            assert password.lower() not in text.lower() and password[:6].lower() not in text.lower()


def test_the_reasons_are_translated_to_english():
    app = Flask(__name__)
    app.config.update(BABEL_DEFAULT_LOCALE="fr", BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "translations"))
    Babel(app)
    with app.app_context(), force_locale("en"):
        english = {password: reasons(password, "") for password in
                   ("Printemps2024!", "azertyuiopqsdf", "motdepasse2024!", "Soleil2024!!", "court")}
        english["Tremblay2024!"] = reasons("Tremblay2024!")
    assert "season or a month with a year" in english["Printemps2024!"][0]
    assert "keyboard row" in english["azertyuiopqsdf"][0]
    assert "too common" in english["motdepasse2024!"][0] and "French or in English" in english["motdepasse2024!"][0]
    assert "too easy to guess" in english["Soleil2024!!"][0]
    assert "e-mail address" in english["Tremblay2024!"][0]
    assert "12" in english["court"][0] and "caractères" not in english["court"][0]
    assert len({texts[0] for texts in english.values()}) == len(english)  # one sentence per reason


def test_accounts_keeps_its_names():
    assert accounts.password_problems is password_problems
    assert accounts.MIN_PASSWORD_LENGTH == passwords.MIN_PASSWORD_LENGTH == 12


def test_the_french_list_is_shipped_ranked_and_normalised():
    assert passwords.FRENCH_LIST == ROOT / "pin_grid" / "data" / "french_passwords.txt"
    assert passwords.FRENCH_LIST.stat().st_size < 400_000
    lines = passwords.FRENCH_LIST.read_text(encoding="utf-8").split()
    assert lines[:3] == ["motdepasse", "azerty", "azerty123"]  # the hand-written head comes first
    assert len(lines) == len(set(lines)) > 20_000
    ranked = passwords.french_passwords()
    assert ranked["motdepasse"] == 1 and ranked["azerty"] == 2
    assert ranked["printemps"] < 1000 and ranked["tabarnak"] < 1000  # in the hand-written head
    assert ranked["écureuil"] == ranked["ecureuil"] and ranked["fenêtre"] == ranked["fenetre"]  # accents or not
    assert ranked["ete"] <= ranked["été"]  # a form listed on its own keeps its own rank
    assert ranked["le"] < ranked["grenouille"]  # wordfreq's order after the head
    assert all(word == word.lower() for word in lines)


def test_zxcvbn_knows_the_french_list():
    assert passwords.guess_score("Printemps2024!") < passwords.MIN_SCORE
    assert passwords.guess_score("Ecureuil2023!") <= passwords.MIN_SCORE
    assert passwords.guess_score(STANDARD) == 4


def test_long_or_hostile_input_reaches_zxcvbn_only_within_its_bounds(monkeypatch):
    """zxcvbn is quadratic or worse in the length and tries every l33t reading: what it is
    given is bounded, so a check stays quick whatever is typed (pinned here by what reaches it,
    not by a timing that a busy machine would break)."""
    seen = {"scored": [], "l33t": []}
    matching, scoring, _estimates = passwords._zxcvbn()
    real_score, real_l33t = scoring.most_guessable_match_sequence, matching.l33t_match

    def score(password, matches, *args, **kwargs):
        seen["scored"].append(password)
        return real_score(password, matches, *args, **kwargs)

    def l33t(password, *args, **kwargs):
        seen["l33t"].append(password)
        return real_l33t(password, *args, **kwargs)

    monkeypatch.setattr(scoring, "most_guessable_match_sequence", score)
    monkeypatch.setattr(matching, "l33t_match", l33t)
    hostile = ("x" * 30 + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ!!",
               "1!|7+$5@4(3{[<%2" * 12, "4@8(3691|7!0$5+%2{[<" * 10, "a" * 200, STANDARD * 6)
    for password in hostile:
        password_problems(password, EMAIL)
    assert seen["scored"] and max(map(len, seen["scored"])) <= passwords.ZXCVBN_MAX_LENGTH
    assert all(len(p) <= passwords.L33T_MAX_LENGTH for p in seen["l33t"])
    # Symbols with many readings are not read as l33t at all.
    assert not any(p.startswith("4@8(") or p.startswith("1!|7") for p in seen["l33t"])
