"""Problems: what is wrong with what was entered, where, and what would be right; folded when
the same problem repeats on many rows, capped so a file wrong on every row stays small."""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

MAX_PROBLEMS = 500  # distinct problems kept; the rest are counted




@dataclass
class Problem:
    """One thing wrong (or worth a warning) in what was entered."""

    zh: str
    en: str
    file: str = ""
    row: int | None = None
    column: str = ""
    value: str = ""
    accepted_zh: str = ""
    accepted_en: str = ""
    suggestion: str = ""  # the name probably meant
    level: str = "error"  # error | warning
    more_rows: list[int] = field(default_factory=list)  # the same problem again on these rows
    more_count: int = 0
    code: str = ""  # "forbidden": the user may not write this cell (a web upload's permit hook)
    field: str = ""  # what the problem is about: indicator, region, period, value, unit, note

    def format(self, lang: str = "zh") -> str:
        f = _PROBLEM_FORMAT["en" if lang == "en" else "zh"]
        where = [self.file] if self.file else []
        if self.row:
            where.append(f["row"].format(self.row))
        if not self.file and self.row is None and self.field:
            where.append(f["fields"].get(self.field, self.field))  # a typed value: no file, no column
        elif self.column:
            where.append(f["column"].format(self.column))
        text = f["sep"].join(where) + f["head_end"] if where else ""
        if self.value:
            text += f["value"].format(self.value)
        text += self.en if lang == "en" else self.zh
        accepted = self.accepted_en if lang == "en" else self.accepted_zh
        if accepted:
            text += f["accepted"].format(accepted)
        if self.suggestion:
            text += f["suggestion"].format(self.suggestion)
        if self.more_count:
            etc = f["etc"] if self.more_count > len(self.more_rows) else ""
            text += f["more"].format(n=self.more_count, rows=f["list"].join(map(str, self.more_rows)), etc=etc)
        return text


_PROBLEM_FORMAT = {
    "zh": {"row": "第{}行", "column": "{}列", "sep": " ", "head_end": "：", "value": "「{}」",
           "accepted": "；可填：{}", "suggestion": "；是否应为「{}」？", "list": "、", "etc": "等",
           "more": "（另有{n}行相同：第{rows}行{etc}）",
           "fields": {"indicator": "指标", "region": "地区", "period": "期间", "value": "数值", "unit": "单位",
                      "note": "备注", "source": "来源", "milestone": "里程碑", "state": "状态",
                      "reporter": "报告单位（--reporter）", "reported_on": "报告日期（--date）",
                      "evidence": "依据（--evidence）", "plan": "规划（--plan）", "department": "部门（--department）",
                      "format": "格式（--format）"}},
    "en": {"row": "row {}", "column": "column {}", "sep": ", ", "head_end": ": ", "value": "'{}': ",
           "accepted": "; accepted: {}", "suggestion": "; did you mean '{}'?", "list": ", ", "etc": " …",
           "more": " (also on {n} more row(s): {rows}{etc})",
           "fields": {"indicator": "indicator", "region": "region", "period": "period", "value": "value",
                      "unit": "unit", "note": "note", "source": "source", "milestone": "milestone",
                      "state": "state", "reporter": "reporter (--reporter)", "reported_on": "date (--date)",
                      "evidence": "evidence (--evidence)", "plan": "plan (--plan)",
                      "department": "department (--department)", "format": "format (--format)"}},
}


class ProblemLog:
    """Problems of one entry, the same problem on many rows folded into one, and capped so
    a file that is wrong on every row still lists its problems in bounded memory."""

    def __init__(self, file: str = "") -> None:
        self.file = file
        self.items: list[Problem] = []
        self._index: dict[tuple[str, str, str, str], Problem] = {}
        self.dropped = 0

    def add(self, problem: Problem) -> Problem | None:
        """Keep `problem`; returns the entry it was kept as (an earlier identical one it
        was folded into), or None when over the cap."""
        problem.file = problem.file or self.file
        key = (problem.level, problem.column, problem.value, problem.zh)
        first = self._index.get(key)
        if first is not None and problem.row is not None:
            first.more_count += 1
            if len(first.more_rows) < 10:
                first.more_rows.append(problem.row)
            return first
        if len(self.items) >= MAX_PROBLEMS:
            self.dropped += 1
            return None
        self._index[key] = problem
        self.items.append(problem)
        return problem

    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.level == "error"]

    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.level == "warning"]

    def has_errors(self) -> bool:
        return any(p.level == "error" for p in self.items) or self.dropped > 0


class EntryError(ValueError):
    """Values refused; nothing was written. `problems` lists every one found."""

    HEAD = ("未写入任何数据，发现 {n} 处问题：", "nothing was written; {n} problem(s):")

    def __init__(self, problems: list[Problem], dropped: int = 0, warnings: list[Problem] | None = None) -> None:
        self.problems = problems
        self.dropped = dropped
        self.warnings = warnings or []
        super().__init__(self.format("en"))

    def format(self, lang: str = "zh") -> str:
        head = self.HEAD[1 if lang == "en" else 0].format(n=len(self.problems))
        lines = [head] + [f"  - {p.format(lang)}" for p in self.problems]
        if self.dropped:
            lines.append(f"  … 另有 {self.dropped} 处问题未列出" if lang != "en"
                         else f"  … and {self.dropped} more problem(s) not listed")
        if self.warnings:
            lines.append("提示：" if lang != "en" else "warnings:")
            lines += [f"  - {p.format(lang)}" for p in self.warnings]
        return "\n".join(lines)


@dataclass
class EntryResult:
    """What an entry wrote; `warnings` were accepted but deserve a look."""

    file: str
    batch_id: int | None = None
    written: int = 0
    corrections: int = 0
    unchanged: int = 0
    progress_written: int = 0
    warnings: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    recorded: list[Any] = field(default_factory=list)  # the Accepted values of a typed entry, as stored


def _now(now: datetime) -> datetime:
    moment = now
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# (kind, item, where) -> allowed: ("value", indicator id, region code) or
# ("progress", milestone id, reporter)
Permit = Callable[[str, str, str], bool]


def forbidden_problem(row: int | None, column: str, value: str) -> Problem:
    """A cell the person entering it may not write (not their region or department)."""
    return Problem("无权填报：不属于本单位或本地区", "not permitted: not your department's or region's",
                   row=row, column=column, value=value, accepted_zh="本单位负责的指标、本地区的数据",
                   accepted_en="your department's indicators, your region's cells", code="forbidden")


# (indicator id, region code, period end) -> the Problem refusing the cell (its period is under
# review or closed: tracker.status.approval.Locks), or None
Locked = Callable[[str, str, date], "Problem | None"]


def refused_as_locked(locked: "Locked | None", accepted: Any, log: ProblemLog, row: int | None, column: str) -> bool:
    """Whether a checked cell is refused because its period is locked (the problem logged)."""
    if locked is None:
        return False
    problem = locked(accepted.indicator, accepted.region, accepted.period_end)
    if problem is None:
        return False
    log.add(dataclasses.replace(problem, row=row, column=column))
    return True
