"""The password policy: why a new password is refused. Pure: no app, no database.

A new password is refused, with one sentence per reason, when it is:

- shorter than MIN_PASSWORD_LENGTH characters;
- made of the name of the account's e-mail address: it contains the whole part before « @ »
  (4 characters or more), or, once the parts of that name (« marie », « tremblay » in
  « marie.tremblay@… », 4 characters or more each) are taken out, fewer than 6 characters
  remain (« Tremblay2024! »);
- a season or a month with a year (« Printemps2024! », « hiver-25 », « 2023Automne »): the
  only letters are the name of a season or month, in French or English, and the digits
  include a year of 2 or 4 digits, in either order, with any separators or symbols;
- mostly a keyboard row: once the runs of 3 or more neighbouring keys of one row (AZERTY,
  QWERTY or QWERTZ, digit rows included, forwards or backwards) are taken out, fewer than
  6 characters remain (« azertyuiopqsdf », « 1234567890azer », « poiuytreza123 »);
- too common: its letters are an entry of zxcvbn's English lists (passwords, words) or of
  the French list shipped in data/french_passwords.txt, decorated with fewer than 6 digits
  or symbols (« motdepasse2024! », « password1234 »);
- otherwise too easy to guess: 3 different characters or fewer, or a zxcvbn score below 3,
  zxcvbn knowing the French list too, so a French word with a year and a symbol scores low.

The messages never repeat the password.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

from flask_babel import lazy_gettext as _l

from .text import without_accents

MIN_PASSWORD_LENGTH = 12
MIN_SCORE = 3  # zxcvbn's « safely unguessable »: about 10^8 guesses or more
ZXCVBN_MAX_LENGTH = 100  # zxcvbn is quadratic or worse in the length: only the start is scored
# zxcvbn's l33t matching tries every reading of the symbols (« 1 » as i or l, « 7 » as l or t…):
# on a string of many such symbols it takes seconds. It is run on the start of the password,
# and skipped when the readings are too many (such a password is far from a word anyway).
L33T_MAX_LENGTH = 40
L33T_MAX_READINGS = 8
FRENCH_LIST = Path(__file__).resolve().parent / "data" / "french_passwords.txt"
ENGLISH_LISTS = ("passwords", "english_wikipedia", "us_tv_and_film")
MIN_LEFT_OVER = 6  # a pattern (common word, keyboard run) with fewer other characters is refused
MIN_NAME_PART = 4

SEASONS = ("printemps", "ete", "automne", "hiver", "spring", "summer", "fall", "autumn", "winter")
MONTHS = ("janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre", "octobre",
          "novembre", "decembre", "january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
# One row each, left to right; runs are looked for forwards and backwards.
KEYBOARD_ROWS = (
    "1234567890",                                        # digits, every layout
    "&é\"'(-è_çà)=",                                     # AZERTY (France), digit row unshifted
    "azertyuiop", "qsdfghjklm", "wxcvbn",               # AZERTY
    "qwertyuiop", "asdfghjkl", "zxcvbnm", "!@#$%^&*()",  # QWERTY (Québec, US), shifted digit row
    "qwertzuiop", "yxcvbnm",                             # QWERTZ (its middle row is QWERTY's)
)
MIN_KEYBOARD_RUN = 3
SEPARATORS = frozenset(" -_.'’")

TOO_COMMON = _l("Ce mot de passe est trop courant : il figure parmi les mots de passe ou les mots les plus "
                "fréquents, en français ou en anglais. Choisissez-en un autre, par exemple une phrase de "
                "quelques mots.")
SEASON_OR_MONTH = _l("Ce mot de passe est trop facile à deviner : une saison ou un mois accompagné d'une année "
                     "est parmi les premiers essais d'un attaquant. Choisissez-en un autre, par exemple une "
                     "phrase de quelques mots.")
KEYBOARD = _l("Ce mot de passe est trop facile à deviner : il suit surtout des touches voisines d'une rangée "
              "du clavier, comme azerty ou 123456. Choisissez-en un autre, par exemple une phrase de "
              "quelques mots.")
EMAIL_NAME = _l("Ce mot de passe est trop facile à deviner : il contient le nom de l'adresse courriel du "
                "compte. Choisissez-en un autre, sans ce nom.")
TOO_EASY = _l("Ce mot de passe est trop facile à deviner : allongez-le ou mélangez davantage les mots, "
              "chiffres et symboles.")


def strip_accents(text: str) -> str:
    """« Été » -> « Ete »; « œ » and « æ » become « oe » and « ae »."""
    return without_accents(text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE"))


def _forms(word: str) -> tuple[str, ...]:
    word = word.strip().lower()
    bare = strip_accents(word)
    return (word,) if bare == word else (word, bare)


@functools.cache
def french_passwords() -> dict[str, int]:
    """The shipped French list as {word: rank}, 1 the most common; each word also without its accents."""
    ranked: dict[str, int] = {}
    rank = 0
    for line in FRENCH_LIST.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            rank += 1
            for form in _forms(line):
                ranked.setdefault(form, rank)
    return ranked


@functools.cache
def _common_words() -> frozenset[str]:
    """Every entry of the English lists and of the French list, lowercase and accent-stripped."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # see _zxcvbn()

    english = (word for name in ENGLISH_LISTS for word in FREQUENCY_LISTS[name])  # plain ASCII already
    return frozenset(english) | frozenset(french_passwords())


