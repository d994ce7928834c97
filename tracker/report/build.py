"""The monthly status report: one context dict, dumped as JSON and rendered as one HTML file.

Why one dict: the JSON copy for machines must say exactly what the page shows, so the page is
rendered from the very dict that is dumped (every value a person reads is a string or number
in it; charts are drawn from its plain points). Building the dict is pure (model, statuses,
observations, regions and a date in); the only I/O is `write_report`, which writes the page,
the JSON and the index atomically (temporary file, then rename), so a crash mid-way leaves the
previous reports and the index as they were.

Layout follows how the supervising commission reads it: headline counts with lights, overdue
items first (with responsible units and the distance from the target), then lagging and due
soon, then the rest; then views by unit, by region, data completeness and changes since the
previous report.
"""

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from tracker.domain.format import format_difference, format_moment, format_share, format_value, name_list, region_name
from tracker.domain.model import (
    ATTRIBUTE_LABELS,
    ATTRIBUTE_LABELS_EN,
    COMPARATOR_LABELS,
    COMPARATOR_LABELS_EN,
    MILESTONE_STATE_LABELS,
    MILESTONE_STATE_LABELS_EN,
    Milestone,
    Observation,
    Target,
    TargetsModel,
    Task,
)
from tracker.domain.organisations import canonical, is_local, organisation_name
from tracker.domain.periods import FREQUENCY_KIND, PLAN_TZ, period_containing, submission_deadline
from tracker.domain.regions import Regions
from tracker.domain.units import label as units_label
from tracker.report.fragments import Fragments
from tracker.report.labels import UI
from tracker.status.engine import (
    MET_CODES,
    STATUS_LABELS,
    SeriesResolver,
    SeriesSet,
    Status,
    cumulate,
    knowledge_cutoff,
    series_from_observations,
)

SCHEMA = 2  # 2: chart points as objects (period, partial), by_unit as summaries, run.kind, generated_text

# Traffic lights: red needs action now, yellow needs attention, grey is missing data.
LIGHTS: dict[str, str] = {
    "overdue": "red",
    "lagging": "yellow", "due_soon": "yellow", "not_started": "yellow",
    "no_data": "grey", "stale": "grey",
    "on_track": "green", "in_progress": "green", "achieved_late": "green",
    "achieved": "green", "done": "green",
}
LIGHT_ORDER = ("red", "yellow", "grey", "green")
SECTION_OF = {"overdue": "overdue", "lagging": "attention", "due_soon": "attention"}
SAMPLE_MARKS = ("示例数据", "sample")
RUN_KINDS = ("scheduled", "on_demand")  # the monthly run; `tracker report` or the web's button


@dataclass(frozen=True)
class Limits:
    """How much a report lists before it summarises, so a national-scale report stays a file a
    browser opens comfortably."""

    region_rows: int = 300  # rows of the region matrix (rows with problems come first)
    names: int = 30  # region names listed in one cell ("等 N 个")
    new_values: int = 200  # new values listed individually
    status_changes: int = 300


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    json: Path
    index: Path
    statuses: list[Status] = field(default_factory=list, repr=False)  # what the report shows


# ---------------------------------------------------------------------------------------------
# formatting


def _region_name(regions: Regions, code: str | None, lang: str) -> str:
    return region_name(regions, code, lang)  # the reasons' names too (tracker.domain.format)


def _light(code: str) -> str:
    return LIGHTS.get(code, "grey")


def _status_label(code: str, lang: str) -> str:
    zh, en, _ = STATUS_LABELS.get(code, (code, code, 9))
    return zh if lang == "zh" else en


def _severity(code: str) -> int:
    return STATUS_LABELS.get(code, ("", "", 9))[2]


# ---------------------------------------------------------------------------------------------
# observations: one pass, summarised


@dataclass
class _Digest:
    """What the report needs from the values: the status engine's series (for the charts and
    for who reported which period), the values entered since the previous report, and whether
    any of them is marked as sample data."""

    series: SeriesSet
    resolver: SeriesResolver  # sums regions and recomputes ratios as evaluate does
    latest: dict[str, dict[str, int]]  # indicator -> region -> day number of its latest period
    new: list[Observation]
    sample: bool


