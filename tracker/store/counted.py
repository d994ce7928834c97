"""Which stored values count, when only approved figures do: the condition every read of
values (tracker.store.series, tracker.store.observations) adds to its query.

A value counts when a submission covering it (its region's own, or the one of the department
that reports its indicator; tracker.store.approvals) was in one of the counted states just
before a moment, read from the approvals' history: a report as of an earlier date counts what
was approved then, however the approval changed since.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, exists, or_, select

from tracker.domain.clock import aware
from tracker.store.tables import IndicatorRow, approval_event_table, approval_table

COUNTED_STATES = ("approved", "accepted")  # what statuses and reports count when approval is required
PREVIEW_STATES = ("submitted", "approved", "accepted")  # the supervisor's preview adds what awaits review
HELD_STATES = ("submitted", "approved", "accepted")  # values under review or locked: no entry


@dataclass(frozen=True)
class Counted:
    """Which values count: those covered by a submission of one of `plans` whose state just
    before `moment` was one of `states`."""

    plans: tuple[str, ...]
    states: tuple[str, ...]
    moment: datetime


def _aliases() -> tuple[Any, Any, Any]:
    return (IndicatorRow.__table__.alias("counted_indicator"), approval_table.alias("counted_approval"),
            approval_event_table.alias("counted_event"))


def counted_clause(cell: Any) -> Any:
    """A condition on a table with indicator, region and period_end columns (the observation
    table): the cell counts under the bound `counted_plans`, `counted_states` and
    `counted_moment` (see counted_params)."""
    i, a, e = _aliases()
    state_then = (select(e.c.to_state)
                  .where(e.c.approval_id == a.c.id, e.c.at < bindparam("counted_moment", type_=e.c.at.type))
                  .order_by(e.c.id.desc()).limit(1).correlate(a).scalar_subquery())
    return exists().where(
        i.c.id == cell.c.indicator,
        a.c.plan.in_(bindparam("counted_plans", expanding=True)),
        a.c.frequency == i.c.frequency,
        a.c.period_start <= cell.c.period_end, a.c.period_end >= cell.c.period_end,
        or_(a.c.unit == cell.c.region, a.c.unit == i.c.reporter),
        state_then.in_(bindparam("counted_states", expanding=True)))


def counted_params(counted: Counted | None) -> dict[str, Any]:
    """The bound values of counted_clause ({} without a filter)."""
    if counted is None:
        return {}
    return {"counted_plans": list(counted.plans), "counted_states": list(counted.states),
            "counted_moment": aware(counted.moment).astimezone(UTC)}
