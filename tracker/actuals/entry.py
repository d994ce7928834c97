"""Entering reported values (实际值填报): one at a time, or from CSV and Excel files.

The path of a value: a file is read as rows (`read_sheets`: encodings of Chinese Excel, .xlsx
streamed), its header says which shape it is (`Layout`: long, or wide with indicators or
periods as columns), each cell is checked by a `Validator` that knows the targets model, the
regions and today's date but not the database, and only then written, in one transaction
with every other cell of the file. Anything wrong anywhere: nothing is written and every
problem is listed with its file, row, column, value, what is accepted and, for near misses,
what was probably meant.

Corrections are new revisions, never updates, and only when asked for (`correct=True`). A
value far from the region's earlier ones is accepted with a warning.

Speed matters for big files: parsed periods, regions, indicators and unit factors are cached
per distinct text, values convert by one float factor per unit pair, rows are written with
executemany in chunks, and memory does not grow with the file (duplicate cells are tracked
in per-(indicator, region) bitmaps, problems are capped).
"""

import codecs
import csv
import difflib
import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NamedTuple

from tracker.domain import units
from tracker.domain.model import (
    MILESTONE_STATE_LABELS,
    MILESTONE_STATES,
    Indicator,
    Milestone,
    TargetsModel,
    same_unit,
    unit_found,
)
from tracker.domain.numbers import NumberError, parse_number
from tracker.domain.periods import FREQUENCY_KIND, PeriodError, parse_period, today_in_plan_tz
from tracker.domain.regions import Region, RegionError, Regions, load_regions

CHUNK_ROWS = 5_000  # rows per executemany
MAX_PROBLEMS = 500  # distinct problems kept; the rest are counted
OUTLIER_FACTOR = 3.0  # a value more than 3x above or below the region's earlier range
EPOCH_YEAR = 1950  # periods before this are refused as typing mistakes
FRACTION_UNITS = {"小数": "dimensionless", "fraction": "dimensionless", "比值": "dimensionless"}

# ---------------------------------------------------------------------------------------
# Problems: what is wrong, where, and what would be right


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

    def format(self, lang: str = "zh") -> str:
        f = _PROBLEM_FORMAT["en" if lang == "en" else "zh"]
        where = [self.file] if self.file else []
        if self.row:
            where.append(f["row"].format(self.row))
        if self.column:
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
           "more": "（另有{n}行相同：第{rows}行{etc}）"},
    "en": {"row": "row {}", "column": "column {}", "sep": ", ", "head_end": ": ", "value": "'{}': ",
           "accepted": "; accepted: {}", "suggestion": "; did you mean '{}'?", "list": ", ", "etc": " …",
           "more": " (also on {n} more row(s): {rows}{etc})"},
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

    def __init__(self, problems: list[Problem], dropped: int = 0, warnings: list[Problem] | None = None) -> None:
        self.problems = problems
        self.dropped = dropped
        self.warnings = warnings or []
        super().__init__(self.format("en"))

    def format(self, lang: str = "zh") -> str:
        head = (f"未写入任何数据，发现 {len(self.problems)} 处问题：" if lang != "en" else
                f"nothing was written; {len(self.problems)} problem(s):")
        lines = [head] + [f"  - {p.format(lang)}" for p in self.problems]
        if self.dropped:
            lines.append(f"  … 另有 {self.dropped} 处问题未列出" if lang != "en"
                         else f"  … and {self.dropped} more problem(s) not listed")
        if self.warnings:
            lines.append("提示：" if lang != "en" else "warnings:")
            lines += [f"  - {p.format(lang)}" for p in self.warnings]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Looking names up, with near-miss suggestions


def _norm(text: Any) -> str:
    """Cell text as compared with names: NFKC (full-width forms), no surrounding spaces."""
    if text is None:
        return ""
    return unicodedata.normalize("NFKC", str(text)).strip()


def _closest(text: str, names: Iterable[str]) -> str:
    close = difflib.get_close_matches(text, list(names), n=1, cutoff=0.5)
    return close[0] if close else ""


class IndicatorIndex:
    """Indicators by id or Chinese name, ignoring spaces and full-width forms."""

    def __init__(self, model: TargetsModel) -> None:
        self.model = model
        self._by: dict[str, Indicator] = {}
        for ind in model.indicators:
            for key in (ind.id, ind.name):
                if key:
                    self._by.setdefault(self._key(key), ind)

    @staticmethod
    def _key(text: str) -> str:
        return re.sub(r"\s+", "", _norm(text)).lower()

    def get(self, text: Any) -> Indicator | None:
        return self._by.get(self._key(str(text)))

    def suggest(self, text: Any) -> str:
        key = self._key(str(text))
        names = {self._key(i.name): i.name for i in self.model.indicators}
        names.update({i.id.lower(): i.id for i in self.model.indicators})
        hit = _closest(key, names)
        return names[hit] if hit else ""


def unit_factor(unit_text: str, indicator_unit: str) -> float:
    """The factor from a written unit to the indicator's unit. Accepts the registry's units
    and Chinese statistical forms: 万张 (10,000 beds), 小数 (a fraction for a percentage).
    Raises units.UnitError."""
    text = _norm(unit_text)
    text = FRACTION_UNITS.get(text, text)
    scale = 1.0
    if text.startswith("万") and len(text) > 1:
        scale, text = 10_000.0, text[1:]
    return scale * units.conversion_factor(text, indicator_unit)