def _digest(model: TargetsModel, observations: "Iterable[Observation] | SeriesSet", regions: Regions,
            as_of: date, since: date | None, new_values: Iterable[Observation] | None,
            known: tuple[datetime | None, datetime | None] = (None, None),
            resolver: SeriesResolver | None = None) -> _Digest:
    """`since` is the previous report's as-of date: values entered after the end of that day
    (Asia/Shanghai) and known by the end of `as_of` are new. `known` (the previous report's and
    this one's knowledge moments, when they were written with the figures known at a run)
    replaces those two ends."""
    if isinstance(observations, SeriesSet):
        series, listed = observations, list(new_values or [])
    else:
        listed = list(observations)
        series = series_from_observations(listed, as_of)
    new: list[Observation] = []
    sample = False
    start = known[0] or (knowledge_cutoff(since) if since is not None else None)
    end = known[1] or knowledge_cutoff(as_of)
    for obs in listed:
        if not sample and (obs.note or obs.source):
            text = f"{obs.note} {obs.source}".lower()
            sample = any(m in text for m in SAMPLE_MARKS)
        if start is None or obs.period_end > as_of:
            continue
        if obs.entered_at is not None:
            fresh = start <= obs.entered_at < end
        else:  # no entry time: known once its period has ended
            fresh = since is not None and obs.period_end > since
        if fresh:
            new.append(obs)
    if resolver is None or resolver.series is not series or resolver.regions is not regions or resolver.model is not model:
        resolver = SeriesResolver(model, series, regions)
    return _Digest(series, resolver, series.latest_days(), new, sample)


def _whole_series(model: TargetsModel, t: Target, digest: _Digest) -> list[tuple[tuple[int, float], tuple[int | None, int]]]:
    """The series a whole-area target is judged on, as the status engine builds it (the
    plan region's own figures, or counts summed over the 市县 and ratios from summed
    components), cumulated for cumulative targets: ((day, value), (regions covered or None,
    regions expected)) for every point, those over part of the regions included."""
    ind = digest.resolver.indicators.get(t.indicator)
    if ind is None:
        return []
    s, _ = digest.resolver.province_series(ind)
    if s is None:
        return []
    if t.cumulative:
        start = next((p.start for p in model.plans if p.id == t.plan), None)
        if start is not None:
            s = cumulate(s, start, ind.frequency)
            if s is None:
                return []
    covered = s.covered
    return [((d, v), (covered[i] if covered is not None else None, s.expected_regions))
            for i, (d, v) in enumerate(zip(s.days, s.values))]


# ---------------------------------------------------------------------------------------------
# items


ROLE_ORDER = ("lead", "joint", "participating", "local")


def _units(task: Task | None, lang: str) -> dict[str, list[str]]:
    """The task's organisations by role, each once (synonyms folded) and named in `lang`."""
    out: dict[str, list[str]] = {role: [] for role in ("lead", "participating", "joint", "local")}
    if task is None:
        return out
    for role, names in out.items():
        seen: set[str] = set()
        for name in task.units_in(role):
            key = canonical(name)
            if key not in seen:
                seen.add(key)
                names.append(organisation_name(name, lang))
    return out


def _task_of(model: TargetsModel, plan: str, number: int) -> Task | None:
    try:
        return model.task(plan, number)
    except KeyError:
        return None


def _target_text(t: Target, lang: str) -> str:
    value = format_value(t.value, t.unit, lang)
    if lang == "zh":
        text = f"{COMPARATOR_LABELS.get(t.comparator, t.comparator)}{value}"
        if t.scope == "each_region":
            text = "每个市县（区）" + text
        if t.soft:
            text = f"{t.qualifier or '力争'}{text}"
        if t.deadline:
            text += f"（{t.deadline.isoformat()}前）"
        return text
    text = f"{COMPARATOR_LABELS_EN.get(t.comparator, t.comparator)} {value}"
    if t.scope == "each_region":
        text = "every city/county (district): " + text
    if t.soft:
        text += " (soft target)"
    if t.deadline:
        text += f" by {t.deadline.isoformat()}"
    return text


def _task_label(number: int, lang: str) -> str:
    return f"第{number}项" if lang == "zh" else f"No. {number}"


def _gap(t: Target, latest: float | None) -> float | None:
    if latest is None:
        return None
    short = t.value - latest if t.comparator in (">=", ">") else latest - t.value
    return max(0.0, short)


def _deadline_text(deadline: date | None, as_of: date, lang: str, met: bool = False) -> str:
    if deadline is None:
        return "无期限" if lang == "zh" else "no deadline"
    if met:  # counting days past a deadline that was met would read as a failure
        return deadline.isoformat()
    days = (as_of - deadline).days
    if days > 0:
        return f"{deadline.isoformat()}（已逾期{days}天）" if lang == "zh" else f"{deadline.isoformat()} ({days} days overdue)"
    return f"{deadline.isoformat()}（剩余{-days}天）" if lang == "zh" else f"{deadline.isoformat()} ({-days} days left)"


@lru_cache(maxsize=4096)
def _day_and_period(day: int, frequency: str) -> tuple[str, str]:
    """A period end's ISO date and the label of its period: every chart of a report, and every
    report of a run, has the same few dozen."""
    end = date.fromordinal(day)
    return end.isoformat(), period_containing(end, FREQUENCY_KIND.get(frequency, "month")).label


def _point(day: int, value: float, frequency: str, covered: int | None, expected: int) -> dict[str, Any]:
    iso, period = _day_and_period(day, frequency)
    point: dict[str, Any] = {"date": iso, "value": round(value, 4), "period": period,
                             "partial": covered is not None and covered < expected}
    if point["partial"]:
        point["coverage"] = f"{covered}/{expected}"
    return point


