"""HTML → PDF with WeasyPrint: the tagged `pdf/ua-1` variant, the shipped font, the paper size,
French typography, and a bounded cache of finalised reports.

WeasyPrint needs Pango (and HarfBuzz, fontconfig, GLib) from the system. They are looked for
here without importing WeasyPrint, so that the app starts, and says what is missing, on a machine
without them: only the report routes then answer 503 (`ReportsUnavailable`).
"""
from __future__ import annotations

import atexit
import collections
import contextlib
import ctypes
import functools
import gc
import importlib
import math
import re
import shutil
import threading
import typing
from dataclasses import dataclass
from pathlib import Path

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_FAMILY = "Atkinson Hyperlegible Next"
# (family, weight, style, file): the text font, then two small subsets of Noto for the few signs
# it lacks (→, ▲ ▼), so that no glyph comes from whatever fonts the server happens to have.
FONTS = (
    (FONT_FAMILY, "normal", "normal", "AtkinsonHyperlegibleNext-Regular.ttf"),
    (FONT_FAMILY, "normal", "italic", "AtkinsonHyperlegibleNext-Italic.ttf"),
    (FONT_FAMILY, "bold", "normal", "AtkinsonHyperlegibleNext-Bold.ttf"),
    (FONT_FAMILY, "bold", "italic", "AtkinsonHyperlegibleNext-BoldItalic.ttf"),
    ("PIN Arrows", "normal", "normal", "NotoSansMath-Arrows.ttf"),
    ("PIN Triangles", "normal", "normal", "NotoSansSymbols2-Triangles.ttf"),
)
FONT_LICENCES = ("OFL.txt", "OFL-Noto.txt")
TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "report"
STYLESHEET = TEMPLATES / "report.css"
PAPERS = {"letter": "letter", "a4": "A4"}  # ?papier= value -> CSS page size
PDF_VARIANT = "pdf/ua-1"

# The system libraries WeasyPrint loads, each with the Debian package that brings it.
LIBRARIES = (
    ("libgobject-2.0.so.0", "libglib2.0-0"),
    ("libpango-1.0.so.0", "libpango-1.0-0"),
    ("libpangoft2-1.0.so.0", "libpangoft2-1.0-0"),
    ("libharfbuzz.so.0", "libharfbuzz0b"),
    ("libharfbuzz-subset.so.0", "libharfbuzz-subset0"),
    ("libfontconfig.so.1", "libfontconfig1"),
)
# Only the tests use these (text and page images of the PDF).
TEST_TOOLS = (("pdftotext", "poppler-utils"), ("pdftoppm", "poppler-utils"))


class ReportsUnavailable(Exception):
    """PDF reports cannot be made on this machine; `message` says what to install."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Check:
    """One line of `flask doctor`: a library, font or tool, found or not."""

    what: str
    found: bool
    detail: str  # where it was found, or the package that brings it
    required: bool = True


def _library_found(name: str) -> bool:
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def library_checks() -> list[Check]:
    return [Check(name, _library_found(name), package) for name, package in LIBRARIES]


def font_checks() -> list[Check]:
    files = [FONT_DIR / name for *_face, name in FONTS] + [FONT_DIR / name for name in FONT_LICENCES]
    return [Check(path.name, path.is_file(), str(path)) for path in files]


def tool_checks() -> list[Check]:
    return [Check(tool, shutil.which(tool) is not None, shutil.which(tool) or package, required=False)
            for tool, package in TEST_TOOLS]


def missing_libraries() -> list[Check]:
    return [c for c in library_checks() if not c.found]


def unavailable_message(missing: list[Check]) -> str:
    """One line naming what to install (in English: it is for whoever runs the server)."""
    names = ", ".join(c.what for c in missing)
    packages = " ".join(dict.fromkeys(c.detail for c in missing))
    return f"PDF reports are unavailable: missing system libraries {names} (apt-get install {packages})"


@functools.cache
def _engine():
    """WeasyPrint, imported on first use: importing it loads Pango, which may be missing, and
    takes most of a second that the app's start-up and other commands need not pay."""
    missing = missing_libraries()
    if missing:
        raise ReportsUnavailable(unavailable_message(missing))
    try:
        import pydyf
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration
    except OSError as exc:  # a library that loads but lacks a symbol WeasyPrint needs (too old)
        raise ReportsUnavailable(f"PDF reports are unavailable: {exc}") from exc
    _keep_page_references(pydyf.PDF)
    _svg_text_in_one_run()
    return Engine(weasyprint, FontConfiguration, _lean_html(weasyprint))


