"""Storage: SQLModel tables, the engine, schema migrations, and the reads others build on.

SQLite is the default (one file, WAL so that a long scheduled run and a person entering
values do not fail each other); PostgreSQL works through the same URL
(`postgresql+psycopg://...`). The schema is created and evolved only by the Alembic
migrations in `tracker/migrations/`, run when an engine is opened, so a database made by an
older version is upgraded in place and later tables (runs, alerts) arrive as new revisions.

Observations and milestone progress are append-only: a correction is a new revision, never an
UPDATE or DELETE (the migration installs triggers that refuse both).
"""

import hashlib
import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Engine,
    Integer,
    and_,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import Connection, make_url
from sqlmodel import Column, Field, Index, SQLModel, UniqueConstraint

from tracker.domain.model import MilestoneProgress, Observation, TargetsModel

SQLITE_BUSY_TIMEOUT_MS = 30_000
_ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER only


def utcnow() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------------------------------
# Tables. They mirror the latest migration; the migrations, not create_all, make the schema.


class IndicatorRow(SQLModel, table=True):
    """An indicator as targets.yaml last defined it (指标)."""

    __tablename__ = "indicator"
    id: str = Field(primary_key=True)
    name: str
    unit: str
    kind: str
    frequency: str
    reporter: str = ""
    numerator: str | None = None
    denominator: str | None = None
    multiplier: float = 1.0
    description: str = ""
    active: bool = True
    updated_at: datetime


class TargetRow(SQLModel, table=True):
    """A target's current definition; every definition it ever had is in target_version."""

    __tablename__ = "target"
    id: str = Field(primary_key=True)
    version: int
    indicator: str
    comparator: str
    value: float
    unit: str
    deadline: date | None = None
    scope: str = "whole"
    soft: bool = False
    active: bool = True
    updated_at: datetime


class TargetVersionRow(SQLModel, table=True):
    __tablename__ = "target_version"
    __table_args__ = (UniqueConstraint("target_id", "version", name="uq_target_version"),)
    id: int | None = Field(default=None, sa_column=Column(_ID_TYPE, primary_key=True, autoincrement=True))
    target_id: str = Field(index=False)
    version: int
    definition: str  # JSON of the Target dataclass
    digest: str
    synced_at: datetime


class MilestoneRow(SQLModel, table=True):
    __tablename__ = "milestone"
    id: str = Field(primary_key=True)
    plan: str
    task: int
    text: str
    deadline: date | None = None
    quote: str = ""
    active: bool = True
    updated_at: datetime


class ImportBatchRow(SQLModel, table=True):
    """One file (or one command) that entered values: who, when, how many rows."""

    __tablename__ = "import_batch"
    id: int | None = Field(default=None, sa_column=Column(_ID_TYPE, primary_key=True, autoincrement=True))
    file: str
    sha256: str = ""
    entered_by: str
    entered_at: datetime
    rows: int = 0
    kind: str = "values"  # values | progress


class ObservationRow(SQLModel, table=True):
    """One revision of one reported cell (indicator, region, period). Never updated."""

    __tablename__ = "observation"
    __table_args__ = (
        UniqueConstraint("indicator", "region", "period", "revision", name="uq_observation_cell_revision"),
        Index("ix_observation_entered_at", "entered_at"),
    )
    id: int | None = Field(default=None, sa_column=Column(_ID_TYPE, primary_key=True, autoincrement=True))
    indicator: str
    region: str
    period: str  # label: 2026-11, 2026Q3, 2025, 2026-11-15
    period_end: date
    value: float  # in the indicator's unit
    revision: int
    entered_by: str
    entered_at: datetime
    source: str = ""  # file:row:column, or "command"
    note: str = ""
    batch_id: int | None = None


class MilestoneProgressRow(SQLModel, table=True):
    """A report on a milestone by a department or region. Appended, never updated."""

    __tablename__ = "milestone_progress"
    __table_args__ = (Index("ix_milestone_progress_milestone", "milestone", "reporter"),)
    id: int | None = Field(default=None, sa_column=Column(_ID_TYPE, primary_key=True, autoincrement=True))
    milestone: str
    reporter: str
    state: str
    reported_on: date
    note: str = ""
    evidence: str = ""
    entered_by: str
    entered_at: datetime
    source: str = ""
    batch_id: int | None = None


