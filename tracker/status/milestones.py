"""The milestone rules: 未启动 / 推进中 / 已完成 / 逾期 from what the reporters last said.

Like the target rules, `judge_milestone` returns a Judgement (code and figures) and
tracker.status.reasons words it.
"""

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tracker.config import StatusSettings
from tracker.domain.model import Milestone, MilestoneProgress
from tracker.domain.periods import latest_closed_period
from tracker.domain.series import aware, visible
from tracker.status.model import Judgement

# Milestone reports are expected at least quarterly; later than that (plus grace) is stale.
MILESTONE_FREQUENCY = "quarterly"
_EPOCH = datetime.min.replace(tzinfo=ZoneInfo("UTC"))


def _report_order(p: MilestoneProgress) -> tuple[date, datetime]:
    return p.reported_on, aware(p.entered_at) if p.entered_at else _EPOCH


def latest_reports(progress: list[MilestoneProgress], as_of: date,
                   known_at: datetime | None = None) -> list[MilestoneProgress]:
    """Each reporter's latest report known as of the date (or at `known_at`), oldest first."""
    latest: dict[str, MilestoneProgress] = {}
    for p in progress:
        if p.reported_on > as_of:
            continue
        if known_at is None:
            if not visible(p.entered_at, p.reported_on, as_of):
                continue
        elif p.entered_at is not None and aware(p.entered_at) > known_at:
            continue
        seen = latest.get(p.reporter)
        if seen is None or _report_order(p) >= _report_order(seen):
            latest[p.reporter] = p
    return sorted(latest.values(), key=lambda p: p.reported_on)


def judge_milestone(milestone: Milestone, progress: list[MilestoneProgress], as_of: date,
                    settings: StatusSettings, known_at: datetime | None = None) -> Judgement:
    """Done means every reporter says done; an undated milestone is never overdue."""
    reports = latest_reports(progress, as_of, known_at)
    deadline = milestone.deadline
    passed = deadline is not None and as_of > deadline
    figures: dict[str, Any] = {"deadline": deadline.isoformat() if deadline else None,
                               "reports": len(reports)}
    if not reports:
        return Judgement("overdue" if passed else "no_data", figures)
    newest = reports[-1]
    figures.update(latest_report=newest.reported_on.isoformat(), latest_state=newest.state,
                   note=newest.note, evidence=newest.evidence,
                   states={p.reporter: p.state for p in reports})
    if all(p.state == "done" for p in reports):
        figures["done_on"] = newest.reported_on.isoformat()
        late = deadline is not None and newest.reported_on > deadline
        return Judgement("achieved_late" if late else "done", figures)
    if len(reports) > 1:
        figures["pending"] = [p.reporter for p in reports if p.state != "done"]
    if passed:
        return Judgement("overdue", figures)
    if deadline is not None and (deadline - as_of).days <= settings.due_soon_days:
        figures["days_left"] = (deadline - as_of).days
        return Judgement("due_soon", figures)
    expected = latest_closed_period(as_of - timedelta(days=settings.grace_days), MILESTONE_FREQUENCY)
    if newest.reported_on <= expected.start - timedelta(days=1):
        figures.update(stale=True, expected_period=expected.label)
        return Judgement("stale", figures)
    started = any(p.state in ("in_progress", "done") for p in reports)
    return Judgement("in_progress" if started else "not_started", figures)
