"""Review and approval of reported figures (填报 → 审核 → 上报): who may move which submission
where, which cells are closed to entry, and what a status must say about figures still
unapproved. Pure: the rows come in from tracker.store.approvals, decisions go out.

A submission is one reporting unit's figures of one plan and period. A reporting unit is a
region (its code: 海口市 460100) or a department (its name, as in an indicator's `reporter`).
Its figures are the cells of the plan's indicators it reports: a region's cells for every
indicator of the plan; a department's cells, in every region, of the indicators it reports;
of the indicators whose frequency is the period's (a year's submission holds the yearly
figures, a quarter's the quarterly ones).

States (DHIS2's data approval, along the plan's hierarchy):

    填报中 draft --submit--> 已提交 submitted --approve--> 已审核 approved --accept--> 已上报 accepted
         ^                         |                            |                    (locked)
         +-------- return ---------+------------ return --------+                       |
         +------------------------------- unlock (supervisor, with a reason) -----------+

- submit: the unit itself.
- approve (submitted → approved): the level above. A region's is the region above it in the
  plan (a district's city, a county's city or province, a city's province), and any level
  above that; a department's, the lead units (牵头) of the plan's tasks its indicators serve.
  A unit with no level above (the plan's area, a department that leads its own tasks) is
  approved by the plan's supervisor.
- accept (approved → accepted): the plan's supervisor (发展改革委: the lead unit of the plan's
  last task, the follow-up, unless [approval] supervisors says otherwise).
- return (退回, with a reason): whoever may take the next step; back to draft.
- unlock (解锁, with a reason): the supervisor, for an accepted submission or a period closed
  by its expiry days.
No one approves, accepts or returns their own unit's figures. The supervisor may act at every
level. A cell is closed to entry while a submission covering it is submitted, approved or
accepted, and once its period is past [approval] expiry_days unless unlocked.
"""

import dataclasses
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from tracker.actuals.problems import Problem, ProblemLog
from tracker.actuals.validate import Validator
from tracker.domain.model import Indicator, TargetsModel, same_unit
from tracker.domain.periods import (
    FREQUENCY_KIND,
    Period,
    PeriodError,
    latest_closed_period,
    parse_period,
    period_containing,
)
from tracker.domain.regions import RegionError, Regions
from tracker.status.completeness import Gap
from tracker.status.figures import indicators_needed

STATES: tuple[str, ...] = ("draft", "submitted", "approved", "accepted")
STATE_LABELS = {"draft": ("填报中", "draft"), "submitted": ("已提交", "submitted"),
                "approved": ("已审核", "approved"), "accepted": ("已上报（已锁定）", "accepted (locked)")}
ACTIONS: tuple[str, ...] = ("submit", "approve", "accept", "return", "unlock")
ACTION_LABELS = {"submit": ("提交", "submitted"), "approve": ("审核通过", "approved"),
                 "accept": ("上报确认", "accepted"), "return": ("退回", "returned"), "unlock": ("解锁", "unlocked")}
COUNTED = ("approved", "accepted")
# Completeness of a region's figure when approval is required: 未报送 / 已提交未审核 / 已审核.
REPORT_STATES = {"missing": ("未报送", "not submitted"), "submitted": ("已提交未审核", "submitted, not approved"),
                 "approved": ("已审核", "approved")}
_KIND_FREQUENCY = {kind: freq for freq, kind in FREQUENCY_KIND.items()}


def state_label(state: str, lang: str = "zh") -> str:
    zh, en = STATE_LABELS.get(state, (state, state))
    return zh if lang == "zh" else en


# ---------------------------------------------------------------------------------------
# Who acts, for whom, on what


@dataclass(frozen=True)
class Unit:
    """A reporting unit: a region (key: its code) or a department (key: its name)."""

    key: str
    name: str
    kind: str  # "region" | "department"


@dataclass(frozen=True)
class Actor:
    """Who is acting: the person (for the history and the audit log), the unit they act for
    (a region code or a department; "" for the supervisor's own account), and whether they
    act as the plan's supervisor."""

    name: str
    unit: str = ""
    supervisor: bool = False
    ip: str = ""


