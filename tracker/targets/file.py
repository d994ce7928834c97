"""targets.yaml: the reviewed, versioned targets model.

`build_model` turns task tables into a draft (extraction); `dump_model` writes it as YAML a
person can review; `load_targets` reads the reviewed file back and validates every field,
naming the line, the field and what is accepted; `diff_models` shows what a re-extraction
would change, so reviewed edits are never overwritten.
"""

import math
import re
from collections.abc import Iterable
from dataclasses import asdict, fields
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from tracker.domain.model import (
    ATTRIBUTE_LABELS,
    ATTRIBUTES,
    COMPARATORS,
    FREQUENCIES,
    KINDS,
    ROLES,
    SCOPES,
    Indicator,
    Milestone,
    Plan,
    ResponsibleUnit,
    Target,
    TargetsModel,
    Task,
)
from tracker.targets.documents import Document, IndicatorTable, read_document, split_units
from tracker.targets.extract import extract_indicator_row, extract_task, indicator_row_text
from tracker.targets.errors import TargetsFileError
from tracker.targets.plans import draft_plan, plan_id_from, read_facts

FORMAT_VERSION = 1
SHORT_TITLE = 40  # characters of a milestone's short title
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
# Fields people add in review that extraction never writes: a re-extraction leaving them empty
# is no difference.
REVIEWED_ONLY = ("name_en", "title_en", "title", "coverage", "follows")
SECTIONS = ("plans", "indicators", "tasks", "targets", "milestones")
TOP_LEVEL = ("version", "include", *SECTIONS)
PLAN_LEVELS = ("national", "province", "city")
COMPARATOR_ALIASES = {"≥": ">=", "≤": "<=", "达到": ">=", "不低于": ">=", "至少": ">=", "不高于": "<=",
                      "不超过": "<=", "超过": ">", "低于": "<"}
HEADER = """\
# 一老一小 targets model — reviewed source of truth.
# Drafted by `tracker extract`; reviewed by people. Ids are stable: reported values refer to
# indicator ids, statuses and alerts to target and milestone ids. Edit values here, never in
# the database; re-run `tracker extract … --against targets.yaml` to see what a new
# extraction would change.
# Fields: comparator one of >=, >, <=, <; scope whole | each_region (每个市县（区）);
# soft: true for 力争/原则上; cumulative: true when flows since the plan's start are summed;
# attribute: binding (约束性) | expected (预期性), as a main-indicator table states it;
# name_en, title_en: the English names the English report shows; title: a milestone's short title.
"""


# --- extraction -> model -----------------------------------------------------------------
DEFAULT_PERIOD = (date(2021, 1, 1), date(2025, 12, 31))


def _plan_level(tasks: list[Task]) -> str:
    names = [u.name for t in tasks for u in t.units]
    if any(n.startswith("省") for n in names):
        return "province"
    if any(n.startswith(("国家", "国务院", "全国", "中国")) or n.endswith("部") for n in names):
        return "national"
    if any(n.startswith("市") and not n.startswith("市场") for n in names):
        return "city"
    return "national"


def _task_rows(plan_id: str, document: Document) -> list[Task]:
    return [Task(plan_id, r.number, r.text, split_units(r.units_text), r.units_text, (), r.due)
            for table in document.task_tables for r in table.tasks]


def build_model(paths: Iterable[str | Path], period: tuple[date, date] | None = None,
                region_code: str = "460000", region_name: str = "海南省", notes: list[str] | None = None) -> TargetsModel:
    """A draft targets model from plan documents (task-division and main-indicator tables, as
    text, .docx or PDF); higher-level plans first, so that provincial tasks can be linked to
    the national tasks they implement. The period is `period`, else the one the document
    states, else 2021–2025. Tables matching no layout, beside ones that did, are named in
    `notes`."""
    parsed = []
    for p in paths:
        path, document = str(p), read_document(p)
        _note_skipped(document, notes)
        plan_id = plan_id_from(path)
        facts = read_facts(document)
        tasks = _task_rows(plan_id, document)
        level = facts.level if facts.level and not tasks else _plan_level(tasks)
        is_national = level == "national"
        start, end = period or facts.period or DEFAULT_PERIOD
        plan = Plan(id=plan_id, title=document.tables[0].title or facts.title,
                    issuer="国务院办公厅" if is_national else f"{region_name}人民政府",
                    level=level, region="" if is_national else region_code,  # type: ignore[arg-type]
                    start=start, end=end, source=f"sources/{Path(path).name}")
        parsed.append((plan, document))
    order = {"national": 0, "province": 1, "city": 2}
    parsed.sort(key=lambda item: order[item[0].level])
    model = TargetsModel()
    seen: dict[str, Indicator] = {}
    for plan, document in parsed:
        add_document(model, plan, document, seen)
    model.indicators = list(seen.values())
    return model


