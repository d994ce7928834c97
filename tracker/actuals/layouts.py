"""Layouts: which column of a sheet holds what, read from its header row (long, or wide with
indicators or periods as columns), and the value cells under it."""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tracker.actuals.problems import Problem, ProblemLog
from tracker.actuals.validate import IndicatorIndex, _norm, unit_factor
from tracker.domain import units
from tracker.domain.periods import PeriodError, parse_period

ROLE_WORDS: dict[str, tuple[str, ...]] = {
    "indicator": ("指标", "指标名称", "指标代码", "指标id", "indicator", "indicatorid"),
    "region": ("地区", "市县", "市县区", "市县(区)", "区域", "行政区划", "地区名称", "地区代码", "市县名称",
               "region", "regioncode"),
    "period": ("期间", "时间", "报告期", "统计期", "期别", "年份", "月份", "季度", "period"),
    "value": ("数值", "值", "填报值", "数据", "value"),
    "unit": ("单位", "计量单位", "unit"),
    "note": ("备注", "note", "notes", "remark"),
    "milestone": ("里程碑", "里程碑编号", "milestone"),
    "state": ("状态", "进展状态", "进展", "state", "status"),
    "evidence": ("依据", "佐证", "佐证材料", "证明材料", "文号", "evidence"),
    "reporter": ("报告单位", "填报单位", "责任单位", "reporter"),
    "reported_on": ("日期", "报告日期", "填报日期", "reportedon", "date"),
    "ignore": ("序号", "编号", "no", "#", "内容", "里程碑内容", "说明", "text", "截止日期", "deadline",
               # the columns of `tracker export` an import has no use for
               "版本", "报送部门", "填报人", "填报时间", "来源"),
}
_ROLE_BY_WORD = {re.sub(r"\s+", "", w).lower(): role for role, words in ROLE_WORDS.items() for w in words}
_UNIT_IN_HEADER = re.compile(r"^(.*?)\s*[(（]([^()（）]*)[)）]\s*$")
_ID_IN_HEADER = re.compile(r"\[([A-Za-z0-9_]+)\]")


def column_letter(index: int) -> str:
    """0 -> A, 26 -> AA: how Excel names columns, which officials look at."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass
class Layout:
    """The roles of a sheet's columns, read from its header row."""

    shape: str  # long | wide_indicators | wide_periods | progress
    header_row: int
    roles: dict[str, int]  # role -> column index
    value_columns: list[tuple[int, Any, str | None]]  # (column, indicator or period, unit)
    labels: list[str]  # column labels for messages: C（数值）
    width: int = 0  # columns in the header row
    headerless: set[int] = field(default_factory=set)  # header cells left blank

    def label(self, role: str) -> str:
        return self.labels[self.roles[role]] if role in self.roles else ""


def _header_role(text: str) -> str | None:
    key = re.sub(r"\s+", "", _norm(text)).lower().replace("（", "(").replace("）", ")")
    return _ROLE_BY_WORD.get(key) or _ROLE_BY_WORD.get(re.sub(r"\(.*\)$", "", key))


def _split_header(text: str) -> tuple[str, str | None]:
    """'养老床位数（张）' -> ('养老床位数', '张'); '[beds] 床位（万张）' -> ('beds', '万张')."""
    text = _norm(text)
    unit = None
    m = _UNIT_IN_HEADER.match(text)
    if m:
        text, unit = m.group(1), m.group(2)
    ident = _ID_IN_HEADER.search(text)
    return (ident.group(1) if ident else text.strip()), unit


