"""Reading files as sheets of rows, streamed: CSV in the encodings of Chinese Excel (UTF-8,
BOM, GBK/GB18030) and .xlsx, with cells read as the official sees them."""

import codecs
import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class FileRefused(ValueError):
    """The file as a whole cannot be read (not CSV/Excel, empty, unknown encoding)."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en
        super().__init__(en)


def sniff_encoding(sample: bytes) -> str:
    """The encoding of CSV bytes from Chinese Excel and others: a BOM decides; valid UTF-8
    is UTF-8; otherwise charset-normalizer among the Chinese encodings, GB18030 (a superset
    of GBK and GB2312) by default."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=["gb18030", "big5", "utf_8"]).best()
    if best is None or best.encoding in ("gb2312", "gbk", "gb18030", "hz"):
        return "gb18030"
    return best.encoding


Sheet = tuple[str, Iterator[tuple[int, list[Any]]]]


def read_sheets(path: Path) -> Iterator[Sheet]:
    """(sheet name, rows) of a CSV or .xlsx file; each row is (row number, cell values).
    Rows are produced as they are read, never all held at once."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise FileRefused(f"文件不存在：{path}", f"no such file: {path}")
    if path.stat().st_size == 0:
        raise FileRefused("文件是空的", "the file is empty")
    if suffix in (".xlsx", ".xlsm"):
        yield from _xlsx_sheets(path)
    elif suffix in (".csv", ".txt", ".tsv"):
        yield path.name, _csv_rows(path)
    elif suffix == ".xls":
        raise FileRefused("不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV",
                          "old Excel .xls files are not read; save it as .xlsx or CSV")
    else:
        raise FileRefused(f"不是 CSV 或 Excel 文件（{suffix or '无扩展名'}）",
                          f"not a CSV or Excel file ({suffix or 'no extension'}); accepted: .csv, .xlsx")


def _text_sample(path: Path, size: int = 65536) -> tuple[bytes, bytes]:
    """(the file's first bytes, the bytes around its first non-ASCII character): a GBK file
    whose first 64 KB are digits and codes is still recognised by its Chinese further on."""
    with path.open("rb") as raw:
        head = raw.read(size)
        if not head.isascii():
            return head, head
        while chunk := raw.read(1 << 20):
            if not chunk.isascii():
                start = re.search(rb"[\x80-\xff]", chunk).start()  # type: ignore[union-attr]
                return head, chunk[start:start + size]
    return head, head


def _csv_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    sample, telling = _text_sample(path)
    encoding = sniff_encoding(telling)
    if b"\x00" in sample and encoding != "utf-16":
        raise FileRefused("不是文本 CSV 文件（含二进制内容）", "not a text CSV file (binary content)")
    first = sample.decode(encoding, errors="ignore").lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count) if any(d in first for d in ",\t;") else ","
    with path.open("r", encoding=encoding, newline="") as fh:
        try:
            for n, row in enumerate(csv.reader(fh, delimiter=delimiter), start=1):
                yield n, row
        except UnicodeDecodeError as exc:
            raise FileRefused(f"文件编码无法识别（按 {encoding} 读取失败）：{exc}",
                              f"cannot decode the file as {encoding}: {exc}") from exc


def _xlsx_sheets(path: Path) -> Iterator[Sheet]:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise FileRefused("不是有效的 Excel（.xlsx）文件", f"not a valid Excel .xlsx file ({exc})") from exc
    try:
        for ws in wb.worksheets:
            if ws.title in INSTRUCTION_SHEETS:
                continue
            yield ws.title, ((n, [_cell_value(c) for c in row]) for n, row in enumerate(ws.iter_rows(), start=1))
    finally:
        wb.close()


INSTRUCTION_SHEETS = ("说明", "填报说明", "instructions")


def _cell_value(cell: Any) -> Any:
    """A cell as the official sees it: one formatted as a percentage (Excel shows 62%, stores
    0.62) reads as the text '62%', so it is not stored as 0.62%."""
    value = cell.value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and "%" in (getattr(cell, "number_format", "") or ""):
        return f"{value * 100:.10g}%"
    return value


# A spreadsheet reads a text cell beginning with one of these as a formula (=HYPERLINK(…),
# -2+3+cmd|…, @SUM): an exported note or name is written with an apostrophe before it.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def guard(text: str) -> str:
    """A text cell made safe against formula injection in a spreadsheet: "'=1+1" for "=1+1".
    A cell that is just a number (-5) cannot be a formula and stays as it is."""
    if text and text.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def unguard(text: str) -> str:
    """The text `guard` was given: an export read back imports the note as it was stored."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text
