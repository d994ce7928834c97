"""Reported values and milestone progress: appended, never updated (a correction is a new
revision), and read as of a moment so a report can be reproduced later."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, and_, bindparam, exists, func, or_, select
from sqlalchemy.engine import Connection

from tracker.domain.clock import aware
from tracker.domain.model import MilestoneProgress, Observation
from tracker.domain.series import knowledge_cutoff
from tracker.store.counted import Counted, counted_clause, counted_params
from tracker.store.tables import batch_table, meta_table, observation_table, progress_table


def new_batch(conn: Connection, file: str, entered_by: str, entered_at: datetime,
              kind: str = "values", sha256: str = "") -> int:
    """Record the file or command a set of rows came from; returns its id."""
    result = conn.execute(batch_table.insert().returning(batch_table.c.id),
                          {"file": file, "entered_by": entered_by, "entered_at": entered_at,
                           "kind": kind, "sha256": sha256, "rows": 0})
    return int(result.scalar_one())


def finish_batch(conn: Connection, batch_id: int, rows: int) -> None:
    conn.execute(batch_table.update().where(batch_table.c.id == batch_id).values(rows=rows))


def insert_observations(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Append observation rows in one executemany (keys: the observation columns)."""
    if rows:
        conn.execute(observation_table.insert(), rows)


OBSERVATION_COLUMNS = ("indicator", "region", "period", "period_end", "value", "revision", "note",
                       "source", "entered_by", "entered_at", "batch_id")


class ObservationWriter:
    """Appends observation rows given as tuples in OBSERVATION_COLUMNS order, one
    executemany per call, for big imports.

    Still SQLAlchemy Core on the same connection and transaction, but it skips building a
    parameter dict per row: dates and datetimes go through the columns' own bind
    processors once per distinct value (a batch has one entered_at and few periods).
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        dialect = conn.dialect
        marks = ", ".join("?" if dialect.paramstyle == "qmark" else "%s" for _ in OBSERVATION_COLUMNS)
        self.sql = f"INSERT INTO observation ({', '.join(OBSERVATION_COLUMNS)}) VALUES ({marks})"
        self._dates = self._converter("period_end", dialect)
        self._times = self._converter("entered_at", dialect)

    @staticmethod
    def _converter(name: str, dialect: Any) -> dict[Any, Any]:
        """A memo of the column's bind processor (identity when the driver takes the value)."""
        column_type = observation_table.c[name].type
        proc = column_type.dialect_impl(dialect).bind_processor(dialect) or (lambda value: value)

        class Memo(dict):
            def __missing__(self, key: Any) -> Any:
                self[key] = value = proc(key)
                return value

        return Memo()

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        dates, times = self._dates, self._times
        rows = [(r[0], r[1], r[2], dates[r[3]], r[4], r[5], r[6], r[7], r[8], times[r[9]], r[10]) for r in rows]
        self.conn.exec_driver_sql(self.sql, rows)  # type: ignore[arg-type]


