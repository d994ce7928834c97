"""Review and approval of reported figures, as the service does it: the rules
(tracker.status.approval) applied to what the store holds (tracker.store.approvals), every
transition a conditional update, every refusal in the audit log, a return's reason sent to
the reporter through the outbox. The Tracker's submit, approve, return_, unlock, approvals and
approval_history call these; so do its evaluations (which figures count), its entry paths
(which periods are closed) and the reminders.

Each function takes the plan's id and works on that plan's regions: what approves what
follows the plan's hierarchy, whatever plan it is.
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from tracker.domain.clock import aware
from tracker.domain.model import Plan, TargetsModel
from tracker.domain.regions import RegionError, Regions
from tracker.domain.series import knowledge_cutoff
from tracker.status.approval import (
    Actor,
    ApprovalError,
    Hold,
    Locks,
    Submission,
    Unit,
    approval_period,
    approver_units,
    conflict,
    decide,
    due_periods,
    expired,
    invalid_figures,
    plan_indicators,
    report_states,
    resolve_unit,
    standing,
    supervisor_units,
    unapproved_by_target,
    unit_indicators,
    unit_of,
)

INCLUDES = ("all", "approved", "submitted")


def scope(tracker: Any, plan_id: str | None = None) -> tuple[Plan, Regions]:
    """The plan (default: the first the reports cover) and its own regions: what approves
    what in Zhejiang's plan follows Zhejiang's hierarchy."""
    from tracker.service.plans import regions_of

    model = tracker.model
    if plan_id is None:
        tracked = tracker.tracked_plans(model)
        if not tracked:
            raise ApprovalError("plan", "targets.yaml 中没有规划", "targets.yaml holds no plan")
        return tracked[0], tracker.regions
    try:
        plan = model.plan(plan_id)
    except KeyError:
        known = ", ".join(p.id for p in model.plans)
        raise ApprovalError("plan", f"没有规划「{plan_id}」；可选：{known}", f"no plan {plan_id!r}; accepted: {known}") from None
    return plan, regions_of(tracker, plan.id)


def supervisors(tracker: Any, plan_id: str) -> list[str]:
    return supervisor_units(tracker.model, plan_id, tracker.settings.approval.supervisors)


def actor_for(tracker: Any, name: str, unit_text: str, plan: str | None = None, ip: str = "") -> Actor:
    """The actor a person acting for `unit_text` is: a region, a department, or the plan's
    supervisor unit (省发展改革委), which may report nothing itself."""
    from tracker.domain.model import same_unit

    plan_obj, regions = scope(tracker, plan)
    sups = supervisors(tracker, plan_obj.id)
    found = next((s for s in sups if same_unit(s, unit_text)), None)
    if found is not None:
        return Actor(name, found, True, ip)
    return Actor(name, resolve_unit(unit_text, tracker.model, regions).key, False, ip)


def _names(regions: Regions) -> Callable[[str], str]:
    def name(key: str) -> str:
        try:
            region = regions.get(key)
        except RegionError:
            return key
        return region.name if region.code == key else key

    return name


def _hold(row: Any) -> Hold:
    return Hold(row.unit, row.plan, row.period, row.frequency, _day(row.period_start), _day(row.period_end),
                row.state, bool(row.reopened))


def _day(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def view(tracker: Any, unit: Unit, plan: str, period_label: str, row: Any, regions: Regions) -> Submission:
    """A submission as people see it, from its stored row (None: a draft never submitted)."""
    period, frequency = approval_period(period_label)
    s = Submission(unit, plan, period.label, frequency, period.start, period.end)
    if row is not None:
        s.state, s.last_action, s.note, s.updated_by = row.state, row.last_action, row.note, row.updated_by
        s.updated_at, s.reopened = aware(row.updated_at), bool(row.reopened)
    s.approvers = approver_units(unit, tracker.model, plan, regions)
    s.locked = s.state == "accepted" or (
        s.state == "draft" and not s.reopened and expired(period.end, tracker.today(), tracker.settings.approval.expiry_days))
    return s


# ---------------------------------------------------------------------------------------
# Transitions


def act(tracker: Any, action: str, unit_text: str, period_text: str, *, actor: Actor, plan: str | None = None,
        reason: str = "") -> Submission:
    """Do `action` (submit, approve, return, unlock) on one unit's submission for one period;
    returns it as it now stands, or raises ApprovalError (audited as refused)."""
    from tracker.store import approvals as db

    what = f"{plan or ''} {unit_text} {period_text}".strip()
    try:
        model = tracker.model
        plan_obj, regions = scope(tracker, plan)
        reason = (reason or "").strip()
        unit = resolve_unit(unit_text, model, regions)
        period, frequency = approval_period(period_text)
        what = f"{plan_obj.id} {unit.key} {period.label}"
        indicators = unit_indicators(unit, model, plan_obj.id, frequency)
        if not indicators:
            raise ApprovalError("unit", f"{unit.name}在本规划中没有{period.label}这类期间报送的指标",
                                f"{unit.name} reports no indicator of plan {plan_obj.id} for a period like {period.label}")
        row = db.approval_row(tracker.engine, unit.key, plan_obj.id, period.label)
        state = row.state if row is not None else "draft"
        sups = supervisors(tracker, plan_obj.id)
        who = standing(actor, unit, approver_units(unit, model, plan_obj.id, regions), sups)
        today = tracker.today()
        step, to_state = decide(action, state, who, unit=unit, period=period.label, reason=reason,
                                expired=expired(period.end, today, tracker.settings.approval.expiry_days),
                                reopened=bool(row.reopened) if row is not None else False)
        detail = ""
        if step in ("submit", "approve", "accept"):
            cells = db.submission_cells(tracker.engine, [i.id for i in indicators],
                                        [unit.key] if unit.kind == "region" else None, period.start, period.end)
            if not cells:
                raise ApprovalError("empty", f"{unit.name} {period.label} 没有可提交的数值，请先填报",
                                    f"{unit.name} {period.label} holds no figures to submit; enter them first")
            if step != "submit":
                problems = invalid_figures(model, regions, cells, today, _names(regions))
                if problems:
                    raise ApprovalError("invalid", f"{unit.name} {period.label} 有 {len(problems)} 个数值未通过校验，"
                                        "不能审核；请退回修改：",
                                        f"{unit.name} {period.label}: {len(problems)} figure(s) fail validation; "
                                        "not approved (return it for correction):", problems)
            detail = f"{len(cells)} figures"
        key = db.ApprovalKey(unit.key, plan_obj.id, period.label, frequency, period.start, period.end)
        reopened = True if step == "unlock" else (False if step == "accept" else None)
        result = db.transition(tracker.engine, key, expected=state, to_state=to_state, action=step, actor=actor.name,
                               actor_unit=actor.unit, reason=reason, now=tracker.now(), reopened=reopened,
                               ip=actor.ip, detail=detail)
        if not result.done:
            raise conflict(unit, period.label, result.row)
    except ApprovalError as exc:
        db.audit_refusal(tracker.engine, actor.name, action, what, f"{exc.code}: {exc.en}"[:4000],
                                      tracker.now(), ip=actor.ip)
        raise
    done = view(tracker, unit, plan_obj.id, period.label, result.row, regions)
    if step == "return":
        _send_return(tracker, done, reason, actor, result.event_id)
    return done


def _send_return(tracker: Any, submission: Submission, reason: str, actor: Actor, event_id: int | None) -> None:
    """Queue the return's message to the reporter (delivered with the alerts)."""
    from tracker.alerts.approvals import approval_rows, return_message
    from tracker.store.outbox import insert_alerts

    from tracker.service.plans import alert_settings, is_home

    subject, text = return_message(submission, reason, actor.name)
    month = tracker.today().strftime("%Y-%m")
    plan = submission.plan
    insert_alerts(tracker.engine, approval_rows({submission.unit.name: (subject, text)}, f"return|{event_id}", month,
                                                alert_settings(tracker, plan), tracker.now(), item=submission.key,
                                                plan="" if is_home(tracker, plan) else plan))