def _chart(model: TargetsModel, t: Target, digest: _Digest, figures: dict[str, Any],
           lang: str) -> dict[str, Any] | None:
    """The series a whole-area target is judged on, every point of it (a point summed over part
    of the regions marked partial, so a month with late reporters is not read as a fall), with
    the trajectory, the target and the words of its legend."""
    if t.scope != "whole":
        return None
    ind = digest.resolver.indicators.get(t.indicator)
    points = [_point(*p, ind.frequency, *c) for p, c in _whole_series(model, t, digest)] if ind else []
    if not points:
        return None
    chart: dict[str, Any] = {"points": points, "target": t.value, "unit": t.unit,
                             "deadline": t.deadline.isoformat() if t.deadline else None}
    start_value = figures.get("baseline", t.baseline)
    start_day = figures.get("baseline_date") or points[0]["date"]
    if start_value is None:
        start_value = next((p["value"] for p in points if not p["partial"]), None)
    if t.deadline and isinstance(start_value, (int, float)):
        chart["trajectory"] = [[start_day, float(start_value)], [t.deadline.isoformat(), t.value]]
    words = UI[lang]
    unit = units_label(t.unit, lang)
    chart["legend"] = {
        "values": words["chart_values"] + (f"（{unit}）" if lang == "zh" and unit else f" ({unit})" if unit else ""),
        "partial": words["chart_partial"] if any(p["partial"] for p in points) else "",
        "trajectory": words["chart_trajectory"] if "trajectory" in chart else "",
        "target": f"{words['chart_target']} {_target_text(t, lang)}",
    }
    return chart


def _latest_text(t: Target, figures: dict[str, Any], chart: dict[str, Any] | None, lang: str) -> tuple[Any, str]:
    """(the latest value, as the card says it): the status' figure with its period, or over
    part of the regions "3/19 市县合计 …" as the reasons say it; else the chart's last point."""
    latest, period = figures.get("latest"), figures.get("latest_period")
    covered = expected = None
    if figures.get("partial") and figures.get("coverage"):
        covered, expected = (int(x) for x in str(figures["coverage"]).split("/"))
    if latest is None and chart:
        last = chart["points"][-1]
        latest, period = last["value"], last["period"]
        if last["partial"]:
            covered, expected = (int(x) for x in last["coverage"].split("/"))
    if not isinstance(latest, (int, float)):
        return None, ""
    text = format_value(latest, t.unit, lang)
    if period:
        text += f"（{period}）" if lang == "zh" else f" ({period})"
    if covered is not None and expected is not None and t.scope == "whole":
        text = format_share(covered, expected, text, lang)
    return latest, text


def _states_text(figures: dict[str, Any], lang: str) -> str:
    """'最新报告 2026-09-30；省卫生健康委：已完成；省民政厅：推进中' — states in words, reporters by name."""
    text = ""
    if figures.get("latest_report"):
        text = f"最新报告 {figures['latest_report']}" if lang == "zh" else f"latest report {figures['latest_report']}"
    states = figures.get("states") or {}
    if len(states) > 1:  # several reporters: say who is where
        labels = MILESTONE_STATE_LABELS if lang == "zh" else MILESTONE_STATE_LABELS_EN
        words = [f"{organisation_name(who, lang)}{'：' if lang == 'zh' else ': '}{labels.get(st, st.replace('_', ' '))}"
                 for who, st in states.items()]
        sep = "；" if lang == "zh" else "; "
        text = sep.join(([text] if text else []) + words)
    return text


