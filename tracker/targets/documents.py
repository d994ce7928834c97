"""Reading plan documents into their tables: task-division tables (重点任务分工表) and
main-indicator tables (主要指标), with the text around them.

The file's format is recognised and read by `formats` (text, .docx, PDF), which hands back
grids of cell text; here a grid's header row decides what it is, the same way for every
format:
- a task table has a task column (重点任务, 主要任务 …) and a units column (责任单位, 牵头单位 …),
  usually a 序号 column, sometimes 配合单位 and 完成时限 columns;
- a main-indicator table has an indicator column (指标, 指标名称 …) and value columns headed by
  a year or by 基期值/目标值 (2020年基期值, 2025年目标值, 2022年 …), often 单位 and 属性
  (预期性/约束性) columns and a 类别 column or section rows (一、养老服务).
A header row repeated inside the table is dropped; a row of one merged cell is a section
heading. The two text layouts keep their own messages:
- rows: one task a line, "number<TAB>task<TAB>units" (the national table);
- cells: one cell a line, each indented, a blank line between rows (the Hainan table).
Title lines above the header row and a trailing 抄送 line are kept apart from the tasks.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from tracker.domain.model import ResponsibleUnit
from tracker.targets.formats import read_source
from tracker.targets.formats.grid import Grid, Row, Source, TableError
from tracker.targets.formats.text import parse_text

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
ROLE_WORDS = re.compile(r"(牵头|参加|参与|负责|配合)[。；;，,]?$")

# What a header cell names, by the words in it; checked in order, so 指标属性 is an attribute
# before it is an indicator, and 责任单位 is who answers before it is a unit of measure.
TASK_COLUMNS: list[tuple[str, tuple[str, ...]]] = [
    ("number", ("序号", "编号")),
    ("participating", ("配合单位", "参与单位", "协同单位", "配合部门", "参加单位")),
    ("units", ("责任单位", "责任部门", "牵头单位", "牵头部门", "责任主体", "实施主体")),
    ("due", ("完成时限", "完成时间", "时间节点", "时限要求", "时限", "进度安排")),
    ("task", ("任务", "重点工作", "工作内容", "工作措施", "主要举措", "具体举措")),
]
VALUE_HEADING = re.compile(r"基期|现状|基数|基准|目标|(?:19|20)\d{2}\s*年|^(?:19|20)\d{2}$")
INDICATOR_COLUMNS: list[tuple[str, tuple[str, ...]]] = [
    ("number", ("序号", "编号")),
    ("note", ("备注", "说明", "数据来源")),
    ("attribute", ("属性", "性质")),
    ("units", ("责任单位", "责任部门", "牵头单位", "牵头部门")),
    ("unit", ("单位",)),
    ("category", ("类别", "领域", "分类", "一级指标")),
    ("indicator", ("指标",)),
]
EXPECTED_LAYOUTS = ("任务分工表需要“序号、重点任务、责任单位”列，主要指标表需要“指标”列和“基期值/目标值”（或年份）列 / "
                    "a task table needs 序号, 重点任务 and 责任单位 columns; a main-indicator table needs an 指标 column "
                    "and 基期值/目标值 (or year) columns")


@dataclass
class RawTask:
    number: int
    text: str
    units_text: str
    line: int  # where the task's row starts in the file (1-based; docx/pdf: its row in the table)
    due: str = ""  # the 完成时限 cell as written, when the table has one
    where: str = ""


@dataclass
class TaskTable:
    source: str
    layout: str  # "rows" or "cells" (text), "docx" or "pdf"
    title: str
    tasks: list[RawTask]
    preamble: list[str] = field(default_factory=list)  # lines above the header (附件, title)
    trailer: list[str] = field(default_factory=list)  # lines after the table (抄送 …)
    headings: list[str] = field(default_factory=list)  # section rows inside the table (一、…)


@dataclass
class RawIndicator:
    """One row of a main-indicator table, cells as written; extract.py reads their meaning."""

    number: int
    name: str  # the 指标 cell
    values: list[tuple[str, str]]  # (column heading, cell) for every year/基期值/目标值 column
    unit: str = ""  # the 单位 cell
    attribute: str = ""  # the 属性 cell: 预期性 / 约束性
    category: str = ""  # the 类别 cell, or the section heading row above it
    units_text: str = ""  # a 责任单位 cell, when the table has one
    note: str = ""
    line: int = 0
    where: str = ""


@dataclass
class IndicatorTable:
    source: str
    layout: str
    title: str
    rows: list[RawIndicator]
    preamble: list[str] = field(default_factory=list)
    trailer: list[str] = field(default_factory=list)


@dataclass
class Document:
    """What a plan document holds: its tables, and the text around them in reading order
    (where its title, issuer, annex heading and period are written)."""

    source: str
    format: str  # "text", "docx", "pdf"
    tables: list[TaskTable | IndicatorTable]
    text: list[str]
    skipped: list[str] = field(default_factory=list)  # tables matching no layout, beside ones that did

    @property
    def task_tables(self) -> list[TaskTable]:
        return [t for t in self.tables if isinstance(t, TaskTable)]

    @property
    def indicator_tables(self) -> list[IndicatorTable]:
        return [t for t in self.tables if isinstance(t, IndicatorTable)]


def read_document(path: str | Path) -> Document:
    """Every task and main-indicator table of a document (text, .docx or PDF), or a TableError
    saying what was found and what to do."""
    return parse_document(read_source(path))


def read_table(path: str | Path) -> TaskTable:
    """The document's first task table."""
    return _first_task_table(read_document(path))


