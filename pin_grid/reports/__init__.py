"""PDF reports (issue 12): the profile of one assessment and the regional report, made with
WeasyPrint from templates/report/, with charts drawn as SVG by matplotlib from the dashboard's
chart data (`pin_grid.charts`).

- profile: what one assessment's report says (plain data for its template);
- regional: what the regional report says;
- svg_charts: chart data → SVG (matplotlib, no browser);
- render: HTML → tagged PDF (PDF/UA-1), the shipped fonts, French typography, the system check,
  the cache of finalised profiles;
- documents: the two documents, from data to PDF bytes.

WeasyPrint and matplotlib are imported on first use only: the app starts without Pango, and the
report routes then answer 503 (`ReportsUnavailable`).
"""
from .documents import TEMPLATE_VERSION, cache, profile_pdf, regional_pdf, regional_pdf_for
from .regional import COLLECTIVE, PARTNER, PERSPECTIVES
from .render import (PAPERS, ReportsUnavailable, check_engine, font_checks, library_checks, missing_libraries,
                     one_page_pdf, tool_checks, unavailable_message)
