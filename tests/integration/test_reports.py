"""The PDF reports (issue 12), read back as a person would: their text (pdftotext), their pages
as images (pdftoppm), their tags, metadata and fonts (pypdf).

A PDF costs about a second to make, so each document is made once for the module (`documents`)
and many things are checked on it. The world: five territories assessed in 2025 (a cohort of
five: symbols against the cohort), Montréal-Nord also in 2024 and with a draft in 2025; the main
assessment (Montréal-Nord 2025) was rated on grid 2026.1, the others on the version in force.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pypdf
import pytest
from PIL import Image
from sqlalchemy import func, select

from pin_grid import access, reports, services
from pin_grid.context import grid_catalog
from pin_grid.extensions import db
from pin_grid.models import AuditEvent, Assessment, Territory
from pin_grid.reports import render
from pin_grid.text import one_decimal

from ..conftest import unavailable
from .conftest import ADMIN, add_user, import_document, make_app, sign_in

GEST = "gestion@cisss.example"  # gestionnaire of Montréal
COORD = "coord@cisss.example"  # coordonnateur of MTL-NORD
MEMBRE = "membre@cisss.example"  # membre of MTL-NORD
OLD_ONLY = "outil reconnu, connu et partagé"  # ECO-4, a statement of grid 2026.1 only
NEW_ONLY = "partagent une même compréhension de l'approche écosystémique"  # ECO-5, of 2026.2 only
TERRITORIES = [("MTL-NORD", "Montréal-Nord", "Montréal"), ("VERDUN", "Verdun", "Montréal"),
               ("STMICHEL", "Saint-Michel", "Montréal"), ("LAV-01", "Laval-des-Rapides", "Laval"),
               ("LONG", "Longueuil", "Montérégie")]
LEVELS = ("implante", "partiel", "non_implante")


def comment(item_id: str) -> str:
    return f"Remarque {item_id} de l'équipe"


# What teams paste: a shared document's address, whose identifier has nowhere to break a line.
LONG_LINK = "https://docs.google.com/document/d/1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOp/edit"
# What a team may type in one comment: a list of 29 points, 4,500 characters, taller than a page.
LONG_COMMENT = "Ce qui a été dit :\n" + "\n".join(
    f"- point {k} : les partenaires se rencontrent chaque mois pour revoir ensemble les situations des familles"
    f" et ajuster leurs façons de faire" for k in range(1, 30))


def _record(grids, code, name, region, date, status, version, levels, *, rich=False):
    grid = grids[version]
    answers = {}
    for n, item_id in enumerate(grid.items):
        level = levels(n, item_id)
        answer = {"level": level, "comment": comment(item_id) + (f" : {LONG_LINK}" if n == 1 else "") if rich else "",
                  "priority": rich and n % 7 == 0,
                  "action": (f"Action pour {item_id}" + (f" : {LONG_LINK}" if n == 0 else "")
                             if rich and n % 7 == 0 else ""),
                  "action_owner": "Coordination PIN" if rich and n % 7 == 0 else "",
                  "action_due": f"2025-{n % 12 + 1:02d}-15" if rich and n % 7 == 0 else None}
        if rich and n == 4:
            answer["target"] = "implante"
        answers[item_id] = answer
    return {"territory": {"code": code, "name": name, "region": region}, "date": date, "perspective": None,
            "status": status, "grid_version": version,
            "participants": [{"name": "Ana Tremblay", "role": "intervenante", "sector": "cisss"},
                             {"name": None, "role": "parent-partenaire", "sector": "parent_partenaire"}],
            "organizations": [{"name": f"Maison de la Famille {name}", "sector": "communautaire"}],
            "answers": answers}


@dataclass
class World:
    app: object
    ids: dict
    cookies: dict


@pytest.fixture(scope="module")
def world(sqlite_template, tmp_path_factory, grids) -> World:
    if shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None:
        unavailable("poppler-utils is not installed (apt-get install poppler-utils)")
    path = tmp_path_factory.mktemp("reports") / "reports.sqlite"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    add_user(app, ADMIN, "admin")
    old, new = "2026.1", grids.current.version
    records = [
        # Montréal-Nord: 2024, then the main assessment of 2025 (a comment on every statement,
        # priorities, actions, a target, « on ne sait pas »), both on 2026.1; a draft on the new grid.
        _record(grids, *TERRITORIES[0], "2024-03-14", "finalized", old, lambda n, i: LEVELS[(n + 1) % 3]),
        _record(grids, *TERRITORIES[0], "2025-03-10", "finalized", old,
                lambda n, i: "ne_sais_pas" if i in ("ECO-3", "PAR-2") else LEVELS[n % 3], rich=True),
        _record(grids, *TERRITORIES[0], "2025-09-01", "draft", new, lambda n, i: "implante" if n < 3 else None),
    ]
    # The draft's third statement (its first table) carries the long comment.
    records[-1]["answers"][list(grids[new].items)[2]]["comment"] = LONG_COMMENT
    for k, (code, name, region) in enumerate(TERRITORIES[1:], 1):
        records.append(_record(grids, code, name, region, f"2025-0{k + 1}-02", "finalized", new,
                               lambda n, i, k=k: LEVELS[(n + k) % 3] if (n + k) % 5 else "implante"))
    import_document(app, path.parent / "world.json", records)
    add_user(app, GEST, "gestionnaire", regions=["Montréal"])
    add_user(app, COORD, "coordonnateur", territories=["MTL-NORD"])
    add_user(app, MEMBRE, "membre", territories=["MTL-NORD"])
    with app.app_context():
        ids = {}
        for a in db.session.scalars(select(Assessment)):
            if a.territory.code == "MTL-NORD":
                ids[{"2024-03-14": "previous", "2025-03-10": "main", "2025-09-01": "draft"}[a.date.isoformat()]] = a.id
            elif a.territory.code == "LAV-01":
                ids["laval"] = a.id
                ids["laval_territory"] = a.territory_id
        db.session.remove()
    cookies = {email: sign_in(app.test_client(), email).get_cookie("session").value
               for email in (ADMIN, GEST, COORD, MEMBRE)}
    yield World(app, ids, cookies)
    with app.app_context():
        db.engine.dispose()


def browser(world: World, email: str, language: str | None = None):
    client = world.app.test_client()
    client.set_cookie("session", world.cookies[email])
    if language:
        client.set_cookie("lang", language)
    return client


@dataclass
class Pdf:
    data: bytes
    path: Path

    @property
    def reader(self) -> pypdf.PdfReader:
        return pypdf.PdfReader(self.path)

    def text(self) -> str:
        """The text as pdftotext reads it, spaces (and espaces insécables) made plain."""
        out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(self.path), "-"], capture_output=True, check=True)
        return " ".join(out.stdout.decode().replace("\u00a0", " ").split())

    def pages(self) -> list[str]:
        return [" ".join((page.extract_text() or "").replace("\u00a0", " ").split()) for page in self.reader.pages]


def _get_pdf(client, url: str, path: Path) -> Pdf:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    path.write_bytes(response.data)
    return Pdf(response.data, path)


@pytest.fixture(scope="module")
def documents(world, tmp_path_factory) -> dict[str, Pdf]:
    """Each document made once: the profile (French, Letter), the draft's profile, the profile in
    English on A4, the regional report for an administrator and for a gestionnaire."""
    folder = tmp_path_factory.mktemp("pdfs")
    admin, ids = browser(world, ADMIN), world.ids
    return {
        "profile": _get_pdf(admin, f"/evaluations/{ids['main']}/profil.pdf", folder / "profile.pdf"),
        "draft": _get_pdf(admin, f"/evaluations/{ids['draft']}/profil.pdf", folder / "draft.pdf"),
        "english": _get_pdf(browser(world, ADMIN, "en"), f"/evaluations/{ids['main']}/profil.pdf?papier=a4",
                            folder / "english.pdf"),
        "regional": _get_pdf(admin, "/tableau-de-bord/rapport.pdf?annee=2025", folder / "regional.pdf"),
        "regional_gest": _get_pdf(browser(world, GEST), "/tableau-de-bord/rapport.pdf?annee=2025&papier=a4",
                                  folder / "regional-gest.pdf"),
    }


def expected_results(world, key="main"):
    """What the results service says of an assessment: its grid, results and standing."""
    with world.app.app_context():
        grids = grid_catalog()
        assessment = services.get_assessment(world.ids[key], with_answers=True)
        grid = grids.of(assessment.grid_version)
        results = services.results_of(assessment, grid)
        standing, reference = services.standing_of(assessment, results, grids)
        db.session.remove()
    return grid, results, standing, reference


# --- the profile ---------------------------------------------------------------------------------

def test_the_profile_says_everything_in_the_wording_of_its_grid_version(world, documents, grids):
    text = documents["profile"].text()
    grid, results, standing, reference = expected_results(world)
    assert grid.version == "2026.1"
    for needle in ("Montréal-Nord", "Montréal", "10 mars 2025", "Ana Tremblay", "parent-partenaire",
                   "Maison de la Famille Montréal-Nord", "Vue collective du territoire", "2026.1",
                   "Table des matières", "Le profil en bref", "Plan d'action", "Méthode", "Coordination PIN",
                   "Action pour ECO-1", "Cible : Implanté (encore 1 niveau)"):
        assert needle in text, needle
    # Every theme with its score as the results page gives it (decimal comma), every comment.
    for t in results.themes:
        assert t.theme.name.fr in text
        if t.score.score is not None:
            assert one_decimal(t.score.score, "fr") in text, (t.theme.id, t.score.score)
    missing = [item_id for item_id in grid.items if comment(item_id) not in text]
    assert not missing, f"comments not printed: {missing}"
    # The profile, its sub-profile and the reference said in words (a cohort of five).
    profile = grids.current.profiles[standing.profile.letter]
    assert profile.subprofiles[standing.profile.subprofile].label_for(reference.kind).fr in text
    assert f"Profil {standing.profile.letter} — {profile.label_for(reference.kind).fr}" in text
    assert "la cohorte 2025, 5 territoires" in text
    # The statements of 2026.1, never those of the version in force; its levels (no « Sans objet »).
    assert OLD_ONLY in text and NEW_ONLY not in text
    assert "Sans objet" not in text
    # « On ne sait pas » as knowledge gaps; the change since 2024 with its ▲ ▼.
    assert "Ce que l'équipe ne sait pas encore" in text and "2 énoncés cotés « On ne sait pas »" in text
    assert "Évolution depuis l'évaluation du 14 mars 2024" in text
    assert re.search(r"[▲▼] [+−]\d+,\d", text)
    # The running header, the « page X de Y » footer and a table of contents with page numbers.
    pages = len(documents["profile"].reader.pages)
    assert f"page 1 de {pages}" in text and f"page {pages} de {pages}" in text
    assert "Montréal-Nord — 10 mars 2025" in text
    assert re.search(r"Plan d'action[ .]*\d+", text)
    assert "PROVISOIRE" not in text


def test_french_typography_non_breaking_spaces_and_decimal_comma(documents):
    raw = " ".join(page.extract_text() for page in documents["profile"].reader.pages)
    assert "Sous-profil\u00a0:" in raw
    assert "«\u00a0On ne sait pas\u00a0»" in raw
    assert not re.search(r"\w [:;?!]", raw.replace("\u00a0", "_"))  # no ordinary space before them
    assert re.search(r"\d+,\d", raw) and not re.search(r"\b\d{1,3}\.\d\b", raw)


def test_the_profile_is_a_tagged_pdf_with_its_metadata_and_the_shipped_fonts(documents):
    reader = documents["profile"].reader
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "fr"
    meta = reader.metadata
    assert "Montréal-Nord" in meta.title and "Montréal-Nord" in meta.author
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"] if "/DescendantFonts" in font \
                else font.get("/FontDescriptor")
            fonts[str(font["/BaseFont"])] = "/FontFile2" in descriptor or "/FontFile3" in descriptor
    assert any("Atkinson-Hyperlegible-Next" in name for name in fonts), fonts
    assert all(fonts.values()), f"fonts not embedded: {fonts}"
    shipped = ("Atkinson-Hyperlegible-Next", "PIN-Arrows", "PIN-Triangles")
    assert all(any(s in name for s in shipped) for name in fonts), f"a font the app does not ship: {fonts}"
    # The charts have a text alternative (their summary), and their own text is text: the legend
    # and the axis' title of the chart against the cohort are found as words.
    text = documents["profile"].text()
    assert "Le territoire par rapport à la cohorte de l'année" in text
    assert "Ce territoire" in text and "Moyenne de la cohorte" in text and "Score (0 à 100)" in text


def test_no_page_is_blank(documents, tmp_path):
    for name in ("profile", "draft", "regional"):
        subprocess.run(["pdftoppm", "-r", "20", "-png", str(documents[name].path), str(tmp_path / name)], check=True)
    images = sorted(tmp_path.glob("*.png"))
    assert len(images) == sum(len(documents[n].reader.pages) for n in ("profile", "draft", "regional"))
    for image in images:
        gray = Image.open(image).convert("L")
        histogram = gray.histogram()
        inked, total = sum(histogram[:200]), gray.width * gray.height
        assert inked > 0.002 * total, f"{image.name} looks blank ({inked} dark pixels)"


def test_no_word_runs_off_its_page(documents):
    # A long address in a comment (wide column) and in an action (narrow column) is broken
    # inside its column, never cut off at the edge of the paper.
    for name in ("profile", "english"):
        out = subprocess.run(["pdftotext", "-bbox", str(documents[name].path), "-"], capture_output=True, check=True)
        pages = re.findall(r'<page width="([\d.]+)" height="[\d.]+">(.*?)</page>', out.stdout.decode(), re.S)
        assert pages, name
        for number, (width, words) in enumerate(pages, 1):
            right = max(float(x) for x in re.findall(r'xMax="([\d.]+)"', words))
            assert right <= float(width) - 20, f"{name}, page {number}: a word reaches {right:.0f} of {width}"
    text = documents["profile"].text().replace(" ", "")
    assert text.count(LONG_LINK) >= 2  # both, whole, in the order of their letters


def test_a_long_comment_keeps_its_lines_and_starts_where_it_falls(documents):
    # Its list stays a list: each point on a line of its own, as on the results page.
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(documents["draft"].path), "-"],
                         capture_output=True, check=True)
    lines = [" ".join(line.replace("\u00a0", " ").split()) for line in out.stdout.decode().splitlines()]
    points = [line for line in lines if re.match(r"- point \d+ : les partenaires", line)]
    assert len(points) == 29, points[:3]
    # Taller than a page, its row starts on the chapter's first page, right after the two
    # statements before it, instead of leaving that page blank and being split anyway.
    pages = documents["draft"].pages()
    first = next((n for n, text in enumerate(pages)
                  if "Énoncé par énoncé" in text and "Ce qui a été dit" in text), None)
    assert first is not None, "the long comment does not start on the chapter's first page"
    assert "point 1 :" in pages[first]
    assert "point 29 :" in pages[first + 1]
    assert not [n for n, text in enumerate(pages) if "point 1 :" in text and n != first]


def test_letter_by_default_a4_when_asked(documents):
    letter = documents["profile"].reader.pages[0].mediabox
    a4 = documents["english"].reader.pages[0].mediabox
    assert (round(float(letter.width)), round(float(letter.height))) == (612, 792)
    assert (round(float(a4.width)), round(float(a4.height))) == (595, 842)


def test_the_profile_in_english(documents, world):
    text = documents["english"].text()
    pages = len(documents["english"].reader.pages)
    assert f"page 1 of {pages}" in text and "Ecosystemic approach" in text and "Contents" in text
    assert "Table des matières" not in text
    assert documents["english"].reader.trailer["/Root"]["/Lang"] == "en"
    grid, results, *_ = expected_results(world)
    assert one_decimal(results.themes[0].score.score, "en") in text


def test_a_draft_says_provisoire_on_every_page(documents):
    pages = documents["draft"].pages()
    assert len(pages) > 3
    assert all("PROVISOIRE" in page for page in pages), [n for n, p in enumerate(pages, 1) if "PROVISOIRE" not in p]
    text = documents["draft"].text()
    # The version in force: its statements and its levels' definitions.
    assert NEW_ONLY in text and "Sans objet" in text and OLD_ONLY not in text


# --- the regional report -------------------------------------------------------------------------

def test_the_regional_report_names_its_territories_and_pages_them(documents):
    text = documents["regional"].text()
    for _code, name, _region in TERRITORIES:
        assert name in text
        assert text.count(name) >= 3, name  # the table, the heat map, its own page
    for needle in ("Comparaison des territoires", "Répartition des profils", "Carte de chaleur des scores",
                   "la cohorte 2025, 5 territoires"):
        assert needle in text, needle
    pages = len(documents["regional"].reader.pages)
    assert f"page {pages} de {pages}" in text and pages >= 5 + 3


def test_the_regional_report_keeps_other_regions_anonymous_for_a_gestionnaire(world, documents):
    text = documents["regional_gest"].text()
    label = access.anonymous_label(world.ids["laval_territory"], world.app.config["SECRET_KEY"])
    assert f"Territoire {label}" in text
    assert "Laval-des-Rapides" not in text and "Longueuil" not in text and "LAV-01" not in text
    assert "Montréal-Nord" in text and "Verdun" in text
    # One page for each territory of Montréal, none for the others.
    headings = [page for page in documents["regional_gest"].pages() if "Région : Montréal" in page]
    assert len(headings) == 3


# --- access, bad input, what a request writes ----------------------------------------------------

def test_who_gets_which_report(world):
    ids = world.ids
    membre, coord, gest = browser(world, MEMBRE), browser(world, COORD), browser(world, GEST)
    assert membre.get(f"/evaluations/{ids['main']}/profil.pdf").status_code == 200  # their own territory (cached)
    assert membre.get(f"/evaluations/{ids['laval']}/profil.pdf").status_code == 404
    assert gest.get(f"/evaluations/{ids['laval']}/profil.pdf").status_code == 404  # outside their regions
    assert membre.get("/tableau-de-bord/rapport.pdf").status_code == 403
    assert coord.get("/tableau-de-bord/rapport.pdf").status_code == 403
    anonymous = world.app.test_client().get(f"/evaluations/{ids['main']}/profil.pdf")
    assert anonymous.status_code == 302 and "/connexion" in anonymous.location
    assert browser(world, ADMIN).get("/evaluations/2147483000/profil.pdf").status_code == 404


@pytest.mark.parametrize("url, status, message", [
    ("/evaluations/{main}/profil.pdf?papier=A3", 400, "Format de papier inconnu"),
    ("/tableau-de-bord/rapport.pdf?papier=legal", 400, "Format de papier inconnu"),
    ("/tableau-de-bord/rapport.pdf?annee=20x5", 400, "Valeur invalide pour « annee »"),
    ("/tableau-de-bord/rapport.pdf?perspective=tous", 400, "Valeur invalide pour « perspective »"),
    ("/tableau-de-bord/rapport.pdf?organisation=abc", 400, "Valeur invalide pour « organisation »"),
    ("/tableau-de-bord/rapport.pdf?annee=2025&region=Atlantide", 400, "Région « Atlantide »"),
    ("/tableau-de-bord/rapport.pdf?annee=1990", 404, "Aucune évaluation finalisée"),
    ("/tableau-de-bord/rapport.pdf?annee=2025&organisation=999999", 404, "Cet organisme"),
])
def test_bad_parameters_get_a_message(world, url, status, message):
    response = browser(world, ADMIN).get(url.format(**world.ids))
    assert response.status_code == status
    assert message in response.get_data(as_text=True).replace("&#34;", '"').replace("&#39;", "'")


def test_bad_parameters_are_told_in_the_person_s_language(world):
    response = browser(world, ADMIN, "en").get(f"/evaluations/{world.ids['main']}/profil.pdf?papier=A3")
    assert response.status_code == 400 and "Unknown paper size" in response.get_data(as_text=True)


def _row_counts(app) -> dict[str, int]:
    with app.app_context():
        counts = {table.name: db.session.scalar(select(func.count()).select_from(table))
                  for table in db.metadata.sorted_tables}
        db.session.remove()
    return counts


def test_a_report_request_writes_nothing_but_its_audit_row(world, documents):
    before = _row_counts(world.app)
    assert browser(world, COORD).get(f"/evaluations/{world.ids['main']}/profil.pdf").status_code == 200
    after = _row_counts(world.app)
    assert {t: n - before[t] for t, n in after.items() if n != before[t]} == {"audit_event": 1}
    with world.app.app_context():
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        db.session.remove()
    assert event.actor == COORD and event.action == "report" and str(world.ids["main"]) in event.detail


def test_a_finalised_profile_comes_from_the_cache_until_an_input_changes(world, documents, tmp_path):
    admin = browser(world, ADMIN)
    url = f"/evaluations/{world.ids['main']}/profil.pdf"
    with world.app.app_context():
        cache = reports.cache()
        hits, size = cache.hits, len(cache)
    assert admin.get(url).data == documents["profile"].data
    assert cache.hits == hits + 1
    admin.get(f"/evaluations/{world.ids['draft']}/profil.pdf")
    assert len(cache) == size  # a draft is never kept
    # The territory renamed: the next PDF says so (another key), never the stale one.
    with world.app.app_context():
        territory = db.session.scalars(select(Territory).where(Territory.code == "MTL-NORD")).one()
        services.update_territory("MTL-NORD", "Montréal-Nord-Est", territory.region, actor=ADMIN)
        db.session.remove()
    try:
        renamed = _get_pdf(admin, url, tmp_path / "renamed.pdf")
        assert "Montréal-Nord-Est" in renamed.text()
    finally:
        with world.app.app_context():
            services.update_territory("MTL-NORD", "Montréal-Nord", "Montréal", actor=ADMIN)
            db.session.remove()


# --- the command line ----------------------------------------------------------------------------

def _invoke(app, args):
    with app.app_context():
        result = app.test_cli_runner().invoke(args=args)
        db.session.remove()
    return result


def test_the_command_line_writes_the_reports(world, tmp_path):
    profile = tmp_path / "profil.pdf"
    result = _invoke(world.app, ["report", "--assessment", str(world.ids["main"]), "-o", str(profile)])
    assert result.exit_code == 0, result.output
    assert profile.read_bytes().startswith(b"%PDF") and "Montréal-Nord" in Pdf(b"", profile).text()
    regional = tmp_path / "region.pdf"
    result = _invoke(world.app, ["report", "--year", "2025", "--region", "Laval", "--language", "en", "--paper", "a4",
                                 "-o", str(regional)])
    assert result.exit_code == 0, result.output
    text = Pdf(b"", regional).text()
    assert "Laval-des-Rapides" in text and "Verdun" not in text and "page 1 of" in text
    for args, message in ((["report", "-o", str(tmp_path / "x.pdf")], "--assessment"),
                          (["report", "--assessment", "999999", "-o", str(tmp_path / "x.pdf")], "n'existe pas"),
                          (["report", "--year", "1990", "-o", str(tmp_path / "x.pdf")], "Aucune évaluation")):
        result = _invoke(world.app, args)
        assert result.exit_code == 1 and message in result.output, (args, result.output)
    assert not (tmp_path / "x.pdf").exists()


def test_doctor_reports_each_library_and_font(world):
    result = _invoke(world.app, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "libpango-1.0.so.0" in result.output and "AtkinsonHyperlegibleNext-Regular.ttf" in result.output
    assert "OFL.txt" in result.output and "réussi" in result.output


def test_without_pango_the_app_starts_and_the_reports_say_why(world, monkeypatch, tmp_path, sqlite_template):
    """A library WeasyPrint needs is missing: start-up says so and goes on, the report routes
    answer 503 naming the package, `doctor` lists it and exits 1, without a traceback."""
    monkeypatch.setattr(render, "LIBRARIES", (*render.LIBRARIES, ("libpango-missing.so.0", "libpango-1.0-0")))
    render._engine.cache_clear()
    try:
        shutil.copy(sqlite_template, tmp_path / "db.sqlite")
        app = make_app(f"sqlite:///{tmp_path / 'db.sqlite'}")  # does not raise
        response = browser(world, ADMIN).get(f"/evaluations/{world.ids['main']}/profil.pdf?papier=a4")
        assert response.status_code == 503
        assert "libpango-1.0-0" in response.get_data(as_text=True)
        result = _invoke(app, ["doctor"])
        assert result.exit_code == 1 and "MANQUANT  libpango-missing.so.0" in result.output
        assert "Traceback" not in result.output
    finally:
        render._engine.cache_clear()


def test_french_spacing_touches_the_text_never_the_tags():
    html = '<p title="a : b">Note : « oui » ; non ? <b>Fin</b> !</p><style>a:hover { x: y }</style>'
    assert render.french_spacing(html) == ('<p title="a : b">Note\u00a0: «\u00a0oui\u00a0»\u00a0; non\u00a0? '
                                            '<b>Fin</b>\u00a0!</p><style>a:hover { x: y }</style>')


def test_the_cache_keeps_within_its_bounds():
    cache = render.PdfCache(max_bytes=10)
    cache.put("a", b"12345")
    cache.put("b", b"67890")
    assert cache.get("a") == b"12345"  # a is now the most recent
    cache.put("c", b"xx")
    assert cache.get("b") is None and cache.get("a") == b"12345" and cache.get("c") == b"xx"
    assert cache.size <= 10
    cache.put("big", b"x" * 11)
    assert cache.get("big") is None