def history(tracker: Any, unit_text: str, period_text: str, plan: str | None = None) -> list[dict[str, Any]]:
    """Every transition of one submission, oldest first: who, when, from, to, why."""
    from tracker.store import approvals as db

    plan_obj, regions = scope(tracker, plan)
    unit = resolve_unit(unit_text, tracker.model, regions)
    period, _ = approval_period(period_text)
    return [{"action": e.action, "from": e.from_state, "to": e.to_state, "actor": e.actor, "actor_unit": e.actor_unit,
             "reason": e.reason, "at": aware(e.at)}
            for e in db.approval_events(tracker.engine, unit.key, plan_obj.id, period.label)]


# ---------------------------------------------------------------------------------------
# Lists: a unit's own, the queue waiting for an approver, all


def listing(tracker: Any, plan: str | None = None, *, unit: str | None = None, waiting_for: Actor | None = None,
            period: str | None = None, states: Sequence[str] | None = None, count: bool = False) -> list[Submission]:
    """Submissions of the plan: a unit's (`unit`: with the periods it is due to submit, even
    never touched), those waiting for `waiting_for`'s decision, or all (by period, state)."""
    from tracker.store import approvals as db

    model = tracker.model
    plan_obj, regions = scope(tracker, plan)
    periods = [approval_period(period)[0].label] if period else None
    if unit is not None:
        u = resolve_unit(unit, model, regions)
        rows = {r.period: r for r in db.approval_rows(tracker.engine, plan_obj.id, units=[u.key], periods=periods)}
        out = [view(tracker, u, plan_obj.id, label, row, regions) for label, row in rows.items()]
        if periods is None:
            for _freq, due in due_periods(unit_indicators(u, model, plan_obj.id), tracker.today()):
                if due.label not in rows:
                    out.append(view(tracker, u, plan_obj.id, due.label, None, regions))
        out.sort(key=lambda s: (s.end, s.start), reverse=True)
    else:
        rows_all = db.approval_rows(tracker.engine, plan_obj.id, periods=periods,
                                    states=list(states) if states is not None else None)
        out = [view(tracker, unit_of(r.unit, regions), plan_obj.id, r.period, r, regions) for r in rows_all]
        if waiting_for is not None:
            sups = supervisors(tracker, plan_obj.id)
            out = [s for s in out if _may_decide(waiting_for, s, sups)]
        order = {r.code: i for i, r in enumerate(regions.all)}
        out.sort(key=lambda s: (-s.end.toordinal(), s.unit.kind != "region", order.get(s.unit.key, len(order)),
                                s.unit.key))
    if count:
        for s in out:
            s.figures = len(_cells(tracker, model, s))
    return out


