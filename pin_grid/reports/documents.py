"""The two PDF documents: the profile of one assessment and the regional report. Each is its data
(`profile`, `regional`), its template (templates/report/), then WeasyPrint (`render`).

Called by the report views and the `report` command, inside an app context; the language is
forced for the whole document (its texts, dates, numbers and charts).
"""
from __future__ import annotations

import functools
import hashlib

from flask import current_app, render_template
from flask_babel import force_locale, gettext

from .. import services
from ..config import ROOT
from ..grid import GridCatalog
from ..models import Assessment
from . import render
from .profile import ProfileReport, build_profile
from .regional import RegionalReport, build_regional



def _template_version() -> str:
    """The reports' templates and stylesheet as they are: part of every cache key, so that a PDF of
    an older look is never served after they change (no version number to remember to bump)."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "templates" / "report").glob("*")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


TEMPLATE_VERSION = _template_version()
DEFAULT_CACHE_BYTES = 32 * 1024 * 1024
_CACHE = "pin_grid.report_cache"


def cache() -> render.PdfCache:
    """This app's cache of finalised profiles, in the process's memory (one per worker)."""
    found = current_app.extensions.get(_CACHE)
    if found is None:
        found = current_app.extensions[_CACHE] = render.PdfCache(
            current_app.config.get("REPORT_CACHE_BYTES", DEFAULT_CACHE_BYTES))
    return found


@functools.cache
def _svg_charts():
    """The chart drawing module, imported on first use: importing matplotlib takes half a second
    that the app's start-up and the other commands need not pay."""
    from . import svg_charts

    return svg_charts


class DocumentCharts:
    """A template function: each chart of one document drawn as SVG, kept here under an address of
    its own (`chart:1`, `chart:2`…) that `render.write_pdf` serves from `images`."""

    def __init__(self, language: str):
        self.language = language
        self.images: dict[str, bytes] = {}

    def __call__(self, chart) -> str:
        svg = _svg_charts().chart_svg(chart, locale=self.language)  # the full width of the page
        address = f"chart:{len(self.images) + 1}"
        self.images[address] = svg.encode()
        return address


def _typeset(html: str, language: str) -> str:
    return render.french_spacing(html) if language.startswith("fr") else html


def _pdf(template: str, language: str, paper: str, **context) -> bytes:
    charts = DocumentCharts(language)
    html = render_template(template, language=language, paper=paper, chart_src=charts, **context)
    return render.write_pdf(_typeset(html, language), paper=paper, page_label=gettext("page {page} de {pages}"),
                            images=charts.images)


def profile_pdf(assessment: Assessment, grids: GridCatalog, *, language: str, paper: str) -> bytes:
    """The profile of `assessment` in `language` on `paper`; a finalised one may come from the cache."""
    render.check_engine()
    with force_locale(language):
        report = build_profile(assessment, grids, gettext=gettext, locale=language)
        key = None if assessment.is_draft else "|".join(
            ("profile", TEMPLATE_VERSION, report.fingerprint(), language, paper))
        if key is not None and (pdf := cache().get(key)) is not None:
            return pdf
        pdf = _pdf("report/profile.html", language, paper, report=report, **_profile_metadata(report))
    if key is not None:
        cache().put(key, pdf)
    return pdf


def _profile_metadata(report: ProfileReport) -> dict:
    a = report.assessment
    return {
        "title": gettext("Profil PIN — %(territory)s, %(date)s", territory=a.territory.name, date=a.date.isoformat()),
        "author": gettext("Équipe PIN de %(territory)s (Grille PIN)", territory=a.territory.name),
    }


def regional_pdf(report: RegionalReport, *, language: str, paper: str) -> bytes:
    """The regional report (never cached: it is asked for rarely, and its scope is the person's)."""
    render.check_engine()
    with force_locale(language):
        return _pdf("report/regional.html", language, paper, report=report,
                    title=gettext("Rapport régional PIN — %(year)d", year=report.year),
                    author=gettext("Grille PIN"))


def regional_pdf_for(board: services.RegionalDashboard, shown_rows, grids: GridCatalog, *, language: str,
                     paper: str) -> bytes:
    """The regional report of the dashboard `board`, as the signed-in person may see it:
    `shown_rows` is the comparison page's own function (names in their scope, anonymous labels
    elsewhere)."""
    render.check_engine()
    with force_locale(language):
        report = build_regional(
            board, shown_rows(board.current.comparison, None), grids,
            anonymous=lambda label: gettext("Territoire %(label)s", label=label),
            partner_unnamed=lambda name: gettext("%(territory)s, point de vue d'un partenaire", territory=name),
            gettext=gettext, locale=language)
    return regional_pdf(report, language=language, paper=paper)