def _item(status: Status, model: TargetsModel, targets: dict[str, Target], milestones: dict[str, Milestone],
          digest: _Digest, regions: Regions, as_of: date, lang: str, limits: Limits) -> dict[str, Any]:
    code = status.code
    item: dict[str, Any] = {
        "id": status.item_id, "anchor": "item-" + re.sub(r"[^A-Za-z0-9_-]", "-", status.item_id),
        "kind": status.kind, "status": code, "light": _light(code),
        "status_label": status.display_label(lang) if code in STATUS_LABELS else _status_label(code, lang),
        "region": status.region, "region_name": _region_name(regions, status.region, lang),
        "reason": status.reason(lang) if code in STATUS_LABELS else (status.reason_zh if lang == "zh" else status.reason_en),
    }
    figures = status.figures or {}
    t = targets.get(status.item_id) if status.kind == "target" else None
    m = milestones.get(status.item_id) if status.kind != "target" else None
    if t is not None:
        ind = next((i for i in model.indicators if i.id == t.indicator), None)
        task = _task_of(model, t.plan, t.task)
        chart = _chart(model, t, digest, figures, lang)
        latest, latest_text = _latest_text(t, figures, chart, lang)
        gap = figures.get("gap", _gap(t, latest) if t.scope == "whole" and not figures.get("partial") else None)
        failing = [s for s in status.regions if _light(s.code) != "green"]
        if t.scope == "each_region" and status.regions:
            met = len(status.regions) - len(failing)
            latest_text = (f"{met}/{len(status.regions)} 个地区达标" if lang == "zh"
                           else f"{met} of {len(status.regions)} regions meet it")
        if isinstance(gap, (int, float)) and gap > 0:
            gap_text = ("差" if lang == "zh" else "short by ") + format_difference(gap, t.unit, lang)
        elif t.scope == "each_region" and failing:
            gap_text = (f"{len(failing)}个地区未达标" if lang == "zh"
                        else f"{len(failing)} {'region' if len(failing) == 1 else 'regions'} not meeting it")
        else:
            gap_text = ""
        item.update({
            "title": ind.label(lang) if ind else t.indicator, "indicator": t.indicator, "unit": t.unit,
            "scope": t.scope, "soft": t.soft, "binding": t.binding,
            "attribute": t.attribute, "attribute_label": _attribute_label(t.attribute, lang),
            "target_text": _target_text(t, lang), "latest": latest, "latest_text": latest_text,
            "gap": gap, "gap_text": gap_text,
            "deadline": t.deadline.isoformat() if t.deadline else None,
            "deadline_text": _deadline_text(t.deadline, as_of, lang, code in MET_CODES),
            "quote": t.quote, "task": t.task, "task_label": _task_label(t.task, lang), "plan": t.plan,
            "units": _units(task, lang), "chart": chart,
            "failing_regions": name_list([_region_name(regions, s.region, lang) for s in failing[:limits.names]],
                                         limits.names, lang, total=len(failing)),
        })
        if figures.get("unapproved"):  # approval required: figures not approved yet
            item.update(_unapproved(figures["unapproved"], regions, lang, limits))
        _implements(item, model, task, lang)
    else:
        task = _task_of(model, m.plan, m.task) if m else None
        item.update({
            "title": m.label(lang) if m else status.item_id, "indicator": None, "unit": "", "scope": "whole",
            "soft": False, "binding": False, "attribute": "", "attribute_label": "",
            "target_text": ("按期完成" if lang == "zh" else "done on time") if m and m.deadline else "",
            "latest": None, "latest_text": _states_text(figures, lang), "gap": None, "gap_text": "",
            "deadline": m.deadline.isoformat() if m and m.deadline else None,
            "deadline_text": _deadline_text(m.deadline if m else None, as_of, lang, code in MET_CODES),
            "quote": (m.quote or m.text) if m else "", "task": m.task if m else None,
            "task_label": _task_label(m.task, lang) if m else "", "plan": m.plan if m else "",
            "units": _units(task, lang), "chart": None, "failing_regions": "",
            "note": str(figures.get("note") or ""), "evidence": str(figures.get("evidence") or ""),
        })
        _implements(item, model, task, lang)
    return item


def _implements(item: dict[str, Any], model: TargetsModel, task: Task | None, lang: str) -> None:
    """The higher-level tasks the item's task carries out (国务院办公厅 第7项): the roll-up of the
    plan above lists this task under each of them, so the link reads both ways."""
    if task is None or not task.implements:
        return
    plans = {p.id: p for p in model.plans}
    names = []
    for ref in task.implements:
        plan_id, _, number = ref.partition("#")
        plan = plans.get(plan_id)
        issuer = organisation_name(plan.issuer, lang) if plan else plan_id
        names.append(f"{issuer} {_task_label(int(number), lang)}" if number.isdigit() else ref)
    item["implements"] = list(task.implements)
    item["implements_text"] = ("、" if lang == "zh" else "; ").join(names)


def _unapproved(codes: list[str], regions: Regions, lang: str, limits: Limits) -> dict[str, Any]:
    names = name_list([_region_name(regions, c, lang) for c in codes], limits.names, lang)
    return {"unapproved": len(codes), "unapproved_text": UI[lang]["unapproved_text"].format(n=len(codes), names=names)}
def _attribute_label(attribute: str, lang: str) -> str:
    return (ATTRIBUTE_LABELS if lang == "zh" else ATTRIBUTE_LABELS_EN).get(attribute, "")


def _sort_key(item: dict[str, Any]) -> tuple:
    """Worst first; within a status the 约束性 (binding) targets before the others."""
    return (_severity(item["status"]), not item.get("binding"), item["deadline"] or "9999", item["plan"] or "",
            item["task"] or 0, item["id"])


# ---------------------------------------------------------------------------------------------
# views