def insert_progress(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(progress_table.insert(), rows)


def current_progress(conn: Connection) -> dict[tuple[str, str], tuple[Any, ...]]:
    """(milestone, reporter) -> (state, reported_on, note, evidence) of the latest report: a
    file imported twice repeats reports that are already stored."""
    return {(r.milestone, r.reporter): (r.state, r.reported_on, r.note, r.evidence)
            for r in conn.execute(_latest_progress())}


@lru_cache(maxsize=16)
def _latest_cells(columns: str, indicators: bool, regions: bool, as_of: bool, ordered: bool,
                  start: bool = False, end: bool = False, counted: bool = False) -> Any:
    """The latest revision of each (indicator, region, period) cell, as one statement built
    once per shape (query construction costs more than running it on a form's few cells):
    bound parameters `indicators` and `regions` (lists), `as_of` (a moment), `start` and `end`
    (period ends), as asked for; with `counted`, of the values that count
    (tracker.store.counted.counted_params)."""
    t = observation_table
    conds = [counted_clause(t)] if counted else []
    if start:
        conds.append(t.c.period_end >= bindparam("start", type_=t.c.period_end.type))
    if end:
        conds.append(t.c.period_end <= bindparam("end", type_=t.c.period_end.type))
    if regions:
        conds.append(t.c.region.in_(bindparam("regions", expanding=True)))
    if as_of:
        conds.append(t.c.entered_at <= bindparam("as_of", type_=t.c.entered_at.type))
    if indicators:
        conds.append(t.c.indicator.in_(bindparam("indicators", expanding=True)))
    latest = (select(t.c.indicator, t.c.region, t.c.period, func.max(t.c.revision).label("rev"))
              .where(*conds).group_by(t.c.indicator, t.c.region, t.c.period).subquery())
    cols = [t] if columns == "*" else [t.c[c] for c in columns.split(",")]
    q = select(*cols).join(latest, and_(t.c.indicator == latest.c.indicator, t.c.region == latest.c.region,
                                        t.c.period == latest.c.period, t.c.revision == latest.c.rev))
    return q.order_by(t.c.indicator, t.c.region, t.c.period_end) if ordered else q


def current_cells(conn: Connection, indicators: Iterable[str],
                  regions: Iterable[str] | None = None) -> dict[tuple[str, str, str], tuple[int, float]]:
    """(indicator, region, period) -> (latest revision, its value), for the given
    indicators (and only these region codes, when given: a form for one region need not
    read every region's cells): what a new value would correct."""
    names = list(indicators)
    if not names:
        return {}
    q = _latest_cells("indicator,region,period,revision,value", True, regions is not None, False, False)
    params: dict[str, Any] = {"indicators": names}
    if regions is not None:
        params["regions"] = list(regions)
    return {(r.indicator, r.region, r.period): (r.revision, r.value) for r in conn.execute(q, params)}


def _latest_query(as_of: datetime | None, indicators: Iterable[str] | None,
                  regions: Iterable[str] | None = None, *, start: date | None = None,
                  end: date | None = None, counted: Counted | None = None) -> tuple[Any, dict[str, Any]]:
    """(statement, parameters): the latest revision of each (indicator, region, period) entered
    by `as_of`, of these indicators and regions (all when None), of periods ending within
    [start, end] when given, of the values that count when `counted` says which."""
    params: dict[str, Any] = counted_params(counted)
    if regions is not None:
        params["regions"] = list(regions)
    if start is not None:
        params["start"] = start
    if end is not None:
        params["end"] = end
    if as_of is not None:
        params["as_of"] = aware(as_of)
    if indicators is not None:
        params["indicators"] = list(indicators)
    return (_latest_cells("*", indicators is not None, regions is not None, as_of is not None, True,
                          start is not None, end is not None, counted is not None), params)


def _to_observation(r: Any) -> Observation:
    return Observation(indicator=r.indicator, region=r.region, period_end=r.period_end, value=r.value,
                       entered_at=aware(r.entered_at), period=r.period, revision=r.revision,
                       source=r.source, note=r.note)


def latest_observations(engine: Engine, as_of: datetime | None = None,
                        indicators: Iterable[str] | None = None, counted: Counted | None = None) -> list[Observation]:
    """For each (indicator, region, period), the latest revision entered at or before
    `as_of` (default: now): what the database said at that moment, so a report can be
    reproduced later even after corrections. With `counted` (tracker.store.approvals.Counted),
    only the values that count: approved figures."""
    with engine.connect() as conn:
        return [_to_observation(r) for r in conn.execute(*_latest_query(as_of, indicators, counted=counted))]


def observation_history(engine: Engine, indicator: str, region: str, period: str) -> list[dict[str, Any]]:
    """Every revision of one cell, oldest first, with who entered it, when, from where."""
    t = observation_table
    with engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.indicator == indicator, t.c.region == region,
                                            t.c.period == period).order_by(t.c.revision)).all()
    return [{"revision": r.revision, "value": r.value, "period_end": r.period_end,
             "entered_by": r.entered_by, "entered_at": aware(r.entered_at), "source": r.source,
             "note": r.note, "batch_id": r.batch_id} for r in rows]


def region_history(conn: Connection, indicators: Iterable[str],
                   regions: Iterable[str] | None = None) -> dict[tuple[str, str], list[tuple[date, float]]]:
    """(indicator, region) -> [(period_end, latest value)], oldest first: the previous values
    an outlier check compares a new value with (only these region codes, when given)."""
    out: dict[tuple[str, str], list[tuple[date, float]]] = {}
    names = list(indicators)
    if not names:
        return out
    for r in conn.execute(*_latest_query(None, names, regions)):
        out.setdefault((r.indicator, r.region), []).append((r.period_end, r.value))
    return out