def parse_table(text: str, source: str = "<text>") -> TaskTable:
    """The first task table of a text document."""
    return _first_task_table(parse_document(parse_text(text, source)))


def _first_task_table(document: Document) -> TaskTable:
    if not document.task_tables:
        found = "、".join(f"主要指标表（{len(t.rows)} 项指标）" for t in document.indicator_tables)
        raise TableError(document.source, 1, f"没有任务分工表，只有{found} / no task table, only main-indicator "
                         "table(s); read it with read_document")
    return document.task_tables[0]


def parse_document(source: Source) -> Document:
    layout = source.layout or source.format
    grids = source.grids
    if not grids:
        raise _no_table(source)
    tables: list[TaskTable | IndicatorTable] = []
    text: list[str] = []
    skipped: list[str] = []
    pending: list[str] = []  # text since the previous table
    unmatched: list[tuple[Grid, list[str]]] = []
    for block in source.blocks:
        if isinstance(block, str):
            text.append(block)
            pending.append(block)
            continue
        table = _table(block, source.path, layout, pending)
        if table is None:
            unmatched.append((block, _first_cells(block)))
            continue
        tables.append(table)
        pending = []
    if not tables:
        grid, cells = unmatched[0]
        raise TableError(source.path, grid.rows[0].line, f"表格的列（{' | '.join(cells)}）不符合任何已知版式：{EXPECTED_LAYOUTS.split(' / ')[0]} / "
                         f"the table's columns ({' | '.join(cells)}) match no layout: {EXPECTED_LAYOUTS.split(' / ')[1]}",
                         where=grid.rows[0].where)
    for grid, cells in unmatched:
        skipped.append(f"{grid.where}: 列 columns {' | '.join(cells)}")
    tables[-1].trailer = pending
    for table in tables:
        if isinstance(table, TaskTable):
            _check_numbers(table)
    return Document(source.path, source.format, tables, text, skipped)


def _no_table(source: Source) -> TableError:
    paragraphs = len(source.blocks)
    if source.format == "docx":
        zh = f"Word 文档里没有表格（只有 {paragraphs} 段文字）：任务分工表或主要指标表可能是图片，或在另一个附件里"
        en = f"the Word document has no table (only {paragraphs} paragraph(s) of text): the task or main-indicator " \
             "table may be a picture, or in another attachment"
    elif source.format == "pdf":
        zh = f"PDF 里没有找到带框线的表格（只有 {paragraphs} 行文字）：请取得文件的 .docx 版本"
        en = f"no ruled table found in the PDF (only {paragraphs} line(s) of text); get the document's .docx version"
    else:
        zh, en = "没有找到表格", "no task table found"
    return TableError(source.path, 0, f"{zh} / {en}", where="0")


def _first_cells(grid: Grid) -> list[str]:
    row = next((r for r in grid.rows if not r.heading), grid.rows[0])
    return [c[:20] for c in row.cells]


def _key(cell: str) -> str:
    return re.sub(r"\s", "", cell)


