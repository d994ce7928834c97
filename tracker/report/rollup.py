"""The roll-up as people read it (zh/en): one table per shared indicator, one row per province
(or city) with its own target, deadline, latest value, coverage and status; the area's figure
from summed components above it; the chart's plain points; the tasks linked both ways.

One dict, the same for the report's section, `tracker status --rollup --json` and its table,
so the three say the same (tracker.status.rollup makes the figures).
"""

from typing import Any

from tracker.domain.format import format_value, name_list, region_name
from tracker.domain.model import COMPARATOR_LABELS, COMPARATOR_LABELS_EN, TargetsModel
from tracker.domain.regions import Regions
from tracker.status.figures import Figure
from tracker.status.rollup import Rollup, Row, state_label, status_label

LIGHTS = {"overdue": "red", "lagging": "yellow", "due_soon": "yellow", "no_data": "grey", "stale": "grey",
          "on_track": "green", "achieved_late": "green", "achieved": "green"}

WORDS: dict[str, dict[str, str]] = {
    "zh": {"heading": "八、下级规划汇总", "whole_zh": "全国", "units": "省份", "county_sum": "{n}/{of} 市县合计",
           "reported": "本级填报", "own": "本地区填报（无规划）", "area_sum": "{n}/{of} 个{units}有数据",
           "no_sum": "该指标无分量，不能汇总", "counts": "{with_target} 个有目标，其中 {met} 个已完成；无规划 {no_plan} 个，"
           "无数据 {no_data} 个，未设目标 {no_target} 个", "tasks": "任务落实情况", "implemented_by": "落实任务",
           "not_implemented": "未见落实任务", "missing": "已载入规划但未见落实任务：{names}",
           "implements": "落实上级任务", "chart_title": "{name}：各{units}最新值与本地目标",
           "legend_value": "最新值", "legend_target": "本地目标", "legend_partial": "空心点：部分市县合计",
           "legend_whole": "竖线：{whole}合计", "plans_below": "汇总的下级规划", "none": "无", "no_data": "无数据",
           "area_parts": "{n}/{of} 个地区合计",
           "absent": "无规划、无数据（{n} 个）：{names}", "legend_light": "（颜色为该地区自身目标的状态）"},
    "en": {"heading": "8. Roll-up of the plans below", "whole_zh": "National", "units": "provinces",
           "county_sum": "sum of {n} of {of} regions", "reported": "reported for the whole",
           "own": "its own entry (no plan)", "area_sum": "{n} of {of} {units} with data",
           "no_sum": "no components: cannot be summed", "counts": "{with_target} with a target, {met} achieved; "
           "no plan {no_plan}, no data {no_data}, no target {no_target}", "tasks": "Tasks carried out below",
           "implemented_by": "carried out by", "not_implemented": "no task carrying it out",
           "missing": "plans loaded without a task carrying it out: {names}", "implements": "carries out",
           "chart_title": "{name}: each of the {units}' latest value against its own target",
           "legend_value": "latest value", "legend_target": "own target", "legend_partial":
           "hollow dot: sum of part of the regions", "legend_whole": "vertical line: {whole} total",
           "plans_below": "Plans rolled up", "none": "none", "no_data": "no data",
           "area_parts": "sum of {n} of {of} regions",
           "absent": "no plan and no data ({n}): {names}", "legend_light": " (its colour: the status of its own target)"},
}


def _coverage(f: Figure | None, lang: str) -> str:
    if f is None:
        return ""
    if f.covered is not None:
        return WORDS[lang]["county_sum"].format(n=f.covered, of=f.expected)
    return WORDS[lang]["own"] if f.how == "own" else WORDS[lang]["reported"]


def _target_text(t: Any, lang: str) -> str:
    if t is None:
        return ""
    words = COMPARATOR_LABELS if lang == "zh" else COMPARATOR_LABELS_EN
    sep = "" if lang == "zh" else " "
    text = f"{words[t.comparator]}{sep}{format_value(t.value, t.unit, lang)}"
    if t.scope == "each_region":
        text += "（每个市县）" if lang == "zh" else " (each region)"
    if t.soft:
        text += f"（{t.qualifier or '力争'}）" if lang == "zh" else " (soft)"
    return text


def _task_label(number: int, lang: str) -> str:
    return f"第{number}项" if lang == "zh" else f"No. {number}"


