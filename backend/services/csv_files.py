"""Reading the CSV files researchers bring: tolerant of encodings, strict about shape."""

import csv
import io
from pathlib import Path

import pandas as pd

# Excel in a Chinese locale writes GB18030; European ones write cp1252.
ENCODINGS = ("utf-8-sig", "gb18030", "cp1252")


class CsvError(ValueError):
    """The bytes are not a usable CSV table; the message says why, for a person."""


def decode(raw: bytes) -> str:
    if not raw.strip():
        raise CsvError("the file is empty")
    if b"\x00" in raw[:8192]:
        raise CsvError("the file is binary, not a CSV text file")
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CsvError("the file is not text in UTF-8, GB18030 or Windows-1252")


def parse(raw: bytes) -> pd.DataFrame:
    text = decode(raw)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=_delimiter(text), skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise CsvError(f"not a readable CSV: {str(exc).splitlines()[0][:200]}") from exc
    _check_header(frame)
    if frame.empty:
        raise CsvError("the file has a header but no data rows")
    return frame


def _delimiter(text: str) -> str:
    try:
        return csv.Sniffer().sniff(text[:4096].splitlines()[0], delimiters=",;\t|").delimiter
    except (csv.Error, IndexError):
        return ","


def _check_header(frame: pd.DataFrame) -> None:
    names = [str(c) for c in frame.columns]
    if any(n.startswith("Unnamed:") or not n.strip() for n in names):
        raise CsvError("the header has an empty column name (is the first line a header?)")
    # pandas renames a repeated "x" to "x.1"; a header must name each column once.
    stems = [n.rsplit(".", 1)[0] for n in names if "." in n and n.rsplit(".", 1)[1].isdigit()]
    duplicated = sorted({s for s in stems if s in names})
    if duplicated:
        raise CsvError(f"the header repeats column names: {duplicated}")
    try:
        float(names[0])
    except ValueError:
        return
    raise CsvError("the first line looks like data, not a header of column names")


def read(path: Path) -> pd.DataFrame:
    return parse(path.read_bytes())


def column_types(frame: pd.DataFrame) -> dict[str, str]:
    return {
        str(c): "numeric" if pd.api.types.is_numeric_dtype(frame[c]) else "text"
        for c in frame.columns
    }