def _roles(cells: list[str], columns: list[tuple[str, tuple[str, ...]]], values: bool) -> list[str]:
    roles = []
    for cell in cells:
        key = _key(cell)
        role = ""
        for name, words in columns:
            if name == "indicator" and values and VALUE_HEADING.search(key):
                break
            if any(w in key for w in words):
                role = name
                break
        if not role and values and key and VALUE_HEADING.search(key):
            role = "value"
        roles.append(role)
    return roles


def _header(row: Row) -> tuple[str, list[str]] | None:
    """The layout a header row announces, and each column's role."""
    if row.heading:
        return None
    task = _roles(row.cells, TASK_COLUMNS, values=False)
    if "task" in task and ("units" in task or "participating" in task):
        return "tasks", task
    indicator = _roles(row.cells, INDICATOR_COLUMNS, values=True)
    if "indicator" in indicator and "value" in indicator:
        return "indicators", indicator
    return None


def _table(grid: Grid, source: str, layout: str, preamble: list[str]) -> TaskTable | IndicatorTable | None:
    rows = [r for r in grid.rows if any(c.strip() for c in r.cells)]
    for i, row in enumerate(rows[:4]):
        found = _header(row)
        if found:
            kind, roles = found
            above = [r.cells[0] for r in rows[:i]]  # a title row inside the table: 表1 主要指标
            if kind == "tasks":
                return _task_table(rows[i], roles, rows[i + 1:], source, layout, preamble + above)
            return _indicator_table(rows[i], roles, rows[i + 1:], source, layout, preamble + above)
        if not row.heading:
            break
    if rows and all(re.fullmatch(r"\d+", r.cells[0].strip()) for r in rows if not r.heading):
        # no header row: numbered rows of 序号, 重点任务, 责任单位, as the national table's body
        return _task_table(None, ["number", "task", "units"], rows, source, layout, preamble)
    return None


def _row_number(cell: str) -> int | None:
    m = re.fullmatch(r"\s*[（(]?(\d+)[)）]?\s*[.、．]?\s*", cell)
    return int(m.group(1)) if m else None


def _task_table(header: Row | None, roles: list[str], rows: list[Row], source: str, layout: str,
                preamble: list[str]) -> TaskTable:
    names = [c for c in header.cells] if header else list(HEADER_WORDS)
    width = len(names)
    col = {role: roles.index(role) for role in set(roles) if role}
    table = TaskTable(source, layout, _title(preamble), [], preamble)
    for row in rows:
        if header is not None and _key("".join(row.cells)) == _key("".join(header.cells)):
            continue  # the header repeated on a later page
        if row.heading and _row_number(row.cells[0]) is None:
            table.headings.append(row.cells[0])
            continue
        cells = row.cells
        number_cell = cells[col["number"]] if "number" in col else str(len(table.tasks) + 1)
        if "number" in col and row.merged_above[col["number"]] and table.tasks:
            _merge_continuation(table.tasks[-1], row, col)  # 序号 spans this row: the same task
            continue
        number = _row_number(number_cell)
        if number is None:
            raise TableError(source, row.line, f"这一行应以任务序号开头，实际是 {number_cell[:30]!r} / a row should start "
                             f"with its task number (序号), found {number_cell[:30]!r}", where=row.where)
        if layout == "rows" and (len(cells) != width or not all(c.strip() for c in cells)):
            raise TableError(source, row.line, f"任务行需要 {width} 个以制表符分隔的单元格，实际 {len(cells)} 个 / a task row "
                             f"needs {width} tab-separated cells ({', '.join(names)}), found {len(cells)}: "
                             f"{chr(9).join(cells)[:40]!r}", where=row.where)
        if layout == "cells" and len(cells) != width:
            raise TableError(source, row.line, f"任务 {number}：一行需要 {width} 个单元格（每行一个），实际 {len(cells)} 个 / "
                             f"task {number}: a row needs {width} cells ({', '.join(names)}) one a line, found "
                             f"{len(cells)}", where=row.where)
        text = cells[col["task"]].strip() if col.get("task", 99) < len(cells) else ""
        units = _units_text(cells, col, header)
        if not text or not units:
            missing = "重点任务 task" if not text else "责任单位 units"
            raise TableError(source, row.line, f"任务 {number}：{missing.split()[0]}单元格是空的 / task {number}: the "
                             f"{missing.split()[1]} cell is empty", where=row.where)
        due = cells[col["due"]].strip() if "due" in col and col["due"] < len(cells) else ""
        table.tasks.append(RawTask(number, text, units, row.line, due, row.where))
    if not table.tasks:
        last = rows[-1] if rows else header
        raise TableError(source, last.line if last else 1, "表格只有表头，没有任务 / the table has a header but no tasks",
                         where=last.where if last else None)
    return table