def _note_skipped(document: Document, notes: list[str] | None) -> None:
    if notes is not None:
        notes.extend(f"{document.source}: {s} 不符合任何版式，未读取 / matches no layout, not read"
                     for s in document.skipped)


def draft_model(path: str | Path, region: str, notes: list[str] | None = None,
                **options: Any) -> tuple[TargetsModel, Any]:
    """One region's plan drafted from one document (`tracker extract FILE --region CODE`):
    level, issuer, title and period from the document where it says them, else from
    `options` (level, issuer, title, period, plan_id); raises PlanError naming what is missing.
    Returns the model and the facts read from the document."""
    document = read_document(path)
    _note_skipped(document, notes)
    plan, facts = draft_plan(document, path, region, **options)
    model = TargetsModel()
    seen: dict[str, Indicator] = {}
    add_document(model, plan, document, seen)
    model.indicators = list(seen.values())
    return model, facts


def add_document(model: TargetsModel, plan: Plan, document: Document, seen: dict[str, Indicator]) -> None:
    """The plan, its tasks (task-table rows, then one per main-indicator row), targets and
    milestones into `model`; indicators into `seen`, first definition kept. Main-indicator rows
    keep their 序号 unless a task table of the document already uses it; then they are
    numbered after the last task."""
    model.plans.append(plan)
    tasks = _task_rows(plan.id, document)
    used = {t.number for t in tasks}
    higher = [t for t in model.tasks if t.plan != plan.id]
    for task in tasks:
        task = Task(task.plan, task.number, task.text, task.units, task.units_text,
                    tuple(link_tasks(task, higher)), task.due)
        model.tasks.append(task)
        _add(model, extract_task(task), seen)
    for table in document.tables:
        if not isinstance(table, IndicatorTable):
            continue
        for row in table.rows:
            number = row.number if row.number not in used else max(used) + 1
            used.add(number)
            text = indicator_row_text(row.name, row.values, row.attribute)
            task = Task(plan.id, number, text, split_units(row.units_text) if row.units_text else (), row.units_text)
            model.tasks.append(task)
            _add(model, extract_indicator_row(task, row.name, row.values, row.unit, row.attribute,
                                              (plan.start, plan.end)), seen)


def _add(model: TargetsModel, found: Any, seen: dict[str, Indicator]) -> None:
    model.targets.extend(found.targets)
    model.milestones.extend(found.milestones)
    for ind in found.indicators:
        seen.setdefault(ind.id, ind)


def _bigrams(text: str) -> set[str]:
    chars = re.sub(r"[^\u4e00-\u9fff]", "", text)
    return {chars[i:i + 2] for i in range(len(chars) - 1)}


def link_tasks(task: Task, higher: list[Task], threshold: float = 0.6) -> list[str]:
    """Ids of higher-level tasks whose wording the task repeats (most of the shorter text's
    character pairs appear in the other)."""
    mine = _bigrams(task.text)
    links = []
    for other in higher:
        theirs = _bigrams(other.text)
        if not mine or not theirs:
            continue
        overlap = len(mine & theirs) / min(len(mine), len(theirs))
        if overlap >= threshold and min(len(mine), len(theirs)) >= 4:
            links.append(other.id)
    return links


# --- model -> YAML -------------------------------------------------------------------------
def _drop_empty(d: dict[str, Any], keep: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k in keep or v not in (None, "", [], (), False)}


def _ordered(d: dict[str, Any], first: tuple[str, ...]) -> dict[str, Any]:
    """`d` with the keys `first` leading, so a name and its English form sit together."""
    return {**{k: d[k] for k in first if k in d}, **{k: v for k, v in d.items() if k not in first}}


def _plan_data(plan: Plan) -> dict[str, Any]:
    """A plan as targets.yaml writes it: coverage as its YAML block, follows only when set."""
    d = _ordered({f.name: getattr(plan, f.name) for f in fields(Plan)}, ("id", "title", "title_en"))
    d["coverage"] = plan.coverage.to_dict() if plan.coverage is not None else None
    return _drop_empty(d, keep=tuple(f.name for f in fields(Plan) if f.name not in ("title_en", "coverage", "follows")))


