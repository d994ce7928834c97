"""Loading what the status engine needs from the database, without one object per value.

`tracker.store.observations.latest_observations` returns Observation dataclasses: right for a report of a few
thousand values, too slow and too big for a national set of millions. `load_series` asks
the database for the same thing (per cell the latest revision entered before the end of the
as-of day in Asia/Shanghai) but has SQLite or PostgreSQL pack each series into one row, so
Python parses one pair of strings per (indicator, region) instead of building a tuple per
value. Other databases stream one row per cell.
"""

from array import array
from collections.abc import Iterable
from datetime import UTC, date, datetime, timezone
from itertools import islice
from operator import lt
from typing import Any

from sqlalchemy import Engine, func, select

from tracker.domain.clock import aware
from tracker.domain.series import Series, SeriesSet, knowledge_cutoff
from tracker.store.counted import Counted, counted_clause, counted_params
from tracker.store.tables import observation_table


def _cutoff_utc(as_of: date) -> datetime:
    """The knowledge cut-off in UTC, the zone the store keeps entered_at in."""
    return knowledge_cutoff(as_of).astimezone(timezone.utc)


# Series asked for by key go to the database in batches of this many (two bound values each).
_KEYS_PER_QUERY = 400


def load_series(engine: Engine, as_of: date, indicators: Iterable[str] | None = None,
                counted: Counted | None = None, *, known_at: datetime | None = None,
                keys: Iterable[tuple[str, str]] | None = None) -> SeriesSet:
    """Every (indicator, region) series as known at the end of `as_of` (Shanghai), or at
    `known_at` when given (a report run after the submission day knows the month's figures);
    with `counted`, only the values that count (approved figures, tracker.store.approvals);
    with `keys`, only those series (an incremental evaluation reads the changed ones again)."""
    if keys is not None:
        out = SeriesSet()
        by_indicator: dict[str, list[str]] = {}
        for indicator, region in sorted(set(keys)):
            by_indicator.setdefault(indicator, []).append(region)
        for indicator, regions in by_indicator.items():  # one indicator at a time: its index is (indicator, region, …)
            for start in range(0, len(regions), _KEYS_PER_QUERY):
                part = _load_generic(engine, as_of, [indicator], counted, known_at,
                                     regions[start:start + _KEYS_PER_QUERY])
                out.by_key.update(part.by_key)
        return out
    if engine.dialect.name in ("sqlite", "postgresql"):
        return _load_packed(engine, as_of, indicators, counted, known_at)
    return _load_generic(engine, as_of, indicators, counted, known_at)


def changed_series(engine: Engine, since_id: int, as_of: date, indicators: Iterable[str] | None = None,
                   counted: Counted | None = None, *, known_at: datetime | None = None) -> set[tuple[str, str]]:
    """The (indicator, region) series with a value written after observation `since_id` that
    is known as of `as_of` (or at `known_at`): the observation table is append-only and its ids
    are handed out in commit order (tracker.store.observations.data_version), so these are
    exactly the series whose figures differ from a read made when `since_id` was the newest."""
    t = observation_table
    # Only the id in SQL (with what counts): the rows after an id are few and found by the
    # primary key, where a condition on the indicator would have SQLite walk its index instead.
    conds = [t.c.id > since_id]
    if counted is not None:
        conds.append(counted_clause(t))
    cut = known_at.astimezone(UTC) if known_at is not None else _cutoff_utc(as_of)
    wanted = None if indicators is None else set(indicators)
    q = select(t.c.indicator, t.c.region, t.c.entered_at).where(*conds)
    with engine.connect() as conn:
        return {(indicator, region) for indicator, region, entered_at in conn.execute(q, counted_params(counted))
                if aware(entered_at) < cut and (wanted is None or indicator in wanted)}


def _conditions(as_of: date, indicators: Iterable[str] | None, counted: Counted | None,
                known_at: datetime | None = None,
                regions: list[str] | None = None) -> tuple[list, dict[str, Any]]:
    """Rows known at the end of `as_of` (or at `known_at`), of the indicators (and regions)
    asked for and that count, with the values bound to the conditions."""
    t = observation_table
    cut = known_at.astimezone(UTC) if known_at is not None else _cutoff_utc(as_of)
    conds = [t.c.entered_at < cut]
    if indicators is not None:
        conds.append(t.c.indicator.in_(list(indicators)))
    if regions is not None:
        conds.append(t.c.region.in_(regions))
    if counted is not None:
        conds.append(counted_clause(t))
    return conds, counted_params(counted)