def period_accepted(ind: Indicator) -> tuple[str, str]:
    kind = FREQUENCY_KIND.get(ind.frequency, ind.frequency)
    zh = {"month": "月份，如 2026-11", "quarter": "季度，如 2026Q3", "year": "年份，如 2025"}[kind]
    en = {"month": "a month such as 2026-11", "quarter": "a quarter such as 2026Q3",
          "year": "a year such as 2025"}[kind]
    if ind.kind != "flow":
        zh += "，或日期如 2026-11-15"
        en += ", or a date such as 2026-11-15"
    return zh, en


# ---------------------------------------------------------------------------------------
# Validation: cells in, rows ready to write out. No database here; what is already stored
# arrives through the `stored` and `history` callables.


class Accepted(NamedTuple):
    """A checked value, in its indicator's unit, ready to be written (a tuple, in the
    order of db.OBSERVATION_COLUMNS, because a big import makes a million of them)."""

    indicator: str
    region: str
    period: str
    period_end: date
    value: float
    revision: int
    note: str
    source: str


class Validator:
    """Checks cells against the targets model, the regions and the date.

    `stored(indicator_id)` returns {(region, period): (revision, value)} of what the
    database holds; `history(indicator_id)` returns {region: [(period_end, value)]}: both
    are asked once per indicator, so the validator stays free of I/O of its own.
    """

    def __init__(self, model: TargetsModel, regions: Regions, today: date, *, correct: bool = False,
                 stored: Callable[[str], dict[tuple[str, str], tuple[int, float]]] | None = None,
                 history: Callable[[str], dict[str, list[tuple[date, float]]]] | None = None,
                 log: ProblemLog | None = None) -> None:
        self.model = model
        self.regions = regions
        self.today = today
        self.correct = correct
        self.log = log or ProblemLog()
        self.indicators = IndicatorIndex(model)
        self._stored_fn = stored or (lambda _ind: {})
        self._history_fn = history or (lambda _ind: {})
        self._stored: dict[str, dict[tuple[str, str], tuple[int, float]]] = {}
        self._history: dict[str, dict[str, list[tuple[date, float]]]] = {}
        self._ind_cache: dict[Any, Indicator | None] = {}
        self._region_cache: dict[Any, Region | None] = {}
        # keyed by (text, frequency, is a flow): all a period's validity depends on
        self._period_cache: dict[tuple[Any, str, bool], Any] = {}
        self._unit_cache: dict[tuple[Any, str], float | str] = {}
        self._seen: dict[tuple[str, str, str], bytearray] = {}
        self.duplicates: dict[tuple[str, str, str], Problem | None] = {}
        self.unchanged = 0
        self.corrections = 0

    # -- the parts of a cell, each cached by its text ----------------------------------

    def indicator(self, text: Any, row: int | None, column: str) -> Indicator | None:
        try:
            return self._ind_cache[text]
        except KeyError:
            pass
        ind = self.indicators.get(text)
        if ind is None:
            self.log.add(Problem(
                "未知指标", "unknown indicator", row=row, column=column, value=_norm(text),
                accepted_zh="targets.yaml 中指标的代码或名称", accepted_en="an indicator id or name from targets.yaml",
                suggestion=self.indicators.suggest(text)))
            return None
        self._ind_cache[text] = ind
        return ind

    def region(self, text: Any, row: int | None, column: str) -> Region | None:
        try:
            return self._region_cache[text]
        except KeyError:
            pass
        try:
            region = self.regions.lookup(_norm(text))
        except RegionError as exc:
            excluded = "not covered" in str(exc)
            close = None if excluded else self.regions.closest(_norm(text))
            self.log.add(Problem(
                "不在本规划范围内的地区" if excluded else "未知地区",
                "region not covered by the plan" if excluded else "unknown region",
                row=row, column=column, value=_norm(text),
                accepted_zh="地区代码(460100)、名称(海口市)、简称(海口)或英文名(Haikou)；全省填「海南省」",
                accepted_en="a code (460100), a name (海口市), a short name (海口) or English name (Haikou)",
                suggestion=close.name if close else ""))
            return None
        self._region_cache[text] = region
        return region

    def period(self, text: Any, ind: Indicator, row: int | None, column: str) -> tuple[str, date, int, str] | None:
        """(label, end, index within its kind, kind) of the period `text` for `ind`."""
        key = (text, ind.frequency, ind.kind == "flow")
        hit = self._period_cache.get(key)
        if hit is None:
            hit = self._parse_period(text, ind)
            self._period_cache[key] = hit
        if hit[0] is None:
            _, zh, en, kind = hit
            acc_zh, acc_en = period_accepted(ind)
            self.log.add(Problem(zh, en, row=row, column=column, value=_norm(text),
                                 accepted_zh=acc_zh, accepted_en=acc_en))
            return None
        return hit  # type: ignore[return-value]

    def _parse_period(self, text: Any, ind: Indicator) -> Any:
        want = FREQUENCY_KIND.get(ind.frequency, ind.frequency)
        try:
            if isinstance(text, datetime) and want == "month" and text.day == 1:
                p = parse_period(f"{text.year}-{text.month:02d}")  # Excel turns 2026-11 into a date
            else:
                p = parse_period(text)
        except PeriodError as exc:
            if isinstance(text, float):  # Excel stored 2026.10 as the number 2026.1
                return (None, "期间有歧义：数字 2026.1 可能是 2026年1月 或 10月，请把该列设为文本或写成 2026-10",
                        str(exc), "")
            return (None, "不是有效的期间", "not a period", "")
        if p.kind != want and not (p.kind == "date" and ind.kind != "flow"):
            names = {"month": ("月", "month"), "quarter": ("季度", "quarter"), "year": ("年", "year"),
                     "date": ("日期", "date")}
            return (None, f"期间类型与指标报送频率不符：这是{names[p.kind][0]}，该指标按{names[want][0]}报送",
                    f"period is a {names[p.kind][1]}; this indicator is reported by {names[want][1]}", "")
        if p.start.year < EPOCH_YEAR:
            return (None, f"期间早于{EPOCH_YEAR}年", f"period before {EPOCH_YEAR}", "")
        if p.start > self.today:
            return (None, f"期间尚未开始（今天是{self.today.isoformat()}，北京时间）",
                    f"period is in the future (today is {self.today.isoformat()} in Asia/Shanghai)", "")
        y = p.start.year - EPOCH_YEAR
        index = {"month": y * 12 + p.start.month - 1, "quarter": y * 4 + (p.start.month - 1) // 3,
                 "year": y, "date": p.start.toordinal() - date(EPOCH_YEAR, 1, 1).toordinal()}[p.kind]
        return (p.label, p.end, index, p.kind)

    def factor(self, unit_text: Any, ind: Indicator, row: int | None, column: str) -> float | None:
        key = (unit_text, ind.unit)
        hit = self._unit_cache.get(key)
        if hit is None:
            try:
                hit = unit_factor(str(unit_text), ind.unit)
            except units.UnitError as exc:
                hit = str(exc)
            self._unit_cache[key] = hit
        if isinstance(hit, str):
            self.log.add(Problem(
                f"单位不对：指标单位是「{units.label(ind.unit)}」", f"wrong unit: {hit}", row=row, column=column,
                value=_norm(unit_text), accepted_zh=f"{units.label(ind.unit)}，或可换算成它的单位（如 万{units.label(ind.unit)}）",
                accepted_en=f"{ind.unit} or a unit convertible to it"))
            return None
        return hit

    # -- one cell ------------------------------------------------------------------------

    def check(self, row: int | None, column: str, ind_text: Any, region_text: Any, period_text: Any,
              value: Any, unit_text: Any = None, note: Any = None, source: str = "",
              columns: tuple[str, str, str, str] = ("", "", "", "")) -> Accepted | None:
        """Check one cell; returns it ready to write, or None (problems are in `self.log`;
        None without a problem means the same value is already stored).
        `columns` names the indicator, region, period and unit columns for messages."""
        # Every part is checked even when an earlier one failed: all problems, not the first.
        # The cache look-ups are inlined: this runs once per cell of million-row files.
        ind = self._ind_cache.get(ind_text) or self.indicator(ind_text, row, columns[0])
        region = self._region_cache.get(region_text) or self.region(region_text, row, columns[1])
        if type(value) is str:
            try:
                number, unit_from_text = float(value), None
                if number != number or number in (math.inf, -math.inf):
                    raise ValueError(value)
            except ValueError:
                number, unit_from_text = self._parse_value(value, row, column)
        else:
            number, unit_from_text = self._parse_value(value, row, column)
        if ind is None:
            return None
        period = self._period_cache.get((period_text, ind.frequency, ind.kind == "flow"))
        if period is None or period[0] is None:
            period = self.period(period_text, ind, row, columns[2])
        if number is None:
            return None
        unit = unit_from_text or (unit_text if unit_text not in (None, "") else None)
        if unit is not None:
            factor = self.factor(unit, ind, row, columns[3] if unit_from_text is None else column)
            if factor is None:
                return None
            number *= factor
        if (number < 0 or ind.kind == "percentage") and not self._in_range(
                ind, number, value, row, column, fraction_hint=unit is None):
            return None
        if region is None or period is None:
            return None
        label, end, index, kind = period
        if self._seen_before(ind.id, region.code, kind, index):
            self.duplicates[(ind.id, region.code, label)] = self.log.add(Problem(
                "同一单元格在本文件中重复出现", "the same cell appears twice in this file",
                row=row, column=column, value=f"{ind.id} / {region.name} / {label}",
                accepted_zh="每个指标、地区、期间在一个文件中只填一次",
                accepted_en="each indicator, region and period once per file"))
            return None
        stored = self._stored.get(ind.id)
        if stored is None:
            stored = self._stored[ind.id] = self._stored_fn(ind.id)
        if stored:
            revision = self._revision(stored, region, label, number, row, column)
            if revision is None:
                return None
        else:
            revision = 1
        if end > self.today:
            self.log.add(Problem(f"期间 {label} 尚未结束，数值按当前进度记录",
                                 f"period {label} has not ended yet; the value is recorded as provisional",
                                 row=row, column=columns[2], value=str(label), level="warning"))
        hist = self._history.get(ind.id)
        if hist is None:
            hist = self._history[ind.id] = self._history_fn(ind.id)
        if hist:
            self._check_outlier(hist, region, end, number, row, column, value)
        return Accepted(ind.id, region.code, label, end, number, revision,
                        _norm(note) if note else "", source)

    def _parse_value(self, value: Any, row: int | None, column: str) -> tuple[float | None, str | None]:
        unit = None
        if isinstance(value, bool):
            number = None
        elif isinstance(value, (int, float)):
            number = float(value)
        else:
            text = str(value)
            try:
                number = float(text)
            except ValueError:
                try:
                    number, unit = parse_number(text)
                except NumberError:
                    number = None
        if number is None or math.isnan(number) or math.isinf(number):
            self.log.add(Problem("不是数字", "not a number", row=row, column=column, value=_norm(value),
                                 accepted_zh="数字，如 32、3.5、15,000、1.5万、30%、5‰；未报送的留空",
                                 accepted_en="a number such as 32, 3.5, 15,000, 1.5万, 30%, 5‰; leave it "
                                             "empty when not reported"))
            return None, None
        return number, unit

    def _in_range(self, ind: Indicator, number: float, raw: Any, row: int | None, column: str,
                  fraction_hint: bool) -> bool:
        if number < 0:
            self.log.add(Problem("不能为负数", "cannot be negative", row=row, column=column, value=_norm(raw),
                                 accepted_zh="0 或正数", accepted_en="zero or a positive number"))
            return False
        if ind.kind == "percentage" and units.normalize(ind.unit) == "percent":
            if number > 100:
                self.log.add(Problem("百分比超过100", "a percentage above 100", row=row, column=column,
                                     value=_norm(raw), accepted_zh="0–100（%）", accepted_en="0–100 (%)"))
                return False
            if fraction_hint and 0 < number <= 1:
                self.log.add(Problem(
                    f"按 {number:g}% 记录；如果是小数 {number:g}（即 {number * 100:g}%），请写 {number * 100:g}% 或单位填「小数」",
                    f"recorded as {number:g}%; if you meant the fraction {number:g} ({number * 100:g}%), "
                    f"write {number * 100:g}% or give the unit 小数", row=row, column=column,
                    value=_norm(raw), level="warning"))
        return True

    def _seen_before(self, ind: str, region: str, kind: str, index: int) -> bool:
        bits = self._seen.get((ind, region, kind))
        if bits is None:
            bits = self._seen[(ind, region, kind)] = bytearray()
        byte, bit = divmod(index, 8)
        if byte >= len(bits):
            bits.extend(bytes(byte - len(bits) + 64))
        if bits[byte] & (1 << bit):
            return True
        bits[byte] |= 1 << bit
        return False

    def _revision(self, stored: dict[tuple[str, str], tuple[int, float]], region: Region, label: str,
                  number: float, row: int | None, column: str) -> int | None:
        old = stored.get((region.code, label))
        if old is None:
            return 1
        revision, value = old
        if abs(value - number) <= 1e-9 * max(1.0, abs(value)):
            self.unchanged += 1
            return None
        if not self.correct:
            self.log.add(Problem(
                f"该单元格已有数值 {value:g}（第{revision}版），更正需明确指定 --correct",
                f"this cell already holds {value:g} (revision {revision}); a correction needs --correct",
                row=row, column=column, value=f"{number:g}",
                accepted_zh="新的单元格；或加 --correct 作为更正保存为新版本",
                accepted_en="a new cell; or --correct to store a new revision", code="correction"))
            return None
        self.corrections += 1
        return revision + 1

    def _check_outlier(self, hist: dict[str, list[tuple[date, float]]], region: Region, end: date,
                       number: float, row: int | None, column: str, raw: Any) -> None:
        """DHIS2-style min-max check against the region's earlier values: a warning, since
        real jumps happen (a new institution opens), but most are typing slips (万, a zero)."""
        earlier = [v for e, v in hist.get(region.code, ()) if e < end][-6:]
        if not earlier:
            return
        lo, hi = min(earlier), max(earlier)
        if hi <= 0:
            return
        if number > hi * OUTLIER_FACTOR or number < lo / OUTLIER_FACTOR:
            self.log.add(Problem(
                f"与该地区以往数值（{lo:g}–{hi:g}）相差超过{OUTLIER_FACTOR:g}倍，请核实",
                f"more than {OUTLIER_FACTOR:g}x away from the region's earlier values ({lo:g}–{hi:g}); please check",
                row=row, column=column, value=_norm(raw), level="warning"))