class Engine(typing.NamedTuple):
    weasyprint: typing.Any
    FontConfiguration: type
    HTML: type  # the HTML class the reports are read with


def _lean_html(weasyprint) -> type:
    """WeasyPrint's `HTML` with a lighter user-agent stylesheet. The stock one gives every element
    six pseudo-elements (::marker, ::footnote-call, ::footnote-marker, ::note-call, ::note-marker,
    ::note-callback) whose styles are computed for each of a profile's 700 elements: a seventh of
    its layout. The reports have no footnotes nor notes, and only list items have markers. With a
    WeasyPrint that no longer reads its stylesheet this way, the stock class is used."""
    try:
        from weasyprint import html as stock
        text, counter_style = stock.UA, stock.UA_COUNTER_STYLE
    except (ImportError, AttributeError):
        return weasyprint.HTML
    lean = re.sub(r"^::(?:footnote|note)-[\w-]+ \{[^}]*\}\n", "", text, flags=re.M)
    lean = lean.replace("\n::marker {", "\nli::marker {")
    if "::footnote" in lean or "::note" in lean or "li::marker" not in lean or not callable(
            getattr(weasyprint.HTML, "_ua_stylesheets", None)):
        return weasyprint.HTML
    sheet = weasyprint.CSS(string=lean, counter_style=counter_style)

    class ReportHTML(weasyprint.HTML):
        def _ua_stylesheets(self, forms=False):
            return [sheet]

    return ReportHTML


_PER_LETTER = frozenset({"dx", "dy", "rotate", "textLength", "lengthAdjust", "letter-spacing", "dominant-baseline",
                         "alignment-baseline", "display-anchor"})


def _svg_text_in_one_run() -> None:
    """WeasyPrint lays out and draws each letter of an SVG `<text>` apart: the letters of the
    charts were a third of a profile's lines and most of what its charts cost (a heat map of
    100 territories writes 4,000 of them). A text with one position and nothing set per letter
    (every text matplotlib writes) is set here as one run, as WeasyPrint sets the text of a
    page (kerning included); any other text, or a WeasyPrint without these functions, is left
    to WeasyPrint's own way."""
    try:
        from weasyprint import svg as svg_package
        from weasyprint.css.properties import INITIAL_VALUES
        from weasyprint.draw.text import draw_first_line
        from weasyprint.matrix import Matrix
        from weasyprint.svg.bounding_box import extend_bounding_box
        from weasyprint.svg.utils import size
        from weasyprint.text.line_break import split_first_line
        letters = importlib.import_module("weasyprint.svg.text")
        by_letter, TextBox, Style = letters.text, letters.TextBox, letters.Style
    except (ImportError, AttributeError):
        return
    if svg_package.TAGS.get("text") is not by_letter or getattr(svg_package, "text", None) is not by_letter:
        return  # another WeasyPrint, or done already

    def one_run(svg, node, font_size):
        """The run's layout and place, or None when the text is not that simple."""
        attributes = node.attrib
        x, y = attributes.get("x"), attributes.get("y")
        if (node.tag != "text" or not node.text or _PER_LETTER & attributes.keys() or any(True for _ in node)
                or any(len(v.replace(",", " ").split()) != 1 for v in (x, y) if v is not None)):
            return None
        style = Style()
        style.update(INITIAL_VALUES)
        style.font_config = svg.font_config
        style["font_family"] = [font.strip("\"'") for font in node.get("font-family", "sans-serif").split(",")]
        style["font_style"] = node.get("font-style", "normal")
        weight = node.get("font-weight", 400)
        weight = {"normal": 400, "bold": 700}.get(weight, weight)
        style["font_weight"] = int(weight) if str(weight).isdigit() else 400
        style["font_size"] = font_size
        if node.get("direction") in ("ltr", "rtl"):
            style["direction"] = node.get("direction")
        layout, _, _, width, height, baseline = split_first_line(node.text, style, svg.context, math.inf, 0)
        x = svg.cursor_position[0] if x is None else size(x, font_size, svg.inner_width)
        y = svg.cursor_position[1] if y is None else size(y, font_size, svg.inner_height)
        return style, layout, x, y, width, height, baseline

    def text(svg, node, font_size):
        try:
            run = one_run(svg, node, font_size)
        except Exception:  # noqa: BLE001 — WeasyPrint's own way, which says what is wrong
            run = None
        if run is None:
            return by_letter(svg, node, font_size)
        style, layout, x, y, width, height, baseline = run
        svg.cursor_position, svg.cursor_d_position = (x + width, y), [0, 0]
        node.text_bounding_box = extend_bounding_box(
            node.text_bounding_box, ((x, y - baseline), (x + width, y - baseline + height)))
        svg.stream.push_state()
        fill, stroke = svg.set_graphical_state(node, font_size)
        svg.stream.begin_text()
        layout.reactivate(style)
        svg.fill_stroke(fill, stroke, text=True)
        box = TextBox(layout, style)
        box.baseline = baseline
        draw_first_line(svg.stream, box, "none", "none", Matrix(a=1, d=-1, e=x, f=y))
        svg.stream.end_text()
        svg.stream.pop_state()

    # draw_node finds the handler of <text> (and of <tspan>, <textPath>, <a>) in TAGS, and tells
    # the nodes of text by comparing their handler with the module's `text`: all are replaced.
    for tag, handler in list(svg_package.TAGS.items()):
        if handler is by_letter:
            svg_package.TAGS[tag] = text
    svg_package.text = text


