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

from tracker.actuals.bounds import plausible_bounds
from tracker.actuals.files import unguard
from tracker.actuals.problems import Problem, ProblemLog
from tracker.domain import units
from tracker.domain.model import Indicator, TargetsModel
from tracker.domain.numbers import NumberError, parse_quantity
from tracker.domain.periods import FREQUENCY_KIND, PeriodError, PeriodMismatch, parse_period, reporting_period
from tracker.domain.regions import Region, RegionError, Regions

OUTLIER_FACTOR = 3.0  # a value more than 3x above or below the region's earlier range
EPOCH_YEAR = 1950  # periods before this are refused as typing mistakes
SAMPLE_MARK = re.compile(r"示例数据|\bSAMPLE\b")  # how the project's sample rows are marked
NUMBER_ACCEPTED = ("数字，如 32、3.5、15,000、1.5万、30%、5‰，可带单位（1.2万张、350个）；未报送的留空",
                   ("a number such as 32, 3.5, 15,000, 1.5万, 30%, 5‰, with or without its unit (1.2万张, 350个); "
                    "leave it empty when not reported"))
KIND_NAMES = {"month": ("月", "month"), "quarter": ("季度", "quarter"), "year": ("年", "year"), "date": ("日期", "date")}


def is_sample(text: Any) -> bool:
    """Whether a note or source marks its row as sample data (示例数据 / SAMPLE)."""
    return bool(text) and SAMPLE_MARK.search(str(text)) is not None


def sample_problem(row: int | None, column: str, value: str, field: str = "note") -> Problem:
    """Sample data offered to a database that is not the demo's."""
    return Problem(
        "示例数据不能写入正式数据库", "sample data cannot go into a real database", row=row, column=column,
        value=value, field=field,
        accepted_zh="真实数据（备注和来源中不含「示例数据」「SAMPLE」）；示例数据用 tracker demo 载入它自己的数据库"
                    "（sample.db）；确需导入时加 --allow-sample",
        accepted_en="real figures (no 示例数据 or SAMPLE in the note or source); the sample goes into its own "
                    "database with tracker demo (sample.db); --allow-sample when it is really meant")


def _text(text: Any) -> str:
    """Free text (a note) as typed: only the surrounding spaces go. A leading apostrophe that
    guards a formula character (how an export writes '=…) is taken off again."""
    if text is None:
        return ""
    out = str(text).strip()
    return unguard(out)


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
    """The factor from a written unit to the indicator's unit (units.written_factor: 万张,
    小数 for a percentage, 个 for the thing counted, 张/千名老年人). Raises units.UnitError."""
    return units.written_factor(str(unit_text), indicator_unit)


