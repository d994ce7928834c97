"""What every format reader hands back: a document's text and tables in reading order, each
table a grid of rows of cell text; and the errors a document that cannot be read raises."""

import re
from dataclasses import dataclass, field


class TableError(ValueError):
    """A document or table that cannot be read; names the file and where in it."""

    def __init__(self, source: str, line: int, message: str, where: str | None = None):
        self.source, self.line, self.message = source, line, message
        self.where = where or str(line)
        super().__init__(f"{source}:{self.where}: {message}")


@dataclass
class Row:
    """One table row. `merged_above[i]` says cell i is the same (vertically merged) cell as the
    row above's, so a task spanning two rows of units is one task."""

    cells: list[str]
    line: int  # text: the line the row starts on; docx/pdf: the row's number in its table (1-based)
    where: str  # how a message names the row: "12", "表1第3行 table 1 row 3", "第2页 page 2"
    merged_above: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.merged_above:
            self.merged_above = [False] * len(self.cells)

    @property
    def heading(self) -> bool:
        """One cell, or one merged cell across the table ("一、养老服务"): a section heading."""
        return len(set(self.cells)) == 1 and bool(self.cells[0].strip())


@dataclass
class Grid:
    rows: list[Row]
    number: int  # the table's number in its document, 1-based
    where: str  # where the table starts: "line 4", "第3页 page 3", "表1 table 1"


@dataclass
class Source:
    """A document as read: its format, and its text lines and tables in reading order."""

    path: str
    format: str  # "text", "docx", "pdf"
    blocks: list[str | Grid]
    layout: str = ""  # text files: "rows" or "cells"

    @property
    def grids(self) -> list[Grid]:
        return [b for b in self.blocks if isinstance(b, Grid)]


def decode_text(data: bytes, partial: bool = False) -> str | None:
    """The text of a UTF-8 (with or without BOM), UTF-16 (with BOM) or GB18030/GBK file, or None
    when it is not text. `partial`: data is the file's head, so a character cut at its end is
    not a reason to refuse."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None if not partial else data[:-1].decode("utf-16", "ignore")
    if b"\x00" in data:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            if partial and exc.start >= len(data) - 4:
                return data[: exc.start].decode(encoding)
    return None


_CJK_OR_PUNCT = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef“”‘’、（）《》—…]")


def join_lines(lines: list[str]) -> str:
    """Lines of one cell or paragraph, as one text: wrapped Chinese joins with nothing between
    (a PDF breaks 服务体/系 wherever the line ends), Latin words with a space."""
    out = ""
    for line in (ln.strip() for ln in lines):
        if not line:
            continue
        if out and not (_CJK_OR_PUNCT.match(line[0]) or _CJK_OR_PUNCT.match(out[-1])):
            out += " "
        out += line
    return out