def _latest_progress(*conds: Any) -> Any:
    """Per (milestone, reporter) the report describing the latest date (then the latest
    entered): a back-dated report imported later does not undo a newer one."""
    t = progress_table
    rank = func.row_number().over(partition_by=(t.c.milestone, t.c.reporter),
                                  order_by=(t.c.reported_on.desc(), t.c.entered_at.desc(), t.c.id.desc()))
    ranked = select(t, rank.label("rank")).where(*conds).subquery()
    return select(ranked).where(ranked.c.rank == 1).order_by(ranked.c.milestone, ranked.c.reporter)


def milestone_progress(engine: Engine, as_of: datetime | None = None, *,
                       reported_by: date | None = None) -> list[MilestoneProgress]:
    """The latest report per (milestone, reporter) entered at or before `as_of` (describing a
    day at or before `reported_by`, when given: a report dated later is that later month's)."""
    t = progress_table
    conds = [t.c.entered_at <= aware(as_of)] if as_of is not None else []
    if reported_by is not None:
        conds.append(t.c.reported_on <= reported_by)
    with engine.connect() as conn:
        return [MilestoneProgress(milestone=r.milestone, state=r.state, reported_on=r.reported_on,
                                  reporter=r.reporter, note=r.note, evidence=r.evidence,
                                  entered_at=aware(r.entered_at)) for r in conn.execute(_latest_progress(*conds))]


def progress_history(engine: Engine, milestone: str) -> list[dict[str, Any]]:
    """Every report on a milestone, oldest first."""
    t = progress_table
    with engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.milestone == milestone).order_by(t.c.id)).all()
    return [{**r._asdict(), "entered_at": aware(r.entered_at)} for r in rows]


def region_cells(engine: Any, region: str, indicators: list[str]) -> list[Any]:
    """The latest revision of every cell of one region for these indicators: what the entry
    form shows beside each field. Read for the one region only (the form's), so the page
    costs the same however many regions have reported."""
    q = _latest_cells("indicator,period,period_end,value,revision", True, True, False, False)
    with engine.connect() as conn:
        return list(conn.execute(q, {"indicators": list(indicators), "regions": [region]}))


def new_observations(engine: Any, since: date, as_of: date, *, start: datetime | None = None,
                     end: datetime | None = None) -> list[Observation]:
    """Values entered after the end of `since` and by the end of `as_of` (Asia/Shanghai), or
    from `start` to `end` when given: the "new values" of a report, read without loading
    every value of the database."""
    t = observation_table
    start = (start or knowledge_cutoff(since)).astimezone(UTC)
    end = (end or knowledge_cutoff(as_of)).astimezone(UTC)
    q = (select(t).where(t.c.entered_at >= start, t.c.entered_at < end, t.c.period_end <= as_of)
         .order_by(t.c.indicator, t.c.region, t.c.period_end, t.c.revision))
    out = []
    with engine.connect() as conn:
        for r in conn.execute(q):
            out.append(Observation(r.indicator, r.region, r.period_end, r.value, aware(r.entered_at), r.period,
                                   r.revision, r.source or "", r.note or ""))
    return out


def has_sample_data(engine: Any, since_id: int = 0) -> bool:
    """Whether any stored value is marked as sample data (示例数据 / SAMPLE in its note or
    source), so a report built on the examples says so at the top; with `since_id`, any
    value written after that observation (the rows before it were looked at already)."""
    t = observation_table
    marks = [c.like(f"%{m}%") for c in (t.c.note, t.c.source) for m in ("示例数据", "SAMPLE", "sample")]
    with engine.connect() as conn:
        return bool(conn.execute(select(exists().where(t.c.id > since_id, or_(*marks)))).scalar())


SAMPLE_DATABASE_KEY = "sample_database"
SAMPLE_SCAN_KEY = "sample_scan"  # "<newest observation id looked at>:<0 or 1>"