def _zxcvbn():
    """zxcvbn's modules, imported when a password is first checked: with its lists they weigh
    12 MB that a web worker only needs when someone chooses a password."""
    from zxcvbn import matching, scoring, time_estimates

    return matching, scoring, time_estimates


@functools.cache
def _dictionaries() -> dict[str, dict[str, int]]:
    """zxcvbn's ranked dictionaries plus the French one. A copy: zxcvbn's own global is left alone."""
    matching, _scoring, _estimates = _zxcvbn()
    dictionaries = {name: ranked for name, ranked in matching.RANKED_DICTIONARIES.items() if name != "user_inputs"}
    dictionaries["french"] = french_passwords()
    return dictionaries


def guess_score(password: str, user_inputs: tuple[str, ...] | list[str] = ()) -> int:
    """zxcvbn's score, 0 (guessed at once) to 4, with the French list; only the first
    ZXCVBN_MAX_LENGTH characters are scored (zxcvbn() itself refuses more than 72)."""
    matching, scoring, time_estimates = _zxcvbn()
    password = password[:ZXCVBN_MAX_LENGTH]
    dictionaries = {**_dictionaries(),
                    "user_inputs": matching.build_ranked_dict([str(i).lower() for i in user_inputs if i])}
    matches = _matches(password, dictionaries)
    guesses = scoring.most_guessable_match_sequence(password, matches)["guesses"]
    return time_estimates.guesses_to_score(guesses)


def _matches(password: str, dictionaries: dict[str, dict[str, int]]) -> list[dict]:
    """zxcvbn's omnimatch with our dictionaries, its l33t matching bounded (see L33T_MAX_LENGTH)."""
    matching, _scoring, _estimates = _zxcvbn()
    matches = _repeat_matches(password, dictionaries)
    for matcher in (matching.dictionary_match, matching.reverse_dictionary_match, matching.spatial_match,
                    matching.sequence_match, matching.regex_match, matching.date_match):
        matches.extend(matcher(password, _ranked_dictionaries=dictionaries))
    start = password[:L33T_MAX_LENGTH]
    readings = matching.enumerate_l33t_subs(matching.relevant_l33t_subtable(start, matching.L33T_TABLE))
    if len(readings) <= L33T_MAX_READINGS:
        matches.extend(matching.l33t_match(start, _ranked_dictionaries=dictionaries))
    return sorted(matches, key=lambda match: (match["i"], match["j"]))


_GREEDY, _LAZY, _LAZY_ANCHORED = re.compile(r"(.+)\1+"), re.compile(r"(.+?)\1+"), re.compile(r"^(.+?)\1+$")


def _repeat_matches(password: str, dictionaries: dict[str, dict[str, int]]) -> list[dict]:
    """zxcvbn's repeat_match (« abcabcabc »), its repeated part scored by `_matches` too: zxcvbn's
    own calls its unbounded omnimatch there, without the French list."""
    _matching, scoring, _estimates = _zxcvbn()
    matches, last = [], 0
    while last < len(password):
        greedy, lazy = _GREEDY.search(password, pos=last), _LAZY.search(password, pos=last)
        if not greedy:
            break
        if len(greedy.group(0)) > len(lazy.group(0)):  # « aabaab »: greedy finds « aab » twice
            found, base = greedy, _LAZY_ANCHORED.search(greedy.group(0)).group(1)
        else:
            found, base = lazy, lazy.group(1)
        i, j = found.span()[0], found.span()[1] - 1
        analysis = scoring.most_guessable_match_sequence(base, _matches(base, dictionaries))
        matches.append({"pattern": "repeat", "i": i, "j": j, "token": found.group(0), "base_token": base,
                        "base_guesses": analysis["guesses"], "base_matches": analysis["sequence"],
                        "repeat_count": len(found.group(0)) / len(base)})
        last = j + 1
    return matches


