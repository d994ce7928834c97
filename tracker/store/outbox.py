"""The alert outbox: every message recorded before it is sent, claimed by a conditional UPDATE
so two processes never send the same row at once, and marked with its outcome."""

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select
from sqlalchemy.engine import Connection

from tracker.store.engine import write_transaction, writing
from tracker.store.tables import alert_table


def insert_alerts(bind: Engine | Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Add the rows whose idempotency key is new; returns how many were added (`bind`: an
    engine, or a connection whose transaction commits them with other writes)."""
    if not rows:
        return 0
    t = alert_table
    with writing(bind) as conn:
        existing = set(conn.execute(select(t.c.key).where(t.c.key.in_([r["key"] for r in rows]))).scalars())
        fresh = [r for r in rows if r["key"] not in existing]
        if fresh:
            conn.execute(t.insert(), fresh)
    return len(fresh)


def _due(now: datetime, claim_timeout: timedelta) -> Any:
    t = alert_table
    return or_(and_(t.c.state == "pending", t.c.next_attempt_at <= now),
               and_(t.c.state == "sending", t.c.claimed_at < now - claim_timeout))


def due_alerts(engine: Engine, now: datetime, claim_timeout: timedelta) -> list[Any]:
    """(id, channel, payload, key) of the rows due: pending and due, or left 'sending' by a
    process that crashed more than `claim_timeout` ago."""
    t = alert_table
    with engine.connect() as conn:
        return list(conn.execute(select(t.c.id, t.c.channel, t.c.payload, t.c.key)
                                 .where(_due(now, claim_timeout)).order_by(t.c.id)))


def claim_alert(engine: Engine, alert_id: int, now: datetime, claim_timeout: timedelta) -> bool:
    """pending (due) -> sending; only one process's UPDATE matches."""
    t = alert_table
    with write_transaction(engine) as conn:
        result = conn.execute(t.update().where(t.c.id == alert_id, _due(now, claim_timeout))
                              .values(state="sending", claimed_at=now, attempts=t.c.attempts + 1))
        return result.rowcount == 1


def alert_failed(engine: Engine, alert_id: int, now: datetime, error: str, max_attempts: int,
                 backoff: Callable[[int], timedelta]) -> tuple[int, bool]:
    """Back to pending after `backoff(attempts)`, or dead past `max_attempts`; returns
    (attempts so far, dead)."""
    t = alert_table
    with write_transaction(engine) as conn:
        attempts = conn.execute(select(t.c.attempts).where(t.c.id == alert_id)).scalar_one()
        dead = attempts >= max_attempts
        conn.execute(t.update().where(t.c.id == alert_id).values(
            state="dead" if dead else "pending", last_error=error[:500], claimed_at=None,
            next_attempt_at=now + backoff(attempts)))
    return attempts, dead


def alert_sent(engine: Engine, alert_id: int, now: datetime) -> None:
    t = alert_table
    with write_transaction(engine) as conn:
        conn.execute(t.update().where(t.c.id == alert_id, t.c.state == "sending")
                     .values(state="sent", sent_at=now, last_error=""))


def list_alerts(engine: Engine, limit: int = 100, state: str | None = None) -> list[dict[str, Any]]:
    t = alert_table
    q = select(t).order_by(t.c.id.desc()).limit(limit)
    if state:
        q = q.where(t.c.state == state)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]
