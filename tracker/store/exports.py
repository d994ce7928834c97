"""Stored values read back out for an export (`tracker export`, the web download): the latest
revision of every cell, or every revision, filtered by indicator, region and period end."""

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from sqlalchemy import Engine, select

from tracker.domain.clock import aware
from tracker.store.observations import _latest_query
from tracker.store.tables import observation_table

EXPORT_BATCH = 5_000  # rows fetched at a time: an export of a national database streams


def exported_values(engine: Engine, *, revisions: bool = False, indicators: Iterable[str] | None = None,
                    regions: Iterable[str] | None = None, start: date | None = None,
                    end: date | None = None) -> Iterator[dict[str, Any]]:
    """Rows of stored values, by indicator, region, period end and revision: every revision
    (`revisions`) or the latest of each cell; only these indicators and region codes, and
    periods ending within [start, end], when given."""
    t = observation_table
    if revisions:
        periods = ([t.c.period_end >= start] if start is not None else []) \
            + ([t.c.period_end <= end] if end is not None else [])
        conds = periods + ([t.c.indicator.in_(list(indicators))] if indicators is not None else []) \
            + ([t.c.region.in_(list(regions))] if regions is not None else [])
        q, params = select(t).where(*conds).order_by(t.c.indicator, t.c.region, t.c.period_end, t.c.revision), {}
    else:
        q, params = _latest_query(None, indicators, regions, start=start, end=end)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=EXPORT_BATCH).execute(q, params)
        for r in result:
            end_day = r.period_end if not isinstance(r.period_end, str) else date.fromisoformat(r.period_end)
            yield {"indicator": r.indicator, "region": r.region, "period": r.period, "period_end": end_day,
                   "value": r.value, "revision": r.revision, "note": r.note or "", "source": r.source or "",
                   "entered_by": r.entered_by, "entered_at": aware(r.entered_at)}
