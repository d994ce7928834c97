"""Series: the values of one (indicator, region), ordered by period end, and what was known
when.

Values are held per series as two compact arrays (period-end day numbers and values) rather
than one object per observation: a national set has millions of values, and the store fills
the same structure straight from SQL. Pure, like the rest of the domain.
"""

from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tracker.domain.clock import aware
from tracker.domain.model import Observation
from tracker.domain.periods import PLAN_TZ

_UTC = ZoneInfo("UTC")
_EPOCH = datetime.min.replace(tzinfo=_UTC)

@dataclass
class Series:
    """Values of one indicator in one region (or summed over regions), by period end.

    `days` are `date.toordinal()` numbers of period ends, ascending and unique. Aggregated
    series also say, per point, how many regions it covers and whether that is all of them.
    """

    days: array
    values: array
    covered: list[int] | None = None  # regions summed at each point (aggregates only)
    expected_regions: int = 0
    missing_at: Callable[[int], list[str]] | None = None  # region codes absent at a day
    gaps: list[int] | None = None  # cumulative sums: periods missing before each point

    def __len__(self) -> int:
        return len(self.days)

    def complete(self, i: int) -> bool:
        """Whether point i stands for everything it should (all regions, no missing period)."""
        if self.covered is not None and self.covered[i] < self.expected_regions:
            return False
        return not (self.gaps is not None and self.gaps[i] > 0)


class SeriesSet:
    """Every series visible as of a date, by (indicator, region)."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str], Series] = {}
        self._latest: tuple[int, dict[str, dict[str, int]]] | None = None

    def add(self, indicator: str, region: str, series: Series) -> None:
        self.by_key[(indicator, region)] = series

    def get(self, indicator: str, region: str) -> Series | None:
        return self.by_key.get((indicator, region))

    def __len__(self) -> int:
        return len(self.by_key)

    def latest_days(self) -> dict[str, dict[str, int]]:
        """indicator -> region -> day number of its latest period: who has reported what (the
        completeness of every report of a run, made once per set; a set is filled once, so a
        count says whether it grew)."""
        if self._latest is None or self._latest[0] != len(self.by_key):
            latest: dict[str, dict[str, int]] = {}
            for (ind, region), s in self.by_key.items():
                if len(s.days):
                    latest.setdefault(ind, {})[region] = s.days[-1]
            self._latest = (len(self.by_key), latest)
        return self._latest[1]

    def patched(self, fresh: "SeriesSet") -> "SeriesSet":
        """A new set: these series, with those in `fresh` read again in their place (the
        Series themselves are shared, never modified)."""
        out = SeriesSet()
        out.by_key = {**self.by_key, **fresh.by_key}
        return out


def knowledge_cutoff(as_of: date) -> datetime:
    """The first moment after `as_of` in the plan's zone: values entered from then on are not
    known as of that date."""
    return datetime.combine(as_of + timedelta(days=1), time(0), PLAN_TZ)


def visible(entered_at: datetime | None, period_end: date, as_of: date) -> bool:
    """Whether a value was known as of `as_of`: entered before the end of that day in
    Shanghai; a value with no entry time is known once its period has ended."""
    if entered_at is None:
        return period_end <= as_of
    return aware(entered_at) < knowledge_cutoff(as_of)


def series_from_observations(observations: Iterable[Observation], as_of: date) -> SeriesSet:
    """Group observations into series, keeping per period the latest revision known as of
    `as_of` (a revision entered later is not seen yet)."""
    best: dict[tuple[str, str], dict[int, tuple[int, datetime, float]]] = {}
    floor = _EPOCH
    for obs in observations:
        if not visible(obs.entered_at, obs.period_end, as_of):
            continue
        cells = best.setdefault((obs.indicator, obs.region), {})
        day = obs.period_end.toordinal()
        rank = (obs.revision, aware(obs.entered_at) if obs.entered_at else floor, obs.value)
        if day not in cells or rank[:2] >= cells[day][:2]:
            cells[day] = rank
    out = SeriesSet()
    for (indicator, region), cells in best.items():
        days = sorted(cells)
        out.add(indicator, region,
                Series(array("i", days), array("d", (cells[d][2] for d in days))))
    return out
