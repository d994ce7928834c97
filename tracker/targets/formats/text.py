"""The two layouts task tables are published in as text.

- rows: one row a line, cells separated by tabs ("number<TAB>task<TAB>units", the national table);
- cells: one cell a line, each indented, a blank line between rows (the Hainan table).
Lines that are neither (titles, 附件, 抄送) are the document's text around the table.
"""

import re
from pathlib import Path

from tracker.targets.formats.grid import Grid, Row, Source, TableError, decode_text

ROW_LINE = re.compile(r"^\s*\d+\t[^\t]+\t")
HEADER_LINE = re.compile(r"^\s*(?:序号|指标|类别)\t")


def read_text(path: str | Path) -> Source:
    data = Path(path).read_bytes()
    text = decode_text(data)
    if text is None:
        raise TableError(str(path), 0, "文件不是 UTF-8 或 GBK 文本 / the file is not UTF-8 or GBK text", where="0")
    return parse_text(text, str(path))


def parse_text(text: str, source: str = "<text>") -> Source:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if any(ROW_LINE.match(line) or HEADER_LINE.match(line) for line in lines):
        return Source(source, "text", _rows(lines), "rows")
    if any(line.startswith(("\t", " ")) and line.strip() for line in lines):
        return Source(source, "text", _cells(lines), "cells")
    raise TableError(source, 1, "没有找到表格：需要每行“序号<TAB>任务<TAB>责任单位”，或每个单元格缩进一行、行间空一行 / "
                     "no task table found: expected rows 'number<TAB>task<TAB>units' "
                     "or one indented cell a line with a blank line between rows")


def _rows(lines: list[str]) -> list[str | Grid]:
    blocks: list[str | Grid] = []
    grid: Grid | None = None
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if "\t" in line.strip():
            if grid is None:
                grid = Grid([], len([b for b in blocks if isinstance(b, Grid)]) + 1, f"line {i}")
                blocks.append(grid)
            grid.rows.append(Row([c.strip() for c in line.strip().split("\t")], i, str(i)))
            continue
        if grid is not None and _next_is_data_row(lines, i):
            grid.rows.append(Row([line.strip()], i, str(i)))  # a section heading inside the table
            continue
        grid = None
        blocks.append(line.strip())
    return blocks


def _next_is_data_row(lines: list[str], i: int) -> bool:
    """Whether the next non-blank line after line i (1-based) is a table row that is not a
    header: a lone line between rows is then a heading inside the table, not text after it."""
    for line in lines[i:]:
        if line.strip():
            return "\t" in line.strip() and not HEADER_LINE.match(line)
    return False


def _cells(lines: list[str]) -> list[str | Grid]:
    """Blocks of indented lines separated by blank lines; each block is a row."""
    blocks: list[str | Grid] = []
    grid: Grid | None = None
    current: list[str] = []
    start = 0
    for i, line in enumerate(lines + [""], start=1):
        if line.strip() and line[:1] in ("\t", " "):
            if not current:
                start = i
            current.append(line.strip())
            continue
        if current:
            if grid is None:
                grid = Grid([], len([b for b in blocks if isinstance(b, Grid)]) + 1, f"line {start}")
                blocks.append(grid)
            grid.rows.append(Row(current, start, str(start)))
            current = []
        if line.strip():
            grid = None
            blocks.append(line.strip())
    return blocks
