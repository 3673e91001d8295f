"""`exchange.dumps_rows`: indented JSON with one row per line."""
import json

from pin_grid.exchange import dumps_rows


def test_rows_one_per_line_and_the_document_unchanged():
    document = {"year": 2024, "reference": "cohort", "rows": [{"a": "é", "b": [1, 2]}, {"a": None}]}
    text = dumps_rows(document)
    assert json.loads(text) == document
    assert text.splitlines()[4:6] == ['    {"a": "é", "b": [1, 2]},', '    {"a": null}']


def test_no_rows_is_still_valid_json():
    assert json.loads(dumps_rows({"year": 2024, "rows": []})) == {"year": 2024, "rows": []}
