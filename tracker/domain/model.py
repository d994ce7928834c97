"""The targets model: plans, tasks, indicators, targets and milestones.

Plain frozen dataclasses with no I/O, so that extraction, targets.yaml, storage and the
status engine all pass the same values around. Chinese terms are kept in the data; the code
names say what a thing is in the domain.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from tracker.domain.organisations import same_organisation

if TYPE_CHECKING:  # a plan's coverage; the regions module is not needed to read a model
    from tracker.domain.regions import Coverage

Role = Literal["lead", "participating", "joint", "local"]
ROLES: tuple[str, ...] = ("lead", "participating", "joint", "local")
ROLE_LABELS = {"lead": "牵头", "participating": "参加", "joint": "按职责分工负责", "local": "地方政府负责"}

Comparator = Literal[">=", ">", "<=", "<"]
COMPARATORS: tuple[str, ...] = (">=", ">", "<=", "<")
COMPARATOR_LABELS = {">=": "不低于", ">": "超过", "<=": "不高于", "<": "低于"}
COMPARATOR_LABELS_EN = {">=": "at least", ">": "more than", "<=": "at most", "<": "below"}

Scope = Literal["whole", "each_region"]
SCOPES: tuple[str, ...] = ("whole", "each_region")

Kind = Literal["count", "flow", "ratio", "percentage"]
KINDS: tuple[str, ...] = ("count", "flow", "ratio", "percentage")

# 属性 of a main-indicator table's row: 约束性 targets bind the government (a miss is a failure
# to answer for), 预期性 ones are expected outcomes. "" when the document does not say.
Attribute = Literal["", "binding", "expected"]
ATTRIBUTES: tuple[str, ...] = ("binding", "expected")
ATTRIBUTE_LABELS = {"binding": "约束性", "expected": "预期性"}
ATTRIBUTE_LABELS_EN = {"binding": "binding", "expected": "expected"}

Frequency = Literal["monthly", "quarterly", "yearly"]
FREQUENCIES: tuple[str, ...] = ("monthly", "quarterly", "yearly")


@dataclass(frozen=True)
class ResponsibleUnit:
    """One organisation named in a task's 责任单位 cell, with its role."""

    name: str
    role: Role


@dataclass(frozen=True)
class Plan:
    id: str
    title: str
    issuer: str
    level: Literal["national", "province", "city"]
    region: str  # region code the plan covers, e.g. "460000"; "" for national
    start: date
    end: date
    source: str  # path of the source document inside the project
    title_en: str = ""  # the title in English, as reviewed in targets.yaml
    # The regions the plan covers (targets.yaml `coverage:`); None: the default for its area
    # (Hainan's packaged coverage for 460000, the area's children otherwise, the country's
    # provinces for a national plan).
    coverage: "Coverage | None" = None
    follows: str = ""  # the id of the plan this one succeeds (十五五 after 十四五)

    def label(self, lang: str = "zh") -> str:
        """The title in `lang` (the Chinese title where no English one is written)."""
        return self.title_en if lang == "en" and self.title_en else self.title

    def covers(self, day: date) -> bool:
        """Whether `day` falls within the plan's period (start..end, both included)."""
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Task:
    plan: str
    number: int
    text: str
    units: tuple[ResponsibleUnit, ...]
    units_text: str = ""  # the 责任单位 cell as written, kept so no text is lost
    implements: tuple[str, ...] = ()  # ids of the higher-level tasks it carries out, "national#7"
    due: str = ""  # the 完成时限 cell as written, when the table has one ("2025年底前", "持续推进")

    @property
    def id(self) -> str:
        return f"{self.plan}#{self.number}"

    def units_in(self, role: str) -> list[str]:
        return [u.name for u in self.units if u.role == role]

    def names(self, query: str) -> bool:
        """Whether a unit matching the search `query` is responsible for the task (any role)."""
        return any(unit_found(u.name, query) for u in self.units) or unit_found(self.units_text, query)

    def has_unit(self, name: str, roles: tuple[str, ...] = ROLES) -> bool:
        """Whether the organisation `name` (exactly, or by a synonym) answers for the task in
        one of `roles`: what permissions and templates ask, never a substring."""
        return any(u.role in roles and same_unit(u.name, name) for u in self.units)


@dataclass(frozen=True)
class Indicator:
    """A measured quantity; ratios name their components so regions aggregate correctly."""

    id: str
    name: str
    unit: str  # a unit the project's pint registry knows
    kind: Kind = "count"
    frequency: Frequency = "yearly"
    reporter: str = ""  # the department that reports it
    numerator: str | None = None  # component indicator ids, for ratios and rates
    denominator: str | None = None
    multiplier: float = 1.0  # ratio = numerator / denominator * multiplier, in `unit`
    description: str = ""
    name_en: str = ""  # the name in English, as reviewed in targets.yaml

    def label(self, lang: str = "zh") -> str:
        """The name in `lang` (the Chinese name where no English one is written)."""
        return self.name_en if lang == "en" and self.name_en else self.name


@dataclass(frozen=True)
class Target:
    id: str
    plan: str
    task: int
    indicator: str
    comparator: Comparator
    value: float
    unit: str
    deadline: date | None
    scope: Scope = "whole"
    soft: bool = False
    qualifier: str = ""  # the word that made it soft: 力争, 原则上, 基本
    cumulative: bool = False  # sums flows since the plan's start (培训…人次)
    baseline: float | None = None
    baseline_period: str | None = None
    quote: str = ""
    attribute: Attribute = ""  # 属性: "binding" (约束性) or "expected" (预期性); "" when unstated

    @property
    def binding(self) -> bool:
        """约束性: statuses, reports and alerts should treat a miss as more serious."""
        return self.attribute == "binding"

    def met_by(self, value: float) -> bool:
        return compare(value, self.comparator, self.value)