def _by_unit(items: list[dict[str, Any]], tasks: list[Task | None], lang: str) -> list[dict[str, Any]]:
    """What each organisation answers for, as one summary line: how many of its items stand
    where (by light) and in which role, with the items themselves behind a disclosure. An
    organisation written two ways (各市县政府, 各市县人民政府) is one organisation."""
    units: dict[str, dict[str, Any]] = {}
    for it, task in zip(items, tasks):
        if task is None:
            continue
        roles: dict[str, str] = {}
        for role in ROLE_ORDER:  # one role per organisation and item: the strongest
            for name in task.units_in(role):
                roles.setdefault(canonical(name), role)
        for key, role in roles.items():
            u = units.setdefault(key, {
                "unit": organisation_name(key, lang), "local": is_local(key),
                "counts": {light: 0 for light in LIGHT_ORDER}, "roles": {r: 0 for r in ROLE_ORDER}, "items": []})
            u["counts"][it["light"]] += 1
            u["roles"][role] += 1
            u["items"].append({"anchor": it["anchor"], "title": it["title"], "status": it["status"],
                               "status_label": it["status_label"], "light": it["light"],
                               "role": role, "role_label": UI[lang]["role_" + role]})
    out = list(units.values())
    for u in out:
        u["total"] = len(u["items"])
        u["items"].sort(key=lambda r: (_severity(r["status"]), ROLE_ORDER.index(r["role"])))
        u["roles_text"] = ("，" if lang == "zh" else ", ").join(
            f"{UI[lang]['role_' + r]} {n}" for r, n in u["roles"].items() if n)
    # departments first, the worst first; the local governments, who carry every task, last
    out.sort(key=lambda u: (u["local"], -u["counts"]["red"], -u["counts"]["yellow"], -u["total"], u["unit"]))
    return out


def _cell(r: Status, unit: str, lang: str) -> dict[str, Any]:
    latest = (r.figures or {}).get("latest")
    return {"status": r.code, "label": _status_label(r.code, lang), "light": _light(r.code),
            "value_text": format_value(latest, unit, lang) if isinstance(latest, (int, float)) else ""}


def _by_region(statuses: Sequence[Status], items_by_id: dict[str, dict[str, Any]], regions: Regions,
               lang: str, limits: Limits, fragments: Fragments | None = None) -> dict[str, Any]:
    """A matrix of regions × per-region targets, so each city or county finds its own row.
    With `fragments`, a cell made from the same region's status before, and a row of the same
    cells, are those made then (their HTML too: tracker.report.render)."""
    columns = [s for s in statuses if s.kind == "target" and s.regions]
    cells: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for s in columns:
        unit = items_by_id.get(s.item_id, {}).get("unit", "")
        for r in s.regions:
            if r.region is None:
                continue
            cells[r.region][s.item_id] = _cell(r, unit, lang) if fragments is None else \
                fragments.get((r,), ("cell", unit, lang), lambda r=r, unit=unit: _cell(r, unit, lang))
    order = {r.code: i for i, r in enumerate(regions.judged_regions() + regions.all)} 
    codes = sorted(cells, key=lambda c: (order.get(c, len(order)), c))
    rows = []
    for c in codes:
        row_cells = [cells[c].get(s.item_id) for s in columns]

        def row(c: str = c, row_cells: list = row_cells) -> dict[str, Any]:
            failing = sum(1 for x in row_cells if x is None or x["light"] != "green")
            return {"region": c, "name": _region_name(regions, c, lang), "cells": row_cells, "failing": failing}

        rows.append(row() if fragments is None else
                    fragments.get((regions, *row_cells), ("row", c, lang), row))
    omitted = 0
    if len(rows) > limits.region_rows:
        problem = [r for r in rows if r["failing"]]
        keep = problem[: limits.region_rows]
        omitted = len(rows) - len(keep)
        rows = keep
    return {
        "columns": [{"id": s.item_id, "anchor": items_by_id.get(s.item_id, {}).get("anchor", ""),
                     "title": items_by_id.get(s.item_id, {}).get("title", s.item_id)} for s in columns],
        "rows": rows, "omitted": omitted,
    }


def _completeness_below(model: TargetsModel, regions: Regions, below: Sequence[Any], lang: str,
                        limits: Limits) -> dict[str, Any]:
    """A plan above others (the national plan): per unit (province) with a plan loaded, what its
    own plan's regions have not reported for that plan's indicators; the units with no plan
    named once (无规划), not listed as missing every indicator. `below`: (unit code, plan id
    or None, that plan's gaps, that plan's regions) per unit, in the upper regions' order."""
    names = {i.id: i.label(lang) for i in model.indicators}
    words = UI[lang]
    by_unit, region_rows, no_plan = [], [], []
    for code, plan_id, gaps, own in below:
        name = _region_name(regions, code, lang)
        if plan_id is None:
            no_plan.append(name)
            continue
        rows = [_gap_row(g, names.get(g.indicator, g.name), own, lang, limits) for g in gaps]
        missing = [r for r in rows if not r["complete"]]
        by_unit.append({"unit": name, "region": code, "plan": plan_id, "rows": rows, "missing": len(missing),
                        "summary": words["plan_reported"].format(n=len(rows) - len(missing), of=len(rows))})
        if missing:
            region_rows.append({"region": code, "name": name, "count": len(missing),
                                "missing": name_list([f"{r['indicator']}（{r['reported']}）" if lang == "zh" else
                                                      f"{r['indicator']} ({r['reported']})" for r in missing],
                                                     limits.names, lang)})
    by_unit.sort(key=lambda u: -u["missing"])  # stable: the regions' order among equals
    region_rows.sort(key=lambda r: -r["count"])
    omitted = max(0, len(region_rows) - limits.region_rows)
    return {"by_unit": by_unit, "by_region": region_rows[: limits.region_rows], "omitted": omitted,
            "no_plan": no_plan,
            "no_plan_text": words["no_plan_units"].format(n=len(no_plan), names=name_list(no_plan, limits.names, lang))
            if no_plan else ""}