def period_accepted(ind: Indicator) -> tuple[str, str]:
    kind = FREQUENCY_KIND.get(ind.frequency, ind.frequency)
    zh = {"month": "月份，如 2026-11", "quarter": "季度，如 2026Q3", "year": "年份，如 2025"}[kind]
    en = {"month": "a month such as 2026-11", "quarter": "a quarter such as 2026Q3",
          "year": "a year such as 2025"}[kind]
    if ind.kind != "flow":
        zh += f"；日期（如 2026-11-15）记为所在的{KIND_NAMES[kind][0]}"
        en += f"; a date (2026-11-15) stands for its {kind}"
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
    `in_file`: the cells come from a file (problems name rows and columns, a cell twice is
    a duplicate in the file) or were typed (a command, a form: problems name the field).
    `allow_sample`: rows marked as sample data (示例数据 / SAMPLE) may be stored.
    """

    def __init__(self, model: TargetsModel, regions: Regions, today: date, *, correct: bool = False,
                 stored: Callable[[str], dict[tuple[str, str], tuple[int, float]]] | None = None,
                 history: Callable[[str], dict[str, list[tuple[date, float]]]] | None = None,
                 log: ProblemLog | None = None, in_file: bool = True, allow_sample: bool = False) -> None:
        self.model = model
        self.regions = regions
        self.today = today
        self.correct = correct
        self.in_file = in_file
        self.allow_sample = allow_sample
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
        self._unit_cache: dict[tuple[Any, str], float | units.UnitError] = {}
        self._bounds_cache: dict[tuple[str, str], float | None] = {}
        self._sample_cache: dict[str, bool] = {}
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
                "未知指标", "unknown indicator", row=row, column=column, value=_norm(text), field="indicator",
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
            close = None if excluded or exc.detail else self.regions.closest(_norm(text))
            zh, en = exc.detail or (("不在本规划范围内的地区", "region not covered by the plan") if excluded
                                    else ("未知地区", "unknown region"))
            self.log.add(Problem(
                zh, en,
                row=row, column=column, value=_norm(text), field="region",
                accepted_zh=self.regions.naming()[0] + f"；全省填「{self.regions.province.name}」",
                accepted_en=self.regions.naming()[1] + f"; the whole province: {self.regions.province.name}",
                suggestion=close.name if close else ""))
            return None
        self._region_cache[text] = region
        return region

    def period(self, text: Any, ind: Indicator, row: int | None, column: str) -> tuple[str, date, int, str, str] | None:
        """(label, end, index within its kind, kind, the date it was given as) of the
        reporting period `text` means for `ind`: one key per period (a date for a quarterly
        indicator is its quarter)."""
        key = (text, ind.frequency, ind.kind == "flow")
        hit = self._period_cache.get(key)
        if hit is None:
            hit = self._parse_period(text, ind)
            self._period_cache[key] = hit
        if hit[0] is None:
            _, zh, en, _kind, _date = hit
            acc_zh, acc_en = period_accepted(ind)
            self.log.add(Problem(zh, en, row=row, column=column, value=_norm(text), field="period",
                                 accepted_zh=acc_zh, accepted_en=acc_en))
            return None
        return hit  # type: ignore[return-value]

    def _parse_period(self, text: Any, ind: Indicator) -> Any:
        want = FREQUENCY_KIND.get(ind.frequency, ind.frequency)
        try:
            if isinstance(text, datetime) and want == "month" and text.day == 1:
                given = parse_period(f"{text.year}-{text.month:02d}")  # Excel turns 2026-11 into a date
            else:
                given = parse_period(text)
            p = reporting_period(given, ind.frequency, flow=ind.kind == "flow")
        except PeriodMismatch as exc:
            if exc.given == "date":
                name = KIND_NAMES[want][0]
                write = {"month": "月份", "quarter": "季度", "year": "年份"}[want]
                return (None, f"日期对按{name}报送的流量指标有歧义（是整{name}的数还是截至当日的数？），请写{write}",
                        (f"a date is ambiguous for a flow reported by {want} (the whole {want}, or up to that day?); "
                         f"give the {want}"), "", "")
            return (None, f"期间类型与指标报送频率不符：这是{KIND_NAMES[exc.given][0]}，该指标按{KIND_NAMES[want][0]}报送",
                    f"period is a {exc.given}; this indicator is reported by {want}", "", "")
        except PeriodError as exc:
            if isinstance(text, float):  # Excel stored 2026.10 as the number 2026.1
                return (None, "期间有歧义：数字 2026.1 可能是 2026年1月 或 10月，请把该列设为文本或写成 2026-10",
                        str(exc), "", "")
            return (None, "不是有效的期间", "not a period", "", "")
        if p.start.year < EPOCH_YEAR:
            return (None, f"期间早于{EPOCH_YEAR}年", f"period before {EPOCH_YEAR}", "", "")
        if p.start > self.today:
            return (None, f"期间尚未开始（今天是{self.today.isoformat()}，北京时间）",
                    f"period is in the future (today is {self.today.isoformat()} in Asia/Shanghai)", "", "")
        y = p.start.year - EPOCH_YEAR
        index = {"month": y * 12 + p.start.month - 1, "quarter": y * 4 + (p.start.month - 1) // 3, "year": y}[p.kind]
        inside = given.label if given.kind == "date" and given.end != p.end else ""  # a day inside the period
        return (p.label, p.end, index, p.kind, inside)

    def factor(self, unit_text: Any, ind: Indicator, row: int | None, column: str,
               value: Any = None) -> float | None:
        """The factor from `unit_text` to the indicator's unit; `value` is the cell the unit
        was written in, when it came with the number (1.2万张) rather than in a unit column."""
        key = (unit_text, ind.unit)
        hit = self._unit_cache.get(key)
        if hit is None:
            try:
                hit = unit_factor(str(unit_text), ind.unit)
            except units.UnitError as exc:
                hit = exc
            self._unit_cache[key] = hit
        if isinstance(hit, units.UnitError):
            name = units.label(ind.unit)
            in_value = value is not None
            if in_value and hit.unknown:  # 一千二百x: not a number with a unit, but a typing slip
                self.log.add(Problem(
                    f"不是数字（「{_norm(unit_text)}」不是单位）", "not a number", row=row, column=column,
                    value=_norm(value), field="value", accepted_zh=NUMBER_ACCEPTED[0], accepted_en=NUMBER_ACCEPTED[1]))
                return None
            why = f"{hit.zh}；" if hit.zh else ""
            self.log.add(Problem(
                f"单位不对：{why}指标单位是「{name}」", f"wrong unit: {hit}", row=row, column=column,
                value=_norm(value if in_value else unit_text), field="value" if in_value else "unit",
                accepted_zh=(f"{name}，或可换算成它的单位" + ("" if "/" in name else f"（如 万{name}）")) if name
                else "不带单位的数字",
                accepted_en=f"{ind.unit} or a unit convertible to it"))
            return None
        return hit

    def sample(self, text: Any, row: int | None, column: str, field: str = "note") -> bool:
        """Whether `text` (a note, a source) marks sample data that may not be stored here;
        says so in the log."""
        if self.allow_sample or not text:
            return False
        key = str(text)
        marked = self._sample_cache.get(key)
        if marked is None:
            marked = is_sample(key)
            if len(self._sample_cache) < 10_000:  # notes repeat; a file of distinct notes is not kept
                self._sample_cache[key] = marked
        if marked:
            self.log.add(sample_problem(row, column, _text(text), field))
        return marked

    # -- one cell ------------------------------------------------------------------------

    def check(self, row: int | None, column: str, ind_text: Any, region_text: Any, period_text: Any,
              value: Any, unit_text: Any = None, note: Any = None, source: str = "",
              columns: tuple[str, ...] = ("", "", "", "")) -> Accepted | None:
        """Check one cell; returns it ready to write, or None (problems are in `self.log`;
        None without a problem means the same value is already stored).
        `columns` names the indicator, region, period, unit (and note) columns for messages."""
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
        sample = bool(note) and self.sample(note, row, columns[4] if len(columns) > 4 else "")
        if ind is None:
            return None
        period = self._period_cache.get((period_text, ind.frequency, ind.kind == "flow"))
        if period is None or period[0] is None:
            period = self.period(period_text, ind, row, columns[2])
        if number is None:
            return None
        unit = unit_from_text or (unit_text if unit_text not in (None, "") else None)
        if unit is not None:
            factor = (self.factor(unit, ind, row, columns[3]) if unit_from_text is None else
                      self.factor(unit, ind, row, column, value))
            if factor is None:
                return None
            number *= factor
        if not self._plausible(ind, region, number, value, row, column, fraction_hint=unit is None):
            return None
        if region is None or period is None or sample:
            return None
        label, end, index, kind, inside = period
        if self._seen_before(ind.id, region.code, kind, index):
            self.duplicates[(ind.id, region.code, label)] = self.log.add(Problem(
                "同一单元格在本文件中重复出现" if self.in_file else "同一单元格填了两次",
                "the same cell appears twice in this file" if self.in_file else "the same cell is given twice",
                row=row, column=column, value=f"{ind.id} / {region.name} / {label}", field="period",
                accepted_zh="每个指标、地区、期间只填一次（日期记为所在的期间）",
                accepted_en="each indicator, region and period once (a date stands for its period)"))
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
        if inside:
            self.log.add(Problem(f"日期 {inside} 记为{KIND_NAMES[kind][0]} {label}（该指标按{KIND_NAMES[kind][0]}报送）",
                                 f"the date {inside} is recorded as the {kind} {label} (reported by {kind})",
                                 row=row, column=columns[2], value=inside, field="period", level="warning"))
        if end > self.today:
            self.log.add(Problem(f"期间 {label} 尚未结束，数值按当前进度记录",
                                 f"period {label} has not ended yet; the value is recorded as provisional",
                                 row=row, column=columns[2], value=str(label), field="period", level="warning"))
        hist = self._history.get(ind.id)
        if hist is None:
            hist = self._history[ind.id] = self._history_fn(ind.id)
        if hist:
            self._check_outlier(hist, region, end, number, row, column, value)
        return Accepted(ind.id, region.code, label, end, number, revision, _text(note) if note else "", source)

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
                    number, unit = parse_quantity(text)
                except NumberError:
                    number = None
        if number is None or math.isnan(number) or math.isinf(number):
            self.log.add(Problem("不是数字", "not a number", row=row, column=column, value=_norm(value), field="value",
                                 accepted_zh=NUMBER_ACCEPTED[0], accepted_en=NUMBER_ACCEPTED[1]))
            return None, None
        return number, unit

    def _plausible(self, ind: Indicator, region: Region | None, number: float, raw: Any, row: int | None,
                   column: str, fraction_hint: bool) -> bool:
        """Within the bounds of what the indicator measures (tracker.actuals.bounds)."""
        if number < 0:
            self.log.add(Problem("不能为负数", "cannot be negative", row=row, column=column, value=_norm(raw),
                                 field="value", accepted_zh="0 或正数", accepted_en="zero or a positive number"))
            return False
        kind = region.kind if region is not None else ""
        key = (ind.id, kind)
        try:
            high = self._bounds_cache[key]
        except KeyError:
            high = self._bounds_cache[key] = plausible_bounds(ind, kind or None).high
        if high is not None and (number > high * (1 + 1e-12) or not math.isfinite(number)):
            bounds = plausible_bounds(ind, kind or None)
            self.log.add(Problem(
                f"超出合理范围：应在 {bounds.range_text(ind.unit)} 之间（{bounds.why_zh}）",
                f"outside the plausible range {bounds.range_text(ind.unit, 'en')} ({bounds.why_en})",
                row=row, column=column, value=_norm(raw), field="value",
                accepted_zh=bounds.range_text(ind.unit), accepted_en=bounds.range_text(ind.unit, "en")))
            return False
        if fraction_hint and ind.kind == "percentage" and 0 < number <= 1 and units.normalize(ind.unit) == "percent":
            self.log.add(Problem(
                f"按 {number:g}% 记录；如果是小数 {number:g}（即 {number * 100:g}%），请写 {number * 100:g}% 或单位填「小数」",
                f"recorded as {number:g}%; if you meant the fraction {number:g} ({number * 100:g}%), "
                f"write {number * 100:g}% or give the unit 小数", row=row, column=column,
                value=_norm(raw), field="value", level="warning"))
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
                row=row, column=column, value=f"{number:g}", field="value",
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
                row=row, column=column, value=_norm(raw), field="value", level="warning"))
