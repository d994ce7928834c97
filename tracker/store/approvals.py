"""Approvals of reported figures: the state of each (reporting unit, plan, period), its
append-only history, and which stored values count.

Every change of state is a conditional UPDATE on the state the caller read (`UPDATE approval
… WHERE state = :expected`): of two approvers acting on one submission at once, exactly one
changes the row; the other is told what it became and who made it so. Transitions run in the
values' write transaction (tracker.store.engine.write_transaction(values=True)), so a value
being entered and its period being submitted or locked queue one behind the other.

Which values count when only approved figures do (the reads' filter) is in
tracker.store.counted.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, func, or_, select

from tracker.domain.clock import aware
from tracker.store.counted import COUNTED_STATES, HELD_STATES, PREVIEW_STATES, Counted, counted_clause, counted_params
from tracker.store.engine import write_transaction
from tracker.store.observations import _latest_cells
from tracker.store.tables import approval_event_table, approval_table, audit_table, observation_table

__all__ = ["COUNTED_STATES", "HELD_STATES", "PREVIEW_STATES", "ApprovalKey", "Counted", "Transition",
           "approval_events", "approval_row", "approval_rows", "approvals_version", "audit_refusal",
           "counted_clause", "counted_params", "lock_rows", "submission_cells", "transition", "uncounted_cells"]


@dataclass(frozen=True)
class ApprovalKey:
    """One reporting unit's figures of one plan and period (a month, quarter or year)."""

    unit: str  # region code or department name
    plan: str
    period: str  # label
    frequency: str  # monthly | quarterly | yearly
    start: date
    end: date


@dataclass(frozen=True)
class Transition:
    """What a conditional update did: `done`, or not (then `row` is what the state is now)."""

    done: bool
    row: Any  # the approval row after the attempt (None: there is none)
    event_id: int | None = None


def uncounted_cells(engine: Engine, cutoff: datetime, indicators: Iterable[str],
                    counted: Counted) -> set[tuple[str, str]]:
    """(indicator, region) of the values known before `cutoff` that do not count: what a
    status says is still unapproved."""
    t = observation_table
    names = list(indicators)
    if not names:
        return set()
    q = (select(t.c.indicator, t.c.region).distinct()
         .where(t.c.entered_at < aware(cutoff).astimezone(UTC), t.c.indicator.in_(names), ~counted_clause(t)))
    with engine.connect() as conn:
        return {(r.indicator, r.region) for r in conn.execute(q, counted_params(counted))}


# ---------------------------------------------------------------------------------------
# Reading approvals


def _key_where(key: ApprovalKey | tuple[str, str, str]) -> list[Any]:
    a = approval_table
    unit, plan, period = (key.unit, key.plan, key.period) if isinstance(key, ApprovalKey) else key
    return [a.c.unit == unit, a.c.plan == plan, a.c.period == period]


def approval_row(engine: Engine, unit: str, plan: str, period: str) -> Any:
    """The approval of one unit, plan and period, or None (never submitted: a draft)."""
    with engine.connect() as conn:
        return conn.execute(select(approval_table).where(*_key_where((unit, plan, period)))).first()


def approval_rows(engine: Engine, plan: str | None = None, *, units: Sequence[str] | None = None,
                  states: Sequence[str] | None = None, periods: Sequence[str] | None = None) -> list[Any]:
    """Approvals, newest change first, filtered as asked."""
    a = approval_table
    q = select(a).order_by(a.c.updated_at.desc(), a.c.id.desc())
    if plan is not None:
        q = q.where(a.c.plan == plan)
    if units is not None:
        q = q.where(a.c.unit.in_(list(units)))
    if states is not None:
        q = q.where(a.c.state.in_(list(states)))
    if periods is not None:
        q = q.where(a.c.period.in_(list(periods)))
    with engine.connect() as conn:
        return list(conn.execute(q))


_LOCK_ROWS = select(approval_table.c.unit, approval_table.c.plan, approval_table.c.period, approval_table.c.frequency,
                    approval_table.c.period_start, approval_table.c.period_end, approval_table.c.state,
                    approval_table.c.reopened).where(or_(approval_table.c.state.in_(HELD_STATES),
                                                         approval_table.c.reopened.is_(True)))  # every entry reads it


