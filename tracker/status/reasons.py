"""The reasons: the sentence a person reads, in Chinese or English, made from a judgement's
status code and figures, and from nothing else.

Every sentence of the status engine is written here, with the project's one number
formatter, unit labels and name lists (tracker.domain.format). Chinese reads as the documents
write it; English names regions by their English names, never by code, says states in words
(in progress, not in_progress) and counts in the singular when there is one.
"""

import re
from typing import Any

from tracker.domain.format import format_difference, format_value, name_list, region_name
from tracker.domain.model import (
    COMPARATOR_LABELS,
    COMPARATOR_LABELS_EN,
    MILESTONE_STATE_LABELS,
    MILESTONE_STATE_LABELS_EN,
)
from tracker.domain.regions import Regions
from tracker.status.model import MET_CODES, STATUS_LABELS, Status

LIST_LIMIT = 10  # regions named in a sentence before "等N个" / "and N more"
SPAN_LIMIT = 3  # periods listed one by one before "2023-06至2025-12（共31期）"
# The words that make a target soft (力争, 原则上, 基本), in English.
QUALIFIERS_EN = {"力争": "strive to", "原则上": "in principle", "基本": "basically"}
# Codes a soft target is not flagged for: met, on track, or not yet judged.
_NOT_MISSED = (*MET_CODES, "on_track", "no_data", "stale")
_YEAR = re.compile(r"^\d{4}$")


class Wording:
    """The reasons of one evaluation: region names looked up once, sentences made when a
    Status is first asked for its reason (see tracker.status.model.Status)."""

    def __init__(self, regions: Regions | None = None) -> None:
        self.regions = regions
        self._names: dict[tuple[str, str], str] = {}

    def region(self, code: str, lang: str) -> str:
        key = (code, lang)
        found = self._names.get(key)
        if found is None:
            found = region_name(self.regions, code, lang) if self.regions is not None else code
            self._names[key] = found
        return found

    def regions_list(self, codes: list[str], lang: str) -> str:
        return name_list([self.region(c, lang) for c in codes], LIST_LIMIT, lang)

    def __call__(self, status: Status, lang: str) -> str:
        return reason(status, lang, self)


def reason(status: Status, lang: str = "zh", wording: Wording | Regions | None = None) -> str:
    """The reason for `status` in `lang` ("zh" or "en"), from its code and figures alone."""
    words = wording if isinstance(wording, Wording) else Wording(wording)
    f = status.figures
    if status.kind == "milestone":
        return _milestone(status.code, f, status.as_of, lang)
    if "unknown_indicator" in f:
        return (f"截至{status.as_of}，指标 {f['unknown_indicator']} 未在 targets.yaml 中定义，无法评估。"
                if lang == "zh" else
                f"As of {status.as_of}, indicator {f['unknown_indicator']} is not defined in targets.yaml.")
    if "judged" in f:
        return _summary(status.code, f, status.as_of, lang, words)
    return _soft(status.code, f, _target(status.code, f, status.as_of, lang, words), lang)


# --- small phrases ---------------------------------------------------------------------------

def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _soft(code: str, f: dict[str, Any], text: str, lang: str) -> str:
    if not f.get("soft") or code in _NOT_MISSED:
        return text
    word = f.get("qualifier") or "力争"
    if lang == "zh":
        return text.rstrip("。") + f"（{word}目标，未达到，作提示）。"
    en = QUALIFIERS_EN.get(word)
    return text.rstrip(".") + (f" (soft target, “{en}”: flagged, not binding)." if en else
                               " (soft target: flagged, not binding).")


def _period(label: str, frequency: str | None, lang: str) -> str:
    return f"{label}年" if lang == "zh" and (frequency == "yearly" or _YEAR.match(label)) else label


def _unreported(f: dict[str, Any], lang: str) -> str:
    """'最新数据为2023年，2024、2025年未报送' / 'the latest data are for 2023; 2024 and 2025
    have not been reported'."""
    periods: list[str] = f["unreported_periods"]
    yearly = f.get("frequency") == "yearly"
    latest = _period(f["latest_period"], f.get("frequency"), lang)
    n = len(periods)
    if lang == "zh":
        if n > SPAN_LIMIT:
            listed = f"{periods[0]}至{periods[-1]}" + ("年" if yearly else "") + f"（共{n}{'年' if yearly else '期'}）"
        else:
            listed = "、".join(periods) + ("年" if yearly else "")
        return f"最新数据为{latest}，{listed}未报送"
    if n > SPAN_LIMIT:
        listed = f"{n} {'years' if yearly else 'periods'}, {periods[0]} to {periods[-1]}, have"
    elif n == 1:
        listed = f"{periods[0]} has"
    else:
        listed = ", ".join(periods[:-1]) + f" and {periods[-1]} have"
    return f"the latest data are for {latest}; {listed} not been reported"


# --- targets ---------------------------------------------------------------------------------

