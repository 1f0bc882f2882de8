"""Encodings researchers' files come in: each decoded as what it is."""

import pytest

from backend.services.csv_files import CsvError, decode, detect_encoding

EUROPEAN = "ID,Test temperature (°C),Grain size (µm),Lab\nA1,25,12,Müller\nA2,600,8,Café ±2\n"
CHINESE = "编号,屈服强度(MPa),测试温度(°C)\nA1,500,25\nA2,610,600\n"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (EUROPEAN, "cp1252"),
        (CHINESE, "gb18030"),
        (EUROPEAN, "utf-8"),
        (CHINESE, "utf-8"),
    ],
)
def test_each_file_decodes_as_what_it_is(text: str, encoding: str):
    raw = text.encode(encoding)
    assert decode(raw) == text
    assert detect_encoding(raw) == ("utf-8-sig" if encoding == "utf-8" else encoding)


def test_a_single_accented_header_is_not_read_as_chinese():
    raw = "Test temperature (°C)\n25\n".encode("cp1252")
    assert decode(raw) == "Test temperature (°C)\n25\n"


def test_a_named_encoding_wins_and_a_wrong_one_is_explained():
    raw = EUROPEAN.encode("cp1252")
    assert decode(raw, "latin-1").startswith("ID,Test temperature (°C)")
    with pytest.raises(CsvError, match="not utf-8 text"):
        decode(raw, "utf-8")
    with pytest.raises(CsvError, match="encoding must be one of"):
        decode(raw, "ebcdic")
