"""The formula-injection rule of CSV exports (issue 10.7), read back as a spreadsheet would."""

import csv
import io
from typing import Any

from backend.services.csv_export import csv_lines, safe_cell


def test_text_that_could_start_a_formula_is_prefixed():
    assert safe_cell("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    for start in ("+", "-", "@", "\t", "\r"):
        assert safe_cell(f"{start}SUM(A1:A9)") == f"'{start}SUM(A1:A9)"
    assert safe_cell("Fe20Ni30") == "Fe20Ni30"
    assert safe_cell(None) == ""


def test_numbers_stay_numbers():
    assert safe_cell(-12.5) == -12.5
    assert safe_cell(0) == 0
    assert safe_cell(True) == "true"


def test_lines_quote_and_round_trip():
    rows: list[list[Any]] = [["sample_id", "UTS"], ['=HYPERLINK("x")', -3.5], ["a,b\nc", 7]]
    text = "".join(csv_lines(rows))
    assert list(csv.reader(io.StringIO(text))) == [
        ["sample_id", "UTS"],
        ['\'=HYPERLINK("x")', "-3.5"],
        ["a,b\nc", "7"],
    ]
