"""The export writers (pin_grid/exports.py), without app or database: each file read back as
Excel or a script would read it."""
from __future__ import annotations

import csv
import datetime as dt
import io
import tracemalloc

import openpyxl
import pytest

from pin_grid import exports
from pin_grid.exports import Column, Sheet

COLUMNS = [
    Column("Territoire", exports.TEXT),
    Column("Énoncé", exports.CODE),
    Column("Score", exports.NUMBER),
    Column("Répondus", exports.INTEGER),
    Column("Date", exports.DATE),
    Column("Priorité", exports.BOOLEAN),
]
ROWS = [
    ["Montréal-Nord", "ECO-1", 62.5, 4, dt.date(2025, 3, 14), True],
    ["=HYPERLINK(\"https://evil.example\")", "--", 66.66666666666667, 3, None, False],
    ["Virgule, point-virgule ; « guillemets \" » et\nune deuxième ligne", "+", None, 0, dt.date(2024, 1, 2), None],
]


def sheet(rows=ROWS, title="Résultats"):
    return Sheet(title, COLUMNS, iter(rows))


def read_csv(data: bytes, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=delimiter))


def test_the_csv_for_quebec_excel_has_a_bom_semicolons_and_decimal_commas():
    data = b"".join(exports.csv_chunks(sheet(), exports.quebec_excel("oui", "non")))
    assert data.startswith("\ufeff".encode()) and data.count("\ufeff".encode()) == 1
    header, first, second, third = read_csv(data.removeprefix("\ufeff".encode()), ";")
    assert header == ["Territoire", "Énoncé", "Score", "Répondus", "Date", "Priorité"]
    assert first == ["Montréal-Nord", "ECO-1", "62,5", "4", "2025-03-14", "oui"]
    # A text that Excel would run as a formula starts with an apostrophe; the product's own
    # symbols (« -- », « + ») are text constants (="--"), which Excel shows as the symbol itself
    # instead of an error; one decimal, as on screen.
    assert second == ["'=HYPERLINK(\"https://evil.example\")", '="--"', "66,7", "3", "", "non"]
    assert third == [ROWS[2][0], '="+"', "", "0", "2024-01-02", ""]
    assert b"\r\n" in data  # one row per CRLF line (RFC 4180), quoted fields keep their own line break


def test_the_rfc4180_csv_has_commas_decimal_points_no_bom_and_values_as_they_are():
    data = b"".join(exports.csv_chunks(sheet(), exports.RFC4180))
    assert not data.startswith("\ufeff".encode())
    header, first, second, third = read_csv(data, ",")
    assert header[0] == "Territoire"
    assert first == ["Montréal-Nord", "ECO-1", "62.5", "4", "2025-03-14", "true"]
    assert second == ["=HYPERLINK(\"https://evil.example\")", "--", "66.7", "3", "", "false"]
    assert third[0].endswith("et\nune deuxième ligne")


def test_the_csv_is_written_as_the_rows_come():
    """A streamed answer: the first chunk goes out before every row has been read."""
    read = []

    def rows():
        for n in range(5000):
            read.append(n)
            yield ["Territoire", "ECO-1", 50.0, n, dt.date(2025, 1, 1), False]

    chunks = exports.csv_chunks(Sheet("Réponses", COLUMNS, rows()), exports.RFC4180)
    first = next(chunks)
    assert first.startswith(b"Territoire,") and len(read) < 1000
    rest = b"".join(chunks)
    assert len(read) == 5000 and len(read_csv(first + rest, ",")) == 5001


def test_write_csv_counts_the_rows():
    target = io.BytesIO()
    assert exports.write_csv(target, sheet(), exports.RFC4180) == 3
    assert len(read_csv(target.getvalue(), ",")) == 4


def about(counts):
    return Sheet("À propos", [Column("Élément"), Column("Valeur", exports.ANY)], [
        ("Export", "Résultats"), ("Exporté le", dt.datetime(2025, 3, 14, 19, 30)), ("Lignes", counts["Résultats"]),
        ("Filtre", "=1+1"),
    ])


@pytest.fixture(scope="module")
def workbook():
    target = io.BytesIO()
    counts = exports.write_xlsx(target, [sheet()], about=about)
    assert counts == {"Résultats": 3}
    target.seek(0)
    return openpyxl.load_workbook(target)


def test_the_xlsx_has_one_sheet_per_table_then_the_about_sheet(workbook):
    assert workbook.sheetnames == ["Résultats", "À propos"]
    rows = list(workbook["À propos"].iter_rows(values_only=True))
    assert rows == [("Élément", "Valeur"), ("Export", "Résultats"), ("Exporté le", dt.datetime(2025, 3, 14, 19, 30)),
                    ("Lignes", 3), ("Filtre", "=1+1")]
    assert workbook["À propos"]["B3"].number_format == "yyyy-mm-dd hh:mm"


def test_the_xlsx_keeps_numbers_dates_booleans_and_texts_as_such(workbook):
    ws = workbook["Résultats"]
    assert [c.value for c in ws[1]] == [c.header for c in COLUMNS]
    name, item, score, answered, date, priority = ws[2]
    assert (name.value, item.value, score.value, answered.value) == ("Montréal-Nord", "ECO-1", 62.5, 4)
    assert score.data_type == "n" and score.number_format == "0.0" and answered.data_type == "n"
    assert date.is_date and date.value == dt.datetime(2025, 3, 14) and date.number_format == "yyyy-mm-dd"
    assert priority.value is True
    formula, symbol, whole = ws["A3"], ws["B3"], ws["C3"]
    assert formula.data_type == "s" and formula.value == "=HYPERLINK(\"https://evil.example\")"  # never a formula
    assert symbol.value == "--"
    assert whole.value == pytest.approx(66.66666666666667)  # the whole value, shown with one decimal
    assert ws["C4"].value is None and ws["F4"].value is None  # empty stays empty
    assert ws["A4"].value.endswith("et\nune deuxième ligne")


def test_the_xlsx_header_is_frozen_filtered_and_columns_fit(workbook):
    ws = workbook["Résultats"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:F4"
    widths = {key: dim.width for key, dim in ws.column_dimensions.items()}
    assert widths["A"] > widths["B"]  # the long text's column is wider than the codes'
    assert widths["A"] <= 63  # but a long text does not make it endless
    assert widths["B"] >= len("Énoncé")  # and a header is never cut


def test_sheet_titles_are_ones_excel_accepts():
    assert exports.sheet_title("Comparaison 2025 [région : Montréal/Laval]?") == "Comparaison 2025 -région - Mont"
    assert len(exports.sheet_title("x" * 40)) == 31


def _peak_writing(rows: int) -> int:
    def many():
        for n in range(rows):
            yield [f"Territoire {n}", "ECO-1", 50.0, n, dt.date(2025, 1, 1), True]

    tracemalloc.start()
    try:
        exports.write_xlsx(io.BytesIO(), [Sheet("Réponses", COLUMNS, many())])
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_xlsx_memory_does_not_grow_with_the_rows():
    """Rows go to a temporary file as they are written: ten times the rows, not twice the
    memory (kept in memory, the cells would take ten times as much)."""
    few, many = _peak_writing(500), _peak_writing(5000)
    assert many < 2 * few, (few, many)
