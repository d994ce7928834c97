"""Reading the plans' task-division tables (重点任务分工表) into tasks and responsible units.

Two layouts occur in published tables, and both are read without knowing which document
they came from:
- rows: one task a line, "number<TAB>task<TAB>units" (the national table);
- cells: one cell a line, each indented, a blank line between rows (the Hainan table).
Title lines above the header row and a trailing 抄送 line are kept apart from the tasks.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from tracker.domain.model import ResponsibleUnit

HEADER_WORDS = ("序号", "重点任务", "责任单位")

# Role markers at the end of a segment of the 责任单位 cell, most specific first.
ROLE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(?P<names>.+?)牵头负责$"), "lead"),
    (re.compile(r"^(?P<names>.+?)牵头$"), "lead"),
    (re.compile(r"^(?P<names>.+?)(?:共同)?参加$"), "participating"),
    (re.compile(r"^(?P<names>.+?)参与$"), "participating"),
    (re.compile(r"^(?P<names>.+?)按职责分工负责$"), "joint"),
    (re.compile(r"^(?P<names>.+?)按职责负责$"), "joint"),
    (re.compile(r"^(?P<names>.+?)(?:分别)?负责$"), "responsible"),
    (re.compile(r"^(?P<names>.+?)配合$"), "participating"),
]
LOCAL_GOVERNMENT = re.compile(r"(地方各级|各级|各市县|各市、县|各县|各地|各市).*(政府|人民政府)$|^地方政府$")
PARENTHETICAL = re.compile(r"[（(][^（）()]*[）)]")


class TableError(ValueError):
    """A table that cannot be read; names the file and line."""

    def __init__(self, source: str, line: int, message: str):
        super().__init__(f"{source}:{line}: {message}")
        self.source, self.line, self.message = source, line, message


@dataclass
class RawTask:
    number: int
    text: str
    units_text: str
    line: int  # where the task's row starts in the file (1-based)


@dataclass
class TaskTable:
    source: str
    layout: str  # "rows" or "cells"
    title: str
    tasks: list[RawTask]
    preamble: list[str] = field(default_factory=list)  # lines above the header (附件, title)
    trailer: list[str] = field(default_factory=list)  # lines after the table (抄送 …)


def read_table(path: str | Path) -> TaskTable:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = p.read_text(encoding="gb18030")
    return parse_table(text, str(path))


def parse_table(text: str, source: str = "<text>") -> TaskTable:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if any(re.match(r"^\s*\d+\t[^\t]+\t", line) for line in lines):
        table = _parse_rows(lines, source)
    elif any(line.startswith(("\t", " ")) and line.strip() for line in lines):
        table = _parse_cells(lines, source)
    else:
        raise TableError(source, 1, "no task table found: expected rows 'number<TAB>task<TAB>units' "
                         "or one indented cell a line with a blank line between rows")
    if not table.tasks:
        raise TableError(source, len(lines), "the table has a header but no tasks")
    _check_numbers(table)
    return table


def _is_header(cells: list[str]) -> bool:
    return [c.strip() for c in cells[:3]] == list(HEADER_WORDS) or cells[:1] == ["序号"]


def _parse_rows(lines: list[str], source: str) -> TaskTable:
    tasks: list[RawTask] = []
    preamble: list[str] = []
    trailer: list[str] = []
    seen_header = False
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        cells = line.strip().split("\t")
        if _is_header(cells):
            seen_header = True
            continue
        if re.match(r"^\d+$", cells[0].strip()):
            if len(cells) != 3 or not all(c.strip() for c in cells):
                raise TableError(source, i, f"a task row needs 3 tab-separated cells (序号, 重点任务, "
                                 f"责任单位), found {len(cells)}: {line.strip()[:40]!r}")
            tasks.append(RawTask(int(cells[0]), cells[1].strip(), cells[2].strip(), i))
        elif tasks:
            trailer.append(line.strip())
        else:
            preamble.append(line.strip())
    if not seen_header and not tasks:
        raise TableError(source, 1, "no header row (序号, 重点任务, 责任单位) and no task rows")
    return TaskTable(source, "rows", _title(preamble), tasks, preamble, trailer)


def _parse_cells(lines: list[str], source: str) -> TaskTable:
    """Blocks of indented lines separated by blank lines; each block is a row."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    preamble: list[str] = []
    trailer: list[str] = []
    for i, line in enumerate(lines + [""], start=1):
        if line.strip() and line[:1] in ("\t", " "):
            if not current:
                start = i
            current.append(line.strip())
            continue
        if current:
            blocks.append((start, current))
            current = []
        if line.strip():
            (trailer if blocks else preamble).append(line.strip())
    tasks: list[RawTask] = []
    for start, cells in blocks:
        if _is_header(cells):
            continue
        if not re.fullmatch(r"\d+", cells[0]):
            raise TableError(source, start, f"a row should start with its task number (序号), found "
                             f"{cells[0][:30]!r}")
        if len(cells) != 3:
            raise TableError(source, start, f"task {cells[0]}: a row needs 3 cells (序号, 重点任务, 责任单位) "
                             f"one a line, found {len(cells)}")
        tasks.append(RawTask(int(cells[0]), cells[1], cells[2], start))
    return TaskTable(source, "cells", _title(preamble), tasks, preamble, trailer)


def _title(preamble: list[str]) -> str:
    candidates = [p for p in preamble if p not in ("附件",) and not re.fullmatch(r"附件\s*\d*", p)]
    return candidates[-1] if candidates else ""


def _check_numbers(table: TaskTable) -> None:
    seen: dict[int, int] = {}
    for t in table.tasks:
        if t.number in seen:
            raise TableError(table.source, t.line, f"task number {t.number} appears twice "
                             f"(first at line {seen[t.number]})")
        seen[t.number] = t.line


def split_units(units_text: str) -> tuple[ResponsibleUnit, ...]:
    """'省民政厅牵头，省财政厅、省卫生健康委按职责分工负责，各市县政府负责' -> units with roles.

    Parenthetical remarks ('含洋浦经济开发区，不含三沙市，下同') qualify a name and are
    dropped from it; the full cell is kept on the task, so nothing is lost.
    """
    body = units_text.strip()
    while PARENTHETICAL.search(body):
        body = PARENTHETICAL.sub("", body)
    units: list[ResponsibleUnit] = []
    for segment in re.split(r"[，,；;。]", body):
        segment = segment.strip()
        if not segment:
            continue
        role, names = "joint", segment
        for pattern, pattern_role in ROLE_PATTERNS:
            m = pattern.match(segment)
            if m:
                role, names = pattern_role, m.group("names")
                break
        for name in re.split(r"[、/]", names):
            name = name.strip()
            if not name:
                continue
            if LOCAL_GOVERNMENT.search(name):
                unit_role = "local"
            elif role == "responsible":  # "X负责" alone: X answers for it
                unit_role = "lead"
            else:
                unit_role = role
            units.append(ResponsibleUnit(name, unit_role))  # type: ignore[arg-type]
    return tuple(units)