def _units_text(cells: list[str], col: dict[str, int], header: Row | None) -> str:
    """The 责任单位 cell; a 牵头单位 column and a 配合单位 column are written as one cell would
    say them ("X牵头，Y配合"), so that split_units reads the roles."""
    lead = cells[col["units"]].strip() if "units" in col and col["units"] < len(cells) else ""
    others = cells[col["participating"]].strip() if "participating" in col and col["participating"] < len(cells) else ""
    heading = _key(header.cells[col["units"]]) if header is not None and "units" in col else ""
    if lead and "牵头" in heading and not ROLE_WORDS.search(lead):
        lead += "牵头"
    if others and not ROLE_WORDS.search(others):
        others += "配合"
    return "，".join(part for part in (lead, others) if part)


def _merge_continuation(task: RawTask, row: Row, col: dict[str, int]) -> None:
    for role in ("units", "participating"):
        i = col.get(role)
        if i is not None and i < len(row.cells) and not row.merged_above[i] and row.cells[i].strip():
            task.units_text = f"{task.units_text}；{row.cells[i].strip()}"


def _merge_header(header: Row, roles: list[str], rows: list[Row]) -> tuple[Row, list[Row]]:
    """A two-row header (目标值 over 2023年 | 2025年): column headings joined top to bottom. The
    second row is still header when its 指标 cell is empty or repeats the header's (merged)."""
    if not rows or rows[0].heading or "indicator" not in roles:
        return header, rows
    second, i = rows[0], roles.index("indicator")
    if _key(second.cells[i]) not in ("", _key(header.cells[i])) or not any(
            VALUE_HEADING.search(_key(c)) for c in second.cells):
        return header, rows
    cells = [a if _key(a) == _key(b) or not b.strip() else f"{a.strip()}{b.strip()}"
             for a, b in zip(header.cells, second.cells)]
    return Row(cells, header.line, header.where), rows[1:]


def _indicator_table(header: Row, roles: list[str], rows: list[Row], source: str, layout: str,
                     preamble: list[str]) -> IndicatorTable:
    header, rows = _merge_header(header, roles, rows)
    roles = _header(header)[1] if _header(header) else roles  # type: ignore[index]
    col = {role: roles.index(role) for role in set(roles) if role and role != "value"}
    value_cols = [i for i, r in enumerate(roles) if r == "value"]
    table = IndicatorTable(source, layout, _title(preamble), [], preamble)
    category = ""

    def cell(row: Row, role: str) -> str:
        i = col.get(role)
        return row.cells[i].strip() if i is not None and i < len(row.cells) else ""

    for row in rows:
        if _key("".join(row.cells)) == _key("".join(header.cells)):
            continue
        if row.heading:
            category = row.cells[0].strip()
            continue
        name = cell(row, "indicator")
        if not name:
            raise TableError(source, row.line, f"指标单元格是空的 / the 指标 (indicator) cell is empty: "
                             f"{' | '.join(row.cells)[:60]!r}", where=row.where)
        number = _row_number(cell(row, "number")) or len(table.rows) + 1
        values = [(header.cells[i].strip(), row.cells[i].strip() if i < len(row.cells) else "") for i in value_cols]
        table.rows.append(RawIndicator(number, name, values, cell(row, "unit"), cell(row, "attribute"),
                                       cell(row, "category") or category, cell(row, "units"), cell(row, "note"),
                                       row.line, row.where))
    if not table.rows:
        raise TableError(source, header.line, "主要指标表只有表头，没有指标 / the main-indicator table has a header but "
                         "no indicators", where=header.where)
    return table


def _title(preamble: list[str]) -> str:
    candidates = [p for p in preamble if p not in ("附件",) and not re.fullmatch(r"附件\s*\d*", p)]
    return candidates[-1] if candidates else ""


def _check_numbers(table: TaskTable) -> None:
    seen: dict[int, int] = {}
    for t in table.tasks:
        if t.number in seen:
            raise TableError(table.source, t.line, f"任务序号 {t.number} 出现了两次 / task number {t.number} appears twice "
                             f"(first at line {seen[t.number]})", where=t.where or None)
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
