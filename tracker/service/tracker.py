"""The tracker as one API: what the CLI, the web app, the scheduler, the benchmarks and the
tests call (sqlite-utils' `Database` is the model). Nothing else turns stored values into what
people see.

A `Tracker` is made from settings, an engine and a clock. It reads targets.yaml once per change
of its content and syncs it into the database only when the database has not seen that content
yet (by digest); it evaluates every target and milestone as of a date once per change of the
data; and every surface (status JSON, the report, the web target page, alerts) reads the
figures from that one evaluation.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from tracker.config import Settings, load_settings
from tracker.domain.clock import Clock, aware, system_clock
from tracker.domain.model import Observation, Plan, TargetsModel
from tracker.domain.periods import today_in_plan_tz
from tracker.domain.regions import Regions, load_regions
from tracker.domain.series import SeriesSet, knowledge_cutoff


class TargetsChanged(ValueError):
    """targets.yaml cannot be synced into the database as it is (an indicator's unit changed
    under values stored in the old unit); the message says what to do."""


@dataclass
class Evaluation:
    """Every target and milestone as known at the end of `as_of` (Asia/Shanghai), with the
    series and the resolver the figures come from."""

    as_of: date
    model: TargetsModel
    regions: Regions
    statuses: list[Any]  # tracker.status Status, every plan's items
    series: SeriesSet
    resolver: Any  # tracker.status SeriesResolver: entered, derived and summed figures
    plans: list[Plan] = field(default_factory=list)  # the plans the tracked items belong to
    tracked: list[Any] = field(default_factory=list)  # the statuses of those plans' items
    include: str = "all"  # which figures count: all, approved, or submitted too (a preview)
    counted: Any = None  # the store's filter for them (tracker.store.approvals.Counted), None: all
    unapproved: dict[str, list[str]] = field(default_factory=dict)  # target id -> regions not approved yet
    plan_regions: dict[str, Regions] = field(default_factory=dict)  # plan id -> the regions it was judged with
    resolvers: dict[str, Any] = field(default_factory=dict)  # plan id -> SeriesResolver over those regions
    regions_for: Any = None  # plan id -> Regions: those of a plan with no targets, made when asked for
    version: Any = None  # the store's data version its series were read at (tracker.store.data_version)
    incremental: dict[str, int] | None = None  # made from the last evaluation: series read again, judged, kept

    def regions_of(self, plan_id: str) -> Regions:
        """The regions the plan's targets were judged with (`regions` for a plan unknown here)."""
        found = self.plan_regions.get(plan_id)
        if found is None and self.regions_for is not None:
            try:
                found = self.plan_regions[plan_id] = self.regions_for(plan_id)
            except KeyError:
                found = None
        return found if found is not None else self.regions

    def resolver_of(self, plan_id: str) -> Any:
        """The SeriesResolver over the plan's regions: the figures its targets were judged on."""
        found = self.resolvers.get(plan_id)
        if found is None:
            from tracker.status.aggregate import SeriesResolver

            regions = self.regions_of(plan_id)
            found = next((r for r in self.resolvers.values()  # a plain one: a roll-up's is its plan's own
                          if r.regions is regions and not hasattr(r, "below")), None) or \
                SeriesResolver(self.model, self.series, regions)
            self.resolvers[plan_id] = found
        return found

    def status(self, item_id: str, region: str | None = None) -> Any:
        for s in self.statuses:
            if s.item_id == item_id:
                if region is None or s.region == region:
                    return s
                return next((r for r in s.regions if r.region == region), None)
        return None


