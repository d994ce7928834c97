"""Runs and their claims: one row per (job, period), taken by an INSERT or a conditional
UPDATE that only one process can win, on SQLite and PostgreSQL alike; and the status snapshot
each run leaves for the next to compare with."""

import os
import socket
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select
from sqlalchemy.exc import IntegrityError

from tracker.store.engine import write_transaction
from tracker.store.tables import run_table, snapshot_table

RUN_JOB, REMINDER_JOB = "report", "reminder"


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(engine: Engine, job: str, period: str, now: datetime, *, force: bool = False,
          timeout: timedelta = timedelta(minutes=60), retry_after: timedelta = timedelta(0),
          max_attempts: int = 5, late: bool = False, owner: str | None = None) -> bool:
    """Take (job, period) for this process. Exactly one caller wins, whatever the timing:
    the first by inserting the row (unique constraint), later ones only by a conditional
    UPDATE from a state that may be retried (failed or interrupted after `retry_after`,
    running with no heartbeat for `timeout`, succeeded when forced)."""
    owner = owner or owner_id()
    t = run_table
    with write_transaction(engine) as conn:
        try:
            with conn.begin_nested():
                conn.execute(t.insert().values(job=job, period=period, state="running", attempt=1, owner=owner,
                                               started_at=now, heartbeat_at=now, late=late, forced=force,
                                               report_path="", alerts=0, error=""))
            return True
        except IntegrityError:
            pass
        retryable = [and_(t.c.state.in_(("failed", "interrupted")), t.c.attempt < max_attempts,
                          or_(t.c.finished_at.is_(None), t.c.finished_at <= now - retry_after)),
                     and_(t.c.state == "running", t.c.heartbeat_at < now - timeout)]
        if force:
            retryable.append(t.c.state.in_(("succeeded", "failed", "interrupted")))
        result = conn.execute(t.update().where(t.c.job == job, t.c.period == period, or_(*retryable)).values(
            state="running", attempt=t.c.attempt + 1, owner=owner, started_at=now, heartbeat_at=now,
            finished_at=None, late=late, forced=force, error=""))
        return result.rowcount == 1


def finish(engine: Engine, job: str, period: str, state: str, now: datetime, owner: str | None = None,
           **values: Any) -> None:
    """Record the outcome, only if this process still holds the claim."""
    t = run_table
    with write_transaction(engine) as conn:
        conn.execute(t.update().where(t.c.job == job, t.c.period == period, t.c.state == "running",
                                      t.c.owner == (owner or owner_id()))
                     .values(state=state, finished_at=now, heartbeat_at=now, **values))


def list_runs(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    t = run_table
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t).order_by(t.c.started_at.desc()).limit(limit))]


def get_run(engine: Engine, job: str, period: str) -> dict[str, Any] | None:
    t = run_table
    with engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.job == job, t.c.period == period)).first()
    return dict(row._mapping) if row else None


# ---------------------------------------------------------------------------------------
# Snapshots


def previous_snapshot(engine: Engine, period: str) -> dict[tuple[str, str], str]:
    """The codes of the latest snapshot before `period`."""
    t = snapshot_table
    with engine.connect() as conn:
        before = conn.execute(select(t.c.period).where(t.c.period < period).order_by(t.c.period.desc()).limit(1)).scalar()
        if before is None:
            return {}
        rows = conn.execute(select(t.c.item_id, t.c.region, t.c.code).where(t.c.period == before)).all()
    return {(r.item_id, r.region): r.code for r in rows}


def save_snapshot(engine: Engine, period: str, codes: dict[tuple[str, str], tuple[str, str]],
                  now: datetime) -> None:
    """Replace the period's snapshot: (item, region) -> (status code, reason)."""
    rows = [{"period": period, "item_id": item, "region": region, "code": code, "reason": reason[:1000],
             "recorded_at": now} for (item, region), (code, reason) in codes.items()]
    t = snapshot_table
    with write_transaction(engine) as conn:
        conn.execute(t.delete().where(t.c.period == period))
        if rows:
            conn.execute(t.insert(), rows)
