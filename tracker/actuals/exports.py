"""Exports (数据导出): stored values written back out for the officials who entered them, as
CSV (UTF-8 with a BOM, so Excel opens it in Chinese) or .xlsx.

The file is in the long shape `tracker import` reads, columns named in Chinese with the codes
beside the names (指标代码 before 指标, 地区代码 before 地区: the importer takes the first column
of each, the code); the columns an import has no use for (版本, 报送部门, 填报人, 填报时间,
来源) are ones it knows to pass over. So an export of the latest values imports back as
"unchanged", and a corrected copy imports as corrections.

Text cells that a spreadsheet would read as a formula (beginning with =, +, -, @, a tab or a
carriage return) are neutralised: in CSV by an apostrophe before them (taken off again on
import), in .xlsx by writing them as text with Excel's own quote prefix. Values are numbers
and written as numbers, never touched.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from tracker.actuals.files import guard
from tracker.actuals.problems import EntryError, Problem
from tracker.actuals.validate import IndicatorIndex, _closest, _norm
from tracker.domain import units
from tracker.domain.format import region_name
from tracker.domain.model import TargetsModel, unit_found
from tracker.domain.periods import PLAN_TZ, PeriodError, parse_period
from tracker.domain.regions import RegionError, Regions

EXPORT_HEADER = ("指标代码", "指标", "地区代码", "地区", "期间", "数值", "单位", "备注", "版本", "报送部门", "填报人",
                 "填报时间", "来源")
FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class ExportError(EntryError):
    """An export asked for with filters that match nothing known; nothing was exported."""

    HEAD = ("未导出，发现 {n} 处问题：", "nothing was exported; {n} problem(s):")


@dataclass(frozen=True)
class ExportFilter:
    """What an export holds: indicator ids, region codes (None: all) and periods ending
    within [start, end]."""

    indicators: tuple[str, ...] | None = None
    regions: tuple[str, ...] | None = None
    start: date | None = None
    end: date | None = None


def export_filter(model: TargetsModel, regions: Regions, *, plan: str | None = None,
                  indicators: Sequence[str] = (), region: Sequence[str] = (), period: str | None = None,
                  department: str | None = None) -> ExportFilter:
    """The filter for an export by plan (its targets' indicators and their components),
    indicators (ids or names), regions (a region and the districts under it), a period (any
    period: 2026 takes its months and quarters too) and department (the indicators it
    reports). Raises ExportError naming each filter that matches nothing known."""
    problems: list[Problem] = []
    chosen: set[str] | None = None
    if plan:
        found = next((p for p in model.plans if p.id == _norm(plan)), None)
        if found is None:
            problems.append(Problem("未知规划", "unknown plan", value=_norm(plan), field="plan",
                                    accepted_zh="、".join(p.id for p in model.plans),
                                    accepted_en=", ".join(p.id for p in model.plans),
                                    suggestion=_closest(_norm(plan), [p.id for p in model.plans])))
        else:
            chosen = _plan_indicators(model, found.id)
    if indicators:
        index = IndicatorIndex(model)
        named = set()
        for text in indicators:
            ind = index.get(text)
            if ind is None:
                problems.append(Problem("未知指标", "unknown indicator", value=_norm(text), field="indicator",
                                        accepted_zh="targets.yaml 中指标的代码或名称",
                                        accepted_en="an indicator id or name from targets.yaml",
                                        suggestion=index.suggest(text)))
            else:
                named.add(ind.id)
        chosen = named if chosen is None else chosen & named
    if department:
        reporters = sorted({i.reporter for i in model.indicators if i.reporter})
        reported = {i.id for i in model.indicators if unit_found(i.reporter, department)}
        if not reported:
            problems.append(Problem("没有由该部门报送的指标", "no indicator is reported by this department",
                                    value=_norm(department), field="department", accepted_zh="、".join(reporters),
                                    accepted_en=", ".join(reporters)))
        chosen = reported if chosen is None else chosen & reported
    codes: set[str] | None = None
    for text in region:
        try:
            r = regions.lookup(_norm(text))
        except RegionError as exc:
            problems.append(Problem("未知地区", "unknown region", value=_norm(text), field="region",
                                    accepted_zh="地区代码、名称、简称或英文名", accepted_en=f"a region of the plan ({exc})"))
            continue
        codes = (codes or set()) | _with_parts(regions, r.code)
    start = end = None
    if period:
        try:
            p = parse_period(period)
            start, end = p.start, p.end
        except PeriodError:
            problems.append(Problem("不是有效的期间", "not a period", value=_norm(period), field="period",
                                    accepted_zh="月份 2026-11、季度 2026Q3、年份 2025 或日期 2026-11-15",
                                    accepted_en="a month 2026-11, a quarter 2026Q3, a year 2025 or a date"))
    if problems:
        raise ExportError(problems)
    return ExportFilter(tuple(sorted(chosen)) if chosen is not None else None,
                        tuple(sorted(codes)) if codes is not None else None, start, end)


def _plan_indicators(model: TargetsModel, plan: str) -> set[str]:
    ids = {t.indicator for t in model.targets if t.plan == plan}
    for ind in model.indicators:
        if ind.id in ids:
            ids.update(x for x in (ind.numerator, ind.denominator) if x)
    return ids


def _with_parts(regions: Regions, code: str) -> set[str]:
    """A region and every region under it (a city's districts; the province's every region)."""
    out, todo = set(), [code]
    while todo:
        c = todo.pop()
        if c not in out:
            out.add(c)
            todo.extend(r.code for r in regions.children(c))
    return out


def export_format(path: str | Path | None, fmt: str | None) -> str:
    """csv or xlsx: as asked, else from the file's suffix, else csv."""
    if fmt:
        if fmt.lower() not in FORMATS:
            raise ExportError([Problem("不支持的导出格式", "unknown export format", value=fmt, field="format",
                                      accepted_zh="csv 或 xlsx", accepted_en="csv or xlsx")])
        return fmt.lower()
    suffix = Path(path).suffix.lower().lstrip(".") if path else ""
    return suffix if suffix in FORMATS else "csv"


def export_rows(rows: Iterable[dict[str, Any]], model: TargetsModel, regions: Regions) -> Iterable[list[Any]]:
    """The export's rows under EXPORT_HEADER, as cell values (the value a number, the rest
    text) before neutralising."""
    indicators = {i.id: i for i in model.indicators}
    names: dict[str, str] = {}
    for r in rows:
        ind = indicators.get(r["indicator"])
        if r["region"] not in names:
            names[r["region"]] = region_name(regions, r["region"])
        yield [r["indicator"], ind.name if ind else "", r["region"], names[r["region"]], r["period"], r["value"],
               units.label(ind.unit) if ind else "", r["note"], r["revision"], ind.reporter if ind else "",
               r["entered_by"], r["entered_at"].astimezone(PLAN_TZ).isoformat(sep=" ", timespec="seconds"),
               r["source"]]


def write_export(rows: Iterable[list[Any]], out: str | Path | IO[bytes], fmt: str) -> int:
    """Write the export's rows (export_rows) with the header as CSV or .xlsx to a path or a
    binary stream; returns how many rows."""
    if fmt == "xlsx":
        return _write_xlsx(rows, out)
    if isinstance(out, (str, Path)):
        with open(out, "wb") as fh:
            return _write_csv(rows, fh)
    return _write_csv(rows, out)


def _number(value: float) -> str:
    """A value as its digits, exactly (15000, 28.5, 0.1): what the import reads back."""
    v = float(value)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def _write_csv(rows: Iterable[list[Any]], fh: IO[bytes]) -> int:
    text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
    try:
        out = csv.writer(text)
        out.writerow(EXPORT_HEADER)
        n = 0
        for row in rows:
            out.writerow([_number(c) if i == 5 else guard(str(c)) for i, c in enumerate(row)])
            n += 1
        text.flush()
    finally:
        text.detach()  # leave the caller's stream open
    return n


def _write_xlsx(rows: Iterable[list[Any]], out: str | Path | IO[bytes]) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("数据导出")
    bold = Font(bold=True)
    head = []
    for name in EXPORT_HEADER:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = bold
        head.append(cell)
    ws.append(head)
    n = 0
    for row in rows:
        cells: list[Any] = []
        for i, value in enumerate(row):
            if i in (5, 8):  # the value and the revision: numbers
                cells.append(value)
                continue
            text = str(value)
            if guard(text) != text:  # would be read as a formula: text, with Excel's quote prefix
                cell = WriteOnlyCell(ws, value=text)
                cell.data_type = "s"
                cell.quotePrefix = True
                cells.append(cell)
            else:
                cells.append(text)
        ws.append(cells)
        n += 1
    wb.save(out)
    return n