class Tracker:
    """See the module docstring. Cheap to make: nothing is read until it is needed."""

    def __init__(self, settings: Settings, *, engine: Any = None, clock: Clock = system_clock,
                 model: TargetsModel | None = None, regions: Regions | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self._engine = engine
        self._fixed_model = model
        self._given_regions = regions
        self._regions: Regions | None = None
        self._regions_digest: str | None = None
        self._model: TargetsModel | None = None
        self._model_stamp: Any = None
        self._digest: str | None = None
        self._synced: str | None = None
        self._evaluations: dict[tuple[date, Any], Evaluation] = {}
        self._plan_regions: tuple[str | None, dict[str, Regions]] = (None, {})
        self._included: list[Path] = []  # the files targets.yaml included when last read
        self._fragments: Any = None  # report pieces kept between reports (tracker.report.fragments)

    @classmethod
    def open(cls, config: str | Path | None = None, *, clock: Clock = system_clock, **overrides: Any) -> "Tracker":
        """A tracker on the settings of `config` (default: tracker.toml or $TRACKER_CONFIG);
        `overrides` replace settings fields (database_url=…, reports_dir=…)."""
        settings = load_settings(config)
        for key, value in overrides.items():
            setattr(settings, key, value)
        return cls(settings, clock=clock)

    # -- time ------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The clock's moment, aware UTC."""
        return aware(self.clock())

    def today(self) -> date:
        """Today in Asia/Shanghai, by the clock."""
        return today_in_plan_tz(self.now())

    # -- the database and the targets model ----------------------------------------------------

    @property
    def engine(self) -> Any:
        if self._engine is None:
            from tracker import store

            self._engine = store.get_engine(self.settings.database_url)
        return self._engine

    @property
    def regions(self) -> Regions:
        """The home plan's regions: Hainan's packaged coverage, or the `coverage:` targets.yaml
        gives the plan of that province (made once per content of targets.yaml), or those
        given to the constructor."""
        if self._given_regions is not None:
            return self._given_regions
        from tracker.targets.errors import TargetsFileError

        try:
            model, digest = self._load_model()  # read, not synced: regions need no database
        except TargetsFileError:  # no targets.yaml yet (`tracker serve` before extraction): the packaged ones
            model, digest = None, None
        if self._regions is None or self._regions_digest != digest:
            packaged = load_regions()
            declared = next((p.coverage for p in model.plans if p.region == packaged.province.code
                             and p.coverage is not None and p.coverage != packaged.coverage), None) if model else None
            if declared is not None:
                from tracker.domain.regions import regions_for

                packaged = regions_for(declared)
            self._regions, self._regions_digest = packaged, digest
        return self._regions

    @property
    def model(self) -> TargetsModel:
        """The targets model, synced into the database (once per change of its content)."""
        model, digest = self._load_model()
        if digest != self._synced:
            self._sync(model, digest)
        return model

    def _load_model(self) -> tuple[TargetsModel, str]:
        if self._fixed_model is not None:
            if self._digest is None:
                import hashlib
                import json
                from dataclasses import asdict

                text = json.dumps(asdict(self._fixed_model), sort_keys=True, default=str)
                self._digest = "model-" + hashlib.sha256(text.encode()).hexdigest()
            self._model = self._fixed_model
            return self._model, self._digest
        from tracker.targets.cache import stamp

        path = Path(self.settings.targets_path)
        now = stamp(path, self._included)
        if self._model is None or now != self._model_stamp:
            from tracker.targets.cache import load_targets_with_includes

            before = self._included
            self._model, self._digest, self._included = load_targets_with_includes(path)
            self._model_stamp = now if self._included == before else stamp(path, self._included)
        assert self._digest is not None
        return self._model, self._digest

    def _sync(self, model: TargetsModel, digest: str) -> None:
        from tracker import store

        if store.synced_digest(self.engine) != digest:
            try:
                store.sync_targets(self.engine, model, self.now(), source_digest=digest)
            except ValueError as exc:
                raise TargetsChanged(str(exc)) from exc
        self._synced = digest

    def sync(self) -> dict[str, dict[str, int]]:
        """Sync the targets model into the database now, whatever was synced before."""
        from tracker import store

        model, digest = self._load_model()
        try:
            counts = store.sync_targets(self.engine, model, self.now(), source_digest=digest)
        except ValueError as exc:
            raise TargetsChanged(str(exc)) from exc
        self._synced = digest
        return counts

    # -- values in -----------------------------------------------------------------------------

    def record(self, indicator: str, region: str, period: str, value: str | float, unit: str | None = None, *,
               entered_by: str, note: str = "", source: str = "command", correct: bool = False,
               allow_sample: bool = False) -> Any:
        """Enter one value, checked like a file's cell; raises tracker.actuals EntryError. The
        result's `recorded` holds the value as stored."""
        from tracker.actuals.entry import record_value

        return record_value(self.engine, self.model, indicator, region, period, value, unit, entered_by=entered_by,
                            note=note, source=source, correct=correct, now=self.now(), regions=self.entry_regions(),
                            allow_sample=self._sample_allowed(allow_sample), locked=self._locks())

    def record_values(self, cells: Iterable[Any], *, entered_by: str, source: str = "web", also: Any = None) -> Any:
        """Enter several values (a form), all or nothing. `also(connection, result)` runs in the
        same write transaction after the values are written (the web's audit row)."""
        from tracker.actuals.entry import record_values

        return record_values(self.engine, self.model, cells, entered_by=entered_by, source=source, now=self.now(),
                             regions=self.entry_regions(), allow_sample=self._sample_allowed(False), locked=self._locks(),
                             also=also)

    def import_file(self, path: str | Path, *, entered_by: str, correct: bool = False, period: str | None = None,
                    indicator: str | None = None, dry_run: bool = False, permit: Any = None,
                    allow_sample: bool = False) -> Any:
        """Import a CSV or .xlsx file of values and milestone progress, all or nothing. Rows
        marked as sample data are refused unless this is the demo's database or `allow_sample`."""
        from tracker.actuals.entry import import_file

        return import_file(self.engine, path, self.model, entered_by=entered_by, correct=correct, period=period,
                           indicator=indicator, now=self.now(), regions=self.entry_regions(), dry_run=dry_run,
                           permit=permit,
                           allow_sample=self._sample_allowed(allow_sample), locked=self._locks())

    def record_progress(self, milestone: str, state: str, *, reporter: str, entered_by: str, note: str = "",
                        evidence: str = "", reported_on: str | None = None, source: str = "command",
                        allow_sample: bool = False) -> Any:
        """A milestone's state (未启动 / 推进中 / 已完成) reported by a unit or region."""
        from tracker.actuals.progress import record_progress

        return record_progress(self.engine, self.model, milestone, state, reporter=reporter, entered_by=entered_by,
                               note=note, evidence=evidence, reported_on=reported_on, source=source,
                               now=self.now(), regions=self.entry_regions(),
                               allow_sample=self._sample_allowed(allow_sample))

    def mark_sample_database(self) -> None:
        """Make this the demo's database (tracker demo): the sample's rows (示例数据 / SAMPLE)
        may go into it; every other database refuses them unless asked explicitly."""
        from tracker import store

        store.mark_sample_database(self.engine, self.now())
        self._sample = True

    def is_sample_database(self) -> bool:
        """Whether this is the demo's database (read once: a database does not become one)."""
        from tracker import store

        if getattr(self, "_sample", None) is None:
            self._sample = store.is_sample_database(self.engine)
        return bool(self._sample)

    def _sample_allowed(self, asked: bool) -> bool:
        return asked or self.is_sample_database()

    def write_template(self, path: str | Path, unit: str, period: str, plan: str | None = None) -> dict[str, int]:
        """The Excel form for one unit and period, which imports back: of `plan` (default: the
        home plans' for a unit or a home region, the plan holding the region otherwise; 广州's
        form is Guangdong's plan's, its rows Guangzhou's, its columns what that plan needs)."""
        from tracker.actuals.templates import write_template
        from tracker.service.plans import template_scope

        model, regions, only = template_scope(self, unit, plan)
        return write_template(path, model, unit, period, regions, only)

    def cell(self, indicator: str, region: str, period: str) -> tuple[Any, Any, str]:
        """The cell a person names: (Indicator, Region, period label as stored), a date read as
        its month, quarter or year; raises tracker.actuals EntryError naming what is wrong."""
        from tracker.actuals.entry import find_cell

        return find_cell(self.model, self.entry_regions(), self.today(), indicator, region, period)

    def history(self, indicator: str, region: str, period: str) -> list[dict[str, Any]]:
        """Every revision of one cell (ids, codes and labels as stored)."""
        from tracker import store

        return store.observation_history(self.engine, indicator, region, period)

    def export(self, out: str | Path | IO[bytes], *, fmt: str | None = None, revisions: bool = False,
               plan: str | None = None, indicators: Sequence[str] = (), regions: Sequence[str] = (),
               period: str | None = None, department: str | None = None) -> dict[str, Any]:
        """Write the stored values (the latest of each cell, or with `revisions` every
        revision) to `out` (a path or a binary stream) as CSV (UTF-8 with BOM) or .xlsx (`fmt`,
        else the path's suffix), filtered by plan, indicators, regions, period and department.
        The file imports back (an export of latest values as "unchanged"). Returns {"rows",
        "format"}; raises tracker.actuals EntryError for a filter that matches nothing known."""
        from tracker.actuals.exports import export_filter, export_format, export_rows, write_export
        from tracker.store.exports import exported_values

        fmt = export_format(out if isinstance(out, (str, Path)) else None, fmt)
        loaded = self.entry_regions()  # any loaded plan's regions, named as that plan names them
        chosen = export_filter(self.model, loaded, plan=plan, indicators=indicators, region=regions,
                               period=period, department=department)
        rows = exported_values(self.engine, revisions=revisions, indicators=chosen.indicators,
                               regions=chosen.regions, start=chosen.start, end=chosen.end)
        return {"rows": write_export(export_rows(rows, self.model, loaded), out, fmt), "format": fmt}

    def progress(self) -> list[Any]:
        """The latest milestone report per milestone and reporter, as known now."""
        from tracker import store

        return store.milestone_progress(self.engine, self.now())

    # -- statuses and figures ----------------------------------------------------------------

    def _data_version(self) -> Any:
        from tracker.store.observations import data_version

        return data_version(self.engine)

    def evaluate(self, as_of: date | None = None, include: str | None = None, *,
                 known_at: datetime | None = None) -> Evaluation:
        """See _evaluate; the cyclic collector held off meanwhile (tracker.service.heap)."""
        from tracker.service.heap import collector_paused

        with collector_paused():
            return self._evaluate(as_of, include, known_at=known_at)

    def _evaluate(self, as_of: date | None = None, include: str | None = None, *,
                  known_at: datetime | None = None) -> Evaluation:
        """Every target and milestone as of `as_of` (default: today in Asia/Shanghai), with the
        figures known at the end of that day, or at `known_at` (the monthly run, after the
        submission day, knows the month's figures); computed once per date and state of the
        data. `include`: which figures count ("approved" by default where [approval] required
        says so, else "all"; "submitted" adds those awaiting review, the supervisor's preview)."""
        from tracker import store
        from tracker.service.approvals import counting, mark_unapproved
        from tracker.status.evaluate import evaluate_plans
        from tracker.status.figures import indicators_needed
        from tracker.status.below import uppers
        from tracker.store.approvals import approvals_version

        as_of = as_of or self.today()
        model = self.model
        plans = self.tracked_plans(model, as_of)
        include, counted = counting(self, as_of, include, [p.id for p in plans])
        version = self._data_version()  # read before the series: a value written meanwhile is read again next time
        key = (as_of, include, known_at, (self._synced, version, approvals_version(self.engine) if counted else 0))
        found = self._evaluations.get(key)
        if found is not None:
            return found
        needed = indicators_needed(model)
        previous = self._superseded(key, model) if counted is None else None
        carried = None
        if previous is not None:  # the same date with fewer values: judge again what changed (docs/scale.md)
            from tracker.status.incremental import Carried

            changed = store.changed_series(self.engine, previous.version[0], as_of, needed, known_at=known_at)
            fresh = store.load_series(self.engine, as_of, needed, known_at=known_at, keys=changed) if changed else None
            series = previous.series.patched(fresh) if fresh is not None else previous.series
            carried = Carried(model, previous.statuses, previous.resolvers.values(), changed)
        else:
            series = store.load_series(self.engine, as_of, needed, counted=counted, known_at=known_at)
        if known_at is None:
            progress = store.milestone_progress(self.engine, knowledge_cutoff(as_of) - timedelta(microseconds=1))
        else:
            progress = store.milestone_progress(self.engine, known_at, reported_by=as_of)
        judged = {t.plan for t in model.targets}  # a plan of milestones alone needs no regions to judge them
        regions_of = {p.id: self.plan_regions(p.id) for p in model.plans if p.id in judged}
        above = uppers(model, regions_of, as_of)  # plans above others: judged on their roll-up's figure
        for below in above.values():
            for p in below.values():
                if p.id not in regions_of:  # a plan below with no targets of its own still sums its regions
                    regions_of[p.id] = self.plan_regions(p.id)
        statuses, resolvers = evaluate_plans(model, series, progress, self.regions, regions_of, as_of,
                                             self.settings.status, known_at=known_at, above=above, carried=carried)
        evaluation = Evaluation(as_of, model, self.regions, statuses, series, resolvers[""], plans,
                                _of_plans(model, statuses, [p.id for p in plans]), include, counted,
                                plan_regions=regions_of, resolvers=resolvers, regions_for=self.plan_regions,
                                version=version, incremental=carried.stats() if carried is not None else None)
        if previous is not None:  # nobody can ask for the older data again
            for k in [k for k, v in list(self._evaluations.items()) if v is previous]:
                self._evaluations.pop(k, None)
        if counted is not None:
            evaluation.unapproved = mark_unapproved(self, model, statuses, as_of, counted, needed, self.regions)
        if len(self._evaluations) > 8:
            self._evaluations.clear()
        self._evaluations[key] = evaluation
        return evaluation

    def _superseded(self, key: tuple, model: TargetsModel) -> Evaluation | None:
        """The newest evaluation of the same date, figures counted and targets, made when the
        store held fewer values (ids only grow: tracker.store.observations.data_version)."""
        best = None
        for (as_of, include, known_at, (synced, version, approved)), found in list(self._evaluations.items()):
            # `<=`: a milestone report alone (the progress id moved) changes no series
            if (as_of, include, known_at) == key[:3] and (synced, approved) == (key[3][0], key[3][2]) \
                    and found.model is model and version[0] <= key[3][1][0] and version != key[3][1] \
                    and (best is None or best.version[0] < version[0]):
                best = found
        return best

    def plan_regions(self, plan_id: str) -> Regions:
        """The regions one plan covers: its `coverage:` over the country's divisions, else the
        default for its area (tracker.domain.regions.default_coverage); the home plan (the
        one of the province `regions` describes) without a coverage of its own has `regions`.
        Made once per content of targets.yaml. Raises KeyError for an unknown plan."""
        from tracker.domain.regions import RegionError, default_coverage, regions_for

        model = self.model
        digest, cache = self._plan_regions
        if digest != self._digest:
            cache = {}
            self._plan_regions = (self._digest, cache)
        if plan_id not in cache:
            plan = model.plan(plan_id)
            if plan.region == self.regions.province.code and plan.coverage in (None, self.regions.coverage):
                cache[plan_id] = self.regions  # the home plan: Hainan's packaged coverage (or the one given)
            else:
                try:
                    cache[plan_id] = regions_for(plan.coverage or default_coverage(plan.region))
                except RegionError:  # an area code the country's data does not have
                    cache[plan_id] = self.regions
        return cache[plan_id]

    def entry_regions(self) -> Any:
        """The regions values may be entered for: the home plan's, then every other loaded
        plan's (tracker.domain.regions.LoadedRegions); one outside them all is refused naming
        where it lies and the plans that could hold it."""
        from tracker.domain.regions import LoadedPlan, LoadedRegions

        model = self.model
        if self._plan_regions[0] != self._digest:
            self._plan_regions = (self._digest, {})
        cache: dict[str, Any] = self._plan_regions[1]
        if "" not in cache:  # "" is no plan id (targets.yaml requires one)
            cache[""] = LoadedRegions(self.regions, lambda: [  # the other plans' regions: made when first needed
                LoadedPlan(p.id, self.plan_regions(p.id), p.level == "national") for p in model.plans])
        return cache[""]

    def plans_on(self, as_of: date) -> list[Plan]:
        """The plans whose period (start..end) covers `as_of`."""
        return [p for p in self.model.plans if p.covers(as_of)]

    def tracked_plans(self, model: TargetsModel | None = None, as_of: date | None = None) -> list[Plan]:
        """The plans the statuses, reports and alerts cover as of `as_of` (default: today): the
        plans of the province the regions describe (their tasks include the national tasks
        they implement), every plan when the model has none for that province; of those, the
        ones in force (TargetsModel.in_force: a plan gives way to its successor once that has
        started; one with no successor stays tracked after its end, its targets overdue)."""
        model = model or self.model
        own = [p for p in model.plans if p.region == self.regions.province.code] or list(model.plans)
        return model.in_force(own, as_of or self.today())

    def statuses(self, as_of: date | None = None, *, plans: Sequence[str] | None = None,
                 include: str | None = None) -> list[Any]:
        """The statuses of the tracked plans' items (or of `plans`), as of `as_of`."""
        evaluation = self.evaluate(as_of, include)
        if plans is None:
            return list(evaluation.tracked)
        return _of_plans(evaluation.model, evaluation.statuses, plans)

    def covered(self, statuses: Iterable[Any], plans: Sequence[str] | None = None) -> list[Any]:
        """The statuses among `statuses` whose items belong to `plans`, by default to the
        plans tracked on the statuses' date: what a report shows and its alerts go out for."""
        from tracker.domain.periods import PeriodError, parse_period

        if plans is not None:
            return _of_plans(self.model, statuses, list(plans))

        statuses = list(statuses)
        try:  # the plans in force on the statuses' date (a day, or a month's end); else today's
            as_of: date | None = parse_period(statuses[0].as_of).end if statuses and statuses[0].as_of else None
        except PeriodError:
            as_of = None
        return _of_plans(self.model, statuses, [p.id for p in self.tracked_plans(as_of=as_of)])

    def values(self, indicator: str, as_of: date | None = None, include: str | None = None, *,
               plan: str | None = None) -> list[Any]:
        """Every figure of one indicator as known at the end of `as_of`: the values entered
        (with their revisions) and those derived from them (ratios from components, cities from
        districts, the province from its 市县), with the coverage of each derived one. The same
        resolver the statuses were judged with makes the derived ones. The home plan's regions,
        or `plan`'s (its own regions and their sums)."""
        from tracker import store
        from tracker.status.figures import indicator_values

        evaluation = self.evaluate(as_of, include)
        entered = store.latest_observations(self.engine, knowledge_cutoff(evaluation.as_of) - timedelta(microseconds=1),
                                            [indicator], counted=evaluation.counted)
        regions = self.regions if plan is None else evaluation.regions_of(plan)
        resolver = evaluation.resolver if plan is None else evaluation.resolver_of(plan)
        inside = {r.code for r in regions.all}  # another plan's values are that plan's figures
        return indicator_values(resolver, indicator, [o for o in entered if o.region in inside], regions)

    def cells(self, region: str, indicators: list[str]) -> list[Any]:
        """The latest revision of every cell of one region for these indicators (what an entry
        form shows beside each field), read for that region only."""
        from tracker import store

        return store.region_cells(self.engine, region, indicators)

    def completeness(self, as_of: date | None = None, grace_days: int | None = None, *,
                     plan: str | None = None, latest: Any = None) -> list[Any]:
        """Who has not reported the period each indicator expects (after the grace days), for
        one plan (default: the home plans): its own targets' indicators, asked of its own
        regions; where approval is required, each region's figure also says 未报送 /
        已提交未审核 / 已审核 (Gap.states). `latest`: store.latest_reported, already read."""
        import tracker.service.plans as per_plan
        import tracker.service.since as since
        from tracker.service.approvals import fill_report_states
        from tracker.status.completeness import missing_reports

        day = as_of or self.today()
        grace = self.settings.status.grace_days if grace_days is None else grace_days
        group = per_plan.group_of(self, plan, day)
        regions = per_plan.regions_of(self, group[0] if group else None)
        if latest is None:
            latest = since.latest_reported(self, day)
        gaps = missing_reports(self.model, latest, regions, regions.province.code, day, grace, group or None)
        if group and self.settings.approval.required_for(group[0]):
            fill_report_states(self, gaps, group[0], regions)
        return gaps

    # -- review and approval (tracker.service.approvals) -------------------------------------------

    def submit(self, unit: str, period: str, *, actor: Any, plan: str | None = None) -> Any:
        """填报 → 已提交: `unit` (a region or a department) puts its figures of `period` up for
        review. `actor`: tracker.status.approval.Actor. Raises ApprovalError."""
        from tracker.service.approvals import act

        return act(self, "submit", unit, period, actor=actor, plan=plan)

    def approve(self, unit: str, period: str, *, actor: Any, plan: str | None = None) -> Any:
        """The next step up: 已提交 → 已审核 by the level above, 已审核 → 已上报 (locked) by the
        plan's supervisor; refused with the list when a figure fails validation."""
        from tracker.service.approvals import act

        return act(self, "approve", unit, period, actor=actor, plan=plan)

    def return_(self, unit: str, period: str, *, actor: Any, reason: str, plan: str | None = None) -> Any:
        """退回: back to draft with a reason, which the reporter sees and is sent."""
        from tracker.service.approvals import act

        return act(self, "return", unit, period, actor=actor, plan=plan, reason=reason)

    def unlock(self, unit: str, period: str, *, actor: Any, reason: str, plan: str | None = None) -> Any:
        """解锁 (the supervisor, with a reason): an accepted period, or one past its expiry,
        opens to entry again."""
        from tracker.service.approvals import act

        return act(self, "unlock", unit, period, actor=actor, plan=plan, reason=reason)

    def approvals(self, plan: str | None = None, *, unit: str | None = None, waiting_for: Any = None,
                  period: str | None = None, states: Sequence[str] | None = None, count: bool = False) -> list[Any]:
        """Submissions of a plan (default: the first the reports cover): one unit's, with the
        periods it is due to submit; those waiting for `waiting_for`'s decision; or all."""
        from tracker.service.approvals import listing

        return listing(self, plan, unit=unit, waiting_for=waiting_for, period=period, states=states, count=count)

    def actor(self, name: str, unit: str, plan: str | None = None, ip: str = "") -> Any:
        """The Actor for a person acting for `unit` (a region, a department, or the plan's
        supervisor unit, which then acts as the supervisor). Raises ApprovalError."""
        from tracker.service.approvals import actor_for

        return actor_for(self, name, unit, plan, ip)

    def approval_history(self, unit: str, period: str, plan: str | None = None) -> list[dict[str, Any]]:
        """Every transition of one submission: who, when, from, to, why."""
        from tracker.service.approvals import history

        return history(self, unit, period, plan)

    def _locks(self) -> Any:
        """Which cells entry refuses now (periods under review, accepted or expired)."""
        from tracker.service.approvals import locks

        return locks(self)

    def _report_approval(self, evaluation: Evaluation, plan: str | None = None) -> dict[str, Any]:
        """What a report says about approval: the figures it counts, and who has submitted."""
        if evaluation.counted is None:
            return {}
        return {"approval": {"include": evaluation.include, "unapproved": evaluation.unapproved},
                "completeness": self.completeness(evaluation.as_of, plan=plan)}

    # -- reports, runs, alerts -------------------------------------------------------------------

    def write_report(self, as_of: date | None = None, *, lang: str | None = None, reports_dir: str | Path | None = None,
                     late: bool = False, note: str = "", preview: bool = False, kind: str = "on_demand",
                     known_at: datetime | None = None, fence: Any = None, plan: str | None = None) -> Any:
        """See _write_report; the cyclic collector held off meanwhile (tracker.service.heap)."""
        from tracker.service.heap import collector_paused

        with collector_paused():
            return self._write_report(as_of, lang=lang, reports_dir=reports_dir, late=late, note=note,
                                      preview=preview, kind=kind, known_at=known_at, fence=fence, plan=plan)

    def _write_report(self, as_of: date | None = None, *, lang: str | None = None,
                      reports_dir: str | Path | None = None, late: bool = False, note: str = "",
                      preview: bool = False, kind: str = "on_demand", known_at: datetime | None = None,
                      fence: Any = None, plan: str | None = None) -> Any:
        """Evaluate as of `as_of` and write the month's report (HTML, JSON and index) into
        `reports_dir` (default: reports/, reports/en/ for English when Chinese is the default),
        as a new generation of the set (readers see the old set or the new one). `preview`:
        count the figures awaiting review too, into reports/preview/ (never over the report of
        approved figures). `kind`: "scheduled" for the monthly run, "on_demand" otherwise (the
        index says which). `known_at`: the figures known at that moment (see `evaluate`); the
        report then lists the values that arrived after their submission deadline. `fence()`
        is called before the set is switched and raises to stop it (a run that lost its lease).
        `plan`: another plan's report (its items, judged in its regions), in
        reports/plans/<plan-id>/; default the home plans' (tracker.service.plans). A plan with
        plans below it loaded (the national plan) gets their roll-up as a section; its own
        targets were judged on the roll-up's figure by the evaluation (tracker.service.rollup)."""
        from tracker import store
        from tracker.report.files import generate_report, read_previous
        import tracker.service.plans as per_plan
        from tracker.service.rollup import report_rollup
        from tracker.service.since import has_sample_data

        evaluation = self.evaluate(as_of, "submitted" if preview else None, known_at=known_at)
        group = per_plan.group_of(self, plan, evaluation.as_of)
        home = plan is None or per_plan.is_home(self, plan)
        regions = self.regions if home else evaluation.regions_of(plan)
        statuses = list(evaluation.tracked) if home else _of_plans(evaluation.model, evaluation.statuses, group)
        lang = lang or self.settings.language
        rollup, resolver, below = report_rollup(self, evaluation, group, regions, lang)
        if resolver is None and group:  # the charts draw the sums the plan's targets were judged on
            resolver = evaluation.resolver_of(group[0])
        out = Path(reports_dir) if reports_dir is not None else self.reports_dir(lang, None if home else plan)
        if preview and reports_dir is None:
            out = out / "preview"
        period = f"{evaluation.as_of.year}-{evaluation.as_of.month:02d}"
        previous = read_previous(out, period)
        fresh: list[Observation] = []
        if previous and previous.get("as_of"):
            since = previous.get("known_at")
            fresh = store.new_observations(self.engine, date.fromisoformat(previous["as_of"]), evaluation.as_of,
                                           start=datetime.fromisoformat(since) if since else None, end=known_at)
            own = {r.code for r in regions.all}
            fresh = [o for o in fresh if o.region in own]  # the values of this plan's regions
        if self._fragments is None:
            from tracker.report.fragments import Fragments

            self._fragments = Fragments()
        self._fragments.round(evaluation)
        files = generate_report(evaluation.model, statuses, evaluation.series, regions,
                                evaluation.as_of, out, lang=lang, late_run=late, note=note,
                                grace_days=self.settings.status.grace_days, generated_at=self.now(),
                                new_values=fresh, sample=has_sample_data(self),
                                plans=[p.id for p in evaluation.plans] if home else group, kind=kind,
                                known_at=known_at, submission_day=self.settings.schedule.submission_day, fence=fence,
                                previous=previous, **self._report_approval(evaluation, plan),
                                rollup=rollup, resolver=resolver, completeness_below=below,
                                fragments=self._fragments)
        import dataclasses

        return dataclasses.replace(files, statuses=statuses)

    def rollup(self, plan_id: str, as_of: date | None = None, include: str | None = None) -> Any:
        """The roll-up of a plan above others (the national plan over the provinces' plans): per
        shared indicator one row per unit with its own target, latest value, status and
        coverage, the area's figure from summed components; tasks linked both ways
        (tracker.status.rollup.Rollup). Raises tracker.service.rollup.UnknownPlan."""
        from tracker.service.heap import collector_paused
        from tracker.service.rollup import rollup_for

        with collector_paused():
            return rollup_for(self, plan_id, as_of, include)

    def reports_dir(self, lang: str | None = None, plan: str | None = None) -> Path:
        """Where reports in `lang` go: reports/, and reports/<lang>/ for the other language,
        so an English report never overwrites the Chinese one; another plan's than the home
        plans' under plans/<plan-id>/ in it."""
        import tracker.service.plans as per_plan

        base = Path(self.settings.reports_dir)
        if lang and lang != self.settings.language:
            base = base / lang
        return per_plan.report_dir(base, plan, plan is None or per_plan.is_home(self, plan))

    def run_month(self, period: str | None = None, *, force: bool = False, late: bool | None = None,
                  pipeline: Any = None) -> Any:
        """The monthly job for `period` (default: the latest month due): report, status
        snapshot and alerts, exactly once across processes. See tracker.service.runs."""
        from tracker.service.heap import collector_paused
        from tracker.service.runs import run_month

        with collector_paused():  # one pause for the whole run: every plan's report and the alerts
            return run_month(self, period, force=force, late=late, pipeline=pipeline)

    def run_due(self) -> Any:
        """The latest month due, if it has not succeeded yet (the watchdog's one question)."""
        from tracker.service.runs import run_due

        return run_due(self)

    def remind(self, *, force: bool = False) -> int:
        """This month's submission reminders, once; returns how many messages were queued."""
        from tracker.service.reminders import remind

        return remind(self, force=force)

    def runs(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest runs (monthly reports and reminders), newest first."""
        from tracker.store.runs import list_runs

        return list_runs(self.engine, limit)

    def alerts(self, limit: int = 100, state: str | None = None) -> list[dict[str, Any]]:
        """The latest alert messages and their delivery state, newest first."""
        from tracker.store.outbox import list_alerts

        return list_alerts(self.engine, limit, state)

    def deliver_alerts(self) -> dict[str, int]:
        """Send the alert messages that are due (at least once each: one left unmarked by a
        crash is sent again, with the same Message-ID and idempotency key, after
        [alerts] resend_after_minutes)."""
        from tracker.alerts.outbox import deliver_pending

        return deliver_pending(self.engine, self.settings.alerts, now=self.now(), clock=self.now)


def _of_plans(model: TargetsModel, statuses: Iterable[Any], plans: Sequence[str]) -> list[Any]:
    keep = set(plans)
    owner = {t.id: t.plan for t in model.targets} | {m.id: m.plan for m in model.milestones}
    return [s for s in statuses if owner.get(s.item_id) in keep]
