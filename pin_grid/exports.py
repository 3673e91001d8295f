"""The files people take to Excel or to their scripts: CSV in two dialects, and XLSX written as a
stream. Pure writers: a table's columns and rows in, bytes out; no Flask, no database.

Rows are read once, as they come (a generator is fine), and never kept: memory does not grow
with the number of rows, be it 24 or 24,000.

- CSV for Québec Excel: UTF-8 with a BOM (or Excel reads it as Windows-1252), « ; » between
  fields, decimal comma; a text typed by people that begins like a formula (= + - @) gets an
  apostrophe first, so that Excel shows it instead of running it; the product's symbols
  (« = », « -- ») are written as text constants (="--"), which Excel shows as they are.
- CSV RFC 4180, for scripts: « , » and a decimal point, no BOM, values as they are.
- XLSX (XlsxWriter in `constant_memory` mode: each row goes to disk as soon as it is written):
  numbers as numbers, dates as dates, texts always as texts (never read as formulas), the
  header row frozen, filters on, column widths fitted to what the column holds.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO

from .text import one_decimal

# What a column holds: how each writer writes it.
TEXT = "text"  # typed by people (names, comments): guarded against formulas in Excel's CSV
CODE = "code"  # a value of the product's own vocabulary (ids, level codes, symbols)
INTEGER = "integer"
NUMBER = "number"  # a score: one decimal in CSV, the whole value in XLSX (shown with one)
DATE = "date"
DATETIME = "datetime"
BOOLEAN = "boolean"
ANY = "any"  # each value by its Python type (the « about » sheet)

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MAX_WIDTH = 60  # characters: a long comment keeps its column readable
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_ROWS_PER_CHUNK = 500


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT


@dataclass
class Sheet:
    """A table: its title (the sheet's name), its columns, and its rows (read once)."""

    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence]


@dataclass(frozen=True)
class Dialect:
    name: str
    delimiter: str
    decimal: str
    bom: bool
    yes: str
    no: str
    guard_formulas: bool


RFC4180 = Dialect("rfc4180", delimiter=",", decimal=".", bom=False, yes="true", no="false", guard_formulas=False)


def quebec_excel(yes: str = "oui", no: str = "non") -> Dialect:
    """The dialect Excel set for Québec (French) opens with a double click; `yes`/`no` in the
    person's language."""
    return Dialect("excel", delimiter=";", decimal=",", bom=True, yes=yes, no=no, guard_formulas=True)


# --- CSV -------------------------------------------------------------------------------------

def _csv_formatter(kind: str, dialect: Dialect) -> Callable[[object], str]:
    def text(value) -> str:
        value = str(value)
        return "'" + value if dialect.guard_formulas and value.startswith(_FORMULA_START) else value

    def code(value) -> str:
        # A symbol (« = », « -- », « ++ ») would be read by Excel as a formula and shown as an
        # error: written as the formula of a text constant, Excel shows the symbol itself.
        value = str(value)
        return f'="{value}"' if dialect.guard_formulas and value.startswith(_FORMULA_START) else value

    def number(value) -> str:
        return one_decimal(value, "en").replace(".", dialect.decimal)

    def boolean(value) -> str:
        return dialect.yes if value else dialect.no

    def any_value(value) -> str:
        if isinstance(value, bool):
            return boolean(value)
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return number(value)
        if isinstance(value, dt.datetime):
            return value.strftime("%Y-%m-%d %H:%M")
        if isinstance(value, dt.date):
            return value.isoformat()
        return text(value)

    return {
        TEXT: text,
        CODE: code,
        INTEGER: str,
        NUMBER: number,
        DATE: lambda value: value.isoformat(),
        DATETIME: lambda value: value.strftime("%Y-%m-%d %H:%M"),
        BOOLEAN: boolean,
        ANY: any_value,
    }[kind]