def sample_data_seen(engine: Any, now: datetime) -> bool:
    """has_sample_data, remembered in the store: the values up to an observation id were
    looked at once (a national set's notes take seconds to scan), so any process looks only at
    those written since, and writes down how far it looked."""
    from tracker.store.engine import write_transaction
    from tracker.store.sync import _set_meta

    with engine.connect() as conn:
        raw = conn.execute(select(meta_table.c.value).where(meta_table.c.key == SAMPLE_SCAN_KEY)).scalar()
        newest = int(conn.execute(select(func.max(observation_table.c.id))).scalar() or 0)
    seen, found = 0, False
    if raw and ":" in raw:
        seen, found = int(raw.split(":")[0]), raw.endswith(":1")
    if seen > newest:  # the values were replaced (a restored copy): look again from the start
        seen, found = 0, False
    if found or seen == newest:
        return found
    found = has_sample_data(engine, seen)
    with write_transaction(engine) as conn:
        _set_meta(conn, SAMPLE_SCAN_KEY, f"{newest}:{int(found)}", aware(now))
    return found


def mark_sample_database(engine: Any, now: datetime) -> None:
    """Say that this database holds the project's sample (tracker demo's sample.db), so
    rows marked 示例数据 / SAMPLE may be imported into it."""
    from tracker.store.engine import write_transaction
    from tracker.store.sync import _set_meta

    with write_transaction(engine) as conn:
        _set_meta(conn, SAMPLE_DATABASE_KEY, "true", aware(now))


def is_sample_database(engine: Any) -> bool:
    """Whether `mark_sample_database` was called on this database."""
    with engine.connect() as conn:
        return conn.execute(select(meta_table.c.value).where(meta_table.c.key == SAMPLE_DATABASE_KEY)).scalar() == "true"


def latest_reported(engine: Engine, as_of: date, *, since_id: int = 0,
                    base: dict[str, dict[str, int]] | None = None) -> dict[str, dict[str, int]]:
    """indicator -> region -> ordinal of the latest period_end known by the end of `as_of`.
    With `base` (what this returned for `as_of` when observation `since_id` was the newest),
    only the rows written since are read: values are only ever added, so a latest period can
    only move later."""
    t = observation_table
    cutoff = knowledge_cutoff(as_of)
    if base is not None:
        out: dict[str, dict[str, int]] = defaultdict(dict, {k: dict(v) for k, v in base.items()})
        # the id alone in SQL: the rows after it are found by the primary key
        q = select(t.c.indicator, t.c.region, t.c.period_end, t.c.entered_at).where(t.c.id > since_id)
        with engine.connect() as conn:
            for indicator, region, end, entered_at in conn.execute(q):
                if aware(entered_at) >= cutoff:
                    continue
                day = (date.fromisoformat(end) if isinstance(end, str) else end).toordinal()
                if day > out[indicator].get(region, 0):
                    out[indicator][region] = day
        return out
    out = defaultdict(dict)
    q = (select(t.c.indicator, t.c.region, func.max(t.c.period_end))
         .where(t.c.entered_at < cutoff).group_by(t.c.indicator, t.c.region))
    with engine.connect() as conn:
        for indicator, region, end in conn.execute(q):
            if isinstance(end, str):
                end = date.fromisoformat(end)
            out[indicator][region] = end.toordinal()
    return out


def data_version(bind: Engine | Connection) -> tuple[int, int, int]:
    """Changes whenever a value or a milestone report is added (both tables are append-only):
    (newest observation id, newest progress id, 0), for caching what was computed from them.
    Every writer of values holds the values lock (SQLite's write lock, PostgreSQL's advisory
    lock), so ids are handed out in commit order and rows added after a version all have
    greater ids (`cells_added_since`)."""
    def read(conn: Connection) -> tuple[int, int, int]:
        obs = conn.execute(select(func.max(observation_table.c.id))).scalar() or 0
        prog = conn.execute(select(func.max(progress_table.c.id))).scalar() or 0
        return int(obs), int(prog), 0

    if isinstance(bind, Connection):
        return read(bind)
    with bind.connect() as conn:
        return read(conn)


def cells_added_since(conn: Connection, observation_id: int) -> dict[tuple[str, str, str], tuple[int, float, str]]:
    """(indicator, region, period) -> (revision, value, entered_by) of the newest revision
    written after the observation `observation_id`: what changed while an import was being
    checked without the lock."""
    t = observation_table
    q = (select(t.c.indicator, t.c.region, t.c.period, t.c.revision, t.c.value, t.c.entered_by)
         .where(t.c.id > observation_id).order_by(t.c.id))
    return {(r.indicator, r.region, r.period): (r.revision, r.value, r.entered_by) for r in conn.execute(q)}