def _row(row: Row, regions: Regions, titles: dict[str, str], unit: str, lang: str) -> dict[str, Any]:
    f = row.figure
    state = row.state if row.state != "judged" else ""
    # 无数据 says it; a 未报送 beside it would say it twice
    label = status_label(row.status, lang) if row.status and not (row.state == "no_data" and row.status == "no_data") \
        else ""
    return {"region": row.region, "name": region_name(regions, row.region, lang), "plan": row.plan or "",
            "plan_title": titles.get(row.plan or "", ""), "state": row.state,
            "state_label": state_label(state, lang) if state else "",
            "target": row.target.value if row.target else None, "target_text": _target_text(row.target, lang),
            "deadline": row.target.deadline.isoformat() if row.target and row.target.deadline else "",
            "value": f.value if f else None, "value_text": format_value(f.value, unit, lang) if f else "",
            "period": f.period if f else "", "coverage": f.coverage if f else "",
            "coverage_text": _coverage(f, lang), "partial": bool(f and f.partial),
            "status": row.status or "", "status_label": label, "light": LIGHTS.get(row.status or "", "grey")}


def rollup_context(r: Rollup, model: TargetsModel, regions: Regions, lang: str = "zh") -> dict[str, Any]:
    """The roll-up in `lang`; `regions` are the upper plan's (the units' names)."""
    w = WORDS[lang]
    units_word = w["units"] if r.plan.level == "national" else ("市县" if lang == "zh" else "regions")
    whole_name = w["whole_zh"] if r.plan.level == "national" else region_name(regions, r.area, lang)
    titles = {p.id: p.label(lang) for p in model.plans}
    indicators = []
    for ir in r.indicators:
        ind = model.indicator(ir.indicator)
        name = ind.label(lang)
        rows = [_row(row, regions, titles, ir.unit, lang) for row in ir.rows]
        wf = ir.whole.figure
        whole = {"name": whole_name, "value": wf.value if wf else None,
                 "value_text": format_value(wf.value, ir.unit, lang) if wf else "", "period": wf.period if wf else "",
                 "coverage": wf.coverage if wf else "",
                 "coverage_text": w["area_parts"].format(n=wf.covered, of=wf.expected) if wf else "",
                 "units_text": w["area_sum"].format(n=ir.whole.units_covered, of=ir.whole.units, units=units_word),
                 "summable": ir.whole.summable, "note": "" if ir.whole.summable else w["no_sum"],
                 "target_text": _target_text(ir.whole.target, lang),
                 "deadline": ir.whole.target.deadline.isoformat() if ir.whole.target and ir.whole.target.deadline else "",
                 "status": ir.whole.status or "", "status_label": status_label(ir.whole.status, lang),
                 "light": LIGHTS.get(ir.whole.status or "", "grey")}
        counts = ir.counts()
        judged = sum(1 for row in ir.rows if row.target is not None)
        shown = [x for x in rows if x["state"] != "no_plan" or x["value_text"]]
        absent = [x["name"] for x in rows if x["state"] == "no_plan" and not x["value_text"]]
        chart = {"rows": [{"label": regions.get(x["region"]).short if lang == "zh" else x["name"],
                           "value": x["value"], "target": x["target"], "partial": x["partial"],
                           "light": x["light"] if x["status"] else "none",
                           "note": x["state_label"] or w["no_data"]} for x in shown],
                 "whole": whole["value"], "whole_label": whole_name, "unit": ir.unit,
                 "title": w["chart_title"].format(name=name, units=units_word)}
        indicators.append({"id": ir.indicator, "name": name, "whole": whole, "rows": rows, "chart": chart,
                           "shown": [i for i, x in enumerate(rows) if x["state"] != "no_plan" or x["value_text"]],
                           "absent_text": w["absent"].format(n=len(absent), names=name_list(absent, 40, lang))
                           if absent else "",
                           "counts": counts, "counts_text": w["counts"].format(with_target=judged, **counts),
                           "legend": {"value": w["legend_value"] + w["legend_light"], "target": w["legend_target"],
                                      "partial": w["legend_partial"], "whole": w["legend_whole"].format(whole=whole_name)}})
    plan_of = {p.id: p for p in model.plans}
    tasks = []
    for link in r.tasks:
        by = [{"id": t.id, "label": _task_label(t.number, lang), "text": t.text, "plan": t.plan, "plan_title": titles.get(t.plan, t.plan),
               "region_name": region_name(regions, plan_of[t.plan].region, lang) if t.plan in plan_of else ""}
              for t in link.implemented_by]
        names = [region_name(regions, c, lang) for c in link.missing]
        tasks.append({"id": link.task.id, "number": link.task.number, "label": _task_label(link.task.number, lang),
                      "text": link.task.text, "implemented_by": by,
                      "missing_text": w["missing"].format(names=name_list(names, 10, lang)) if names else ""})
    return {"plan": {"id": r.plan.id, "title": r.plan.label(lang)}, "as_of": r.as_of.isoformat(),
            "heading": w["heading"], "area": r.area, "whole_name": whole_name, "units_word": units_word,
            "units": len(r.units), "below": [{"id": p, "title": titles.get(p, p)} for p in r.below],
            "below_text": name_list([titles.get(p, p) for p in r.below], 40, lang),
            "indicators": indicators, "tasks": tasks,
            "implements": {k: v for k, v in r.implements.items()}, "words": w}