def model_to_data(model: TargetsModel) -> dict[str, Any]:
    data: dict[str, Any] = {"version": FORMAT_VERSION}
    data["plans"] = [_plan_data(p) for p in model.plans]
    data["indicators"] = [_drop_empty(_ordered({k: v for k, v in asdict(i).items()
                                                if not (k == "multiplier" and v == 1.0)}, ("id", "name", "name_en")),
                                      keep=("id", "name", "unit", "kind", "frequency"))
                          for i in model.indicators]
    tasks = []
    for t in model.tasks:
        item: dict[str, Any] = {"plan": t.plan, "number": t.number, "text": t.text, "units_text": t.units_text}
        for role in ROLES:
            names = t.units_in(role)
            if names:
                item[role] = names
        if t.implements:
            item["implements"] = list(t.implements)
        if t.due:
            item["due"] = t.due
        tasks.append(item)
    data["tasks"] = tasks
    data["targets"] = [_drop_empty(asdict(t), keep=("deadline", "soft", "cumulative", "scope"))
                       for t in model.targets]
    data["milestones"] = [_drop_empty(_ordered(asdict(m), ("id", "plan", "task", "title", "title_en")),
                                      keep=("deadline",)) for m in model.milestones]
    return data


class _Dumper(yaml.SafeDumper):
    pass


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def dump_model(model: TargetsModel) -> str:
    body = yaml.dump(model_to_data(model), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    return HEADER + body


# --- YAML -> model, validated ---------------------------------------------------------------
class _LineDict(dict):
    line: int = 0
    key_lines: dict[str, int]
    source: str = ""  # the included file it was read from; "" for targets.yaml itself


class _Loader(yaml.SafeLoader):
    """Keeps line numbers; reads dates as text so that a bad date gets our error, not YAML's."""


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    d = _LineDict()
    d.line = node.start_mark.line + 1
    d.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        d[key] = loader.construct_object(value_node, deep=True)
        d.key_lines[str(key)] = key_node.start_mark.line + 1
    return d


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)