def _packed_columns(engine: Engine) -> tuple[Any, Any]:
    """Each series' period ends and values packed into one string apiece, in the same order:
    SQLite's group_concat keeps the rows' order for both; PostgreSQL is told it."""
    t = observation_table
    if engine.dialect.name == "sqlite":
        # a REAL's own text has 15 digits (0.30000000000000004 would come back 0.3): 17 round-trip
        return func.group_concat(t.c.period_end), func.group_concat(func.printf("%!.17g", t.c.value))
    from sqlalchemy import Text, cast, literal_column
    from sqlalchemy.dialects.postgresql import aggregate_order_by

    order = (t.c.period, t.c.revision)
    # float8 as text is its shortest exact form (PostgreSQL 12 and later): parsed back unchanged
    return (func.string_agg(func.to_char(t.c.period_end, "YYYY-MM-DD"), aggregate_order_by(literal_column("','"), *order)),
            func.string_agg(cast(t.c.value, Text), aggregate_order_by(literal_column("','"), *order)))


def _load_packed(engine: Engine, as_of: date, indicators: Iterable[str] | None,
                 counted: Counted | None = None, known_at: datetime | None = None) -> SeriesSet:
    t = observation_table

    # One row per series, its days and values packed by the database (SQLite, PostgreSQL).
    # A series with a corrected cell (revision > 1) is read again cell by cell: corrections
    # are few.
    conds, params = _conditions(as_of, indicators, counted, known_at)
    days_of, values_of = _packed_columns(engine)
    packed = (select(t.c.indicator, t.c.region, days_of, values_of, func.max(t.c.revision))
              .where(*conds)
              .group_by(t.c.indicator, t.c.region))
    out = SeriesSet()
    revised: list[tuple[str, str]] = []
    # Most series report the same periods: parse each distinct list of period ends (ISO
    # dates) once and share the never-modified array between series.
    shared: dict[str, array] = {}
    with engine.connect() as conn:
        # PostgreSQL through a server-side cursor: psycopg would otherwise hold every packed row
        rows = conn.execution_options(stream_results=True, yield_per=2_000) if engine.dialect.name == "postgresql" \
            else conn
        for indicator, region, days_text, values_text, max_revision in rows.execute(packed, params):
            if max_revision > 1:
                revised.append((indicator, region))
                continue
            days = shared.get(days_text)
            if days is None:
                days = shared[days_text] = array("i", (date.fromisoformat(d).toordinal()
                                                       for d in days_text.split(",")))
            values = array("d", map(float, values_text.split(",")))
            out.add(indicator, region, _ordered(days, values))
        for indicator, region in revised:
            cells = conn.execute(
                select(t.c.period_end, t.c.value)
                .where(t.c.indicator == indicator, t.c.region == region, *conds)
                .order_by(t.c.period, t.c.revision), params)
            latest = {period_end.toordinal(): value for period_end, value in cells}
            out.add(indicator, region, _ordered(array("i", latest), array("d", latest.values())))
    return out


def _ordered(days: array, values: array) -> Series:
    """A series sorted by day (group_concat keeps the scan order, which SQLite does not
    promise), keeping the last value of a day given twice (a period written two ways)."""
    if len(days) == len(values) and all(map(lt, days, islice(days, 1, None))):
        return Series(days, values)
    merged = dict(zip(days, values))
    keys = sorted(merged)
    return Series(array("i", keys), array("d", (merged[k] for k in keys)))


def _load_generic(engine: Engine, as_of: date, indicators: Iterable[str] | None,
                  counted: Counted | None = None, known_at: datetime | None = None,
                  regions: list[str] | None = None) -> SeriesSet:
    """Any other database, or a few series by key: stream the latest revision per cell,
    ordered by series."""
    t = observation_table

    conds, params = _conditions(as_of, indicators, counted, known_at, regions)
    latest = (select(t.c.indicator, t.c.region, t.c.period, func.max(t.c.revision).label("rev"))
              .where(*conds)
              .group_by(t.c.indicator, t.c.region, t.c.period).subquery())
    q = (select(t.c.indicator, t.c.region, t.c.period_end, t.c.value)
         .join(latest, (t.c.indicator == latest.c.indicator) & (t.c.region == latest.c.region)
               & (t.c.period == latest.c.period) & (t.c.revision == latest.c.rev))
         .order_by(t.c.indicator, t.c.region, t.c.period))  # as the packed read: a day given twice keeps the later period
    out = SeriesSet()
    key: tuple[str, str] | None = None
    days, values = array("i"), array("d")
    with engine.connect() as conn:
        for indicator, region, period_end, value in conn.execution_options(
                stream_results=True, yield_per=10_000).execute(q, params):
            if (indicator, region) != key:
                if key is not None:
                    out.add(*key, _ordered(days, values))
                key, days, values = (indicator, region), array("i"), array("d")
            days.append(period_end.toordinal())
            values.append(value)
    if key is not None:
        out.add(*key, _ordered(days, values))
    return out