def csv_chunks(sheet: Sheet, dialect: Dialect) -> Iterator[bytes]:
    """The CSV file of `sheet`, a few hundred rows at a time (for a streamed answer)."""
    formatters = [_csv_formatter(column.kind, dialect) for column in sheet.columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=dialect.delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    if dialect.bom:
        buffer.write("\ufeff")
    writer.writerow([column.header for column in sheet.columns])
    pending = 0
    for row in sheet.rows:
        writer.writerow(["" if value is None else format_(value) for format_, value in zip(formatters, row)])
        pending += 1
        if pending == _ROWS_PER_CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")


def write_csv(target: IO[bytes], sheet: Sheet, dialect: Dialect) -> int:
    """Write the CSV of `sheet` to a binary file; return the number of rows written."""
    counted = _Counted(sheet.rows)
    for chunk in csv_chunks(Sheet(sheet.title, sheet.columns, counted), dialect):
        target.write(chunk)
    return counted.count


class _Counted:
    """The rows of a sheet, counted as they are read."""

    def __init__(self, rows: Iterable[Sequence]):
        self.rows, self.count = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.count += 1
            yield row


# --- XLSX ------------------------------------------------------------------------------------

def sheet_title(title: str) -> str:
    """A title Excel accepts as a sheet's name: 31 characters at most, none of []:*?/\\."""
    return _SHEET_TITLE_FORBIDDEN.sub("-", title)[:31] or "-"


class _Formats:
    def __init__(self, workbook):
        self.header = workbook.add_format({"bold": True, "bg_color": "#E8EEF4", "bottom": 1})
        self.number = workbook.add_format({"num_format": "0.0"})
        self.date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})


def _date_width(_value) -> int:
    return 10


def _xlsx_writer(kind: str, worksheet, formats: _Formats) -> tuple[Callable, Callable[[object], int]]:
    """How a column's cells are written, and how wide each one is."""
    def any_value(row, col, value):
        if isinstance(value, bool):
            worksheet.write_boolean(row, col, value)
        elif isinstance(value, (int, float)):
            worksheet.write_number(row, col, value, formats.number if isinstance(value, float) else None)
        elif isinstance(value, dt.datetime):
            worksheet.write_datetime(row, col, value, formats.datetime)
        elif isinstance(value, dt.date):
            worksheet.write_datetime(row, col, value, formats.date)
        else:
            worksheet.write_string(row, col, str(value))

    def any_width(value) -> int:
        if isinstance(value, dt.datetime):
            return 16
        return 10 if isinstance(value, dt.date) else len(str(value))

    return {
        TEXT: (worksheet.write_string, len),
        CODE: (worksheet.write_string, len),
        INTEGER: (worksheet.write_number, lambda value: len(str(value))),
        NUMBER: (lambda row, col, value: worksheet.write_number(row, col, value, formats.number), lambda value: 6),
        DATE: (lambda row, col, value: worksheet.write_datetime(row, col, value, formats.date), _date_width),
        DATETIME: (lambda row, col, value: worksheet.write_datetime(row, col, value, formats.datetime),
                   lambda value: 16),
        BOOLEAN: (worksheet.write_boolean, lambda value: 5),
        ANY: (any_value, any_width),
    }[kind]


def _write_sheet(workbook, formats: _Formats, sheet: Sheet) -> int:
    worksheet = workbook.add_worksheet(sheet_title(sheet.title))
    columns = list(sheet.columns)
    writers = [_xlsx_writer(column.kind, worksheet, formats) for column in columns]
    widths = [len(column.header) for column in columns]
    for col, column in enumerate(columns):
        worksheet.write_string(0, col, column.header, formats.header)
    row_number = 0
    for row_number, row in enumerate(sheet.rows, start=1):
        for col, value in enumerate(row):
            # Empty cells are not written: nothing to store, nothing to filter on.
            if value is None or value == "":
                continue
            write, width = writers[col]
            write(row_number, col, value)
            size = width(value)
            if size > widths[col]:
                widths[col] = size
    for col, size in enumerate(widths):
        worksheet.set_column(col, col, min(size, _MAX_WIDTH) + 2)
    worksheet.freeze_panes(1, 0)
    worksheet.autofilter(0, 0, row_number, max(len(columns) - 1, 0))
    return row_number


def write_xlsx(target: str | IO[bytes], sheets: Sequence[Sheet],
               about: Callable[[dict[str, int]], Sheet] | None = None) -> dict[str, int]:
    """Write the workbook: one sheet per table, then the sheet `about(rows written per sheet
    title)` returns. Return the rows written per sheet title."""
    import xlsxwriter  # here: the workbook writer is needed by exports only, not by every worker's start

    workbook = xlsxwriter.Workbook(target, {
        "constant_memory": True,  # each row is flushed to a temporary file once written
        # Texts stay texts: a comment « =HYPERLINK(…) » or « 2025-01-01 » is never turned into a formula or a link.
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    })
    formats = _Formats(workbook)
    counts = {}
    try:
        for sheet in sheets:
            counts[sheet.title] = _write_sheet(workbook, formats, sheet)
        if about is not None:
            _write_sheet(workbook, formats, about(counts))
    finally:
        workbook.close()
    return counts
