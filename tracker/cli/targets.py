"""Commands over the targets model: extract, targets, check."""

import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from tracker.cli.main import load_model
from tracker.cli.options import config_option, lang_of, lang_option
from tracker.domain.model import COMPARATOR_LABELS, ROLE_LABELS


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="写入文件 Write the draft to this file.")
@click.option("--against", type=click.Path(exists=True, dir_okay=False),
              help="与已审核文件比较 Show what the draft adds or changes against a reviewed targets file, "
                   "with each target's source sentence.")
@click.option("--force", is_flag=True, help="覆盖已存在的文件 Overwrite an existing output file.")
@click.option("--region", metavar="CODE",
              help="为该地区起草一份规划 Draft one plan for this region (6-digit division code, e.g. 210000); "
                   "level, issuer, title and period are read from the document where it says them.")
@click.option("--period", help="规划期 The plan's period, YYYY-YYYY or 十五五 (default: as the document says; "
                               "without --region, 2021-2025 when it does not).")
@click.option("--level", type=click.Choice(["national", "province", "city"]),
              help="规划级别 The plan's level, when the document and the code do not say it (with --region).")
@click.option("--issuer", help="发文单位 The issuing government, e.g. 辽宁省人民政府 (with --region).")
@click.option("--title", help="规划标题 The plan's title (with --region).")
@click.option("--plan-id", help="规划编号 The plan's id in targets.yaml, e.g. liaoning-2021 (with --region; "
                                "default: the file's name).")
def extract(files: tuple[str, ...], output: str | None, against: str | None, force: bool, region: str | None,
            period: str | None, level: str | None, issuer: str | None, title: str | None,
            plan_id: str | None) -> None:
    """从规划文件提取目标草稿。Extract a draft targets model (YAML) from plan documents.

    Reads task-division tables and main-indicator tables (主要指标) from text, Word (.docx) or
    PDF files, recognised from their content. With --region CODE, drafts one plan for that
    region from one document. Re-extraction never overwrites reviewed edits: with -o pointing
    at an existing file the differences are shown and nothing is written unless --force.
    """
    from tracker.targets.documents import TableError
    from tracker.targets.file import (
        TargetsFileError,
        build_model,
        count_differences,
        diff_models,
        draft_model,
        dump_model,
        load_targets,
    )
    from tracker.targets.plans import PlanError, parse_period_option

    options = {"--level": level, "--issuer": issuer, "--title": title, "--plan-id": plan_id}
    if not region and any(options.values()):
        given = ", ".join(k for k, v in options.items() if v)
        raise click.UsageError(f"{given} 只用于起草一个地区的规划，请同时给出 --region CODE / {given} draft one "
                               "region's plan: give --region CODE as well")
    if region and len(files) != 1:
        raise click.UsageError("--region 从一个文件起草一份规划 / --region drafts one plan from one file; "
                               f"{len(files)} files given")
    notes: list[str] = []
    try:
        chosen_period = parse_period_option(period) if period else None
    except PlanError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from exc
    try:
        if region:
            draft, facts = draft_model(files[0], region, level=level, issuer=issuer, title=title,
                                       period=chosen_period, plan_id=plan_id, notes=notes)
            plan = draft.plans[0]
            said = {"level": facts.level, "issuer": facts.issuer, "title": facts.title, "period": facts.period}
            given = {"level": level, "issuer": issuer, "title": title, "period": chosen_period}

            def origin(name: str) -> str:
                return "选项 option" if given[name] else ("文件 document" if said[name] else "代码/默认 code")

            click.echo(f"规划 plan {plan.id}: {plan.title}（{origin('title')}）；{plan.issuer}（{origin('issuer')}）；"
                       f"{plan.level}（{origin('level')}）；{plan.region}；{plan.start.year}–{plan.end.year}"
                       f"（{origin('period')}）", err=True)
        else:
            draft = build_model(files, chosen_period, notes=notes)
    except (TableError, PlanError) as exc:
        raise click.ClickException(str(exc)) from exc
    reviewed_path = against or (output if output and Path(output).exists() else None)
    try:
        reviewed = load_targets(reviewed_path) if reviewed_path else None
    except TargetsFileError as exc:
        raise click.ClickException(str(exc)) from exc
    if region and reviewed is not None:
        draft = _with_predecessor(draft, reviewed, notes)
    for note in notes:
        click.echo(f"注意 note: {note}", err=True)
    if reviewed is not None:
        changes = diff_models(reviewed, draft)
        click.echo(f"与 {reviewed_path} 相比 / against {reviewed_path}: {count_differences(changes)} difference(s)")
        for line in changes:
            click.echo(line)
        if against and not output:
            return
        if output and Path(output).exists() and not force:
            click.echo(f"未写入 not written: {output} exists and is reviewed; use --force to overwrite, "
                       "or edit it by hand from the differences above", err=True)
            sys.exit(1 if count_differences(changes) else 0)
    text = dump_model(draft)
    if output:
        _write_atomically(Path(output), text)
        click.echo(f"已写入 wrote {output}: {len(draft.tasks)} tasks, {len(draft.targets)} targets, "
                   f"{len(draft.milestones)} milestones, {len(draft.indicators)} indicators")
    else:
        click.echo(text, nl=False)