def _target(code: str, f: dict[str, Any], as_of: str, lang: str, words: Wording) -> str:
    zh = lang == "zh"
    unit = f.get("unit", "")
    deadline = f.get("deadline")
    passed = deadline is not None and as_of > deadline
    head = f"截至{as_of}，" if zh else f"As of {as_of}, "

    def value(v: float) -> str:
        return format_value(v, unit, lang)

    if f.get("no_data"):
        why = ""
        if f.get("source") == "none":  # regions may report the ratio, but ratios are never averaged
            why = ("（该比率指标无省级报送值，也未定义分子分母，不能由市县汇总）" if zh else
                   " (no province figure, and the ratio has no components to sum the regions with)")
        if code == "overdue":
            return (f"{head}未报送任何数据{why}，期限 {deadline} 已过，无法确认完成，逾期未完成。" if zh else
                    f"{head}nothing has been reported{why} and the deadline {deadline} has passed; "
                    "completion is not shown: overdue.")
        return f"{head}未报送任何数据{why}。" if zh else f"{head}nothing has been reported{why}."

    goal = value(f["target"])
    cmp = f["comparator"]
    met = "" if code not in ("achieved", "achieved_late") else (
        f"达到目标（{COMPARATOR_LABELS[cmp]} {goal}）" if zh else f"meets the target ({COMPARATOR_LABELS_EN[cmp]} {goal})")
    latest = _latest(f, lang, value)
    if code == "achieved":
        if passed:  # the value by the deadline
            v, p = value(f["achieved_value"]), f["achieved_period"]
            return (f"{head}期限 {deadline} 前最新值 {v}（{p}）{met}，已完成。" if zh else
                    f"{head}the latest value by the deadline {deadline}, {v} ({p}), {met}: achieved.")
        return f"{head}{latest}，{met}，已完成。" if zh else f"{head}{latest} {met}: achieved."
    if code == "achieved_late":
        v, p = value(f["achieved_value"]), f["achieved_period"]
        return (f"{head}期限 {deadline} 前未达标；{p} 数值 {v}{met}，逾期完成。" if zh else
                f"{head}the target was not met by the deadline {deadline}; the {p} value, {v}, "
                f"{met}: achieved late.")

    incomplete = _incomplete(f, lang, words)
    if incomplete:  # a province sum missing regions, a running sum missing periods
        if code == "overdue":
            return (f"{head}期限 {deadline} 已过，{latest}，{incomplete}，不能认定达标，逾期未完成。" if zh else
                    f"{head}the deadline {deadline} has passed; {latest}; {incomplete}, so it cannot "
                    "count as met: overdue.")
        return (f"{head}{latest}，{incomplete}，不能判定进度。" if zh else
                f"{head}{latest}; {incomplete}, so progress cannot be judged.")

    gap = format_difference(f.get("gap"), unit, lang)
    if cmp in (">=", ">"):
        short = f"低于目标 {goal}，差 {gap}" if zh else f"below the target of {goal}, short by {gap}"
    else:
        short = f"高于目标上限 {goal}，超出 {gap}" if zh else f"above the ceiling of {goal}, over by {gap}"
    unreported = _unreported(f, lang) if f.get("unreported_periods") else ""
    stale = ("；" if zh else "; ") + unreported if unreported else ""
    if code == "overdue":
        return (f"{head}期限 {deadline} 已过，{latest}，{short}{stale}，逾期未完成。" if zh else
                f"{head}the deadline {deadline} has passed; {latest} is {short}{stale}: overdue.")
    if deadline is None:
        return (f"{head}{latest}，{short}{stale}，未达标（无期限）。" if zh else
                f"{head}{latest} is {short}{stale}; not met (no deadline).")
    if code == "stale":
        return f"{head}{latest}，{unreported}，数据过期。" if zh else f"{head}{latest}; {unreported}: stale."

    parts = [f"{latest}，{short}" if zh else f"{latest} is {short}"]
    if f.get("baseline_from") == "predecessor":
        base, period = value(f["baseline"]), f["baseline_period"]  # the plan itself: figures' baseline_plan
        parts.append(f"基期值 {base}（{period}，上一期规划的期末值）" if zh else
                     f"the baseline is {base} ({period}), the final value of the preceding plan")
    if "expected" in f:
        expected = value(f["expected"])
        behind = format_difference(f["behind_by"], unit, lang) if f.get("behind") else ""
        if zh:
            parts.append(f"按计划进度此时应达 {expected}" + (f"（落后 {behind}）" if behind else ""))
        else:
            parts.append(f"the straight line to the target expects {expected} by now"
                         + (f" (behind by {behind})" if behind else ""))
    if "projected" in f:
        reach = f.get("projected_date")
        projected = value(f["projected"])
        if zh:
            when = f"（约 {reach} 达到目标）" if reach else "（按此趋势达不到目标）"
            parts.append(f"按近期趋势预计 {deadline} 达到 {projected}{when}")
        else:
            when = f" (reaching the target about {reach})" if reach else " (on this trend it never reaches the target)"
            parts.append(f"the recent trend projects {projected} at {deadline}{when}")
    else:
        parts.append("数据点不足，无法推算趋势" if zh else "too few values to project a trend")
    if unreported:
        parts.append(unreported)
    body = ("；" if zh else "; ").join(parts)
    if code == "lagging":
        return f"{head}{body}，进度滞后。" if zh else f"{head}{body}: lagging."
    if code == "due_soon":
        days = f["days_left"]
        return (f"{head}{body}；距期限 {deadline} 还有 {days} 天，尚未达标，临期。" if zh else
                f"{head}{body}; {_plural(days, 'day', 'days')} to the deadline {deadline} and not yet "
                "met: due soon.")
    return f"{head}{body}，进展正常。" if zh else f"{head}{body}: on track."