class ApprovalError(ValueError):
    """A transition refused. `code`: forbidden (not this actor's to do), state (not in a
    state that allows it), conflict (someone else changed it first), reason (a return or an
    unlock without a reason), invalid (figures that fail validation, listed in `problems`),
    empty (nothing to submit), unit, period or plan (not known)."""

    def __init__(self, code: str, zh: str, en: str, problems: Sequence[tuple[str, str]] = ()) -> None:
        self.code, self.zh, self.en = code, zh, en
        self.problems = list(problems)  # (zh, en) per failing value
        super().__init__(self.format("en"))

    def format(self, lang: str = "zh") -> str:
        lines = [self.zh if lang == "zh" else self.en]
        lines += [f"  - {zh if lang == 'zh' else en}" for zh, en in self.problems]
        return "\n".join(lines)


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def known_departments(model: TargetsModel) -> list[str]:
    """Departments that report an indicator or answer for a task (not the local governments)."""
    names = {i.reporter for i in model.indicators if i.reporter}
    names |= {u.name for t in model.tasks for u in t.units if u.role != "local"}
    return sorted(names)


def resolve_unit(text: str, model: TargetsModel, regions: Regions) -> Unit:
    """A department by its name, or a region by any of its names; else ApprovalError."""
    name = _norm(text)
    for dept in known_departments(model):
        if same_unit(dept, name):
            return Unit(dept, dept, "department")
    try:
        region = regions.lookup(name)
    except RegionError as exc:
        raise ApprovalError("unit", f"「{name}」既不是责任单位也不是本规划的地区：{exc.zh}",
                            f"{name!r} is neither a department nor a region of the plan: {exc}") from None
    return Unit(region.code, region.name, "region")


def unit_of(key: str, regions: Regions) -> Unit:
    """The unit of a stored key (a region code or a department name)."""
    try:
        region = regions.get(key)
    except RegionError:
        return Unit(key, key, "department")
    return Unit(region.code, region.name, "region") if region.code == key else Unit(key, key, "department")


def approval_period(text: str) -> tuple[Period, str]:
    """(period, the frequency of its figures) of a month, quarter or year; else ApprovalError."""
    try:
        period = parse_period(text)
    except PeriodError:
        period = None
    if period is None or period.kind not in _KIND_FREQUENCY:
        raise ApprovalError("period", f"「{text}」不是月份、季度或年份；可填：2026-11、2026Q3、2025",
                            f"{text!r} is not a month, quarter or year; accepted: 2026-11, 2026Q3, 2025")
    return period, _KIND_FREQUENCY[period.kind]


def plan_indicators(model: TargetsModel, plan_id: str) -> list[Indicator]:
    """The indicators the plan's targets are judged on, with the components of ratios."""
    own = TargetsModel(model.plans, model.indicators, model.tasks,
                       [t for t in model.targets if t.plan == plan_id], [])
    needed = indicators_needed(own)
    return [i for i in model.indicators if i.id in needed]


def unit_indicators(unit: Unit, model: TargetsModel, plan_id: str, frequency: str | None = None) -> list[Indicator]:
    """The plan's indicators whose figures `unit` reports (of `frequency`, when given)."""
    mine = [i for i in plan_indicators(model, plan_id)
            if unit.kind == "region" or same_unit(i.reporter, unit.key)]
    return [i for i in mine if frequency is None or i.frequency == frequency]


def supervisor_units(model: TargetsModel, plan_id: str, configured: Sequence[str] = ()) -> list[str]:
    """Who accepts the plan's figures: the configured units, else the lead unit(s) of the
    plan's last task (both task tables end with the follow-up that 发展改革委 leads)."""
    if configured:
        return list(configured)
    tasks = sorted((t for t in model.tasks if t.plan == plan_id), key=lambda t: t.number)
    for task in reversed(tasks):
        leads = task.units_in("lead")
        if leads:
            return leads
    return []


def approver_units(unit: Unit, model: TargetsModel, plan_id: str, regions: Regions) -> list[str]:
    """The units that approve `unit`'s submissions, nearest first: for a region, every region
    above it in the plan (its parent first); for a department, the lead units of the plan's
    tasks its indicators serve. Empty: the supervisor approves."""
    if unit.kind == "region":
        try:
            chain = regions.path(unit.key)
        except KeyError:
            return []
        return [r.code for r in reversed(chain[:-1])]
    served = {i.id for i in unit_indicators(unit, model, plan_id)}
    served |= {i.id for i in model.indicators
               if (i.numerator in served or i.denominator in served)}
    tasks = {(t.plan, t.task) for t in model.targets if t.plan == plan_id and t.indicator in served}
    leads: list[str] = []
    for t in model.tasks:
        if (t.plan, t.number) in tasks:
            leads += [name for name in t.units_in("lead") if name not in leads and not same_unit(name, unit.key)]
    return leads