def _completeness(model: TargetsModel, digest: _Digest, regions: Regions, plan_region: str,
                  as_of: date, grace_days: int, lang: str, limits: Limits,
                  gaps: Sequence[Any] | None = None, plans: Sequence[str] | None = None) -> dict[str, Any]:
    """Who has not reported for the period each indicator's frequency expects (after the grace
    period): by reporting unit, and by region (tracker.status.completeness decides; this lays it out).
    `gaps` given (the service's, with approval states): each row also says how many regions'
    figures are 未报送 / 已提交未审核 / 已审核. `plans`: whose targets say what is wanted (the
    report's plans; default every plan's)."""
    from tracker.status.completeness import missing_reports

    units: dict[str, list[dict[str, Any]]] = defaultdict(list)
    missing_by_region: dict[str, list[str]] = defaultdict(list)
    names = {i.id: i.label(lang) for i in model.indicators}
    if gaps is None:
        gaps = missing_reports(model, digest.latest, regions, plan_region, as_of, grace_days, plans or None)
    for gap in gaps:
        name = names.get(gap.indicator, gap.name)
        for c in gap.missing:
            missing_by_region[c].append(name)
        unit = organisation_name(gap.reporter, lang) if gap.reporter else UI[lang]["unassigned"]
        units[unit].append(_gap_row(gap, name, regions, lang, limits))
    by_unit = [{"unit": u, "rows": rows, "missing": sum(1 for r in rows if not r["complete"])}
               for u, rows in units.items()]
    by_unit.sort(key=lambda u: (-u["missing"], u["unit"]))
    order = {r.code: i for i, r in enumerate(regions.all)}
    region_rows = [{"region": c, "name": _region_name(regions, c, lang), "count": len(v),
                    "missing": name_list(v, limits.names, lang)}
                   for c, v in missing_by_region.items()]
    region_rows.sort(key=lambda r: (-r["count"], order.get(r["region"], len(order)), r["region"]))
    omitted = max(0, len(region_rows) - limits.region_rows)
    return {"by_unit": by_unit, "by_region": region_rows[: limits.region_rows], "omitted": omitted}


def _gap_row(gap: Any, name: str, regions: Regions, lang: str, limits: Limits) -> dict[str, Any]:
    """One indicator's line of the completeness table: its period, how many reported, who not."""
    return {"indicator": name, "expected_period": gap.expected_period,
            "reported": f"{len(gap.expected) - len(gap.missing)}/{len(gap.expected)}", "complete": gap.complete,
            "missing": name_list([_region_name(regions, c, lang) for c in gap.missing], limits.names, lang),
            **({"approval": _approval_counts(gap, lang)} if gap.states else {})}


def _approval_counts(gap: Any, lang: str) -> str:
    """已审核 2 · 已提交未审核 1 · 未报送 16: where each expected region's figure stands."""
    words = UI[lang]
    return words["sep"].join(f"{words['approval_' + state]} {len(gap.in_state(state))}"
                             for state in ("approved", "submitted", "missing"))