def _latest(f: dict[str, Any], lang: str, value: Any) -> str:
    """'最新值 25.7张/千人（2025-10）', or over part of the regions '最新值为 3/19 市县合计 …'."""
    v, p = value(f["latest"]), f["latest_period"]
    if f.get("partial"):
        n, of = f["coverage"].split("/")
        return (f"最新值为 {n}/{of} 市县合计 {v}（{p}）" if lang == "zh" else
                f"the latest value, {v} ({p}), sums only {n} of {of} regions")
    return f"最新值 {v}（{p}）" if lang == "zh" else f"latest value {v} ({p})"


def _incomplete(f: dict[str, Any], lang: str, words: Wording) -> str:
    parts = []
    if f.get("partial"):
        names = words.regions_list(f.get("missing_regions", []), lang)
        parts.append(f"缺 {names}" if lang == "zh" else f"missing {names}")
    gaps = f.get("missing_periods")
    if gaps:
        parts.append(f"累计期间有 {gaps} 期未报送" if lang == "zh" else
                     _plural(gaps, "period since the plan started is", "periods since the plan started are")
                     + " missing from the sum")
    return ("，" if lang == "zh" else "; ").join(parts)


def _summary(code: str, f: dict[str, Any], as_of: str, lang: str, words: Wording) -> str:
    """A 每个市县（区） target: how many regions meet it, and which do not."""
    zh = lang == "zh"
    unmet = f.get("not_met", [])
    text = (f"截至{as_of}，{f['met']} 市县（区）达标" if zh else f"As of {as_of}, {f['met']} regions meet the target")
    if unmet:
        by_status = sorted(f.get("by_status", {}).items(), key=lambda kv: STATUS_LABELS[kv[0]][2])
        i = 0 if zh else 1
        breakdown = ("，" if zh else ", ").join(f"{STATUS_LABELS[c][i]} {k}" for c, k in by_status)
        names = words.regions_list(unmet, lang)
        text += f"；未达标：{names}（{breakdown}）" if zh else f"; not met: {names} ({breakdown})"
    if f.get("soft") and unmet:
        word = f.get("qualifier") or "力争"
        en = QUALIFIERS_EN.get(word)
        return text + (f"（{word}目标，作提示）。" if zh else
                       f" (soft target, “{en}”: flagged, not binding)." if en else
                       " (soft target: flagged, not binding).")
    return text + ("。" if zh else ".")


# --- milestones ------------------------------------------------------------------------------

def _milestone(code: str, f: dict[str, Any], as_of: str, lang: str) -> str:
    zh = lang == "zh"
    head = f"截至{as_of}，" if zh else f"As of {as_of}, "
    deadline = f.get("deadline")
    if not f.get("reports"):
        if code == "overdue":
            return (f"{head}未报送任何进展，期限 {deadline} 已过，逾期。" if zh else
                    f"{head}no progress has been reported and the deadline {deadline} has passed: overdue.")
        return f"{head}未报送任何进展。" if zh else f"{head}no progress has been reported."
    day, note_text = f["latest_report"], f.get("note") or ""
    note = (f"（{note_text}）" if zh else f" (“{note_text}”)") if note_text else ""
    if code in ("done", "achieved_late"):
        done = f"{head}{f['done_on']} 报告已完成{note}" if zh else f"{head}reported done on {f['done_on']}{note}"
        if code == "achieved_late":
            return done + (f"，晚于期限 {deadline}，逾期完成。" if zh else f", after the deadline {deadline}: done late.")
        return done + ("。" if zh else ".")
    state = f.get("latest_state", "")
    if zh:
        said = f"最新进展为{MILESTONE_STATE_LABELS.get(state, state)}（{day}）"
    else:
        said = f"the latest report ({day}) says it is {MILESTONE_STATE_LABELS_EN.get(state, state.replace('_', ' '))}"
    if code == "overdue":
        return (f"{head}期限 {deadline} 已过，{said}{note}，逾期。" if zh else
                f"{head}the deadline {deadline} has passed and {said}{note}: overdue.")
    if code == "due_soon":
        days = f["days_left"]
        return (f"{head}{said}{note}，距期限 {deadline} 还有 {days} 天，临期。" if zh else
                f"{head}{said}{note}; {_plural(days, 'day', 'days')} to the deadline {deadline}: due soon.")
    if code == "stale":
        period = f.get("expected_period", "")
        return (f"{head}{said}，{period} 未报送进展，数据过期。" if zh else
                f"{head}{said}; nothing was reported for {period}: stale.")
    return f"{head}{said}{note}。" if zh else f"{head}{said}{note}."
