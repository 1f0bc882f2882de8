"""Reading the CSV files researchers bring: tolerant of encodings, strict about shape."""

import csv
import io
import re
from pathlib import Path

import pandas as pd

# Excel in a Chinese locale writes GB18030; European ones write cp1252. An upload may name one
# of these (overriding detection).
ENCODINGS = ("utf-8", "gb18030", "cp1252", "latin-1")


class CsvError(ValueError):
    """The bytes are not a usable CSV table; the message says why, for a person."""


def decode(raw: bytes, encoding: str | None = None) -> str:
    """The text of `raw`, in `encoding` if named, else in the one `detect_encoding` finds."""
    if not raw.strip():
        raise CsvError("the file is empty")
    if b"\x00" in raw[:8192]:
        raise CsvError("the file is binary, not a CSV text file")
    if encoding is not None and encoding not in ENCODINGS:
        raise CsvError(f"encoding must be one of {', '.join(ENCODINGS)}")
    chosen = encoding or detect_encoding(raw)
    try:
        return raw.decode(chosen)
    except UnicodeDecodeError as exc:
        raise CsvError(f"the file is not {chosen} text (byte {exc.start})") from None


_HIGH_RUN = re.compile(rb"[\x80-\xff]+")


def detect_encoding(raw: bytes) -> str:
    """UTF-8 if the bytes are UTF-8; else GB18030 or Windows-1252, told apart by shape.

    Both decode almost any bytes, so "which decodes" cannot decide: `°C` (B0 43) is a valid
    GB18030 pair (癈). But Chinese text is runs of two-byte characters (even runs of high
    bytes), while cp1252 text has single accented letters or symbols between ASCII ones (odd
    runs, mostly of one byte). The majority of runs decides.
    """
    try:
        raw.decode("utf-8-sig")
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    runs = _HIGH_RUN.findall(raw[:1_000_000])
    odd = sum(len(r) % 2 for r in runs)
    candidates = ("cp1252", "gb18030") if odd * 2 > len(runs) else ("gb18030", "cp1252")
    for encoding in candidates:
        try:
            raw.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    raise CsvError("the file is not text in UTF-8, GB18030 or Windows-1252")


def parse(raw: bytes, encoding: str | None = None) -> pd.DataFrame:
    return parse_text(decode(raw, encoding))


def parse_text(text: str) -> pd.DataFrame:
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