@dataclass(frozen=True)
class Standing:
    """How an actor stands to a unit's submission: its own, a level above, the supervisor."""

    own: bool
    approver: bool
    supervisor: bool


def standing(actor: Actor, unit: Unit, approvers: Sequence[str], supervisors: Sequence[str]) -> Standing:
    own = bool(actor.unit) and same_unit(actor.unit, unit.key)
    supervisor = actor.supervisor or any(same_unit(actor.unit, s) for s in supervisors)
    approver = any(same_unit(actor.unit, a) for a in approvers)
    return Standing(own, approver and not own, supervisor and not own)


def decide(action: str, state: str, who: Standing, *, unit: Unit, period: str, reason: str = "",
           expired: bool = False, reopened: bool = False) -> tuple[str, str]:
    """(the transition's action, the state it leads to) for `action` asked on a submission in
    `state`, or ApprovalError saying why not (pure)."""
    what = f"{unit.name} {period}"
    now_zh, now_en = state_label(state), state_label(state, "en")
    if action in ("return", "unlock") and not reason.strip():
        verb_zh, verb_en = ("退回", "a return") if action == "return" else ("解锁", "an unlock")
        raise ApprovalError("reason", f"{verb_zh}须说明原因：{what}未{verb_zh}",
                            f"{verb_en} needs a reason: {what} was not changed")
    if action == "submit":
        if not who.own:
            raise ApprovalError("forbidden", f"只有{unit.name}本单位可以提交{what}的数据",
                                f"only {unit.name} itself submits its figures ({what})")
        if state != "draft":
            raise ApprovalError("state", f"{what}{now_zh}，无需再次提交", f"{what} is already {now_en}")
        return "submit", "submitted"
    if action == "unlock":
        if not who.supervisor:
            raise ApprovalError("forbidden", f"只有规划的监督单位可以解锁{what}", f"only the plan's supervisor unlocks {what}")
        if state == "accepted" or (state == "draft" and expired and not reopened):
            return "unlock", "draft"
        raise ApprovalError("state", f"{what}{now_zh}，未锁定，无需解锁", f"{what} is {now_en}, not locked")
    if action not in ("approve", "return"):
        raise ValueError(f"unknown action {action!r}; accepted: {', '.join(ACTIONS)}")
    if who.own:
        raise ApprovalError("forbidden", f"不能审核本单位的数据（{what}）", f"no unit approves or returns its own figures ({what})")
    if state == "submitted":
        if not (who.approver or who.supervisor):
            raise ApprovalError("forbidden", f"{what}由上级审核，您无权{ '审核' if action == 'approve' else '退回'}",
                                f"{what} is approved by the level above; not yours to {action}")
        return (action, "approved") if action == "approve" else ("return", "draft")
    if state == "approved":
        if not who.supervisor:
            raise ApprovalError("forbidden", f"{what}已审核，待规划的监督单位上报确认",
                                f"{what} is approved; the plan's supervisor accepts it")
        return ("accept", "accepted") if action == "approve" else ("return", "draft")
    if state == "draft":
        raise ApprovalError("state", f"{what}尚未提交，不能{'审核' if action == 'approve' else '退回'}",
                            f"{what} has not been submitted")
    raise ApprovalError("state", f"{what}已上报并锁定；如需修改，请监督单位解锁",
                        f"{what} is accepted and locked; the supervisor unlocks it to change it")


def conflict(unit: Unit, period: str, row: Any) -> ApprovalError:
    """Someone else changed the submission between reading and writing it."""
    state = row.state if row is not None else "draft"
    by = getattr(row, "updated_by", "")
    return ApprovalError("conflict", f"{unit.name} {period} 已被{by or '他人'}先行处理，现为「{state_label(state)}」；未作更改",
                         f"{unit.name} {period} was changed by {by or 'someone else'} first: it is now "
                         f"{state_label(state, 'en')}; nothing was changed")


