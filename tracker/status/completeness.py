"""Who has not reported: for each indicator the targets need, the period its frequency
expects (after the grace period) and the regions with nothing for it. Shared by the report's
completeness view and the submission reminders."""

import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from tracker.domain.model import TargetsModel
from tracker.domain.periods import latest_closed_period
from tracker.domain.regions import Regions


@dataclass
class Gap:
    indicator: str
    name: str
    reporter: str
    expected_period: str
    expected: list[str]  # region codes that should have reported
    missing: list[str]  # those that have not
    # With approval required (tracker.status.approval.report_states): region -> missing (未报送),
    # submitted (已提交未审核) or approved (已审核); empty otherwise.
    states: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.missing

    def in_state(self, state: str) -> list[str]:
        """The expected regions whose figure for the period is in `state`."""
        return [c for c in self.expected if self.states.get(c) == state]


def wanted_indicators(model: TargetsModel, latest: dict[str, dict[str, int]],
                      plans: Sequence[str] | None = None) -> list[str]:
    """The indicators the targets (of `plans`, default every plan's) are judged on; a ratio
    reported through its components (beds and elderly population) is checked component by
    component."""
    known = {i.id for i in model.indicators}
    wanted: list[str] = []
    for t in model.targets:
        if t.indicator not in known or (plans is not None and t.plan not in plans):
            continue
        ind = model.indicator(t.indicator)
        ids = [ind.id]
        if ind.numerator and ind.denominator and not latest.get(ind.id) and (
                latest.get(ind.numerator) or latest.get(ind.denominator)):
            ids = [ind.numerator, ind.denominator]
        wanted.extend(i for i in ids if i not in wanted and i in known)
    return wanted


# (model, latest, regions and the other arguments) -> the gaps: a national report asks for each
# province's exactly as that province's own report does, from the same objects. Kept for the
# two newest `latest` (a national one holds 100,000 regions): a run's and the one before.
_MADE: dict[tuple, tuple[tuple, list[Gap]]] = {}
_LATESTS: list[dict[str, dict[str, int]]] = []
_MADE_LOCK = threading.Lock()  # the web app's threads share the memo
_KEPT = 256  # entries at most (models and regions of earlier targets.yaml contents go too)


def missing_reports(model: TargetsModel, latest: dict[str, dict[str, int]], regions: Regions, plan_region: str,
                    as_of: date, grace_days: int, plans: Sequence[str] | None = None) -> list[Gap]:
    """`latest`: indicator -> region code -> ordinal of the latest period_end reported (never
    changed once made). `regions`: one plan's, `plans`: the plans whose targets say what is
    wanted (default: every plan's): each plan's regions are asked for what its own targets
    need. Worked out once per set of arguments; each caller gets its own Gaps (approval states
    are filled in on them)."""
    sources = (model, latest, regions)
    key = (tuple(map(id, sources)), plan_region, as_of, grace_days, tuple(plans) if plans is not None else None)
    found = _MADE.get(key)
    if found is None or not all(a is b for a, b in zip(found[0], sources)):
        made = (sources, _missing_reports(model, latest, regions, plan_region, as_of, grace_days, plans))
        with _MADE_LOCK:
            if not any(x is latest for x in _LATESTS):
                _LATESTS.append(latest)
                if len(_LATESTS) > 2:
                    gone = _LATESTS.pop(0)
                    for k in [k for k, v in _MADE.items() if v[0][1] is gone]:
                        del _MADE[k]
            if len(_MADE) >= _KEPT:
                _MADE.clear()
            _MADE[key] = found = made
    return [replace(g, expected=list(g.expected), missing=list(g.missing), states=dict(g.states)) for g in found[1]]


def _missing_reports(model: TargetsModel, latest: dict[str, dict[str, int]], regions: Regions, plan_region: str,
                     as_of: date, grace_days: int, plans: Sequence[str] | None) -> list[Gap]:
    children: dict[str, list[str]] = defaultdict(list)
    for r in regions.all:
        if r.level == "district" and r.parent:
            children[r.parent].append(r.code)
    counties = [r.code for r in regions.counties()]
    own = {r.code for r in regions.all}
    reference = as_of - timedelta(days=grace_days)
    gaps = []
    for ind_id in wanted_indicators(model, latest, plans):
        ind = model.indicator(ind_id)
        expected = latest_closed_period(reference, ind.frequency)
        end = expected.end.toordinal()
        everywhere = latest.get(ind_id, {})
        # this plan's regions only, looked up one by one (latest holds every region of the country)
        seen = {c: day for c in own if (day := everywhere.get(c)) is not None}
        done = {c for c, day in seen.items() if day >= end}

        def reported(code: str) -> bool:
            return code in done or any(reported(child) for child in children.get(code, ()))

        if seen and all(c == plan_region for c in seen):
            expected_regions = [plan_region]  # reported for the whole province only
        else:
            expected_regions = counties or [plan_region]
        gaps.append(Gap(ind_id, ind.name, ind.reporter, expected.label, expected_regions,
                        [c for c in expected_regions if not reported(c)]))
    return gaps