class _Checker:
    """Collects problems instead of stopping at the first."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[str] = []

    def fail(self, item: Any, key: str, message: str) -> None:
        self.problems.append(f"{self.where(item, key)}: {key}: {message}")

    @staticmethod
    def where(item: Any, key: str | None = None) -> str:
        """"line 12", or "plans/guangdong.yaml line 12" for an entry of an included file."""
        line = (getattr(item, "key_lines", {}).get(key) if key else None) or getattr(item, "line", 0)
        source = getattr(item, "source", "")
        return f"{source} line {line}" if source else f"line {line}"

    def text(self, item: dict, key: str, required: bool = True) -> str:
        value = item.get(key)
        if value is None or value == "":
            if required:
                self.fail(item, key, "missing; a text value is required")
            return ""
        if not isinstance(value, (str, int, float)):
            self.fail(item, key, f"expected text, found {type(value).__name__}")
            return ""
        return str(value)

    def choice(self, item: dict, key: str, accepted: Iterable[str], default: str | None = None,
               aliases: dict[str, str] | None = None) -> str:
        accepted = tuple(accepted)
        value = item.get(key, default)
        value = (aliases or {}).get(str(value), value)
        if value not in accepted:
            self.fail(item, key, f"{value!r} is not accepted; use one of: {', '.join(accepted)}")
            return accepted[0]
        return str(value)

    def number(self, item: dict, key: str, required: bool = True) -> float | None:
        value = item.get(key)
        if value is None:
            if required:
                self.fail(item, key, "missing; a number is required")
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(item, key, f"{value!r} is not a number; write digits, e.g. 32 or 15000")
            return None
        try:
            number = float(value)
        except OverflowError:  # an integer too large for a float
            number = math.inf
        if not math.isfinite(number):  # YAML reads .nan and .inf as floats
            self.fail(item, key, f"{value!r} is not accepted; write a finite number, e.g. 32 or 15000")
            return None
        return number

    def amount(self, item: dict, key: str, value: float | None, unit: str) -> None:
        """Every indicator kind (count, flow, ratio, percentage) measures something that cannot
        be negative, and a share cannot exceed the whole; a value outside that range is a typo
        that would make the target met, or missed, whatever is reported."""
        if value is None:
            return
        if value < 0:
            self.fail(item, key, f"{value:g} is negative; counts, flows, ratios and percentages are 0 or more")
        elif unit in ("percent", "permille") and value * (1 if unit == "percent" else 0.1) > 100:
            self.fail(item, key, f"{value:g} {unit} is above 100%; a percentage is between 0 and 100%")

    def integer(self, item: dict, key: str) -> int:
        value = item.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(item, key, f"{value!r} is not a whole number")
            return 0
        return value

    def flag(self, item: dict, key: str) -> bool:
        value = item.get(key, False)
        if not isinstance(value, bool):
            self.fail(item, key, f"{value!r} is not accepted; use true or false")
            return False
        return value

    def day(self, item: dict, key: str, required: bool = False) -> date | None:
        value = item.get(key)
        if value is None or value == "":
            if required:
                self.fail(item, key, "missing; a date YYYY-MM-DD is required")
            return None
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(item, key, f"{value!r} is not a date; write YYYY-MM-DD, e.g. 2025-12-31, or null")
            return None

    def attribute(self, item: dict, key: str = "attribute") -> str:
        """属性: binding (约束性) or expected (预期性); the Chinese words are accepted too."""
        value = item.get(key)
        if value is None or value == "":
            return ""
        aliases = {zh: en for en, zh in ATTRIBUTE_LABELS.items()}
        value = aliases.get(str(value).strip(), value)
        if value not in ATTRIBUTES:
            self.fail(item, key, f"{value!r} is not accepted; use binding (约束性) or expected (预期性), or leave it out")
            return ""
        return str(value)

    def period(self, item: dict, key: str) -> str | None:
        """A period label such as 2020 or 2020Q4; a YAML number (2020) is read as its text."""
        value = item.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            self.fail(item, key, f"{value!r} is not a period; write a year such as 2020, or 2020Q4, 2020-12")
            return None
        from tracker.domain.periods import PeriodError, parse_period

        try:
            parse_period(str(value))
        except PeriodError as exc:
            self.fail(item, key, f"{value!r} is not a period ({exc}); write a year such as 2020, or 2020Q4, 2020-12")
            return None
        return str(value)

    def coverage(self, item: dict, key: str) -> Any:
        """A plan's `coverage:` block (tracker.domain.regions.Coverage), each problem on the
        line of the field it is about; None when the plan declares none."""
        from tracker.domain.regions import Coverage, CoverageError

        value = item.get(key)
        if value is None:
            return None
        try:
            return Coverage.from_dict(value, where=key)
        except CoverageError as exc:
            lines = getattr(value, "key_lines", {})
            for problem in exc.problems:
                m = re.match(rf"{key}\.(\w+)", problem)
                line = lines.get(m.group(1)) if m else None
                where = f"{item.source} line" if getattr(item, "source", "") else "line"
                self.problems.append(f"{where} {line or getattr(item, 'key_lines', {}).get(key, 0)}: {problem}")
            return None

    def plan_links(self, item: dict, plan: Plan, plans: list[Plan]) -> None:
        """`follows:` names another plan, which ends before this one starts; and the
        `coverage:` area is the plan's region."""
        if plan.follows:
            before = next((p for p in plans if p.id == plan.follows), None)
            if before is None or before.id == plan.id:
                known = ", ".join(sorted(p.id for p in plans if p.id != plan.id)) or "none"
                self.fail(item, "follows", f"plan {plan.follows!r} does not exist; give the id of the plan this one "
                          f"succeeds (known plans: {known})")
            elif before.end >= plan.start:
                self.fail(item, "follows", f"plan {before.id!r} ends {before.end}, not before this plan starts "
                          f"{plan.start}; a successor's period starts after its predecessor's ends")
        if plan.coverage is not None and plan.region and plan.coverage.region != plan.region:
            self.fail(item, "coverage", f"coverage.region {plan.coverage.region} is not the plan's region "
                      f"{plan.region}; give the same area in both")

    def english(self, item: dict, key: str) -> str:
        """A name or title in English (name_en, title_en): optional, and never Chinese, since
        the English report shows it where a reader cannot read the Chinese one."""
        value = self.text(item, key, required=False).strip()
        if value and _CJK.search(value):
            self.fail(item, key, f"{value!r} has Chinese characters; write it in English, or leave {key} out "
                      "(the Chinese name is shown then)")
            return ""
        return value

    def short(self, item: dict, key: str, limit: int = SHORT_TITLE) -> str:
        """A short title (a milestone's `title`): one line, without the sentence's closing 。."""
        value = self.text(item, key, required=False).strip()
        if len(value) > limit or "\n" in value:
            self.fail(item, key, f"{len(value)} characters; a title is one line of at most {limit} characters "
                      "(the full sentence stays in text and quote)")
            return ""
        return value.rstrip("。")

    def unit(self, item: dict, key: str) -> str:
        from tracker.domain.units import UnitError, normalize

        value = self.text(item, key)
        if not value:
            return ""
        try:
            return normalize(value)
        except UnitError as exc:
            self.fail(item, key, str(exc))
            return value

    def items(self, data: dict, key: str) -> list[dict]:
        value = data.get(key) or []
        if not isinstance(value, list):
            self.fail(data, key, "expected a list of entries")
            return []
        good = []
        for entry in value:
            if isinstance(entry, dict):
                good.append(entry)
            else:
                self.problems.append(f"{key}: entry {entry!r} is not a mapping of fields")
        return good

    def unknown_keys(self, item: dict, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for key in item:
            if key not in allowed:
                self.fail(item, str(key), f"unknown field; accepted fields: {', '.join(allowed)}")


def _read_yaml(text: str, name: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "?"
        raise TargetsFileError(name, [f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from exc


def _tag(value: Any, source: str) -> None:
    """Mark every mapping read from an included file with its name, for the problems' places."""
    if isinstance(value, _LineDict):
        value.source = source
        for v in value.values():
            _tag(v, source)
    elif isinstance(value, list):
        for v in value:
            _tag(v, source)


def _include(data: dict, path: str, c: "_Checker") -> None:
    """targets.yaml's `include:` files (paths relative to it), each holding more plans,
    indicators, tasks, targets and milestones: their entries are added to the file's own,
    every problem named with the included file and its line."""
    names = data.get("include")
    if names is None:
        return
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
        c.fail(data, "include", f"{names!r} is not accepted; give a list of files relative to {Path(path).name}, "
               "e.g. [plans/guangdong.yaml]")
        return
    base = Path(path).parent
    for i, name in enumerate(names):
        file = base / name
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            c.fail(data, "include", f"include[{i}]: {name} cannot be read ({exc.strerror or exc}; looked for {file})")
            continue
        try:
            sub = _read_yaml(text, name)
        except TargetsFileError as exc:
            c.problems.extend(f"{name} {p}" for p in exc.problems)
            continue
        if not isinstance(sub, dict):
            c.problems.append(f"{name} line 1: expected a mapping with keys {', '.join(SECTIONS)}")
            continue
        _tag(sub, name)
        for key in sub:
            if key not in SECTIONS:
                hint = "; an included file cannot include others (list every file in targets.yaml)" \
                    if key == "include" else ""
                c.fail(sub, str(key), f"unknown field; accepted in an included file: {', '.join(SECTIONS)}{hint}")
        for key in SECTIONS:
            entries = sub.get(key)
            if entries is None:
                continue
            if not isinstance(entries, list):
                c.fail(sub, key, "expected a list of entries")
                continue
            own = data.get(key)
            if own is None:
                data[key] = own = []
            if isinstance(own, list):
                own.extend(entries)


def parse_targets(text: str, path: str = "targets.yaml") -> TargetsModel:
    """Validate and read a targets file's text (with the files it includes, relative to
    `path`); raises TargetsFileError listing every problem."""
    data = _read_yaml(text, path)
    if not isinstance(data, dict):
        raise TargetsFileError(path, ["line 1: expected a mapping with keys " + ", ".join(TOP_LEVEL)])
    c = _Checker(path)
    c.unknown_keys(data, TOP_LEVEL)
    if data.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        c.fail(data, "version", f"{data.get('version')!r} is not supported; this tracker reads version {FORMAT_VERSION}")
    _include(data, path, c)
    model = TargetsModel()
    ids: dict[str, str] = {}

    def unique(item: dict, key: str, value: str, kind: str) -> None:
        if value in ids:
            c.fail(item, key, f"duplicate {kind} id {value!r} (first at {ids[value]}); ids must be unique")
        else:
            ids[value] = c.where(item)

    raw_plans = c.items(data, "plans")
    for p in raw_plans:
        c.unknown_keys(p, [f.name for f in fields(Plan)])
        pid = c.text(p, "id")
        unique(p, "id", f"plan:{pid}", "plan")
        start, end = c.day(p, "start", True), c.day(p, "end", True)
        if start and end and end < start:
            c.fail(p, "end", f"{end} is before start {start}")
        model.plans.append(Plan(pid, c.text(p, "title"), c.text(p, "issuer", False),
                                c.choice(p, "level", PLAN_LEVELS), str(p.get("region") or ""),  # type: ignore[arg-type]
                                start or date.min, end or date.max, c.text(p, "source", False),
                                c.english(p, "title_en"), c.coverage(p, "coverage"),
                                c.text(p, "follows", required=False)))
    plan_ids = {p.id for p in model.plans}
    for raw, plan in zip(raw_plans, model.plans):
        c.plan_links(raw, plan, model.plans)

    raw_indicators = c.items(data, "indicators")
    for i in raw_indicators:
        c.unknown_keys(i, [f.name for f in fields(Indicator)])
        iid = c.text(i, "id")
        unique(i, "id", f"indicator:{iid}", "indicator")
        mult = c.number(i, "multiplier", required=False)
        model.indicators.append(Indicator(
            iid, c.text(i, "name"), c.unit(i, "unit"), c.choice(i, "kind", KINDS, "count"),  # type: ignore[arg-type]
            c.choice(i, "frequency", FREQUENCIES, "yearly"), c.text(i, "reporter", False),  # type: ignore[arg-type]
            i.get("numerator"), i.get("denominator"), mult if mult is not None else 1.0,
            c.text(i, "description", False), c.english(i, "name_en")))
    indicator_ids = {i.id for i in model.indicators}
    for raw, ind in zip(raw_indicators, model.indicators):
        for key in ("numerator", "denominator"):
            ref = getattr(ind, key)
            if ref is not None and ref not in indicator_ids:
                c.fail(raw, key, f"indicator {ref!r} does not exist; define it under indicators")
        if (ind.numerator is None) != (ind.denominator is None):
            c.fail(raw, "denominator" if ind.denominator is None else "numerator",
                   "a ratio needs both numerator and denominator, or neither")
    raw_by_id = {ind.id: raw for raw, ind in reversed(list(zip(raw_indicators, model.indicators)))}
    for cycle in component_cycles(model.indicators):
        closing = model.indicator(cycle[-2])
        key = "numerator" if closing.numerator == cycle[-1] else "denominator"
        c.fail(raw_by_id[closing.id], key, f"component cycle {' → '.join(cycle)}; a ratio is computed from "
               "its numerator and denominator, so they must be other indicators that do not lead back to it")

    raw_tasks = c.items(data, "tasks")
    task_keys: dict[tuple[str, int], dict] = {}
    for t in raw_tasks:
        c.unknown_keys(t, ["plan", "number", "text", "units_text", "implements", "due", *ROLES])
        plan = c.text(t, "plan")
        if plan and plan not in plan_ids:
            c.fail(t, "plan", f"plan {plan!r} does not exist; known plans: {', '.join(sorted(plan_ids))}")
        number = c.integer(t, "number")
        if (plan, number) in task_keys:
            c.fail(t, "number", f"task {plan}#{number} is defined twice")
        task_keys[(plan, number)] = t
        units = []
        for role in ROLES:
            names = t.get(role) or []
            if not isinstance(names, list):
                c.fail(t, role, "expected a list of unit names")
                continue
            units.extend(ResponsibleUnit(str(n), role) for n in names)  # type: ignore[arg-type]
        implements = t.get("implements") or []
        model.tasks.append(Task(plan, number, c.text(t, "text"), tuple(units), str(t.get("units_text") or ""),
                                tuple(str(x) for x in implements), c.text(t, "due", required=False)))
    known_tasks = {f"{p}#{n}" for p, n in task_keys}
    for raw, task in zip(raw_tasks, model.tasks):
        for ref in task.implements:
            if ref not in known_tasks:
                c.fail(raw, "implements", f"task {ref!r} does not exist; write plan#number, e.g. national#7")

    def check_refs(item: dict, plan: str, task: int) -> None:
        if plan and plan not in plan_ids:
            c.fail(item, "plan", f"plan {plan!r} does not exist; known plans: {', '.join(sorted(plan_ids))}")
        elif plan and (plan, task) not in task_keys:
            c.fail(item, "task", f"task {plan}#{task} does not exist")

    for t in c.items(data, "targets"):
        c.unknown_keys(t, [f.name for f in fields(Target)])
        tid = c.text(t, "id")
        unique(t, "id", f"item:{tid}", "target/milestone")
        plan, task = c.text(t, "plan"), c.integer(t, "task")
        check_refs(t, plan, task)
        indicator = c.text(t, "indicator")
        if indicator and indicator not in indicator_ids:
            close = [i for i in indicator_ids if indicator[:6] in i]
            hint = f" (did you mean {close[0]}?)" if close else ""
            c.fail(t, "indicator", f"indicator {indicator!r} does not exist{hint}; define it under indicators")
        unit = c.unit(t, "unit")
        if indicator in indicator_ids and unit:
            from tracker.domain.units import UnitError, conversion_factor

            try:
                conversion_factor(unit, model.indicator(indicator).unit)
            except UnitError as exc:
                c.fail(t, "unit", str(exc))
        value = c.number(t, "value")
        baseline = c.number(t, "baseline", required=False)
        c.amount(t, "value", value, unit)
        c.amount(t, "baseline", baseline, unit)
        cumulative = c.flag(t, "cumulative")
        kind = model.indicator(indicator).kind if indicator in indicator_ids else ""
        if cumulative and kind in ("ratio", "percentage"):
            c.fail(t, "cumulative", f"true is not accepted for {indicator!r}, a {kind} indicator: cumulative is for "
                   "flow/count indicators, whose amounts are summed since the plan's start (summing ratios is "
                   "meaningless); use false")
        model.targets.append(Target(
            tid, plan, task, indicator, c.choice(t, "comparator", COMPARATORS, aliases=COMPARATOR_ALIASES),  # type: ignore[arg-type]
            value if value is not None else 0.0, unit, c.day(t, "deadline"),
            c.choice(t, "scope", SCOPES, "whole"), c.flag(t, "soft"), str(t.get("qualifier") or ""),  # type: ignore[arg-type]
            cumulative, baseline, c.period(t, "baseline_period"), str(t.get("quote") or ""), c.attribute(t)))

    for m in c.items(data, "milestones"):
        c.unknown_keys(m, [f.name for f in fields(Milestone)])
        mid = c.text(m, "id")
        unique(m, "id", f"item:{mid}", "target/milestone")
        plan, task = c.text(m, "plan"), c.integer(m, "task")
        check_refs(m, plan, task)
        model.milestones.append(Milestone(mid, plan, task, c.text(m, "text"), c.day(m, "deadline"),
                                          str(m.get("quote") or ""), c.short(m, "title"), c.english(m, "title_en")))
    if c.problems:
        raise TargetsFileError(path, c.problems)
    return model


def component_cycles(indicators: list[Indicator]) -> list[list[str]]:
    """Cycles among ratio components, each spelled out as ['a', 'b', 'a']. A ratio computed
    from itself, directly or through another ratio, would recurse forever when statuses are
    computed, so the file is refused instead. Depth-first without recursion, so a long (but
    valid) chain of ratios cannot exhaust the stack here either."""
    known = {ind.id for ind in indicators}
    edges: dict[str, list[str]] = {}
    for ind in indicators:
        edges.setdefault(ind.id, [ref for ref in (ind.numerator, ind.denominator) if ref in known])
    on_path: set[str] = set()
    finished: set[str] = set()
    cycles: list[list[str]] = []
    for root, components in edges.items():
        if root in finished:
            continue
        path, stack = [root], [iter(components)]
        on_path.add(root)
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                done = path.pop()
                on_path.discard(done)
                finished.add(done)
            elif child in on_path:
                cycle = path[path.index(child):] + [child]
                if cycle not in cycles:
                    cycles.append(cycle)
            elif child not in finished:
                path.append(child)
                on_path.add(child)
                stack.append(iter(edges[child]))
    return cycles


def load_targets(path: str | Path = "targets.yaml") -> TargetsModel:
    p = Path(path)
    if not p.exists():
        raise TargetsFileError(str(path), ["line 0: file not found; create it with `tracker extract sources/*.txt -o targets.yaml`"])
    return parse_targets(p.read_text(encoding="utf-8"), str(path))


# --- re-extraction against the reviewed file ----------------------------------------------
def _keyed(model: TargetsModel) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for p in model.plans:
        out[f"plan {p.id}"] = asdict(p)
    for i in model.indicators:
        out[f"indicator {i.id}"] = asdict(i)
    for t in model.tasks:
        d = asdict(t)
        d["units"] = sorted((u["role"], u["name"]) for u in d["units"])
        out[f"task {t.id}"] = d
    for t in model.targets:
        out[f"target {t.id}"] = asdict(t)
    for m in model.milestones:
        out[f"milestone {m.id}"] = asdict(m)
    return out


def _with_components(model: TargetsModel, ids: set[str]) -> set[str]:
    """`ids` and every indicator their ratios are computed from."""
    by_id = {i.id: i for i in model.indicators}
    wanted, stack = set(ids), list(ids)
    while stack:
        ind = by_id.get(stack.pop())
        for ref in (ind.numerator, ind.denominator) if ind else ():
            if ref and ref not in wanted:
                wanted.add(ref)
                stack.append(ref)
    return wanted


def _restricted(reviewed: TargetsModel, plans: set[str], draft: TargetsModel) -> TargetsModel:
    """The part of the reviewed model a draft of `plans` is compared with: those plans' items,
    the indicators their targets use (with components), and the ones the draft reuses."""
    targets = [t for t in reviewed.targets if t.plan in plans]
    wanted = _with_components(reviewed, {t.indicator for t in targets} | {i.id for i in draft.indicators})
    return TargetsModel([p for p in reviewed.plans if p.id in plans], [i for i in reviewed.indicators if i.id in wanted],
                        [t for t in reviewed.tasks if t.plan in plans], targets,
                        [m for m in reviewed.milestones if m.plan in plans])


def _describe_target(t: Target, model: TargetsModel) -> str:
    """养老机构护理型床位占比 不低于 55%，截止 2025-12-31，约束性"""
    from tracker.domain.model import COMPARATOR_LABELS
    from tracker.domain.units import label

    try:
        name = model.indicator(t.indicator).name
    except KeyError:
        name = t.indicator
    parts = [f"{name} {COMPARATOR_LABELS.get(t.comparator, t.comparator)} {t.value:g}{label(t.unit)}",
             f"截止 {t.deadline}" if t.deadline else "无期限"]
    if t.baseline is not None:
        parts.append(f"基期 {t.baseline:g}" + (f"（{t.baseline_period}）" if t.baseline_period else ""))
    if t.attribute:
        parts.append(ATTRIBUTE_LABELS[t.attribute])
    if t.scope == "each_region":
        parts.append("每个市县（区）")
    if t.soft:
        parts.append(t.qualifier or "软目标")
    return "，".join(parts)


def _source(item: Any) -> str:
    quote = getattr(item, "quote", "") or getattr(item, "text", "")
    return f"  ← 「{quote}」" if quote else ""


def diff_models(reviewed: TargetsModel, draft: TargetsModel) -> list[str]:
    """What a new extraction would change in the reviewed model, one line per difference:
    '+' only in the draft, '-' only in the reviewed file, '~' a field that differs; targets and
    milestones with the source sentence they come from. A draft of some of the reviewed plans
    (a new or re-issued plan) is compared with those plans only; an indicator it shares with
    the other plans is listed with '=' (reused, not a difference)."""
    plans = {p.id for p in draft.plans}
    others = reviewed
    if not {p.id for p in reviewed.plans} <= plans:
        reviewed = _restricted(reviewed, plans, draft)
    old, new = _keyed(reviewed), _keyed(draft)
    items = {f"target {t.id}": t for t in [*reviewed.targets, *draft.targets]}
    items.update({f"milestone {m.id}": m for m in [*reviewed.milestones, *draft.milestones]})
    used_elsewhere = {i: t.plan for t in others.targets if t.plan not in plans
                      for i in _with_components(others, {t.indicator})}
    new_plans = {p.id for p in draft.plans if f"plan {p.id}" not in old}
    lines = []
    for pid in sorted(new_plans):
        numbers = [t.number for t in draft.tasks if t.plan == pid]
        if numbers:
            lines.append(f"+ {len(numbers)} tasks of plan {pid} (#{min(numbers)}–#{max(numbers)})")
    for key in new:
        if key in old or (key.startswith("task ") and key.split(" ", 1)[1].split("#")[0] in new_plans):
            continue
        if key.startswith("target "):
            lines.append(f"+ {key}: {_describe_target(items[key], draft)}{_source(items[key])}")
        elif key.startswith("indicator "):
            ind = draft.indicator(key.split(" ", 1)[1])
            lines.append(f"+ {key}: {ind.name}（新指标 new indicator, {ind.unit}）")
        else:
            lines.append(f"+ {key}{_source(items[key]) if key in items else ''}")
    for key in old:
        if key not in new:
            lines.append(f"- {key} (reviewed; the extraction does not produce it){_source(items.get(key))}")
    for key in old:
        if key not in new:
            continue
        if key.startswith("indicator ") and key.split(" ", 1)[1] in used_elsewhere:
            ind_id = key.split(" ", 1)[1]
            lines.append(f"= {key}: {draft.indicator(ind_id).name}（沿用已有指标 reuses the indicator of plan "
                         f"{used_elsewhere[ind_id]}）")
            continue
        for field_name, before in old[key].items():
            after = new[key].get(field_name)
            if field_name in REVIEWED_ONLY and not after:
                continue  # written in review; extraction never does
            if before != after:
                lines.append(f"~ {key}: {field_name}: reviewed {before!r}, extracted {after!r}{_source(items.get(key))}")
    return lines


def count_differences(lines: list[str]) -> int:
    """The lines of diff_models that are differences ('+', '-', '~'), not reused indicators ('=')."""
    return sum(1 for line in lines if line[:1] in "+-~")
