"""Templates (填报模板): an Excel form per responsible unit (or per region) and period that
imports back unchanged in shape.

Whose form it is is matched exactly, or through the organisations' synonyms
(tracker.domain.organisations), never by substring: "海口" is the region 海口市, not
人行海口中心支行. A region's form holds its own rows (the city and its districts) for every
indicator due in the period, and the milestones local governments carry out.
"""

from dataclasses import dataclass
from pathlib import Path

from tracker.actuals.bounds import plausible_bounds
from tracker.actuals.layouts import column_letter
from tracker.actuals.problems import EntryError, Problem
from tracker.domain import units
from tracker.domain.model import Indicator, Milestone, TargetsModel, same_unit
from tracker.domain.organisations import canonical
from tracker.domain.periods import FREQUENCY_KIND, parse_period
from tracker.domain.regions import Region, RegionError, Regions, load_regions


def template_indicators(model: TargetsModel, unit: str, period_kind: str) -> list[Indicator]:
    """The indicators `unit` reports that are due in a period of this kind."""
    return [i for i in model.indicators if same_unit(i.reporter, unit)
            and FREQUENCY_KIND.get(i.frequency, i.frequency) == period_kind]


def template_milestones(model: TargetsModel, unit: str) -> list[Milestone]:
    """Milestones of tasks where `unit` is named among the responsible units."""
    return model.milestones_of_tasks(lambda task: task.has_unit(unit))


def template_units(model: TargetsModel) -> list[str]:
    """The organisations a template can be made for: those reporting an indicator or named in a
    task (not the local governments as a body), each by its one name."""
    names = {canonical(i.reporter) for i in model.indicators if i.reporter}
    names |= {canonical(u.name) for t in model.tasks for u in t.units if u.role != "local"}
    return sorted(names)


@dataclass(frozen=True)
class TemplateOwner:
    """Whose form: a responsible unit (by its one name), or a region."""

    name: str
    region: Region | None = None


def _examples(regions: Regions, lang: str) -> list[str]:
    """Two of the plan's own units, as people name them (海口、三亚 in Hainan's plan)."""
    return [r.short if lang == "zh" else (r.name_en or r.name) for r in regions.counties()[:2]]


def template_owner(model: TargetsModel, who: str, regions: Regions) -> TemplateOwner | None:
    """The unit named `who` exactly (or by a synonym), else the region it names, else None."""
    for name in template_units(model):
        if same_unit(name, who):
            return TemplateOwner(name)
    try:
        region = regions.lookup(who)
    except RegionError:
        return None
    return TemplateOwner(region.name, region)


def write_template(path: str | Path, model: TargetsModel, unit: str, period: str,
                   regions: Regions | None = None, only: set[str] | None = None) -> dict[str, int]:
    """Write the .xlsx form for one responsible unit and period: a 填报 sheet with one row
    per region and one column per indicator (unit in the header, cells validated as
    numbers), a 里程碑进展 sheet for the unit's milestones, and 说明. `tracker import`
    reads the filled form back. Returns how many indicators and milestones it holds.
    `model` and `regions` are one plan's (the service gives another plan's tasks and
    regions), `only` the indicators its targets need (None: every indicator of the kind)."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    regions = regions or load_regions()
    p = parse_period(period)
    owner = template_owner(model, unit, regions)
    known = template_units(model)
    if owner is None:
        raise EntryError([Problem(
            f"「{unit}」不是责任单位，也不是地区", f"{unit!r} is neither a responsible unit nor a region",
            value=unit, accepted_zh="、".join(known) + "；或地区名称（如 " + "、".join(_examples(regions, "zh")) + "）",
            accepted_en=", ".join(known) + "; or a region (" + ", ".join(_examples(regions, "en")) + ")")])
    unit = owner.name
    if owner.region is not None:
        indicators = [i for i in model.indicators if FREQUENCY_KIND.get(i.frequency, i.frequency) == p.kind]
        milestones = model.milestones_of_tasks(lambda task: any(u.role == "local" for u in task.units))
    else:
        indicators = template_indicators(model, unit, p.kind)
        milestones = template_milestones(model, unit)
    if only is not None:
        indicators = [i for i in indicators if i.id in only]
    if not indicators and not milestones:
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
    if owner.region is not None:  # the region's own rows: the city and its districts
        rows = [owner.region, *regions.children(owner.region.code)]
    else:
        rows = [regions.province] + [r for c in regions.counties() for r in [c, *regions.children(c.code)]]
    for r in rows:
        ws.append([r.name, p.label])
    last = len(rows) + 2
    for col, ind in enumerate(indicators, start=3):
        letter = column_letter(col - 1)
        # a share or a ratio has fixed bounds (tracker.actuals.bounds); a count's depend on the row's region
        top = plausible_bounds(ind).high if ind.kind in ("percentage", "ratio") else None
        dv = DataValidation(type="decimal", operator="between" if top else "greaterThanOrEqual",
                            formula1="0", formula2=f"{top:g}" if top else None, allow_blank=True,
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
                 "数值按列标题中的单位填写，只填数字（如 15000，不写「1.5万」）；百分比填 0–100，每千人的比率填 0–1000。",
                 "未报送的单元格留空；不要改动列标题和地区名称。",
                 "填好后用 `tracker import 文件名.xlsx` 导入；已有数值的更正需加 --correct。"):
        info.append([line])
    wb.save(path)
    return {"indicators": len(indicators), "milestones": len(milestones), "regions": len(rows)}