@contextlib.contextmanager
def _collector_paused():
    """The cyclic garbage collector paused while WeasyPrint lays out and writes a document: it
    makes hundreds of thousands of objects, most alive until the end, and the collector walked
    them again and again for nothing (a tenth to a fifth of a profile's time). Process-wide, so
    only around that; it runs again as soon as the document is written."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


@functools.cache
def _malloc_trim():
    """glibc's `malloc_trim`, or None with another C library."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def _give_memory_back() -> None:
    """Hand the memory a document used back to the system: the C allocator kept some 5 MB of what a
    profile's layout had freed, and a worker's RSS stood that much higher after its first profile
    (about a millisecond a document)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _keep_page_references(pdf_class) -> None:
    """pydyf rebuilds the list of every page's reference each time it is read, and WeasyPrint's
    tagging (PDF/UA) reads it once per tagged element: a 110-page regional report spent 3 of its
    20 seconds there. The list is kept until a page is added."""
    original = pdf_class.__dict__.get("page_references")
    if not isinstance(original, property) or getattr(original.fget, "kept", False):
        return

    def page_references(self):
        count = len(self.pages["Kids"])
        kept = self.__dict__.get("_kept_page_references")
        if kept is None or kept[0] != count:
            kept = self.__dict__["_kept_page_references"] = (count, original.fget(self))
        return kept[1]

    page_references.kept = True
    pdf_class.page_references = property(page_references)


def check_engine() -> None:
    """Raise ReportsUnavailable when WeasyPrint cannot run here."""
    _engine()


def font_face_css() -> str:
    """The shipped fonts; the stylesheet names them in this order (`--report-fonts`)."""
    rules = []
    for family, weight, style, name in FONTS:
        rules.append(f'@font-face {{ font-family: "{family}"; font-weight: {weight}; font-style: {style}; '
                     f'src: url("{(FONT_DIR / name).as_uri()}") format("truetype"); }}')
    return "\n".join(rules)


class _Resources(threading.local):
    """What each thread keeps between renders: the font configuration (the @font-face fonts read
    once) and the parsed stylesheets. WeasyPrint's objects are not shared between threads."""

    def __init__(self):
        self.fonts = None
        self.stylesheets: dict[tuple, object] = {}


_resources = _Resources()


def _stylesheet(key: tuple, text: str):
    weasyprint, font_configuration, _html = _engine()
    if _resources.fonts is None:
        _resources.fonts = font_configuration()
        atexit.register(_release)
    sheet = _resources.stylesheets.get(key)
    if sheet is None:
        if len(_resources.stylesheets) > 32:  # page stylesheets differ by paper and language only
            _resources.stylesheets.clear()
        sheet = _resources.stylesheets[key] = weasyprint.CSS(string=text, font_config=_resources.fonts)
    return sheet


def _release() -> None:
    """Let the fonts go before the interpreter takes its modules down (WeasyPrint's font
    configuration needs them to clean up)."""
    _resources.fonts = None
    _resources.stylesheets.clear()


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def page_css(paper: str, page_label: str) -> str:
    """The page size and the « page X de Y » footer; `page_label` holds `{page}` and `{pages}`."""
    before, _, rest = page_label.partition("{page}")
    middle, _, after = rest.partition("{pages}")
    content = " ".join(filter(None, [_css_string(before) if before else "", "counter(page)",
                                     _css_string(middle) if middle else "", "counter(pages)",
                                     _css_string(after) if after else ""]))
    return f"@page {{ size: {PAPERS[paper]}; @bottom-right {{ content: {content}; }} }}"