def lock_rows(engine: Engine) -> list[Any]:
    """The approvals that hold their values (submitted, approved, accepted) or lift a
    period's expiry (reopened): all an entry needs to know which cells it may write."""
    with engine.connect() as conn:
        return list(conn.execute(_LOCK_ROWS))


def approval_events(engine: Engine, unit: str, plan: str, period: str) -> list[Any]:
    """Every transition of one approval, oldest first."""
    a, e = approval_table, approval_event_table
    q = (select(e).join(a, a.c.id == e.c.approval_id).where(*_key_where((unit, plan, period)))
         .order_by(e.c.id))
    with engine.connect() as conn:
        return list(conn.execute(q))


def approvals_version(engine: Engine) -> int:
    """Changes with every transition (the history is append-only): for caching evaluations."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.max(approval_event_table.c.id))).scalar() or 0)


def submission_cells(engine: Engine, indicators: Sequence[str], regions: Sequence[str] | None,
                     start: date, end: date) -> list[Any]:
    """The latest revision of every cell of these indicators (in these regions, when given)
    whose period ends within [start, end]: the figures a submission puts up for review."""
    if not indicators:
        return []
    q = _latest_cells("indicator,region,period,period_end,value,revision", True, regions is not None, False, True)
    params: dict[str, Any] = {"indicators": list(indicators)}
    if regions is not None:
        params["regions"] = list(regions)
    with engine.connect() as conn:
        return [r for r in conn.execute(q, params) if start <= _day(r.period_end) <= end]


def _day(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


# ---------------------------------------------------------------------------------------
# Changing state


def transition(engine: Engine, key: ApprovalKey, *, expected: str, to_state: str, action: str, actor: str,
               actor_unit: str, reason: str, now: datetime, reopened: bool | None = None, ip: str = "",
               detail: str = "") -> Transition:
    """Move the approval of `key` from `expected` to `to_state`, if it is still in `expected`
    (a missing approval is a draft and is created as one first). The history row and the
    audit row are written in the same transaction."""
    a, e = approval_table, approval_event_table
    with write_transaction(engine, values=True) as conn:
        row = conn.execute(select(a).where(*_key_where(key))).first()
        if row is None:
            if expected != "draft":
                return Transition(False, None)
            conn.execute(a.insert().values(unit=key.unit, plan=key.plan, period=key.period, frequency=key.frequency,
                                           period_start=key.start, period_end=key.end, state="draft",
                                           reopened=False, last_action="", note="", updated_by="",
                                           updated_at=now, created_at=now))
            row = conn.execute(select(a).where(*_key_where(key))).first()
        values: dict[str, Any] = {"state": to_state, "last_action": action, "note": reason, "updated_by": actor,
                                  "updated_at": now}
        if reopened is not None:
            values["reopened"] = reopened
        changed = conn.execute(a.update().where(a.c.id == row.id, a.c.state == expected).values(**values)).rowcount
        if changed != 1:
            return Transition(False, conn.execute(select(a).where(a.c.id == row.id)).first())
        event_id = conn.execute(e.insert().returning(e.c.id).values(
            approval_id=row.id, action=action, from_state=expected, to_state=to_state, actor=actor[:200],
            actor_unit=actor_unit, reason=reason, at=now)).scalar_one()
        conn.execute(audit_table.insert().values(
            at=now, actor=actor[:200], action=f"approval_{action}", object=f"{key.plan} {key.unit} {key.period}",
            outcome="ok", detail=(f"{expected} -> {to_state}" + (f" | {reason}" if reason else "")
                                  + (f" | {detail}" if detail else ""))[:4000], ip=ip))
        return Transition(True, conn.execute(select(a).where(a.c.id == row.id)).first(), int(event_id))


def audit_refusal(engine: Engine, actor: str, action: str, obj: str, detail: str, now: datetime,
                  ip: str = "") -> None:
    """A refused transition, in the audit log beside the ones that happened."""
    with write_transaction(engine) as conn:
        conn.execute(audit_table.insert().values(at=now, actor=actor[:200], action=f"approval_{action}",
                                                 object=obj[:2000], outcome="refused", detail=detail[:4000], ip=ip))
