"""`tracker plans`: the plans targets.yaml holds (with the files it includes), as a table or JSON.

One row per plan: its id, level, area, period, the plan it follows, how many targets and
milestones it has and how many units report under it (its coverage's 市县), and whether it is
in force on the as-of date (what status and the report cover).
"""

import json
from datetime import date
from typing import Any

import click

from tracker.cli.options import as_of_option, config_option, json_option, lang_of, lang_option, model_of, tracker_from
from tracker.cli.status import _pad, _width

LEVELS = {"national": ("国家级", "national"), "province": ("省级", "province"), "city": ("市级", "city")}


def plan_rows(tracker: Any, day: date) -> list[dict[str, Any]]:
    """What `tracker plans` shows of each plan, as of `day`."""
    model = model_of(tracker)
    tracked = {p.id for p in tracker.tracked_plans(model, day)}
    rows = []
    for p in model.plans:
        regions = tracker.plan_regions(p.id)
        rows.append({
            "id": p.id, "title": p.title, "title_en": p.title_en, "level": p.level, "region": regions.province.code,
            "area": regions.province.name, "area_en": regions.province.name_en,
            "start": p.start.isoformat(), "end": p.end.isoformat(), "follows": p.follows or None,
            "followed_by": [q.id for q in model.plans if q.follows == p.id],
            "targets": sum(1 for t in model.targets if t.plan == p.id),
            "milestones": sum(1 for m in model.milestones if m.plan == p.id),
            "tasks": sum(1 for t in model.tasks if t.plan == p.id),
            "units": len(regions.counties()), "coverage_declared": p.coverage is not None,
            "in_period": p.covers(day), "tracked": p.id in tracked})
    return rows


def render_plans(rows: list[dict[str, Any]], day: date, lang: str) -> str:
    zh = lang == "zh"
    head = (["编号", "级别", "地区", "期间", "接续", "目标", "里程碑", "填报单位", "跟踪"] if zh else
            ["id", "level", "area", "period", "follows", "targets", "milestones", "units", "tracked"])
    table = [head]
    for r in rows:
        level = LEVELS.get(r["level"], (r["level"], r["level"]))[0 if zh else 1]
        period = f"{r['start']} 至 {r['end']}" if zh else f"{r['start']} to {r['end']}"
        tracked = ("是" if zh else "yes") if r["tracked"] else ""
        if r["tracked"] and not r["in_period"]:
            tracked += "（期满）" if zh else " (ended)"
        table.append([r["id"], level, r["area"] if zh else r["area_en"], period, r["follows"] or "—",
                      str(r["targets"]), str(r["milestones"]), str(r["units"]), tracked])
    widths = [max(_width(row[i]) for row in table) for i in range(len(head))]
    lines = ["  ".join(_pad(cell, w) for cell, w in zip(row, widths)).rstrip() for row in table]
    title = (f"规划（共 {len(rows)} 个；「跟踪」为截至 {day} 的状态和报告所覆盖的规划）" if zh else
             f"Plans ({len(rows)}; 'tracked': what status and the report cover as of {day})")
    return "\n".join([title, *lines])


@click.command("plans")
@as_of_option("截至日期 Which plans are in force on this date (YYYY-MM-DD; default: today in Asia/Shanghai).")
@json_option
@lang_option
@config_option
@click.pass_context
def plans(ctx: click.Context, as_of: date | None, as_json: bool, lang: str | None) -> None:
    """规划列表。The plans targets.yaml holds (and the files it includes).

    Each plan's id, level, area, period, the plan it follows (十五五 after 十四五), its numbers
    of targets and milestones, the units that report under it (its coverage's 市县), and
    whether status and the report cover it on the as-of date.
    """
    tracker = tracker_from(ctx)
    day = as_of or tracker.today()
    rows = plan_rows(tracker, day)
    if as_json:
        click.echo(json.dumps({"as_of": day.isoformat(), "plans": rows}, ensure_ascii=False, indent=2))
    else:
        click.echo(render_plans(rows, day, lang_of(ctx, lang)))
