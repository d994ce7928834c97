"""Time: the tracker stores aware UTC moments and judges by calendar dates in the plan's zone.

The one rule for moments read back without a zone (SQLite, freezegun): naive means UTC. The
clock itself is passed in from the edges (CLI, web, scheduler) as a callable, so the stages
below them never read the system clock and tests can fix time.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import overload

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real time, aware UTC: what the edges pass in as the clock."""
    return datetime.now(UTC)


@overload
def aware(moment: datetime) -> datetime: ...
@overload
def aware(moment: None) -> None: ...
def aware(moment: datetime | None) -> datetime | None:
    """`moment` with its zone; a naive one means UTC, as SQLite and freezegun give it."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment
