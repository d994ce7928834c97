"""`tracker status`: where every target and milestone stands, as a table or JSON.

A thin skin: it reads the database as known at the end of the as-of day (Asia/Shanghai),
calls tracker.status.engine.evaluate, filters and prints. The exit code is 3 when anything shown is
overdue, so a script can act on it.
"""

import json
import sys
import unicodedata
from datetime import date

import click

from tracker.cli.options import as_of_option, config_option, json_option, lang_of, lang_option, model_of, tracker_from
from tracker.domain.model import TargetsModel
from tracker.status.engine import STATUS_LABELS, Status, worst_first

EXIT_OVERDUE = 3


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def parse_statuses(values: tuple[str, ...]) -> set[str]:
    """Status codes from codes or labels, comma-separated or repeated (overdue,进度滞后)."""
    wanted: set[str] = set()
    for value in values:
        for word in filter(None, (w.strip() for w in value.replace("，", ",").split(","))):
            codes = [c for c, (zh, en, _) in STATUS_LABELS.items() if word in (c, zh, en)]
            if not codes:
                raise click.BadParameter(
                    f"{word!r}: unknown status; accepted: "
                    + ", ".join(f"{c} ({zh})" for c, (zh, _, _) in STATUS_LABELS.items()),
                    param_hint="--status")
            wanted.update(codes)
    return wanted


def _task_names(model: TargetsModel, key: tuple[str, int], unit: str) -> bool:
    try:
        return model.task(*key).names(unit)
    except KeyError:
        return False


def select_rows(statuses: list[Status], model: TargetsModel, unit: str | None,
                region: str | None, province: str, codes: set[str]) -> list[Status]:
    """The rows to show: by responsible unit, by region (a region's own judgment of each
    每个市县 target; whole-area rows only for the province), by status."""
    items = {t.id: (t.plan, t.task) for t in model.targets}
    items.update({m.id: (m.plan, m.task) for m in model.milestones})
    rows: list[Status] = []
    for s in statuses:
        if unit and not _task_names(model, items.get(s.item_id, ("", 0)), unit):
            continue
        if region and region != province:
            rows.extend(r for r in s.regions if r.region == region)
            continue
        rows.append(s)
    if codes:
        rows = [s for s in rows if s.code in codes]
    return rows


def _unapproved(s: Status, lang: str) -> str:
    n = s.figures.get("unapproved_count")
    if not n:
        return ""
    return f"（{n} 个地区数据未审核）" if lang == "zh" else f" ({n} regions not approved yet)"


def render_table(rows: list[Status], lang: str) -> str:
    """A plain-text table: status, item, region, reason."""
    if not rows:
        return "（无）" if lang == "zh" else "(none)"
    head = ("状态", "编号", "地区", "说明") if lang == "zh" else ("status", "item", "region", "reason")
    cells = [(s.display_label(lang), s.item_id, s.region or ("全省" if lang == "zh" else "whole"),
              s.reason(lang) + _unapproved(s, lang)) for s in rows]
    widths = [max(_width(str(r[i])) for r in [head, *cells]) for i in range(3)]
    lines = ["  ".join(_pad(h, w) for h, w in zip(head[:3], widths)) + "  " + head[3]]
    for c in cells:
        lines.append("  ".join(_pad(v, w) for v, w in zip(c[:3], widths)) + "  " + c[3])
    return "\n".join(lines)


def approval_line(include: str, rows: list[Status], lang: str) -> str:
    """What counted, and how many items hold figures not approved yet (approval required)."""
    waiting = sum(1 for s in rows if s.figures.get("unapproved"))
    if include == "submitted":
        return (f"预览：计入已提交未审核的数据（{waiting} 项含未审核数据）" if lang == "zh" else
                f"preview: figures awaiting review counted ({waiting} items include unapproved figures)")
    return (f"只计入已审核的数据；{waiting} 项有地区数据尚未审核，未计入" if lang == "zh" else
            f"approved figures only; {waiting} items have regions' figures not approved yet, left out")