# ---------------------------------------------------------------------------------------
# Validation before approval


def invalid_figures(model: TargetsModel, regions: Regions, cells: Iterable[Any], today: date,
                    names: Callable[[str], str]) -> list[tuple[str, str]]:
    """(zh, en) for each stored figure that would not pass entry now: an indicator gone from
    the model, a region no longer in the plan, a value out of bounds, a period of the wrong
    frequency or in the future. The same checks as entry (tracker.actuals.validate)."""
    validator = Validator(model, regions, today)
    out = []
    for cell in cells:
        validator.log = ProblemLog()
        validator.check(None, "", cell.indicator, cell.region, cell.period, float(cell.value))
        where = f"{names(cell.region)} {cell.indicator} {cell.period} = {cell.value:g}"
        for problem in validator.log.errors():
            bare = dataclasses.replace(problem, column="", file="", row=None, value="")
            out.append((f"{where}：{bare.format('zh')}", f"{where}: {bare.format('en')}"))
    return out


# ---------------------------------------------------------------------------------------
# Closed to entry


@dataclass(frozen=True)
class Hold:
    """One stored approval that closes cells (submitted, approved, accepted) or reopens an
    expired period (reopened)."""

    unit: str
    plan: str
    period: str
    frequency: str
    start: date
    end: date
    state: str
    reopened: bool


class Locks:
    """Which cells may not be written: called with (indicator id, region code, period end),
    it gives the Problem to refuse the cell with, or None. The holds are read by `load` at the
    first call (inside the entry's write transaction, so no submission slips in between)."""

    def __init__(self, load: Callable[[], Iterable[Hold]], model: TargetsModel, today: date, expiry_days: int,
                 names: Callable[[str], str], supervisors: Sequence[str] = (),
                 plan_supervisors: dict[str, list[str]] | None = None) -> None:
        self._load = load
        self.frequency = {i.id: i.frequency for i in model.indicators}
        self.reporter = {i.id: _norm(i.reporter) for i in model.indicators}
        self.today = today
        self.expiry_days = expiry_days
        self.names = names
        self.supervisor = "、".join(supervisors) or "监督单位"
        self.plan_supervisors = plan_supervisors or {}
        self._by_unit: dict[tuple[str, str], list[Hold]] | None = None
        self._open = False  # nothing held and no expiry: every cell may be written

    def _holds(self) -> dict[tuple[str, str], list[Hold]]:
        if self._by_unit is None:
            self._by_unit = {}
            for h in self._load():
                self._by_unit.setdefault((_norm(h.unit), h.frequency), []).append(h)
            self._open = not self._by_unit and not self.expiry_days
        return self._by_unit

    def __call__(self, indicator: str, region: str, period_end: date) -> Problem | None:
        if self._open:  # a big import asks once per cell: the common case costs one test
            return None
        holds = self._holds()
        frequency = self.frequency.get(indicator)
        if frequency is None or self._open:
            return None
        covering = [h for unit in (region, self.reporter.get(indicator, "")) if unit
                    for h in holds.get((unit, frequency), ()) if h.start <= period_end <= h.end]
        held = next((h for h in covering if h.state in ("submitted", "approved", "accepted")), None)
        if held is not None:
            return self._held(held)
        if self.expiry_days:
            period = period_containing(period_end, FREQUENCY_KIND.get(frequency, "month"))
            closes = period.end + timedelta(days=self.expiry_days)
            if self.today > closes and not any(h.reopened for h in covering):
                return Problem(
                    f"期间 {period.label} 已于 {closes.isoformat()} 截止填报（期末后 {self.expiry_days} 天），已锁定；"
                    f"如需修改，请{self.supervisor}解锁",
                    f"period {period.label} closed to entry on {closes.isoformat()} ({self.expiry_days} days after "
                    f"it ended) and is locked; ask {self.supervisor} to unlock it",
                    value=period.label, accepted_zh="未锁定的期间", accepted_en="a period open to entry", code="locked")
        return None

    def _held(self, h: Hold) -> Problem:
        what = f"{self.names(h.unit)} {h.period}"
        if h.state == "accepted":
            who = "、".join(self.plan_supervisors.get(h.plan, [])) or self.supervisor
            zh = f"{what} 的数据已上报并锁定，不能修改；如需修改，请{who}解锁"
            en = f"{what} is accepted and locked; ask {who} to unlock it"
        else:
            zh = f"{what} 的数据{state_label(h.state)}，正在审核，不能修改；如需修改，请审核单位退回"
            en = f"{what} is {state_label(h.state, 'en')} and under review; ask the approver to return it"
        return Problem(zh, en, value=what, accepted_zh="填报中（未提交或已退回）的期间",
                       accepted_en="a period in draft (not submitted, or returned)", code="locked")


