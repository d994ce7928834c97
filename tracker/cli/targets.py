"""Commands over the targets model: extract, targets, check."""

import sys
from datetime import date
from pathlib import Path

import click

from tracker.cli.main import load_model
from tracker.domain.model import COMPARATOR_LABELS, ROLE_LABELS


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="写入文件 Write the draft to this file.")
@click.option("--against", type=click.Path(exists=True, dir_okay=False),
              help="与已审核文件比较 Show what the draft changes against a reviewed targets file.")
@click.option("--force", is_flag=True, help="覆盖已存在的文件 Overwrite an existing output file.")
@click.option("--period", default="2021-2025", show_default=True, help="规划期 The plans' period, YYYY-YYYY.")
def extract(files: tuple[str, ...], output: str | None, against: str | None, force: bool, period: str) -> None:
    """从任务分工表提取目标草稿。Extract a draft targets model (YAML) from task tables.

    Re-extraction never overwrites reviewed edits: with -o pointing at an existing file the
    differences are shown and nothing is written unless --force.
    """
    from tracker.targets.documents import TableError
    from tracker.targets.file import TargetsFileError, build_model, diff_models, dump_model, load_targets

    try:
        first, last = (int(y) for y in period.split("-"))
    except ValueError as exc:
        raise click.BadParameter(f"{period!r}: write the period as YYYY-YYYY, e.g. 2021-2025") from exc
    try:
        draft = build_model(files, (date(first, 1, 1), date(last, 12, 31)))
    except TableError as exc:
        raise click.ClickException(str(exc)) from exc
    reviewed_path = against or (output if output and Path(output).exists() else None)
    if reviewed_path:
        try:
            changes = diff_models(load_targets(reviewed_path), draft)
        except TargetsFileError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"与 {reviewed_path} 相比 / against {reviewed_path}: {len(changes)} difference(s)")
        for line in changes:
            click.echo(line)
        if against and not output:
            return
        if output and not force:
            click.echo(f"未写入 not written: {output} exists and is reviewed; use --force to overwrite, "
                       "or edit it by hand from the differences above", err=True)
            sys.exit(1 if changes else 0)
    text = dump_model(draft)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"已写入 wrote {output}: {len(draft.tasks)} tasks, {len(draft.targets)} targets, "
                   f"{len(draft.milestones)} milestones, {len(draft.indicators)} indicators")
    else:
        click.echo(text, nl=False)


@click.command()
@click.option("--file", "path", type=click.Path(dir_okay=False), help="targets.yaml 路径 Path of the targets file.")
@click.option("--plan", help="规划 Only this plan (id).")
@click.option("--unit", help="责任单位 Only tasks this unit is responsible for (any role; part of the name is enough).")
@click.option("--year", type=int, help="年份 Only targets and milestones due in this year.")
@click.option("--show", type=click.Choice(["all", "targets", "milestones", "tasks"]), default="all", show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.pass_context
def targets(ctx: click.Context, path: str | None, plan: str | None, unit: str | None, year: int | None,
            show: str, lang: str) -> None:
    """列出任务、目标和里程碑。List tasks, targets and milestones."""
    from tracker.domain.units import label

    model = load_model(ctx, path)
    zh = lang == "zh"
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
