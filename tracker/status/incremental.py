"""Judging again only what changed: an evaluation made from the last one of the same date and
the series written since it (tracker.store.series.changed_series).

A figure depends on series the rules name (tracker.status.aggregate): a region's own values, a
ratio's components in that region, a city's districts, and for the whole area every 市县 of
the plan. So a changed series (indicator J, region c) changes the figures of J and of every
ratio built on J, in c, in the city c belongs to, and for the whole area of every plan holding
c; nothing else. The last evaluation's resolvers keep their sums for everything else, and its
statuses stand for every target (and every region of a 每个市县 target) whose figures did not
move. The result is the one a full evaluation gives (tests/test_incremental.py compares them).

Pure: the last statuses and resolvers and the changed keys in; resolvers and kept statuses out.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tracker.domain.model import Target, TargetsModel
from tracker.domain.regions import Regions
from tracker.domain.series import SeriesSet
from tracker.status.aggregate import SeriesResolver
from tracker.status.model import Status


def dependents(model: TargetsModel) -> dict[str, set[str]]:
    """indicator id -> the indicators whose figures read its series: itself and every ratio
    built on it, through ratios of ratios too."""
    direct: dict[str, set[str]] = {}
    for ind in model.indicators:
        for part in (ind.numerator, ind.denominator):
            if part:
                direct.setdefault(part, set()).add(ind.id)
    out: dict[str, set[str]] = {}
    for ind in model.indicators:
        seen, todo = {ind.id}, [ind.id]
        while todo:
            for up in direct.get(todo.pop(), ()):
                if up not in seen:
                    seen.add(up)
                    todo.append(up)
        out[ind.id] = seen
    return out


class Carried:
    """What a new evaluation keeps from the last one, given the series that changed since."""

    def __init__(self, model: TargetsModel, statuses: Iterable[Status], resolvers: Iterable[SeriesResolver],
                 changed: Iterable[tuple[str, str]]) -> None:
        self.changed = frozenset(changed)
        deps = dependents(model)
        # figure indicator -> regions where one of the series it reads changed
        self.hit: dict[str, set[str]] = {}
        for indicator, region in self.changed:
            for up in deps.get(indicator, {indicator}):
                self.hit.setdefault(up, set()).add(region)
        self.statuses = {s.item_id: s for s in statuses if s.kind == "target"}
        plain = (getattr(r, "upper", r) for r in resolvers)  # a roll-up's resolver sits over its plan's own
        self._old = [r for r in plain if type(r) is SeriesResolver]
        self._affected: dict[tuple[int, str], frozenset[str]] = {}
        self._codes: dict[int, tuple[Regions, frozenset[str]]] = {}
        self.judged = 0  # targets and regions judged again, for the benchmark and the tests
        self.kept = 0

    def resolver(self, model: TargetsModel, series: SeriesSet, regions: Regions) -> SeriesResolver:
        """A resolver over the new series for `regions`, holding the last one's figures that
        no changed series feeds (a fresh one when the last evaluation had none for them)."""
        new = SeriesResolver(model, series, regions)
        old = next((r for r in self._old if r.regions is regions), None)
        if old is None:
            return new
        moved = {indicator: self.affected(new, indicator) for indicator in self.hit}
        # copies first (one step each under the GIL): the web app's other threads may still be
        # adding figures to the last evaluation's caches while this one is made
        new._cache = {key: value for key, value in old._cache.copy().items()
                      if key[0] not in moved or key[1] not in moved[key[0]]}
        for indicator, value in old._whole.copy().items():
            if not self.whole_changed(new, indicator):
                new._whole[indicator] = value
        return new

    def affected(self, resolver: SeriesResolver, indicator: str) -> frozenset[str]:
        """The regions whose figure of `indicator` changed: those whose series it reads
        changed, and the cities whose districts did."""
        key = (id(resolver), indicator)
        found = self._affected.get(key)
        if found is None:
            hit = self.hit.get(indicator, set())
            parents = {kid.code: parent for parent, kids in resolver.children.items() for kid in kids} if hit else {}
            found = self._affected[key] = frozenset(hit | {parents[c] for c in hit if c in parents})
        return found

    def whole_changed(self, resolver: SeriesResolver, indicator: str) -> bool:
        """Whether the area's figure of `indicator` (summed over the plan's 市县) changed."""
        hit = self.hit.get(indicator)
        if not hit:
            return False
        regions = resolver.regions
        found = self._codes.get(id(regions))
        if found is None or found[0] is not regions:
            found = self._codes[id(regions)] = (regions, frozenset(r.code for r in regions.all))
        return not found[1].isdisjoint(hit) or regions.province.code in hit

    def keeper(self, target: Target, resolver: SeriesResolver) -> Callable[[str | None], Status | None]:
        """For `evaluate_target`: the last status of the target (region None) or of one of
        its regions, when its figure did not change; None where it must be judged again."""
        last = self.statuses.get(target.id)
        if last is None or type(resolver) is not SeriesResolver:  # a roll-up's figure: judged again
            return lambda region: None
        subs: Mapping[str | None, Status] = {s.region: s for s in last.regions}
        affected = self.affected(resolver, target.indicator)
        whole = target.scope != "each_region" and self.whole_changed(resolver, target.indicator)

        def keep(region: str | None) -> Status | None:
            if region is None:
                if target.scope == "each_region":
                    return None  # its regions are asked for one by one
                found = None if whole else last
            else:
                found = None if region in affected else subs.get(region)
            if found is None:
                self.judged += 1
            else:
                self.kept += 1
            return found

        return keep

    def stats(self) -> dict[str, Any]:
        return {"changed_series": len(self.changed), "judged": self.judged, "kept": self.kept}