# ---------------------------------------------------------------------------------------
# Reading files: sheets of rows, streamed


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

# ---------------------------------------------------------------------------------------
# Layouts: which column holds what


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
    "ignore": ("序号", "编号", "no", "#", "内容", "里程碑内容", "说明", "text", "截止日期", "deadline"),
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
                except units.UnitError:
                    log.add(Problem(f"列标题中的单位不对：指标单位是「{units.label(ind.unit)}」",
                                    f"the unit in the header does not fit: the indicator is in {ind.unit}",
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


# ---------------------------------------------------------------------------------------
# Entering: the database edge


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


def _now(now: datetime) -> datetime:
    moment = now
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _row(a: Accepted, batch_id: int | None, entered_by: str, entered_at: datetime) -> tuple[Any, ...]:
    return (*a, entered_by, entered_at, batch_id)  # db.OBSERVATION_COLUMNS order


def _db_lookups(conn: Any) -> tuple[Callable, Callable]:
    from tracker import store as db
    def stored(indicator: str) -> dict[tuple[str, str], tuple[int, float]]:
        return {(r, p): v for (_i, r, p), v in db.current_cells(conn, [indicator]).items()}

    def history(indicator: str) -> dict[str, list[tuple[date, float]]]:
        return {r: v for (_i, r), v in db.region_history(conn, [indicator]).items()}

    return stored, history


def record_value(engine: Any, model: TargetsModel, indicator: str, region: str, period: str,
                 value: str | float, unit: str | None = None, *, entered_by: str, note: str = "",
                 source: str = "command", correct: bool = False, now: datetime,
                 regions: Regions | None = None) -> EntryResult:
    """Enter one value (`tracker record`): checked like a file's cell, stored as a new cell or,
    with `correct=True`, as a new revision of an existing one. Raises EntryError."""
    cell = CellEntry(indicator, region, period, value, unit, note, correct)
    return record_values(engine, model, [cell], entered_by=entered_by, source=source, now=now, regions=regions)


@dataclass
class CellEntry:
    """One value typed into a form or a command, before it is checked. `column` and
    `columns` (indicator, region, period, unit) name the fields in problems, so a form can
    show each problem next to the field it is about."""

    indicator: str
    region: str
    period: str
    value: str | float
    unit: str | None = None
    note: str = ""
    correct: bool = False  # a changed value is stored as a new revision (else refused)
    column: str = "数值 value"
    columns: tuple[str, str, str, str] = ("指标 indicator", "地区 region", "期间 period", "单位 unit")


def record_values(engine: Any, model: TargetsModel, cells: Iterable[CellEntry], *, entered_by: str,
                  source: str = "command", now: datetime,
                  regions: Regions | None = None) -> EntryResult:
    """Enter several values at once (a web form), all or nothing: every cell is checked like
    a file's cell, and if any is wrong nothing is written and EntryError lists every problem."""
    from tracker import store as db
    entered_at = _now(now)
    log = ProblemLog()
    regions = regions or load_regions()
    cells = list(cells)
    # A form is about a region or two and a few indicators: read what is stored for just
    # those, in two queries, however big the database (this runs holding the write lock).
    index = IndicatorIndex(model)
    ids = {ind.id for cell in cells if (ind := index.get(cell.indicator)) is not None}
    codes = set()
    for cell in cells:
        try:
            codes.add(regions.lookup(_norm(cell.region)).code)
        except RegionError:
            pass  # the validator says so
    with db.write_transaction(engine, values=True) as conn:
        stored_cells: dict[str, dict[tuple[str, str], tuple[int, float]]] = {}
        for (i, r, p), value in db.current_cells(conn, ids, codes).items():
            stored_cells.setdefault(i, {})[(r, p)] = value
        earlier: dict[str, dict[str, list[tuple[date, float]]]] = {}
        for (i, r), values in db.region_history(conn, ids, codes).items():
            earlier.setdefault(i, {})[r] = values
        v = Validator(model, regions, today_in_plan_tz(entered_at), log=log,
                      stored=lambda i: stored_cells.get(i, {}), history=lambda i: earlier.get(i, {}))
        accepted = []
        for cell in cells:
            v.correct = cell.correct
            a = v.check(None, cell.column, cell.indicator, cell.region, cell.period, cell.value, cell.unit,
                        cell.note, source, columns=cell.columns)
            if a is not None:
                accepted.append(a)
        if log.has_errors():
            raise EntryError(log.errors(), log.dropped, log.warnings())
        result = EntryResult(source, warnings=log.warnings(), unchanged=v.unchanged)
        if accepted:
            result.batch_id = db.new_batch(conn, source, entered_by, entered_at)
            db.ObservationWriter(conn).write([_row(a, result.batch_id, entered_by, entered_at) for a in accepted])
            db.finish_batch(conn, result.batch_id, len(accepted))
            result.written, result.corrections = len(accepted), v.corrections
    return result


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def import_file(engine: Any, path: str | Path, model: TargetsModel, *, entered_by: str,
                correct: bool = False, period: str | None = None, indicator: str | None = None,
                now: datetime, regions: Regions | None = None,
                dry_run: bool = False, permit: "Permit | None" = None) -> EntryResult:
    """Import a CSV or .xlsx file of values (and milestone progress sheets), all or nothing.

    Checks every cell, writing valid ones in chunks inside one transaction; if any cell is
    wrong the transaction is rolled back and EntryError lists every problem. `period` and
    `indicator` fill in for a wide sheet that has no such column. `permit` (the web app's
    permissions) refuses cells the person uploading may not write, as problems with
    code "forbidden".
    """
    from tracker import store as db
    path = Path(path)
    entered_at = _now(now)
    regions = regions or load_regions()
    log = ProblemLog(path.name)
    result = EntryResult(str(path), dry_run=dry_run)
    try:
        with db.write_transaction(engine, values=True) as conn:
            stored, history = _db_lookups(conn)
            validator = Validator(model, regions, today_in_plan_tz(entered_at), correct=correct,
                                  stored=stored, history=history, log=log)
            batch_id = db.new_batch(conn, str(path), entered_by, entered_at, sha256=_file_digest(path)) \
                if path.exists() else None
            result.batch_id = batch_id
            saw_values = False
            progress_repeats = 0
            for sheet_name, rows in read_sheets(path):
                source_prefix = path.name if sheet_name == path.name else f"{path.name}[{sheet_name}]"
                head = _head(rows)
                layout = find_layout(head, validator.indicators, log, period, indicator)
                if layout is None:
                    if any(any(c not in (None, "") for c in cells) for _, cells in head):
                        log.add(Problem("找不到表头（需要「地区」等列）", "no header row found (it needs a region "
                                        "column, or indicator/period/value columns)", column="", value=sheet_name,
                                        accepted_zh="指标、地区、期间、数值列（长表）；或地区列加指标列/月份列（宽表）",
                                        accepted_en="indicator, region, period, value columns (long); or a region "
                                                    "column with indicator or period columns (wide)"))
                    continue
                all_rows = _chain(head, rows)
                if layout.shape == "progress":
                    n, repeats = _import_progress(conn, layout, all_rows, model, regions, validator.today, log,
                                                  source_prefix, batch_id, entered_by, entered_at,
                                                  write=not dry_run, permit=permit)
                    result.progress_written += n
                    progress_repeats += repeats
                    saw_values = saw_values or n + repeats > 0
                    continue
                written, seen = _import_values(conn, validator, layout, all_rows, period, indicator, log,
                                               source_prefix, batch_id, entered_by, entered_at,
                                               write=not dry_run, permit=permit)
                result.written += written
                saw_values = saw_values or seen
            if validator.duplicates:
                _name_first_rows(path, validator, log, period, indicator)
            if not saw_values and not log.has_errors() and validator.unchanged == 0:
                log.add(Problem("文件中没有任何数值", "the file holds no values",
                                accepted_zh="至少一行数据", accepted_en="at least one row of values"))
            if log.has_errors():
                raise EntryError(log.errors(), log.dropped, log.warnings())
            result.corrections, result.unchanged = validator.corrections, validator.unchanged + progress_repeats
            result.warnings = log.warnings()
            if batch_id is not None:
                db.finish_batch(conn, batch_id, result.written + result.progress_written)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except FileRefused as exc:
        raise EntryError([Problem(exc.zh, exc.en, file=path.name,
                                  accepted_zh="CSV（UTF-8 或 GBK）或 Excel .xlsx 文件",
                                  accepted_en="a CSV (UTF-8 or GBK) or Excel .xlsx file")]) from exc
    return result


# (kind, item, where) -> allowed: ("value", indicator id, region code) or
# ("progress", milestone id, reporter)
Permit = Callable[[str, str, str], bool]


def forbidden_problem(row: int | None, column: str, value: str) -> Problem:
    """A cell the person entering it may not write (not their region or department)."""
    return Problem("无权填报：不属于本单位或本地区", "not permitted: not your department's or region's",
                   row=row, column=column, value=value, accepted_zh="本单位负责的指标、本地区的数据",
                   accepted_en="your department's indicators, your region's cells", code="forbidden")


class _DryRun(Exception):
    """Raised to leave the write transaction by rolling it back."""


def _head(rows: Iterator, n: int = 10) -> list:
    """The first rows of a sheet, where its header (after any title rows) must be."""
    return [item for _, item in zip(range(n), rows)]


def _chain(head: list, rest: Iterator) -> Iterator:
    yield from head
    yield from rest


def _import_values(conn: Any, validator: Validator, layout: Layout, rows: Iterator, period: str | None,
                   indicator: str | None, log: ProblemLog, source_prefix: str, batch_id: int | None,
                   entered_by: str, entered_at: datetime, write: bool,
                   permit: "Permit | None" = None) -> tuple[int, bool]:
    """Check and write one sheet's values in chunks; stops writing (not checking) at the
    first problem, since the transaction will be rolled back anyway."""
    from tracker import store as db
    writer = db.ObservationWriter(conn)
    written, seen = 0, False
    chunk: list[tuple[Any, ...]] = []
    check, labels = validator.check, layout.labels
    letters = [column_letter(i) for i in range(len(labels))]
    cols = (layout.label("indicator"), layout.label("region"), layout.label("period"), layout.label("unit"))
    tail = (entered_by, entered_at, batch_id)
    failed = False
    for n, col, ind, region, per, value, unit, note in layout_cells(layout, rows, period, indicator, log):
        seen = True
        accepted = check(n, labels[col], ind, region, per, value, unit, note,
                         f"{source_prefix}:{n}:{letters[col]}", cols)
        if accepted is None:
            failed = failed or log.has_errors()
            continue
        if permit is not None and not permit("value", accepted.indicator, accepted.region):
            log.add(forbidden_problem(n, labels[col], f"{accepted.indicator} / {accepted.region}"))
            failed = True
            continue
        if failed:
            continue
        chunk.append(accepted + tail)
        if len(chunk) >= CHUNK_ROWS:
            if write:
                writer.write(chunk)
            written += len(chunk)
            chunk = []
    if chunk and not log.has_errors():
        if write:
            writer.write(chunk)
        written += len(chunk)
    return written, seen


def _name_first_rows(path: Path, validator: Validator, log: ProblemLog, period: str | None,
                     indicator: str | None) -> None:
    """A duplicate is reported where it repeats; this second pass (only when there are
    duplicates) says where each first appeared, without having kept every row in memory."""
    firsts: dict[tuple[str, str, str], int] = {}
    scratch = Validator(validator.model, validator.regions, validator.today, log=ProblemLog())
    for _sheet, rows in read_sheets(path):
        head = _head(rows)
        layout = find_layout(head, scratch.indicators, ProblemLog(), period, indicator)
        if layout is None or layout.shape == "progress":
            continue
        for n, _col, ind, region, per, _value, _unit, _note in layout_cells(
                layout, _chain(head, rows), period, indicator, ProblemLog()):
            i = scratch.indicator(ind, n, "")
            r = scratch.region(region, n, "")
            p = scratch.period(per, i, n, "") if i else None
            if i and r and p and (i.id, r.code, p[0]) in validator.duplicates:
                firsts.setdefault((i.id, r.code, p[0]), n)
    for key, problem in validator.duplicates.items():
        if problem is not None and key in firsts and "首次" not in problem.zh:
            problem.zh += f"（首次出现在第{firsts[key]}行）"
            problem.en += f" (first on row {firsts[key]})"


# ---------------------------------------------------------------------------------------
# Milestone progress (里程碑进展)


STATE_WORDS = {**{s: s for s in MILESTONE_STATES}, **{v: k for k, v in MILESTONE_STATE_LABELS.items()},
               "进行中": "in_progress", "完成": "done", "已启动": "in_progress", "未开始": "not_started",
               "not started": "not_started", "in progress": "in_progress"}


def parse_state(text: Any) -> str | None:
    return STATE_WORDS.get(_norm(text).lower())


def find_milestone(model: TargetsModel, text: Any) -> tuple[Milestone | None, str]:
    """A milestone by id (or unique text); with a near-miss suggestion when not found."""
    key = _norm(text)
    for ms in model.milestones:
        if ms.id == key or ms.text == key:
            return ms, ""
    return None, _closest(key, [m.id for m in model.milestones])


def check_progress(model: TargetsModel, regions: Regions, today: date, milestone: Any, state: Any,
                   reporter: Any, reported_on: Any, note: Any, evidence: Any, row: int | None,
                   labels: dict[str, str], log: ProblemLog) -> dict[str, Any] | None:
    """Check one progress report; returns the columns to store, or None (see `log`)."""
    ms, near = find_milestone(model, milestone)
    ok = True
    if ms is None:
        log.add(Problem("未知里程碑", "unknown milestone", row=row, column=labels.get("milestone", ""),
                        value=_norm(milestone), accepted_zh="targets.yaml 中里程碑的编号",
                        accepted_en="a milestone id from targets.yaml", suggestion=near))
        ok = False
    code = parse_state(state)
    if code is None:
        log.add(Problem("无法识别的状态", "unknown state", row=row, column=labels.get("state", ""), value=_norm(state),
                        accepted_zh="未启动、推进中、已完成", accepted_en="not_started, in_progress, done (未启动/推进中/已完成)"))
        ok = False
    who = _norm(reporter)
    if not who:
        log.add(Problem("缺少报告单位", "reporter missing", row=row, column=labels.get("reporter", ""),
                        accepted_zh="部门名称（如 省民政厅）或地区", accepted_en="a department (省民政厅) or a region"))
        ok = False
    elif ms is not None:
        who = _progress_reporter(model, regions, ms, who, row, labels.get("reporter", ""), log) or ""
        ok = ok and bool(who)
    day = today
    if reported_on not in (None, ""):
        try:
            p = parse_period(reported_on)
            day = p.end if p.kind == "date" else None  # type: ignore[assignment]
        except PeriodError:
            day = None  # type: ignore[assignment]
        if day is None or day > today:
            log.add(Problem("报告日期无效或在未来", "report date invalid or in the future", row=row,
                            column=labels.get("reported_on", ""), value=_norm(reported_on),
                            accepted_zh=f"不晚于今天（{today.isoformat()}）的日期", accepted_en=f"a date up to {today}"))
            ok = False
    if not ok:
        return None
    if code == "done" and not _norm(evidence):
        log.add(Problem("已完成但未提供依据（文件文号或链接）", "done without evidence (a document number or link)",
                        row=row, column=labels.get("evidence", ""), level="warning"))
    return {"milestone": ms.id, "reporter": who, "state": code, "reported_on": day,  # type: ignore[union-attr]
            "note": _norm(note), "evidence": _norm(evidence)}


def _progress_reporter(model: TargetsModel, regions: Regions, ms: Milestone, who: str, row: int | None,
                       column: str, log: ProblemLog) -> str | None:
    """The reporter as stored: a responsible unit of the milestone's task, named exactly, or
    a region when local governments carry the task out. A typo would otherwise leave a
    reporter whose 推进中 could never be superseded, blocking 已完成 for good."""
    task = model.task(ms.plan, ms.task)
    names = [u.name for u in task.units if u.role != "local"]
    for name in names:
        if same_unit(name, who):
            return name
    local = any(u.role == "local" for u in task.units)
    if local:
        try:
            return regions.lookup(who).code
        except RegionError:
            pass
    near = next((n for n in names if unit_found(n, who)), "") or _closest(who, names)
    accepted = "、".join(names) + ("，或本任务负责落实的市县" if local else "")
    log.add(Problem("报告单位不是该任务的责任单位", "the reporter is not responsible for this task", row=row,
                    column=column, value=who, accepted_zh=accepted,
                    accepted_en=", ".join(names) + (", or a city/county carrying it out" if local else ""),
                    suggestion=near))
    return None


def _import_progress(conn: Any, layout: Layout, rows: Iterator, model: TargetsModel, regions: Regions,
                     today: date, log: ProblemLog, source_prefix: str, batch_id: int | None,
                     entered_by: str, entered_at: datetime, write: bool,
                     permit: "Permit | None" = None) -> tuple[int, int]:
    """(new reports, repeats of reports already stored)."""
    from tracker import store as db
    labels = {role: layout.label(role) for role in layout.roles}
    seen: set[tuple[str, str]] = set()
    stored = db.current_progress(conn)
    out = []
    repeats = 0
    for n, cells in rows:
        if n <= layout.header_row or not any(c not in (None, "") for c in cells):
            continue

        def at(role: str) -> Any:
            i = layout.roles.get(role)
            return cells[i] if i is not None and i < len(cells) else None

        if at("state") in (None, ""):
            continue  # a template row nobody filled in
        item = check_progress(model, regions, today, at("milestone"), at("state"), at("reporter"),
                              at("reported_on"), at("note"), at("evidence"), n, labels, log)
        if item is None:
            continue
        if permit is not None and not permit("progress", item["milestone"], item["reporter"]):
            log.add(forbidden_problem(n, labels.get("reporter", ""), f"{item['milestone']} / {item['reporter']}"))
            continue
        if (item["milestone"], item["reporter"]) in seen:
            log.add(Problem("同一里程碑和报告单位在本文件中重复", "the same milestone and reporter twice in this file",
                            row=n, value=f"{item['milestone']} / {item['reporter']}"))
            continue
        seen.add((item["milestone"], item["reporter"]))
        if stored.get((item["milestone"], item["reporter"])) == (
                item["state"], item["reported_on"], item["note"], item["evidence"]):
            repeats += 1  # the same report is already stored
            continue
        out.append({**item, "entered_by": entered_by, "entered_at": entered_at,
                    "source": f"{source_prefix}:{n}", "batch_id": batch_id})
    if write and not log.has_errors():
        db.insert_progress(conn, out)
    return len(out), repeats


def record_progress(engine: Any, model: TargetsModel, milestone: str, state: str, *, reporter: str,
                    entered_by: str, note: str = "", evidence: str = "", reported_on: str | None = None,
                    source: str = "command", now: datetime,
                    regions: Regions | None = None) -> EntryResult:
    """Record a milestone's state (未启动 / 推进中 / 已完成) for a department or region.
    Progress changes over time, so each report is a new row. Raises EntryError."""
    from tracker import store as db
    entered_at = _now(now)
    log = ProblemLog()
    item = check_progress(model, regions or load_regions(), today_in_plan_tz(entered_at), milestone, state,
                          reporter, reported_on, note, evidence, None,
                          {"milestone": "milestone", "state": "state", "reporter": "--reporter",
                           "reported_on": "--date", "evidence": "--evidence"}, log)
    if item is None or log.has_errors():
        raise EntryError(log.errors(), log.dropped, log.warnings())
    with db.write_transaction(engine, values=True) as conn:
        batch_id = db.new_batch(conn, source, entered_by, entered_at, kind="progress")
        db.insert_progress(conn, [{**item, "entered_by": entered_by, "entered_at": entered_at,
                                   "source": source, "batch_id": batch_id}])
        db.finish_batch(conn, batch_id, 1)
    return EntryResult(source, batch_id=batch_id, progress_written=1, warnings=log.warnings())


# ---------------------------------------------------------------------------------------
# Templates (填报模板): an Excel form that imports back unchanged in shape


def template_indicators(model: TargetsModel, unit: str, period_kind: str) -> list[Indicator]:
    """The indicators `unit` reports that are due in a period of this kind."""
    return [i for i in model.indicators if unit_found(i.reporter, unit)
            and FREQUENCY_KIND.get(i.frequency, i.frequency) == period_kind]


def template_milestones(model: TargetsModel, unit: str) -> list[Milestone]:
    """Milestones of tasks where `unit` is named among the responsible units."""
    return model.milestones_of_tasks(lambda task: task.names(unit))


def write_template(path: str | Path, model: TargetsModel, unit: str, period: str,
                   regions: Regions | None = None) -> dict[str, int]:
    """Write the .xlsx form for one responsible unit and period: a 填报 sheet with one row
    per region and one column per indicator (unit in the header, cells validated as
    numbers), a 里程碑进展 sheet for the unit's milestones, and 说明. `tracker import`
    reads the filled form back. Returns how many indicators and milestones it holds."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    regions = regions or load_regions()
    p = parse_period(period)
    indicators = template_indicators(model, unit, p.kind)
    milestones = template_milestones(model, unit)
    if not indicators and not milestones:
        known = sorted({i.reporter for i in model.indicators if i.reporter})
        raise EntryError([Problem(
            f"「{unit}」在该期间没有需要填报的指标或里程碑", f"{unit!r} reports no indicator due by "
            f"{p.kind} and no milestone", value=unit, accepted_zh="、".join(known), accepted_en=", ".join(known))])
    bold, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    wb = Workbook()
    ws = wb.active
    ws.title = "填报"
    ws.append([f"{unit} {p.label} 一老一小指标填报表（空白表示未报送）"])
    header = ["地区", "期间"] + [f"{i.name}（{units.label(i.unit) or i.unit}）[{i.id}]" for i in indicators] + ["备注"]
    ws.append(header)
    for cell in ws[2]:
        cell.font, cell.fill = bold, head_fill
    rows = [regions.province] + [r for c in regions.counties() for r in [c, *regions.children(c.code)]]
    for r in rows:
        ws.append([r.name, p.label])
    last = len(rows) + 2
    for col, ind in enumerate(indicators, start=3):
        letter = column_letter(col - 1)
        top = 100 if ind.kind == "percentage" and units.normalize(ind.unit) == "percent" else None
        dv = DataValidation(type="decimal", operator="between" if top else "greaterThanOrEqual",
                            formula1="0", formula2=str(top) if top else None, allow_blank=True,
                            showErrorMessage=True, error=f"请填写不小于0的数字（单位：{units.label(ind.unit)}）")
        dv.add(f"{letter}3:{letter}{last}")
        ws.add_data_validation(dv)
        ws[f"{letter}2"].comment = Comment(f"{ind.id}: {ind.description or ind.name}；单位 {ind.unit}", "tracker")
        ws.column_dimensions[letter].width = max(14, len(header[col - 1]) + 4)
    ws.column_dimensions["A"].width = 20
    if milestones:
        ms_ws = wb.create_sheet("里程碑进展")
        ms_ws.append(["里程碑", "内容", "报告单位", "状态", "依据", "备注"])
        for cell in ms_ws[1]:
            cell.font, cell.fill = bold, head_fill
        for ms in milestones:
            ms_ws.append([ms.id, ms.text, unit])
        states = DataValidation(type="list", formula1='"未启动,推进中,已完成"', allow_blank=True)
        states.add(f"D2:D{len(milestones) + 1}")
        ms_ws.add_data_validation(states)
        ms_ws.column_dimensions["B"].width = 60
    info = wb.create_sheet("说明")
    for line in (f"填报单位：{unit}", f"期间：{p.label}",
                 "数值按列标题中的单位填写，只填数字（如 15000，不写「1.5万」）；百分比填 0–100。",
                 "未报送的单元格留空；不要改动列标题和地区名称。",
                 "填好后用 `tracker import 文件名.xlsx` 导入；已有数值的更正需加 --correct。"):
        info.append([line])
    wb.save(path)
    return {"indicators": len(indicators), "milestones": len(milestones), "regions": len(rows)}