def write_pdf(html: str, *, paper: str, page_label: str, images: typing.Mapping[str, bytes] | None = None) -> bytes:
    """The tagged PDF (PDF/UA-1) of `html`, on `paper` (« letter » or « a4 »); `images`: the SVG
    images the document refers to by their own address (`chart:N`, see `documents.DocumentCharts`)."""
    html_class = _engine().HTML
    base = _stylesheet(("base",), font_face_css() + "\n" + STYLESHEET.read_text(encoding="utf-8"))
    page = _stylesheet(("page", paper, page_label), page_css(paper, page_label))
    with _collector_paused():
        document = html_class(string=html, base_url=str(TEMPLATES), url_fetcher=_fetcher_class()(images or {})).render(
            stylesheets=[base, page], font_config=_resources.fonts)
        pdf = document.write_pdf(pdf_variant=PDF_VARIANT)
        del document  # freed before the collector runs again, which then has little to walk
    _give_memory_back()
    return pdf


@functools.cache
def _fetcher_class() -> type:
    """WeasyPrint's fetcher, serving a document's own images from memory. As `data:` addresses they
    went through urllib, whose cache of the last 128 addresses it parsed held as many charts: a
    worker's RSS grew by megabytes as new profiles were made, and never gave them back."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class DocumentFetcher(URLFetcher):
        def __init__(self, images: typing.Mapping[str, bytes]):
            super().__init__()
            self.images = images

        def fetch(self, url, headers=None):
            image = self.images.get(url)
            if image is None:
                return super().fetch(url, headers)
            return URLFetcherResponse(url, image, {"Content-Type": "image/svg+xml"})

    return DocumentFetcher


def one_page_pdf() -> bytes:
    """A one-page document in the report's font and stylesheet: what `flask doctor` tries, and
    the benchmark's yardstick."""
    html = ('<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Grille PIN</title></head>'
            '<body><h1>Grille PIN</h1><p>Écosystémique : 62,5 — « On ne sait pas ».</p></body></html>')
    return write_pdf(html, paper="letter", page_label="page {page} de {pages}")


# --- French typography -----------------------------------------------------------------------

NBSP = "\u00a0"
_TAG_OR_TEXT = re.compile(r"(<(?:style|script)\b.*?</(?:style|script)>|<[^>]*>)", re.S | re.I)
_BEFORE_PUNCTUATION = re.compile(r"[ \t\n]+([:;!?»])")
_AFTER_OPENING = re.compile(r"«[ \t\n]*")
_BEFORE_CLOSING = re.compile(r"(?<=[^\s\u00a0])»")


def french_spacing(html: str) -> str:
    """Espaces insécables in the text of `html` (never inside tags): before « : ; ! ? » and
    inside « », so that no line starts with a colon or a lone guillemet."""
    parts = _TAG_OR_TEXT.split(html)
    for i in range(0, len(parts), 2):  # even parts are text, odd ones the tags
        text = _BEFORE_PUNCTUATION.sub(NBSP + r"\1", parts[i])
        text = _AFTER_OPENING.sub("«" + NBSP, text)
        parts[i] = _BEFORE_CLOSING.sub(NBSP + "»", text)
    return "".join(parts)


# --- The cache of finalised reports ------------------------------------------------------------

class PdfCache:
    """The PDFs of finalised assessments, in this process's memory, least recently used first out,
    within `max_bytes`. The key says everything that goes into a document, so an entry is never
    stale: a change of any input is another key, and the old entry ages out."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._entries: collections.OrderedDict[str, bytes] = collections.OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: str) -> bytes | None:
        with self._lock:
            pdf = self._entries.get(key)
            if pdf is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return pdf

    def put(self, key: str, pdf: bytes) -> None:
        if len(pdf) > self.max_bytes:
            return
        with self._lock:
            if key in self._entries:
                self._size -= len(self._entries.pop(key))
            self._entries[key] = pdf
            self._size += len(pdf)
            while self._size > self.max_bytes:
                _key, dropped = self._entries.popitem(last=False)
                self._size -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        return self._size