def _may_decide(actor: Actor, s: Submission, sups: Sequence[str]) -> bool:
    try:
        decide("approve", s.state, standing(actor, s.unit, s.approvers, sups), unit=s.unit, period=s.period)
    except ApprovalError:
        return False
    return True


def _cells(tracker: Any, model: TargetsModel, s: Submission) -> list[Any]:
    from tracker.store import approvals as db

    indicators = [i.id for i in unit_indicators(s.unit, model, s.plan, s.frequency)]
    # a department's figures are those of its indicators in its plan's regions: 省民政厅 of
    # Guangdong's plan puts up Guangdong's, not Hainan's under the same name
    regions = [s.unit.key] if s.unit.kind == "region" else [r.code for r in tracker.plan_regions(s.plan).all]
    return db.submission_cells(tracker.engine, indicators, regions, s.start, s.end)


def cells(tracker: Any, s: Submission) -> list[Any]:
    """The figures a submission holds (latest revisions)."""
    return _cells(tracker, tracker.model, s)


# ---------------------------------------------------------------------------------------
# What counts, what is closed


def counting(tracker: Any, as_of: date, include: str | None, plans: Sequence[str]) -> tuple[str, Any]:
    """(include, the store's Counted filter or None): which figures an evaluation counts.
    "all": every stored value (approval not required for these plans); "approved": approved
    and accepted figures (the default when it is); "submitted": also those awaiting review
    (the supervisor's preview)."""
    from tracker.store.approvals import COUNTED_STATES, PREVIEW_STATES, Counted

    if include is not None and include not in INCLUDES:
        raise ValueError(f"include={include!r}; accepted: {', '.join(INCLUDES)}")
    required = [p for p in plans if tracker.settings.approval.required_for(p)]
    if not required or include == "all":
        return "all", None
    include = include or "approved"
    states = COUNTED_STATES if include == "approved" else PREVIEW_STATES
    return include, Counted(tuple(required), states, knowledge_cutoff(as_of))


