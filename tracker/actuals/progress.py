"""Milestone progress (里程碑进展): 未启动 / 推进中 / 已完成, reported by a responsible unit or a
region, checked and appended (a report is never updated)."""

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

from tracker.actuals.layouts import Layout
from tracker.actuals.problems import EntryError, EntryResult, Permit, Problem, ProblemLog, _now, forbidden_problem
from tracker.actuals.validate import _closest, _norm, _text, is_sample, sample_problem
from tracker.domain.model import (
    MILESTONE_STATE_LABELS,
    MILESTONE_STATES,
    Milestone,
    TargetsModel,
    same_unit,
    unit_found,
)
from tracker.domain.periods import PeriodError, parse_period, today_in_plan_tz
from tracker.domain.regions import RegionError, Regions, load_regions

STATE_WORDS = {**{s: s for s in MILESTONE_STATES}, **{v: k for k, v in MILESTONE_STATE_LABELS.items()},
               "进行中": "in_progress", "完成": "done", "已启动": "in_progress", "未开始": "not_started",
               "not started": "not_started", "in progress": "in_progress"}


def parse_state(text: Any) -> str | None:
    return STATE_WORDS.get(_norm(text).lower())


def find_milestone(model: TargetsModel, text: Any) -> tuple[Milestone | None, str]:
    """A milestone by id (or unique text); with a near-miss suggestion when not found."""
    key = _norm(text)
    for ms in model.milestones:
        if ms.id == key or ms.text == key:
            return ms, ""
    return None, _closest(key, [m.id for m in model.milestones])


def check_progress(model: TargetsModel, regions: Regions, today: date, milestone: Any, state: Any,
                   reporter: Any, reported_on: Any, note: Any, evidence: Any, row: int | None,
                   labels: dict[str, str], log: ProblemLog) -> dict[str, Any] | None:
    """Check one progress report; returns the columns to store, or None (see `log`)."""
    ms, near = find_milestone(model, milestone)
    ok = True
    if ms is None:
        log.add(Problem("未知里程碑", "unknown milestone", row=row, column=labels.get("milestone", ""), field="milestone",
                        value=_norm(milestone), accepted_zh="targets.yaml 中里程碑的编号",
                        accepted_en="a milestone id from targets.yaml", suggestion=near))
        ok = False
    code = parse_state(state)
    if code is None:
        log.add(Problem("无法识别的状态", "unknown state", row=row, column=labels.get("state", ""), value=_norm(state),
                        field="state",
                        accepted_zh="未启动、推进中、已完成", accepted_en="not_started, in_progress, done (未启动/推进中/已完成)"))
        ok = False
    who = _norm(reporter)
    if not who:
        log.add(Problem("缺少报告单位", "reporter missing", row=row, column=labels.get("reporter", ""), field="reporter",
                        accepted_zh="部门名称（如 省民政厅）或地区", accepted_en="a department (省民政厅) or a region"))
        ok = False
    elif ms is not None:
        who = _progress_reporter(model, regions, ms, who, row, labels.get("reporter", ""), log) or ""
        ok = ok and bool(who)
    day = today
    if reported_on not in (None, ""):
        try:
            p = parse_period(reported_on)
            day = p.end if p.kind == "date" else None  # type: ignore[assignment]
        except PeriodError:
            day = None  # type: ignore[assignment]
        if day is None or day > today:
            log.add(Problem("报告日期无效或在未来", "report date invalid or in the future", row=row,
                            column=labels.get("reported_on", ""), value=_norm(reported_on), field="reported_on",
                            accepted_zh=f"不晚于今天（{today.isoformat()}）的日期", accepted_en=f"a date up to {today}"))
            ok = False
    if not ok:
        return None
    if code == "done" and not _text(evidence):
        log.add(Problem("已完成但未提供依据（文件文号或链接）", "done without evidence (a document number or link)",
                        row=row, column=labels.get("evidence", ""), field="evidence", level="warning"))
    return {"milestone": ms.id, "reporter": who, "state": code, "reported_on": day,  # type: ignore[union-attr]
            "note": _text(note), "evidence": _text(evidence)}