def _local_part(email: str) -> str:
    return strip_accents(email.split("@")[0].strip().lower())


def _name_parts(email: str) -> list[str]:
    """« marie.tremblay@… » -> [« marie », « tremblay »]: the parts of 4 characters or more."""
    return [part for part in dict.fromkeys(re.split(r"[^a-z0-9]+", _local_part(email))) if len(part) >= MIN_NAME_PART]


def contains_email_name(password: str, email: str) -> bool:
    """The whole name before « @ » is in the password, or the password is mostly made of its parts."""
    bare, local = strip_accents(password.lower()), _local_part(email)
    if len(local) >= MIN_NAME_PART and local in bare:
        return True
    rest = bare
    for part in sorted(_name_parts(email), key=len, reverse=True):
        rest = rest.replace(part, "")
    return rest != bare and len([c for c in rest if c not in SEPARATORS]) < MIN_LEFT_OVER


_SEASON_OR_MONTH = frozenset(SEASONS + MONTHS)


def is_season_or_month_with_year(password: str) -> bool:
    """Only letters: one season or month name; among the digits: a year of 2 or 4 digits."""
    bare = strip_accents(password.lower())
    words = re.findall(r"[^\W\d_]+", bare)
    years = [digits for digits in re.findall(r"\d+", bare) if len(digits) in (2, 4)]
    return len(words) == 1 and words[0] in _SEASON_OR_MONTH and bool(years)


@functools.cache
def _keyboard_lines() -> tuple[str, ...]:
    """Every row, forwards and backwards."""
    return tuple(line for row in KEYBOARD_ROWS for line in (row, row[::-1]))


def _without_keyboard_runs(text: str) -> str:
    """`text` less its runs of MIN_KEYBOARD_RUN or more neighbouring keys of one row, each going
    one way (« azer », « reza », « 7890 »), taking the longest run first, from the left."""
    lines, longest = _keyboard_lines(), max(map(len, KEYBOARD_ROWS))
    rest, start = [], 0
    while start < len(text):
        run = next((size for size in range(min(longest, len(text) - start), MIN_KEYBOARD_RUN - 1, -1)
                    if any(text[start:start + size] in line for line in lines)), 0)
        if not run:
            rest.append(text[start])
        start += run or 1
    return "".join(rest)


def is_keyboard_pattern(password: str) -> bool:
    """Runs of a keyboard row make up 6 characters or more, and fewer than 6 others remain."""
    text = password.lower()
    rest = _without_keyboard_runs(text)
    return len(text) - len(rest) >= MIN_LEFT_OVER and len([c for c in rest if c not in SEPARATORS]) < MIN_LEFT_OVER


def is_common(password: str) -> bool:
    """The password is a listed password or word, written with separators, accents or up to
    5 digits and symbols around or inside it (« Mot de passe 2024! », « azerty123 »)."""
    bare = strip_accents(password.lower())
    letters = "".join(c for c in bare if c.isalpha())
    decoration = [c for c in bare if not c.isalpha() and c not in SEPARATORS]
    words = _common_words()
    return bare in words or (bool(letters) and letters in words and len(decoration) < MIN_LEFT_OVER)


def password_problems(password: str, email: str = "") -> list:
    """Why a new password is refused (empty when it is acceptable): its length, then the first
    reason that applies among e-mail name, season or month with a year, keyboard row, common
    password or word, and too easy to guess."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(_l("Le mot de passe doit avoir au moins %(min)d caractères.", min=MIN_PASSWORD_LENGTH))
    if contains_email_name(password, email):
        problems.append(EMAIL_NAME)
    elif is_season_or_month_with_year(password):
        problems.append(SEASON_OR_MONTH)
    elif is_keyboard_pattern(password):
        problems.append(KEYBOARD)
    elif is_common(password):
        problems.append(TOO_COMMON)
    elif len(set(password.lower())) <= 3 or (
            guess_score(password, [email, _local_part(email), *_name_parts(email), "pin", "grille"]) < MIN_SCORE):
        problems.append(TOO_EASY)
    return problems
