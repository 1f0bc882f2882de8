"""CSV that spreadsheets open as data: the cell rule of API.md's export, in one place.

A text cell beginning with `=`, `+`, `-`, `@`, tab or carriage return would run as a formula in
Excel, LibreOffice or Sheets (`=cmd|' /C calc'!A0` as a sample id reaches whoever opens the
file); it gets a leading `'`. Numbers stay numbers, negative ones included.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from numbers import Number
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value to hand to a csv writer: text that could start a formula is prefixed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Number):
        return value
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Each row as one CSV line (RFC 4180 quoting), for streaming an export."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