# ---------------------------------------------------------------------------------------
# What a status and completeness say


def unapproved_by_target(model: TargetsModel, uncounted: set[tuple[str, str]], regions: Regions,
                         plans: Sequence[str]) -> dict[str, list[str]]:
    """target id -> the plan's regions with figures of its indicator (or its components) that
    do not count yet, in the plan's order."""
    order = {r.code: i for i, r in enumerate(regions.all)}
    by_indicator: dict[str, set[str]] = {}
    for indicator, region in uncounted:
        if region in order:
            by_indicator.setdefault(indicator, set()).add(region)
    out: dict[str, list[str]] = {}
    for t in model.targets:
        if t.plan not in plans:
            continue
        try:
            ind = model.indicator(t.indicator)
        except KeyError:
            continue
        found = set().union(*(by_indicator.get(i, set()) for i in (ind.id, ind.numerator, ind.denominator) if i))
        if found:
            out[t.id] = sorted(found, key=order.__getitem__)
    return out


def report_states(gaps: Iterable[Gap], holds: Iterable[Hold], regions: Regions, plan_id: str) -> None:
    """Fill each gap's `states` (region -> missing | submitted | approved) from the plan's
    approvals of its expected period: the region's own, or the reporting department's. A
    county with districts and no approval of its own stands as its least advanced district."""
    state_of: dict[tuple[str, str], str] = {}
    for h in holds:
        if h.plan == plan_id:
            state_of[(_norm(h.unit), h.period)] = h.state
    rank = {"missing": 0, "submitted": 1, "approved": 2}

    def own(code: str, reporter: str, period: str) -> str:
        found = [state_of.get((code, period), ""), state_of.get((reporter, period), "")]
        if any(s in COUNTED for s in found):
            return "approved"
        return "submitted" if "submitted" in found else "missing"

    for gap in gaps:
        reporter = _norm(gap.reporter)
        for code in gap.expected:
            state = own(code, reporter, gap.expected_period)
            parts = regions.children(code)
            if state == "missing" and parts:
                state = min((own(p.code, reporter, gap.expected_period) for p in parts), key=rank.__getitem__)
            gap.states[code] = state


def due_periods(indicators: Iterable[Indicator], today: date) -> list[tuple[str, Period]]:
    """(frequency, the latest period of it that has ended) for the frequencies of `indicators`:
    what a unit is expected to submit now."""
    seen: dict[str, Period] = {}
    for ind in indicators:
        if ind.frequency not in seen:
            seen[ind.frequency] = latest_closed_period(today, ind.frequency)
    return sorted(seen.items(), key=lambda kv: kv[1].end, reverse=True)


def expired(period_end: date, today: date, expiry_days: int) -> bool:
    """Whether a period ending on `period_end` is closed to entry by its age."""
    return bool(expiry_days) and today > period_end + timedelta(days=expiry_days)


@dataclass
class Submission:
    """A unit's figures of one plan and period as people see them: the state, who acts next,
    the latest note (a return's reason), and the figures it holds."""

    unit: Unit
    plan: str
    period: str
    frequency: str
    start: date
    end: date
    state: str = "draft"
    last_action: str = ""
    note: str = ""
    updated_by: str = ""
    updated_at: datetime | None = None
    reopened: bool = False
    approvers: list[str] = field(default_factory=list)  # the level above (unit keys); []: the supervisor
    locked: bool = False  # closed to entry (accepted, or past its expiry and not reopened)
    figures: int | None = None  # how many cells it holds, when counted

    @property
    def key(self) -> str:
        """unit|period: how a form names it."""
        return f"{self.unit.key}|{self.period}"

    @property
    def returned(self) -> bool:
        return self.state == "draft" and self.last_action == "return"

    def label(self, lang: str = "zh") -> str:
        return state_label(self.state, lang)