def find_layout(rows: list[tuple[int, list[Any]]], indicators: IndicatorIndex, log: ProblemLog,
                file_period: str | None, file_indicator: str | None) -> Layout | None:
    """The header among the first rows (a title row may come first) and what each column
    is. Unknown columns are problems, so a mistyped indicator is never silently dropped."""
    for n, cells in rows:
        texts = [_norm(c) for c in cells]
        roles = {i: _header_role(t) for i, t in enumerate(texts) if t and not isinstance(cells[i], (int, float))}
        found = {r for r in roles.values() if r}
        other = [i for i, t in enumerate(texts) if t and roles.get(i) is None]
        if "region" not in found and not {"milestone", "state"} <= found:
            continue
        labels = [f"{column_letter(i)}（{t}）" if t else column_letter(i) for i, t in enumerate(texts)]
        role_cols: dict[str, int] = {}
        for i, role in roles.items():
            if role and role != "ignore":
                role_cols.setdefault(role, i)  # a second region column (地区代码 + 地区) is for people
        headerless = {i for i, t in enumerate(texts) if not t}
        if {"milestone", "state"} <= role_cols.keys():
            return Layout("progress", n, role_cols, [], labels, len(texts), headerless)
        if "period" not in role_cols and "reported_on" in role_cols:
            role_cols["period"] = role_cols.pop("reported_on")  # 日期 in a sheet of values
        if "value" in role_cols:
            shape, value_cols = "long", [(role_cols["value"], None, None)]
            for i in other:
                log.add(Problem("无法识别的列", "unknown column", row=n, column=labels[i], value=texts[i],
                                accepted_zh="指标、地区、期间、数值、单位、备注", accepted_en="indicator, region, "
                                "period, value, unit, note"))
            return Layout(shape, n, role_cols, value_cols, labels, len(texts), headerless)
        value_cols = []
        wide_periods = []
        for i in other:
            name, unit = _split_header(cells[i] if not isinstance(cells[i], datetime) else "")
            if isinstance(cells[i], datetime) or _looks_like_period(texts[i]):
                wide_periods.append((i, cells[i], None))
                continue
            ind = indicators.get(texts[i]) or indicators.get(name)
            if ind is None:
                log.add(Problem("列标题不是已知指标", "column header is not a known indicator", row=n,
                                column=labels[i], value=texts[i],
                                accepted_zh="指标代码或名称，可带单位，如「养老床位数（张）」",
                                accepted_en="an indicator id or name, optionally with its unit: 养老床位数（张）",
                                suggestion=indicators.suggest(name)))
                continue
            if indicators.get(texts[i]) is not None:
                unit = None  # the whole header is the indicator's name
            if unit is not None:
                try:
                    unit_factor(unit, ind.unit)
                except units.UnitError as exc:
                    why = f"{exc.zh}；" if exc.zh else ""
                    log.add(Problem(f"列标题中的单位不对：{why}指标单位是「{units.label(ind.unit)}」",
                                    f"the unit in the header does not fit: {exc}",
                                    row=n, column=labels[i], value=texts[i],
                                    accepted_zh=f"{units.label(ind.unit)}，或可换算成它的单位",
                                    accepted_en=f"{ind.unit} or a unit convertible to it"))
                    continue
            value_cols.append((i, ind.id, unit))
        if wide_periods and not value_cols:
            if "indicator" not in role_cols and not file_indicator:
                log.add(Problem("按期间分列的表需要「指标」列或 --indicator", "a sheet with periods as "
                                "columns needs an indicator column or --indicator", row=n))
            return Layout("wide_periods", n, role_cols, wide_periods, labels, len(texts), headerless)
        if "period" not in role_cols and not file_period:
            log.add(Problem("按指标分列的表需要「期间」列或 --period", "a sheet with indicators as columns "
                            "needs a period column or --period", row=n))
        for i, cell, _ in wide_periods:
            log.add(Problem("期间列不能和指标列混在一张表中", "period columns mixed with indicator columns",
                            row=n, column=labels[i], value=_norm(cell)))
        return Layout("wide_indicators", n, role_cols, value_cols, labels, len(texts), headerless)
    return None


def _looks_like_period(text: str) -> bool:
    try:
        parse_period(text)
        return True
    except PeriodError:
        return False


def layout_cells(layout: Layout, rows: Iterable[tuple[int, list[Any]]], file_period: str | None,
                 file_indicator: str | None, log: ProblemLog) -> Iterator[tuple]:
    """(row, column index, indicator, region, period, value, unit, note) for every
    non-empty value cell under the header. Blank cells in wide sheets mean "not reported";
    a blank value in a long sheet is a problem."""
    roles = layout.roles
    r_ind, r_reg, r_per = roles.get("indicator"), roles.get("region"), roles.get("period")
    r_unit, r_note = roles.get("unit"), roles.get("note")
    region_label = layout.label("region")
    labels = layout.labels
    long = layout.shape == "long"
    wide_periods = layout.shape == "wide_periods"
    unlabeled, header_width = layout.headerless, layout.width
    # Rows get a None at the end (short rows are padded past the last column read), so
    # index -1 stands for a role the sheet lacks.
    used = [i for i in (r_ind, r_reg, r_per, r_unit, r_note) if i is not None]
    used += [c for c, _, _ in layout.value_columns]
    need = max(used) + 2
    i_ind, i_per, i_unit, i_note = (-1 if i is None else i for i in (r_ind, r_per, r_unit, r_note))
    i_val = layout.value_columns[0][0] if long else -1
    for n, cells in rows:
        if n <= layout.header_row:
            continue
        width = len(cells)
        if width < need:
            cells = list(cells) + [None] * (need - width)
        else:
            cells = list(cells)
            cells.append(None)
        region = cells[r_reg] if r_reg is not None else None
        if region is None or region == "":
            if any(c is not None and c != "" for c in cells):
                log.add(Problem("缺少地区", "region missing", row=n, column=region_label,
                                accepted_zh="地区名称或代码", accepted_en="a region name or code"))
            continue
        if long:
            value = cells[i_val]
            if value is None or value == "":
                log.add(Problem("缺少数值", "value missing", row=n, column=labels[i_val],
                                accepted_zh="数字", accepted_en="a number"))
            else:
                yield (n, i_val, cells[i_ind], region, cells[i_per], value, cells[i_unit], cells[i_note])
        else:
            unit, note = cells[i_unit], cells[i_note]
            for i, key, col_unit in layout.value_columns:
                value = cells[i]
                if value is None or value == "":
                    continue
                if wide_periods:
                    ind = cells[i_ind] if r_ind is not None else file_indicator
                    yield (n, i, ind, region, key, value, unit or col_unit, note)
                else:
                    period = cells[i_per] if r_per is not None else file_period
                    yield (n, i, key, region, period, value, col_unit or unit, note)
        if width <= header_width and not unlabeled:
            continue
        for i in range(width):
            if (i >= header_width or i in unlabeled) and cells[i] not in (None, ""):
                log.add(Problem("数据在没有列标题的列中", "a value in a column without a header", row=n,
                                column=column_letter(i), value=_norm(cells[i])))
