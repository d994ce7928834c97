"""Checking cells against the targets model, the regions and the date: cells in, rows ready to
write out. No database here: what is already stored arrives through callables, so the
validator stays free of I/O of its own."""

import difflib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, NamedTuple

from tracker.actuals.problems import Problem, ProblemLog
from tracker.domain import units
from tracker.domain.model import Indicator, TargetsModel
from tracker.domain.numbers import NumberError, parse_number
from tracker.domain.periods import FREQUENCY_KIND, PeriodError, parse_period
from tracker.domain.regions import Region, RegionError, Regions

OUTLIER_FACTOR = 3.0  # a value more than 3x above or below the region's earlier range
EPOCH_YEAR = 1950  # periods before this are refused as typing mistakes
FRACTION_UNITS = {"小数": "dimensionless", "fraction": "dimensionless", "比值": "dimensionless"}




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