observation_table = ObservationRow.__table__
progress_table = MilestoneProgressRow.__table__
batch_table = ImportBatchRow.__table__


# ---------------------------------------------------------------------------------------
# Engine and migrations


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(url: str | None = None) -> Engine:
    """The engine for `url` (default: the settings' database URL), migrated to the latest
    schema; one per URL per process, so connection pools are shared."""
    if url is None:
        from tracker.config import load_settings

        url = load_settings().database_url
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _create_engine(url)
            migrate(engine)
            _engines[url] = engine
        return engine


def dispose_engine(url: str) -> None:
    """Close and forget the cached engine for `url` (tests, before dropping a database)."""
    with _engines_lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin, so that
        # write transactions can say BEGIN IMMEDIATE (see `_on_begin`).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")  # safe in WAL; fsync at checkpoints
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # busy_timeout does not cover a reader upgrading to a writer: a deferred transaction
        # that reads and then writes fails with "database is locked" at once. Writers take
        # the write lock up front and wait their turn instead.
        immediate = conn.get_execution_options().get("tracker_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


VALUES_LOCK = 4634002  # PostgreSQL advisory lock: one writer of reported values at a time


@contextmanager
def write_transaction(engine: Engine, values: bool = False) -> Iterator[Connection]:
    """A connection in a write transaction: committed when the block ends, rolled back on
    any exception. On SQLite it holds the write lock from the start (BEGIN IMMEDIATE). With
    `values` (a transaction that reads the stored revisions, then writes the next ones), on
    PostgreSQL it also takes a transaction-scoped advisory lock, so two people correcting
    one cell at once queue as they do on SQLite, instead of both claiming the same revision."""
    with engine.connect() as conn:
        conn.execution_options(tracker_write=True)
        with conn.begin():
            if values and conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({VALUES_LOCK})")
            yield conn


def _alembic_config(conn: Connection) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    cfg.attributes["connection"] = conn
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (Alembic), serialised against other processes doing
    the same: SQLite by its write lock, PostgreSQL by an advisory lock."""
    from alembic import command

    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4634001)")
        if revision == "head" and schema_revision(conn) == head_revision():
            return
        command.upgrade(_alembic_config(conn), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to `revision` ("base": empty). For tests of the migration
    chain and for undoing a bad deployment; data in dropped tables is lost."""
    from alembic import command

    with write_transaction(engine) as conn:
        command.downgrade(_alembic_config(conn), revision)


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(Path(__file__).with_name("migrations"))).get_current_head() or ""