def _progress_reporter(model: TargetsModel, regions: Regions, ms: Milestone, who: str, row: int | None,
                       column: str, log: ProblemLog) -> str | None:
    """The reporter as stored: a responsible unit of the milestone's task, named exactly, or
    a region when local governments carry the task out. A typo would otherwise leave a
    reporter whose 推进中 could never be superseded, blocking 已完成 for good."""
    task = model.task(ms.plan, ms.task)
    names = [u.name for u in task.units if u.role != "local"]
    for name in names:
        if same_unit(name, who):
            return name
    local = any(u.role == "local" for u in task.units)
    if local:
        try:
            return regions.lookup(who).code
        except RegionError:
            pass
    near = next((n for n in names if unit_found(n, who)), "") or _closest(who, names)
    accepted = "、".join(names) + ("，或本任务负责落实的市县" if local else "")
    log.add(Problem("报告单位不是该任务的责任单位", "the reporter is not responsible for this task", row=row,
                    column=column, value=who, field="reporter", accepted_zh=accepted,
                    accepted_en=", ".join(names) + (", or a city/county carrying it out" if local else ""),
                    suggestion=near))
    return None


def _import_progress(conn: Any, layout: Layout, rows: Iterator, model: TargetsModel, regions: Regions,
                     today: date, log: ProblemLog, source_prefix: str, batch_id: int | None,
                     entered_by: str, entered_at: datetime, write: bool,
                     permit: "Permit | None" = None,
                     sample: Callable[[Any, int | None, str], bool] | None = None,
                     collect: list[dict[str, Any]] | None = None) -> tuple[int, int]:
    """(new reports, repeats of reports already stored). `sample(note, row, column)` says
    (and logs) when a row is sample data that may not be stored. With `collect`, the new
    reports are added to it instead of written (an import writes them later, under the lock)."""
    from tracker import store as db
    labels = {role: layout.label(role) for role in layout.roles}
    seen: set[tuple[str, str]] = set()
    stored = db.current_progress(conn)
    out = []
    repeats = 0
    for n, cells in rows:
        if n <= layout.header_row or not any(c not in (None, "") for c in cells):
            continue

        def at(role: str) -> Any:
            i = layout.roles.get(role)
            return cells[i] if i is not None and i < len(cells) else None

        if at("state") in (None, ""):
            continue  # a template row nobody filled in
        item = check_progress(model, regions, today, at("milestone"), at("state"), at("reporter"),
                              at("reported_on"), at("note"), at("evidence"), n, labels, log)
        if sample is not None and sample(at("note"), n, labels.get("note", "")):
            continue
        if item is None:
            continue
        if permit is not None and not permit("progress", item["milestone"], item["reporter"]):
            log.add(forbidden_problem(n, labels.get("reporter", ""), f"{item['milestone']} / {item['reporter']}"))
            continue
        if (item["milestone"], item["reporter"]) in seen:
            log.add(Problem("同一里程碑和报告单位在本文件中重复", "the same milestone and reporter twice in this file",
                            row=n, value=f"{item['milestone']} / {item['reporter']}"))
            continue
        seen.add((item["milestone"], item["reporter"]))
        if stored.get((item["milestone"], item["reporter"])) == (
                item["state"], item["reported_on"], item["note"], item["evidence"]):
            repeats += 1  # the same report is already stored
            continue
        out.append({**item, "entered_by": entered_by, "entered_at": entered_at,
                    "source": f"{source_prefix}:{n}", "batch_id": batch_id})
    if collect is not None:
        collect.extend(out)
    elif write and not log.has_errors():
        db.insert_progress(conn, out)
    return len(out), repeats


def record_progress(engine: Any, model: TargetsModel, milestone: str, state: str, *, reporter: str,
                    entered_by: str, note: str = "", evidence: str = "", reported_on: str | None = None,
                    source: str = "command", now: datetime,
                    regions: Regions | None = None, allow_sample: bool = False) -> EntryResult:
    """Record a milestone's state (未启动 / 推进中 / 已完成) for a department or region.
    Progress changes over time, so each report is a new row. Raises EntryError."""
    from tracker import store as db
    entered_at = _now(now)
    log = ProblemLog()
    item = check_progress(model, regions or load_regions(), today_in_plan_tz(entered_at), milestone, state,
                          reporter, reported_on, note, evidence, None, {}, log)
    for text, field in ((note, "note"), (source, "source")):
        if not allow_sample and is_sample(text):
            log.add(sample_problem(None, "", _text(text), field))
    if item is None or log.has_errors():
        raise EntryError(log.errors(), log.dropped, log.warnings())
    with db.write_transaction(engine, values=True) as conn:
        batch_id = db.new_batch(conn, source, entered_by, entered_at, kind="progress")
        db.insert_progress(conn, [{**item, "entered_by": entered_by, "entered_at": entered_at,
                                   "source": source, "batch_id": batch_id}])
        db.finish_batch(conn, batch_id, 1)
    return EntryResult(source, batch_id=batch_id, progress_written=1, warnings=log.warnings())