def summary_line(rows: list[Status], lang: str) -> str:
    """Counts per label, worst first; achieved targets and done milestones share 已完成."""
    counts: dict[str, int] = {}
    severity: dict[str, int] = {}
    for s in rows:
        label = STATUS_LABELS[s.code][0 if lang == "zh" else 1]
        counts[label] = counts.get(label, 0) + 1
        severity[label] = min(severity.get(label, 99), STATUS_LABELS[s.code][2])
    sep = "，" if lang == "zh" else ", "
    return sep.join(f"{label} {counts[label]}" for label in sorted(counts, key=lambda x: severity[x]))


@click.command()
@as_of_option()
@click.option("--unit", default=None, help="责任单位 Only items of tasks this unit is responsible for (e.g. 省民政厅).")
@click.option("--region", default=None, help="地区 Only this region's judgment of 每个市县 targets (code or name).")
@click.option("--status", "status_filter", multiple=True, help="状态 Only these statuses (codes or labels, comma-separated).")
@click.option("--plan", "plans", multiple=True, help="规划 Only these plans (ids; default: the plans the reports cover).")
@click.option("--targets", "targets_path", default=None, type=click.Path(dir_okay=False), help="targets.yaml (default: from the settings).")
@click.option("--preview", is_flag=True, help="预览 Count figures submitted but not yet approved too (where approval is required).")
@click.option("--rollup", "rollup", is_flag=True,
              help="汇总 The roll-up of the --plan above others: each province's (or city's) own target, latest value, "
                   "coverage and status per shared indicator, and the national figure from summed components.")
@json_option
@lang_option
@config_option
@click.pass_context
def status(ctx: click.Context, as_of: date | None, unit: str | None, region: str | None,
           status_filter: tuple[str, ...], plans: tuple[str, ...], targets_path: str | None, preview: bool,
           rollup: bool, as_json: bool, lang: str | None) -> None:
    """各目标和里程碑的进展状态。Where every target and milestone stands, and why.

    Covers the same plans and items as the monthly report (the province's plan); --plan picks
    others. Exit code 3 when anything shown is overdue (逾期未完成).
    """
    from tracker.domain.regions import RegionError

    tracker = tracker_from(ctx, **({"targets_path": targets_path} if targets_path else {}))
    lang = lang_of(ctx, lang)
    codes = parse_statuses(status_filter)
    model = model_of(tracker)
    regions = tracker.regions
    code = None
    if region:
        try:
            code = tracker.entry_regions().lookup(region).code  # a region of any loaded plan
        except RegionError as exc:
            raise click.BadParameter(str(exc), param_hint="--region") from exc
    known = {p.id for p in model.plans}
    unknown = [p for p in plans if p not in known]
    if unknown:
        raise click.BadParameter(f"{', '.join(unknown)}: unknown plan; accepted: {', '.join(sorted(known))}",
                                 param_hint="--plan")
    include = "submitted" if preview else None
    if rollup:
        if len(plans) != 1:
            raise click.BadParameter("--rollup needs one --plan, the plan above the others (e.g. --plan national); "
                                     f"accepted: {', '.join(sorted(known))}", param_hint="--plan")
        _print_rollup(tracker, plans[0], as_of, include, lang, as_json)
        return
    evaluation = tracker.evaluate(as_of, include)
    chosen = [p for p in model.plans if p.id in plans] if plans else evaluation.plans
    covered = tracker.statuses(evaluation.as_of, plans=[p.id for p in chosen], include=include)
    rows = worst_first(select_rows(covered, model, unit, code, regions.province.code, codes))
    day = evaluation.as_of
    if as_json:
        click.echo(json.dumps({"as_of": day.isoformat(), "include": evaluation.include,
                               "plans": [{"id": p.id, "title": p.title} for p in chosen],
                               "items": len(covered), "statuses": [s.to_dict() for s in rows]},
                              ensure_ascii=False, indent=2, default=str))
    else:
        names = "、".join(p.title for p in chosen) if lang == "zh" else ", ".join(p.id for p in chosen)
        title = (f"截至 {day} 的进展状态（{names}，共 {len(covered)} 项）" if lang == "zh"
                 else f"Status as of {day} ({names}: {len(covered)} items)")
        click.echo(title)
        if evaluation.include != "all":
            click.echo(approval_line(evaluation.include, rows, lang))
        click.echo(render_table(rows, lang))
        if rows:
            click.echo(("合计：" if lang == "zh" else "Total: ") + summary_line(rows, lang))
    if any(s.code == "overdue" for s in rows):
        sys.exit(EXIT_OVERDUE)