def schema_revision(conn_or_engine: Connection | Engine) -> str | None:
    """The Alembic revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    return MigrationContext.configure(conn_or_engine).get_current_revision()


# ---------------------------------------------------------------------------------------
# targets.yaml -> database


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def sync_targets(engine: Engine, model: TargetsModel, now: datetime | None = None) -> dict[str, dict[str, int]]:
    """Write the targets model into the database; running it twice changes nothing.

    A target whose definition changed gets a new version (the earlier ones stay in
    target_version); one no longer in the model is marked inactive, not deleted. An
    indicator's unit cannot change once values are stored in it: they would silently mean
    something else.
    """
    now = now or utcnow()
    counts = {name: {"added": 0, "changed": 0, "unchanged": 0, "retired": 0}
              for name in ("indicators", "targets", "milestones")}
    ind_t, tgt_t, ver_t, ms_t = (IndicatorRow.__table__, TargetRow.__table__,
                                 TargetVersionRow.__table__, MilestoneRow.__table__)
    with write_transaction(engine) as conn:
        existing = {r.id: r for r in conn.execute(select(ind_t))}
        for ind in model.indicators:
            row = {**asdict(ind), "active": True, "updated_at": now}
            old = existing.pop(ind.id, None)
            if old is None:
                conn.execute(ind_t.insert(), row)
                counts["indicators"]["added"] += 1
                continue
            same = all(getattr(old, k) == v for k, v in row.items() if k != "updated_at")
            if same:
                counts["indicators"]["unchanged"] += 1
                continue
            if old.unit != ind.unit and conn.execute(
                    select(func.count()).select_from(observation_table)
                    .where(observation_table.c.indicator == ind.id)).scalar():
                raise ValueError(
                    f"指标 {ind.id} 的单位从 {old.unit} 改为 {ind.unit}，但已有按原单位填报的数值 / "
                    f"indicator {ind.id}: unit changed from {old.unit!r} to {ind.unit!r} while "
                    "values are stored in the old unit; give the new unit a new indicator id")
            conn.execute(ind_t.update().where(ind_t.c.id == ind.id), row)
            counts["indicators"]["changed"] += 1
        for gone in existing.values():
            if gone.active:
                conn.execute(ind_t.update().where(ind_t.c.id == gone.id).values(active=False, updated_at=now))
                counts["indicators"]["retired"] += 1

        current = {r.id: r for r in conn.execute(select(tgt_t))}
        digests = dict(conn.execute(
            select(ver_t.c.target_id, ver_t.c.digest)
            .join(tgt_t, and_(tgt_t.c.id == ver_t.c.target_id, tgt_t.c.version == ver_t.c.version))).all())
        for target in model.targets:
            definition = asdict(target)
            digest = _digest(definition)
            old = current.pop(target.id, None)
            if old is not None and old.active and digests.get(target.id) == digest:
                counts["targets"]["unchanged"] += 1
                continue
            version = 1 if old is None else old.version + (digests.get(target.id) != digest)
            row = {"id": target.id, "version": version, "indicator": target.indicator,
                   "comparator": target.comparator, "value": target.value, "unit": target.unit,
                   "deadline": target.deadline, "scope": target.scope, "soft": target.soft,
                   "active": True, "updated_at": now}
            if old is None:
                conn.execute(tgt_t.insert(), row)
                counts["targets"]["added"] += 1
            else:
                conn.execute(tgt_t.update().where(tgt_t.c.id == target.id), row)
                counts["targets"]["changed"] += 1
            if old is None or digests.get(target.id) != digest:
                conn.execute(ver_t.insert(), {"target_id": target.id, "version": version,
                                              "definition": json.dumps(definition, default=str, ensure_ascii=False),
                                              "digest": digest, "synced_at": now})
        for gone in current.values():
            if gone.active:
                conn.execute(tgt_t.update().where(tgt_t.c.id == gone.id).values(active=False, updated_at=now))
                counts["targets"]["retired"] += 1

        existing_ms = {r.id: r for r in conn.execute(select(ms_t))}
        for ms in model.milestones:
            row = {"id": ms.id, "plan": ms.plan, "task": ms.task, "text": ms.text,
                   "deadline": ms.deadline, "quote": ms.quote, "active": True, "updated_at": now}
            old = existing_ms.pop(ms.id, None)
            if old is None:
                conn.execute(ms_t.insert(), row)
                counts["milestones"]["added"] += 1
            elif all(getattr(old, k) == v for k, v in row.items() if k != "updated_at"):
                counts["milestones"]["unchanged"] += 1
            else:
                conn.execute(ms_t.update().where(ms_t.c.id == ms.id), row)
                counts["milestones"]["changed"] += 1
        for gone in existing_ms.values():
            if gone.active:
                conn.execute(ms_t.update().where(ms_t.c.id == gone.id).values(active=False, updated_at=now))
                counts["milestones"]["retired"] += 1
    return counts


def target_history(engine: Engine, target_id: str) -> list[dict[str, Any]]:
    """Every definition a target has had, oldest first: version, synced_at, definition."""
    ver_t = TargetVersionRow.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(ver_t).where(ver_t.c.target_id == target_id)
                            .order_by(ver_t.c.version)).all()
    return [{"version": r.version, "synced_at": r.synced_at, "definition": json.loads(r.definition)}
            for r in rows]


# ---------------------------------------------------------------------------------------
# Observations: writes (called by tracker.actuals.entry after validation) and reads


def _as_utc(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)  # naive means UTC, as freezegun and SQLite give it
    return moment


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


def current_cells(conn: Connection, indicators: Iterable[str],
                  regions: Iterable[str] | None = None) -> dict[tuple[str, str, str], tuple[int, float]]:
    """(indicator, region, period) -> (latest revision, its value), for the given
    indicators (and only these region codes, when given: a form for one region need not
    read every region's cells): what a new value would correct."""
    t = observation_table
    names = list(indicators)
    if not names:
        return {}
    conds = [t.c.indicator.in_(names)] + ([t.c.region.in_(list(regions))] if regions is not None else [])
    latest = (select(t.c.indicator, t.c.region, t.c.period, func.max(t.c.revision).label("rev"))
              .where(*conds).group_by(t.c.indicator, t.c.region, t.c.period).subquery())
    q = select(t.c.indicator, t.c.region, t.c.period, t.c.revision, t.c.value).join(
        latest, and_(t.c.indicator == latest.c.indicator, t.c.region == latest.c.region,
                     t.c.period == latest.c.period, t.c.revision == latest.c.rev))
    return {(r.indicator, r.region, r.period): (r.revision, r.value) for r in conn.execute(q)}


def _latest_query(as_of: datetime | None, indicators: Iterable[str] | None,
                  regions: Iterable[str] | None = None) -> Any:
    t = observation_table
    conds = [t.c.region.in_(list(regions))] if regions is not None else []
    if as_of is not None:
        conds.append(t.c.entered_at <= _as_utc(as_of))
    if indicators is not None:
        conds.append(t.c.indicator.in_(list(indicators)))
    latest = (select(t.c.indicator, t.c.region, t.c.period, func.max(t.c.revision).label("rev"))
              .where(*conds).group_by(t.c.indicator, t.c.region, t.c.period).subquery())
    return (select(t).join(latest, and_(t.c.indicator == latest.c.indicator, t.c.region == latest.c.region,
                                        t.c.period == latest.c.period, t.c.revision == latest.c.rev))
            .order_by(t.c.indicator, t.c.region, t.c.period_end))


def _to_observation(r: Any) -> Observation:
    return Observation(indicator=r.indicator, region=r.region, period_end=r.period_end, value=r.value,
                       entered_at=_as_utc(r.entered_at), period=r.period, revision=r.revision,
                       source=r.source, note=r.note)


def latest_observations(engine: Engine, as_of: datetime | None = None,
                        indicators: Iterable[str] | None = None) -> list[Observation]:
    """For each (indicator, region, period), the latest revision entered at or before
    `as_of` (default: now): what the database said at that moment, so a report can be
    reproduced later even after corrections."""
    with engine.connect() as conn:
        return [_to_observation(r) for r in conn.execute(_latest_query(as_of, indicators))]


def observation_history(engine: Engine, indicator: str, region: str, period: str) -> list[dict[str, Any]]:
    """Every revision of one cell, oldest first, with who entered it, when, from where."""
    t = observation_table
    with engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.indicator == indicator, t.c.region == region,
                                            t.c.period == period).order_by(t.c.revision)).all()
    return [{"revision": r.revision, "value": r.value, "period_end": r.period_end,
             "entered_by": r.entered_by, "entered_at": _as_utc(r.entered_at), "source": r.source,
             "note": r.note, "batch_id": r.batch_id} for r in rows]


