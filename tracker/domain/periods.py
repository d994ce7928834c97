"""Reporting periods (2026-11, 2026Q3, 2025, 2026-11-15) and the plan's clock.

Deadlines and periods are calendar dates; "now" is a moment that becomes a date in the
plan's time zone (Asia/Shanghai), so 2025-12-31 ends at 16:00 UTC, not at midnight UTC.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

PLAN_TZ = ZoneInfo("Asia/Shanghai")
KINDS = ("month", "quarter", "year", "date")
FREQUENCY_KIND = {"monthly": "month", "quarterly": "quarter", "yearly": "year"}


class PeriodError(ValueError):
    pass


class PeriodMismatch(PeriodError):
    """A period of the wrong kind for an indicator: `given` and `wanted` are kinds
    (month, quarter, year, date); `flow` when a date was refused as ambiguous for a flow."""

    def __init__(self, given: str, wanted: str, flow: bool = False) -> None:
        self.given, self.wanted, self.flow = given, wanted, flow
        super().__init__(f"period is a {given}; the indicator is reported by {wanted}"
                         + (" (a date is ambiguous for a flow)" if flow and given == "date" else ""))


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period; ordered by its end, the date its value describes."""

    end: date
    start: date
    kind: str

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        if self.kind == "quarter":
            return f"{self.start.year}Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return f"{self.start.year}"
        return self.start.isoformat()

    def __str__(self) -> str:
        return self.label

    def next(self) -> "Period":
        return period_containing(self.end + timedelta(days=1), self.kind)

    def previous(self) -> "Period":
        return period_containing(self.start - timedelta(days=1), self.kind)


def _month_end(year: int, month: int) -> date:
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - timedelta(days=1)


def period_containing(day: date, kind: str) -> Period:
    if kind == "month":
        return Period(_month_end(day.year, day.month), date(day.year, day.month, 1), "month")
    if kind == "quarter":
        first = 3 * ((day.month - 1) // 3) + 1
        return Period(_month_end(day.year, first + 2), date(day.year, first, 1), "quarter")
    if kind == "year":
        return Period(date(day.year, 12, 31), date(day.year, 1, 1), "year")
    if kind == "date":
        return Period(day, day, "date")
    raise PeriodError(f"unknown period kind {kind!r}; accepted: {', '.join(KINDS)}")


_PATTERNS = [
    (re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"), "date"),
    (re.compile(r"(\d{4})\s*[-/ ]?\s*[Qq]\s*([1-4])"), "quarter"),
    (re.compile(r"(\d{4})\s*年?\s*第?\s*([1-4一二三四])\s*季度"), "quarter"),
    (re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?"), "month"),
    (re.compile(r"(\d{4})\s*年?(?:底|末)?"), "year"),
]
_CN_QUARTER = {"一": 1, "二": 2, "三": 3, "四": 4}


def parse_period(text: str | int | date | datetime) -> Period:
    """2026-11, 2026年11月, 2026Q3, 2026年第三季度, 2025, 2025年, 2026-11-15 -> Period."""
    if isinstance(text, datetime):
        return period_containing(text.date(), "date")
    if isinstance(text, date):
        return period_containing(text, "date")
    s = str(text).strip()
    if isinstance(text, float):
        if not text.is_integer():  # Excel turns 2026.10 into the number 2026.1
            raise PeriodError(f"ambiguous period {text!r}: a number such as 2026.1 could mean 2026-01 or "
                              "2026-10; format the column as text, or write 2026-10")
        s = str(int(text))
    for pattern, kind in _PATTERNS:
        m = pattern.fullmatch(s)
        if not m:
            continue
        year = int(m.group(1))
        try:
            if kind == "date":
                return period_containing(date(year, int(m.group(2)), int(m.group(3))), "date")
            if kind == "quarter":
                q = m.group(2)
                q = _CN_QUARTER.get(q) or int(q)
                return period_containing(date(year, 3 * q - 2, 1), "quarter")
            if kind == "month":
                return period_containing(date(year, int(m.group(2)), 1), "month")
            return period_containing(date(year, 1, 1), "year")
        except ValueError as exc:
            raise PeriodError(f"not a valid period: {s!r} ({exc})") from exc
    raise PeriodError(
        f"not a period: {s!r}; accepted: a month 2026-11, a quarter 2026Q3, a year 2025, "
        "or a date 2026-11-15")


def reporting_period(period: Period, frequency: str, *, flow: bool = False) -> Period:
    """The one key of a reporting period for an indicator reported `frequency`: the period
    itself when it is of that kind; for a date, the month, quarter or year containing it (a
    stock's figure on 2025-12-31 is its 2025Q4 figure), so a cell never has two keys. A date
    is refused for a flow (the figure of which span: the month, the days so far?), and any
    other kind of period is refused: raises PeriodMismatch."""
    want = FREQUENCY_KIND.get(frequency, frequency)
    if period.kind == want:
        return period
    if period.kind == "date" and not flow and want in ("month", "quarter", "year"):
        return period_containing(period.start, want)
    raise PeriodMismatch(period.kind, want, flow)


def today_in_plan_tz(now: datetime) -> date:
    """The calendar date in Asia/Shanghai at `now` (default: the clock)."""
    moment = now
    if moment.tzinfo is None:  # a naive moment is UTC, as freezegun and SQLModel give it
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(PLAN_TZ).date()


def latest_closed_period(as_of: date, frequency: str) -> Period:
    """The latest period of an indicator's frequency that has ended on or before `as_of`."""
    kind = FREQUENCY_KIND.get(frequency, frequency)
    current = period_containing(as_of, kind)
    return current if current.end <= as_of else current.previous()


def submission_deadline(period_end: date, submission_day: int) -> date:
    """The last day to report a period's figures: `submission_day` of the month after the
    period ends (November's by 10 December, a year's by 10 January), or that month's last day
    when it is shorter."""
    import calendar

    following = (period_end.replace(day=1) + timedelta(days=32)).replace(day=1)
    return following.replace(day=min(submission_day, calendar.monthrange(following.year, following.month)[1]))