def mark_unapproved(tracker: Any, model: TargetsModel, statuses: Iterable[Any], as_of: date, counted: Any,
                    indicators: Iterable[str], regions: Regions) -> dict[str, list[str]]:
    """Say on each target's status (figures "unapproved": region codes) which of its regions'
    figures are not approved yet, whether or not a preview counted them."""
    from tracker.store.approvals import COUNTED_STATES, Counted, uncounted_cells

    approved = Counted(counted.plans, COUNTED_STATES, counted.moment)
    found = uncounted_cells(tracker.engine, knowledge_cutoff(as_of), indicators, approved)
    by_target = unapproved_by_target(model, found, regions, counted.plans)
    for s in statuses:
        codes = by_target.get(s.item_id)
        if codes:
            s.figures["unapproved"] = codes
            s.figures["unapproved_count"] = len(codes)
    return by_target


def locks(tracker: Any) -> Locks:
    """The entry paths' `locked` check: read when the entry first asks, inside its transaction.
    Its messages name who unlocks: the supervisor of the plan holding the cell (of the plan the
    reports cover, for a period closed by its age)."""
    from tracker.store.approvals import lock_rows

    from tracker.service.plans import region_names

    model = tracker.model
    tracked = [p.id for p in tracker.tracked_plans(model)]
    by_plan = {p.id: supervisors(tracker, p.id) for p in model.plans}
    return Locks(lambda: [_hold(r) for r in lock_rows(tracker.engine)], model, tracker.today(),
                 tracker.settings.approval.expiry_days, region_names(tracker),
                 by_plan.get(tracked[0], []) if tracked else [], by_plan)


def fill_report_states(tracker: Any, gaps: list[Any], plan_id: str, regions: Regions) -> list[Any]:
    """The gaps with each expected region's 未报送 / 已提交未审核 / 已审核 (approval required)."""
    from tracker.store.approvals import approval_rows

    report_states(gaps, [_hold(r) for r in approval_rows(tracker.engine, plan_id)], regions, plan_id)
    return gaps


# ---------------------------------------------------------------------------------------
# Reminders


def reminder_rows(tracker: Any, month: str) -> list[dict[str, Any]]:
    """Outbox rows reminding, for each plan that requires approval, the units that have not
    submitted their due periods and the approvers of submissions waiting for them; one
    message per recipient and month."""
    from tracker.alerts.approvals import approval_rows, reminder_texts
    from tracker.service.plans import alert_settings, followed, is_home

    out: list[dict[str, Any]] = []
    for plan in [p for group in followed(tracker, tracker.today()) for p in group]:
        if not tracker.settings.approval.required_for(plan.id):
            continue
        _, regions = scope(tracker, plan.id)
        names = _names(regions)
        model = tracker.model
        units = [Unit(r.code, r.name, "region") for r in regions.all if r.level in ("county", "district")]
        units += [Unit(d, d, "department") for d in sorted({i.reporter for i in plan_indicators(model, plan.id)
                                                            if i.reporter})]
        unsubmitted: dict[str, list[Submission]] = {}
        for u in units:
            for s in listing(tracker, plan.id, unit=u.key):
                if s.state == "draft" and not s.locked and s.end < tracker.today():
                    unsubmitted.setdefault(u.name, []).append(s)
        waiting: dict[str, list[Submission]] = {}
        sups = supervisors(tracker, plan.id)
        for s in listing(tracker, plan.id, states=["submitted", "approved"]):
            for who in (s.approvers[:1] if s.state == "submitted" and s.approvers else sups):
                waiting.setdefault(names(who), []).append(s)
        texts = reminder_texts(unsubmitted, waiting, {})
        out += approval_rows(texts, f"remind|{plan.id}|{month}", month, alert_settings(tracker, plan.id), tracker.now(),
                             plan="" if is_home(tracker, plan.id) else plan.id)
    return out