def _with_predecessor(draft: Any, reviewed: Any, notes: list[str]) -> Any:
    """The drafted plan following the reviewed plan of its region that ended before it (十五五
    after 十四五): its targets without a baseline start from that plan's final values."""
    import dataclasses

    from tracker.targets.plans import predecessor

    plan = draft.plans[0]
    before = predecessor(plan, reviewed.plans)
    if before is None or plan.follows:
        return draft
    notes.append(f"{plan.id} 接续 follows {before.id}（{before.title}，{before.start.year}–{before.end.year}）："
                 "未写基期值的目标以其期末值为基期 / targets without a baseline start from its final values")
    return dataclasses.replace(draft, plans=[dataclasses.replace(plan, follows=before.id), *draft.plans[1:]])


def _write_atomically(path: Path, text: str) -> None:
    """A crash mid-write leaves no half-written targets file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


@click.command()
@click.option("--file", "path", type=click.Path(dir_okay=False), help="targets.yaml 路径 Path of the targets file.")
@click.option("--plan", help="规划 Only this plan (id).")
@click.option("--unit", help="责任单位 Only tasks this unit is responsible for (any role; part of the name is enough).")
@click.option("--year", type=int, help="年份 Only targets and milestones due in this year.")
@click.option("--show", type=click.Choice(["all", "targets", "milestones", "tasks"]), default="all", show_default=True)
@lang_option
@config_option
@click.pass_context
def targets(ctx: click.Context, path: str | None, plan: str | None, unit: str | None, year: int | None,
            show: str, lang: str | None) -> None:
    """列出任务、目标和里程碑。List tasks, targets and milestones."""
    from tracker.domain.units import label

    model = load_model(ctx, path)
    zh = lang_of(ctx, lang) == "zh"
    tasks = [t for t in model.tasks if (not plan or t.plan == plan)
             and (not unit or t.names(unit))]
    keys = {(t.plan, t.number) for t in tasks}

    def due(d: date | None) -> bool:
        return year is None or (d is not None and d.year == year)

    if show in ("all", "targets"):
        rows = [t for t in model.targets if (t.plan, t.task) in keys and due(t.deadline)]
        click.echo(f"== {'目标' if zh else 'Targets'} ({len(rows)}) ==")
        for t in rows:
            ind = model.indicator(t.indicator)
            cmp = COMPARATOR_LABELS[t.comparator] if zh else t.comparator
            flags = []
            if t.scope == "each_region":
                flags.append("每个市县（区）" if zh else "every region")
            if t.soft:
                flags.append(t.qualifier or ("软目标" if zh else "soft"))
            if t.cumulative:
                flags.append("累计" if zh else "cumulative")
            click.echo(f"{t.plan}#{t.task}  {ind.name} {cmp} {t.value:g}{label(t.unit)}  "
                       f"{'截止' if zh else 'due'} {t.deadline or '-'}  {' '.join(flags)}\n    id: {t.id}")
    if show in ("all", "milestones"):
        rows_m = [m for m in model.milestones if (m.plan, m.task) in keys and due(m.deadline)]
        click.echo(f"== {'里程碑' if zh else 'Milestones'} ({len(rows_m)}) ==")
        for m in rows_m:
            click.echo(f"{m.plan}#{m.task}  {'截止 ' + str(m.deadline) if m.deadline else ('无期限' if zh else 'undated')}  "
                       f"{m.text[:60]}{'…' if len(m.text) > 60 else ''}")
    if show in ("all", "tasks"):
        click.echo(f"== {'任务' if zh else 'Tasks'} ({len(tasks)}) ==")
        for t in tasks:
            roles = "；".join(f"{ROLE_LABELS[r] if zh else r}: {'、'.join(t.units_in(r))}"
                             for r in ROLE_LABELS if t.units_in(r))
            link = f"  ← {', '.join(t.implements)}" if t.implements else ""
            click.echo(f"{t.plan}#{t.number}{link}  {t.text[:50]}{'…' if len(t.text) > 50 else ''}\n    {roles}")


@click.command()
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.pass_context
def check(ctx: click.Context, path: str | None) -> None:
    """校验 targets.yaml。Validate a targets file; lists every problem with its line."""
    model = load_model(ctx, path)
    click.echo(f"OK: {len(model.plans)} plans, {len(model.tasks)} tasks, {len(model.indicators)} indicators, "
               f"{len(model.targets)} targets, {len(model.milestones)} milestones")
