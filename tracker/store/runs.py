"""Runs and their claims: one row per (job, period), taken by an INSERT or a conditional
UPDATE that only one process can win, on SQLite and PostgreSQL alike; and the status snapshot
each run leaves for the next to compare with.

A claim is a lease with a fencing token. The holder renews `lease_until` by its heartbeat;
a run whose lease ran out is taken over, and every claim increments `token`, so a holder
that was paused past its lease (SIGSTOP, a frozen VM) finds the token changed and writes
nothing: `holds()` is checked in the same transaction as each write it guards.
"""

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tracker.store.engine import write_transaction, writing
from tracker.store.tables import run_table, snapshot_table

RUN_JOB, REMINDER_JOB = "report", "reminder"


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Claim:
    """What a won claim holds: the fencing token, and the row as it was before when it took
    over a run still marked running (its owner, heartbeat and lease, for the message)."""

    token: int
    owner: str
    taken_from: dict[str, Any] | None = field(default=None, compare=False)


def claim(engine: Engine, job: str, period: str, now: datetime, *, force: bool = False,
          lease: timedelta = timedelta(seconds=75), retry_after: timedelta = timedelta(0),
          max_attempts: int = 5, late: bool = False, owner: str | None = None) -> Claim | None:
    """Take (job, period) for this process. Exactly one caller wins, whatever the timing:
    the first by inserting the row (unique constraint), later ones only by a conditional
    UPDATE from a state that may be taken (failed or interrupted after `retry_after`, running
    with its lease run out; with `force`, any state, a live run included)."""
    owner = owner or owner_id()
    t = run_table
    until = now + lease
    with write_transaction(engine) as conn:
        try:
            with conn.begin_nested():
                conn.execute(t.insert().values(job=job, period=period, state="running", attempt=1, owner=owner,
                                               token=1, started_at=now, heartbeat_at=now, lease_until=until,
                                               late=late, forced=force, report_path="", alerts=0, error=""))
            return Claim(1, owner)
        except IntegrityError:
            pass
        where = (t.c.job == job, t.c.period == period)
        before = conn.execute(select(t).where(*where).with_for_update()).first()
        if before is None:
            return None
        takeable = [and_(t.c.state.in_(("failed", "interrupted")), t.c.attempt < max_attempts,
                         or_(t.c.finished_at.is_(None), t.c.finished_at <= now - retry_after)),
                    and_(t.c.state == "running", _lease_over(now))]
        if force:
            takeable = [t.c.state.in_(("running", "succeeded", "failed", "interrupted"))]
        result = conn.execute(t.update().where(*where, or_(*takeable)).values(
            state="running", attempt=t.c.attempt + 1, owner=owner, token=t.c.token + 1, started_at=now,
            heartbeat_at=now, lease_until=until, finished_at=None, late=late, forced=force, error=""))
        if result.rowcount != 1:
            return None
        previous = dict(before._mapping)
        return Claim(int(previous["token"]) + 1, owner, previous if previous["state"] == "running" else None)


def _lease_over(now: datetime) -> Any:
    """A running row's lease has run out (rows from before leases: their heartbeat is old)."""
    t = run_table
    return or_(t.c.lease_until < now, and_(t.c.lease_until.is_(None), t.c.heartbeat_at < now - timedelta(hours=1)))


def lease_live(row: dict[str, Any], now: datetime) -> bool:
    """Whether a run row is held by a lease that has not run out at `now`."""
    until = row.get("lease_until")
    return row.get("state") == "running" and until is not None and until >= now


def _held(job: str, period: str, token: int, now: datetime) -> tuple[Any, ...]:
    t = run_table
    return (t.c.job == job, t.c.period == period, t.c.token == token, t.c.state == "running",
            t.c.lease_until >= now)


def renew(engine: Engine, job: str, period: str, token: int, now: datetime, lease: timedelta) -> bool:
    """The heartbeat: extend the lease, only while it is still this holder's and has not run
    out (a lease that ran out stays lost, even if nobody has taken the run over yet)."""
    t = run_table
    with write_transaction(engine) as conn:
        result = conn.execute(t.update().where(*_held(job, period, token, now))
                              .values(heartbeat_at=now, lease_until=now + lease))
        return result.rowcount == 1


def holds(conn: Connection, job: str, period: str, token: int, now: datetime, *, lock: bool = True) -> bool:
    """Whether `token` still holds a live lease on the run. Inside the caller's write
    transaction (`lock`: the row is locked on PostgreSQL; SQLite holds the write lock), the
    writes that follow in that transaction happen only under the lease; without `lock`, a
    plain read that never waits (before a file is put in place)."""
    t = run_table
    q = select(t.c.id).where(*_held(job, period, token, now))
    return conn.execute(q.with_for_update() if lock else q).first() is not None


def finish(bind: Engine | Connection, job: str, period: str, token: int, state: str, now: datetime,
           **values: Any) -> bool:
    """Record the outcome, only while `token` holds a live lease; False when it does not
    (another process took the run over, or the lease ran out)."""
    t = run_table
    with writing(bind) as conn:
        result = conn.execute(t.update().where(*_held(job, period, token, now))
                              .values(state=state, finished_at=now, heartbeat_at=now, **values))
        return result.rowcount == 1


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


def save_snapshot(bind: Engine | Connection, period: str, codes: dict[tuple[str, str], tuple[str, str]],
                  now: datetime) -> None:
    """Replace the period's snapshot: (item, region) -> (status code, reason)."""
    rows = [{"period": period, "item_id": item, "region": region, "code": code, "reason": reason[:1000],
             "recorded_at": now} for (item, region), (code, reason) in codes.items()]
    t = snapshot_table
    with writing(bind) as conn:
        conn.execute(t.delete().where(t.c.period == period))
        if rows:
            conn.execute(t.insert(), rows)