def region_history(conn: Connection, indicators: Iterable[str],
                   regions: Iterable[str] | None = None) -> dict[tuple[str, str], list[tuple[date, float]]]:
    """(indicator, region) -> [(period_end, latest value)], oldest first: the previous values
    an outlier check compares a new value with (only these region codes, when given)."""
    out: dict[tuple[str, str], list[tuple[date, float]]] = {}
    names = list(indicators)
    if not names:
        return out
    for r in conn.execute(_latest_query(None, names, regions)):
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


def milestone_progress(engine: Engine, as_of: datetime | None = None) -> list[MilestoneProgress]:
    """The latest report per (milestone, reporter) entered at or before `as_of`."""
    t = progress_table
    conds = [t.c.entered_at <= _as_utc(as_of)] if as_of is not None else []
    with engine.connect() as conn:
        return [MilestoneProgress(milestone=r.milestone, state=r.state, reported_on=r.reported_on,
                                  reporter=r.reporter, note=r.note, evidence=r.evidence,
                                  entered_at=_as_utc(r.entered_at)) for r in conn.execute(_latest_progress(*conds))]


def progress_history(engine: Engine, milestone: str) -> list[dict[str, Any]]:
    """Every report on a milestone, oldest first."""
    t = progress_table
    with engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.milestone == milestone).order_by(t.c.id)).all()
    return [{**r._asdict(), "entered_at": _as_utc(r.entered_at)} for r in rows]