def render_rollup(section: dict, lang: str) -> str:
    """The roll-up as plain text: per shared indicator the area's figure, then one line per unit."""
    zh = lang == "zh"
    lines = [section["heading"] + ("：" if zh else ": ") + section["plan"]["title"]]
    head = ("地区", "目标", "期限", "最新值", "覆盖", "状态") if zh else \
        ("region", "target", "deadline", "latest", "coverage", "status")
    for ind in section["indicators"]:
        w = ind["whole"]
        lines += ["", f"{ind['name']}"]
        figure = (f"{w['value_text']}（{w['period']}，{w['coverage_text']}；{w['units_text']}）" if zh else
                  f"{w['value_text']} ({w['period']}, {w['coverage_text']}; {w['units_text']})") \
            if w["value_text"] else (w["note"] or "—")
        lines.append(f"{w['name']}{'：' if zh else ': '}{figure}")
        if w["target_text"]:
            lines.append(("目标：" if zh else "target: ") + f"{w['target_text']} {w['deadline']} {w['status_label']}".rstrip())
        cells = [(r["name"], r["target_text"] or "—", r["deadline"] or "—",
                  f"{r['value_text']} {r['period']}".strip() or "—", r["coverage_text"] or "—",
                  "　".join(x for x in (r["status_label"], r["state_label"]) if x) if zh else
                  "; ".join(x for x in (r["status_label"], r["state_label"]) if x))
                 for r in (ind["rows"][i] for i in ind["shown"])]
        widths = [max(_width(str(c[i])) for c in [head, *cells]) for i in range(5)]
        for c in [head, *cells]:
            lines.append("  ".join(_pad(v, w) for v, w in zip(c[:5], widths)) + "  " + c[5])
        if ind["absent_text"]:
            lines.append(ind["absent_text"])
        lines.append(ind["counts_text"])
    if section["tasks"]:
        lines += ["", section["words"]["tasks"]]
        for t in section["tasks"]:
            by = ("、" if zh else ", ").join(f"{b['region_name']} {b['id']}" for b in t["implemented_by"]) \
                or section["words"]["not_implemented"]
            lines.append(f"{t['id']} ← {by}" + (f"（{t['missing_text']}）" if zh and t["missing_text"] else
                                                 f" ({t['missing_text']})" if t["missing_text"] else ""))
    return "\n".join(lines)


def _print_rollup(tracker, plan_id: str, as_of: date | None, include: str | None, lang: str, as_json: bool) -> None:
    from tracker.report.rollup import rollup_context

    r = tracker.rollup(plan_id, as_of, include)
    evaluation = tracker.evaluate(as_of, include)
    section = rollup_context(r, evaluation.model, evaluation.regions_of(plan_id), lang)
    if as_json:
        out = {k: v for k, v in section.items() if k != "words"}
        click.echo(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(render_rollup(section, lang))
    if any(row["status"] == "overdue" for ind in section["indicators"] for row in ind["rows"]) or \
            any(ind["whole"]["status"] == "overdue" for ind in section["indicators"]):
        sys.exit(EXIT_OVERDUE)