def _status_index(context: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(item, region) -> status code, read back from a report context (this one or last month's)."""
    out: dict[tuple[str, str], str] = {}
    for sec in context.get("sections", []):
        for it in sec.get("items", []):
            out[(it["id"], it.get("region") or "")] = it["status"]
    matrix = context.get("by_region") or {}
    cols = [c["id"] for c in matrix.get("columns", [])]
    for row in matrix.get("rows", []):
        for col, cell in zip(cols, row.get("cells", [])):
            if cell:
                out[(col, row["region"])] = cell["status"]
    return out


def _changes(context: dict[str, Any], previous: dict[str, Any] | None, digest: _Digest,
             model: TargetsModel, regions: Regions, lang: str, limits: Limits) -> dict[str, Any]:
    if not previous:
        return {"previous": None, "status_changes": [], "status_changes_omitted": 0,
                "new_values": [], "new_values_total": 0, "new_values_omitted": 0}
    before, now = _status_index(previous), _status_index(context)
    titles = {it["id"]: (it["title"], it["anchor"]) for sec in context["sections"] for it in sec["items"]}
    changes = []
    for key, code in now.items():
        old = before.get(key)
        if old is None or old == code:
            continue
        title, anchor = titles.get(key[0], (key[0], ""))
        changes.append({
            "id": key[0], "anchor": anchor, "title": title, "region": key[1],
            "region_name": _region_name(regions, key[1], lang),
            "from": old, "from_label": _status_label(old, lang), "to": code, "to_label": _status_label(code, lang),
            "direction": "worse" if _severity(code) < _severity(old) else "better",
            "light": _light(code),
        })
    changes.sort(key=lambda c: (c["direction"] != "worse", _severity(c["to"]), c["id"], c["region"]))
    names = {i.id: (i.label(lang), i.unit) for i in model.indicators}
    new = sorted(digest.new, key=lambda o: (o.indicator, o.region, o.period_end))
    listed = []
    for o in new[: limits.new_values]:
        name, unit = names.get(o.indicator, (o.indicator, ""))
        listed.append({
            "indicator": name, "region": o.region, "region_name": _region_name(regions, o.region, lang),
            "period": o.period or o.period_end.isoformat(), "value_text": format_value(o.value, unit, lang),
            "revision": o.revision, "note": o.note,
        })
    return {
        "previous": previous.get("period"),
        "status_changes": changes[: limits.status_changes],
        "status_changes_omitted": max(0, len(changes) - limits.status_changes),
        "new_values": listed, "new_values_total": len(new),
        "new_values_omitted": max(0, len(new) - limits.new_values),
    }


# ---------------------------------------------------------------------------------------------
# the context


def build_context(model: TargetsModel, statuses: Sequence[Status],
                  observations: "Iterable[Observation] | SeriesSet", regions: Regions, as_of: date,
                  previous: dict[str, Any] | None = None, *, new_values: Iterable[Observation] | None = None,
                  sample: bool | None = None, plans: Sequence[str] | None = None, lang: str = "zh",
                  generated_at: "str | datetime" = "", late_run: bool = False, note: str = "", kind: str = "on_demand",
                  grace_days: int = 30, limits: Limits = Limits(), approval: dict[str, Any] | None = None,
                  completeness: Sequence[Any] | None = None, known_at: datetime | None = None,
                  submission_day: int = 10, rollup: dict[str, Any] | None = None,
                  resolver: SeriesResolver | None = None, completeness_below: Sequence[Any] | None = None,
                  fragments: Fragments | None = None) -> dict[str, Any]:
    """Everything the report shows, as JSON-ready data in `lang`.

    `observations` is what `evaluate` was given: Observations, or a SeriesSet at national
    scale (then pass `new_values`, the Observations entered since the previous report, if
    the changes section should list them). `previous` is last month's context (its JSON).
    `sample` says the data is sample data (default: any value's note or source says so).
    `statuses` are the items the report covers (tracker.service chooses the plans); `plans`
    names the plan ids the report is about, for its heading (default: the plan of the
    province the regions describe). `kind` says how it was made: "scheduled" (the monthly run,
    as of the month's last day) or "on_demand" (`tracker report`, the web's button).
    `approval` (where approval is required: which figures count, and per target the regions not
    approved) and `completeness` (the gaps with approval states) come from the service.
    `known_at`: the figures are those known at that moment (a scheduled run after the
    submission day), not at the end of `as_of`; values that arrived after their submission
    deadline (`submission_day`) are listed as late. `rollup`: the roll-up of the plans below
    (tracker.report.rollup.rollup_context), for a plan above others, and `completeness_below`
    its data completeness per unit below (see _completeness_below). `resolver`: the one the
    statuses were judged with (over these `observations` and `regions`), so the charts reuse
    its sums. `fragments` (tracker.report.fragments): a card or row made from the same
    statuses by an earlier report is reused."""
    if lang not in UI:
        raise ValueError(f"unknown language {lang!r}; accepted: {', '.join(UI)}")
    if kind not in RUN_KINDS:
        raise ValueError(f"unknown report kind {kind!r}; accepted: {', '.join(RUN_KINDS)}")
    moment = datetime.fromisoformat(generated_at) if isinstance(generated_at, str) and generated_at else generated_at
    plan_region = regions.province.code
    chosen = [p for p in model.plans if p.id in plans] if plans else [p for p in model.plans if p.region == plan_region]
    plan = chosen[0] if chosen else (model.plans[0] if model.plans else None)
    since = date.fromisoformat(previous["as_of"]) if previous and previous.get("as_of") else None
    previous_known = previous.get("known_at") if previous else None
    known = (datetime.fromisoformat(previous_known) if previous_known else None, known_at)
    digest = _digest(model, observations, regions, as_of, since, new_values, known, resolver)
    if sample is not None:
        digest.sample = sample
    targets = {t.id: t for t in model.targets}
    milestones = {m.id: m for m in model.milestones}

    def item(s: Status) -> dict[str, Any]:
        if fragments is None or s.kind != "target":  # a milestone is judged again at each evaluation
            return _item(s, model, targets, milestones, digest, regions, as_of, lang, limits)
        # The card is the same when its status and the series its chart draws are the same
        # objects: a status and the sums kept from the last evaluation (tracker.status.incremental).
        t = targets.get(s.item_id)
        ind = digest.resolver.indicators.get(t.indicator) if t is not None and t.scope == "whole" else None
        drawn = digest.resolver.province_series(ind)[0] if ind is not None else None
        return fragments.get((s, model, regions, drawn), ("item", as_of, lang, limits),
                             lambda: _item(s, model, targets, milestones, digest, regions, as_of, lang, limits))

    items = sorted((item(s) for s in statuses), key=_sort_key)
    owners = {t.id: (t.plan, t.task) for t in model.targets} | {m.id: (m.plan, m.task) for m in model.milestones}
    tasks = [_task_of(model, *owners[it["id"]]) if it["id"] in owners else None for it in items]
    sections = []
    for key in ("overdue", "attention", "rest"):
        sections.append({"key": key, "title": UI[lang]["sec_" + key],
                         "items": [it for it in items if SECTION_OF.get(it["status"], "rest") == key]})
    counts: list[dict[str, Any]] = []  # one per label: achieved targets and done milestones are both 已完成
    for code in sorted({it["status"] for it in items}, key=lambda c: (_severity(c), c)):
        n = sum(1 for it in items if it["status"] == code)
        same = next((c for c in counts if c["label"] == _status_label(code, lang)), None)
        if same:
            same["count"] += n
        else:
            counts.append({"status": code, "label": _status_label(code, lang), "light": _light(code), "count": n})
    lights = [{"light": light, "label": UI[lang]["lights_" + light],
               "count": sum(1 for it in items if it["light"] == light)} for light in LIGHT_ORDER]
    items_by_id = {it["id"]: it for it in items}
    context: dict[str, Any] = {
        "schema": SCHEMA, "lang": lang, "title": UI[lang]["title"],
        "plan": {"id": plan.id, "title": plan.label(lang), "issuer": organisation_name(plan.issuer, lang)}
        if plan else None,
        "period": f"{as_of.year}-{as_of.month:02d}", "as_of": as_of.isoformat(),
        "generated_at": moment.isoformat(timespec="seconds") if isinstance(moment, datetime) else "",
        "generated_text": format_moment(moment, lang) if isinstance(moment, datetime) else "",
        "known_at": known_at.astimezone(PLAN_TZ).isoformat(timespec="seconds") if known_at else "",
        "run": {"late": bool(late_run), "note": note or "", "kind": kind, "kind_label": UI[lang]["kind_" + kind]},
        "sample": digest.sample, "total": len(items), "lights": lights, "counts": counts,
        "sections": sections,
        "by_unit": _by_unit(items, tasks, lang),
        "by_region": _by_region(statuses, items_by_id, regions, lang, limits, fragments),
        "completeness": _completeness_below(model, regions, completeness_below, lang, limits)
        if completeness_below is not None else
        _completeness(model, digest, regions, plan_region, as_of, grace_days, lang, limits, completeness, plans),
    }
    if approval is not None:
        waiting = sum(1 for it in items if it.get("unapproved"))
        key = "banner_preview" if approval.get("include") == "submitted" else "banner_approved"
        context["approval"] = {"include": approval.get("include", "approved"), "unapproved_targets": waiting,
                               "text": UI[lang][key].format(n=waiting)}
    context["changes"] = _changes(context, previous, digest, model, regions, lang, limits)
    context["late_values"] = late_values(digest.new, model, regions, submission_day, lang, limits.new_values)
    if rollup is not None:
        context["rollup"] = rollup
    return context


def late_values(new: Iterable[Observation], model: TargetsModel, regions: Regions, submission_day: int,
                lang: str, limit: int) -> dict[str, Any]:
    """The values new in this report that arrived after their submission deadline (the
    `submission_day` of the month after their period), latest first: which figures a report
    could not have had on time, and who sent them late."""
    names = {i.id: (i.name, i.unit) for i in model.indicators}
    rows = []
    for o in new:
        if o.entered_at is None:
            continue
        due = submission_deadline(o.period_end, submission_day)
        entered = o.entered_at.astimezone(PLAN_TZ).date()
        if entered <= due:
            continue
        name, unit = names.get(o.indicator, (o.indicator, ""))
        rows.append({"indicator": name, "region": o.region, "region_name": _region_name(regions, o.region, lang),
                     "period": o.period or o.period_end.isoformat(), "value_text": format_value(o.value, unit, lang),
                     "due": due.isoformat(), "entered": entered.isoformat(), "days_late": (entered - due).days})
    rows.sort(key=lambda r: (-r["days_late"], r["indicator"], r["region"], r["period"]))
    return {"submission_day": submission_day, "total": len(rows), "rows": rows[:limit],
            "omitted": max(0, len(rows) - limit)}