@dataclass(frozen=True)
class Milestone:
    id: str
    plan: str
    task: int
    text: str
    deadline: date | None = None
    quote: str = ""
    title: str = ""  # a short title (建立特殊困难老年人居家探访制度), edited in targets.yaml
    title_en: str = ""

    def label(self, lang: str = "zh") -> str:
        """The short title in `lang`: the reviewed one, else one taken from the sentence (Chinese
        then, having no English form)."""
        if lang == "en" and self.title_en:
            return self.title_en
        return self.title or short_title(self.text)


_DEADLINE_LEAD = re.compile(r"^(?:到|至)?(?:“十[四五六]五”末|\d{4}年(?:\d{1,2}月)?(?:底|末)?前?)[，,]?")


def short_title(text: str, limit: int = 24) -> str:
    """A milestone's title from its sentence: without the deadline that leads it (到2022年底，),
    its first sentence, without the closing 。, and cut at a clause boundary when long:
    "到2022年底，全面建立特殊困难老年人居家探访制度。" -> "全面建立特殊困难老年人居家探访制度"."""
    body = _DEADLINE_LEAD.sub("", (text or "").strip())
    body = re.split(r"[。；;]", body, maxsplit=1)[0].strip() or body.strip()
    if len(body) > limit:
        first = re.split(r"[，,]", body, maxsplit=1)[0]
        if len(first) >= 6:
            body = first
    return body.rstrip("。；;，, ")


@dataclass
class TargetsModel:
    """Everything targets.yaml holds, indexed for lookup."""

    plans: list[Plan] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)

    def indicator(self, indicator_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    def plan(self, plan_id: str) -> Plan:
        for p in self.plans:
            if p.id == plan_id:
                return p
        raise KeyError(plan_id)

    def in_force(self, plans: "list[Plan]", day: date) -> "list[Plan]":
        """Those of `plans` in force on `day`: a plan gives way to a successor (one that
        `follows` it) once the successor has started, and a successor is not in force before
        its start; a plan with no successor stays in force after its end (its targets
        overdue). Never none: `plans` themselves when every one is set aside."""
        started = {p.follows for p in self.plans if p.follows and p.start <= day}
        kept = [p for p in plans if p.id not in started and not (p.follows and p.start > day)]
        return kept or list(plans)

    def milestones_of_tasks(self, wanted: "Callable[[Task], bool]") -> list[Milestone]:
        """The milestones whose task satisfies `wanted` (who leads it, who carries it out)."""
        tasks = {(t.plan, t.number): t for t in self.tasks}
        return [m for m in self.milestones if (m.plan, m.task) in tasks and wanted(tasks[(m.plan, m.task)])]

    def task(self, plan_id: str, number: int) -> Task:
        for t in self.tasks:
            if t.plan == plan_id and t.number == number:
                return t
        raise KeyError(f"{plan_id}#{number}")


def _unit_key(name: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", name or "").strip()


def same_unit(a: str, b: str) -> bool:
    """The same organisation: the same name (full-width forms folded) or a synonym of it in
    tracker.domain.organisations (各市县政府 = 各市县人民政府). What permissions, templates and
    a report's author are checked with; never a substring."""
    return same_organisation(a, b)


def unit_found(name: str, query: str) -> bool:
    """A search for people typing part of a name: '民政厅' finds '省民政厅'. For filters that
    list things (tracker targets --unit); never for who may do what, or whose template it is."""
    n, q = _unit_key(name), _unit_key(query)
    return bool(n) and bool(q) and (q in n or n in q)


def compare(value: float, comparator: str, target: float) -> bool:
    """Whether `value` satisfies `comparator target`, tolerant of float noise."""
    eps = 1e-9 * max(1.0, abs(target))
    if comparator == ">=":
        return value >= target - eps
    if comparator == ">":
        return value > target + eps
    if comparator == "<=":
        return value <= target + eps
    if comparator == "<":
        return value < target - eps
    raise ValueError(f"unknown comparator {comparator!r}")


MILESTONE_STATES: tuple[str, ...] = ("not_started", "in_progress", "done")
MILESTONE_STATE_LABELS = {"not_started": "未启动", "in_progress": "推进中", "done": "已完成"}
MILESTONE_STATE_LABELS_EN = {"not_started": "not started", "in_progress": "in progress", "done": "done"}


@dataclass(frozen=True)
class Observation:
    """One reported value (the latest revision of its cell), in its indicator's unit."""

    indicator: str
    region: str  # region code
    period_end: date  # the date the value describes (end of its month/quarter/year)
    value: float
    entered_at: "datetime | None" = None  # aware UTC; None for values with no entry time
    period: str = ""  # the period label as entered: 2026-11, 2026Q3, 2025
    revision: int = 1
    source: str = ""
    note: str = ""


@dataclass(frozen=True)
class MilestoneProgress:
    """A department's or region's report on a milestone: 未启动 / 推进中 / 已完成."""

    milestone: str
    state: str  # one of MILESTONE_STATES
    reported_on: date
    reporter: str = ""  # unit name or region code
    note: str = ""
    evidence: str = ""  # document number or link
    entered_at: "datetime | None" = None
