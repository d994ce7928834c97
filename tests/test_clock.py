"""The clock is passed in: with time frozen, every timestamp the tracker writes — values,
progress, batches, targets synced, runs, snapshots, alerts, accounts, sign-ins, the audit log
and the report's "generated" line — is the frozen moment. A stray datetime.now() below the
edges, or a moment computed from another clock, fails here."""

import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time
from servers import RecordingHTTPServer
from sqlalchemy import DateTime, select

from tracker.config import ScheduleConfig, settings_from_mapping
from tracker.domain.clock import aware
from tracker.service import Tracker
from tracker.store.tables import SQLModel
from tracker.web import auth

ROOT = Path(__file__).resolve().parent.parent
FROZEN = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # 09:30 on 1 December in Asia/Shanghai: November is due


# Moments the code sets ahead of its clock, by how much: a run's lease runs to now + lease.
LATER = {"run.lease_until": timedelta(seconds=ScheduleConfig().lease_seconds)}


def _is_moment(column) -> bool:
    """A column holding a moment (SQLModel's UTCDateTime decorates DateTime)."""
    kind = getattr(column.type, "impl", column.type)
    return isinstance(kind, DateTime) or isinstance(column.type, DateTime)


@pytest.mark.parametrize("how", ["freezegun", "injected"])
def test_every_timestamp_written_is_the_clocks(db_url, engine, tmp_path, how):
    """freezegun: the system clock frozen, the tracker's default clock reads it. injected: the
    real clock runs on while the tracker is given a clock stopped at FROZEN, so a stray read of
    the system clock below the edges would write today's time and fail."""
    values = tmp_path / "values.csv"
    values.write_text("指标,地区,期间,数值\n养老床位数,海口,2026Q3,9800\n养老床位数,三亚,2026Q3,5200\n"
                      "培训养老护理人员人次,海口,2026-10,120\n", encoding="utf-8")
    frozen = freeze_time(FROZEN) if how == "freezegun" else contextlib.nullcontext()
    with RecordingHTTPServer() as hook, frozen:
        settings = settings_from_mapping(
            {"alerts": {"channels": ["webhook"], "webhook": {"url": hook.url}}},
            database_url=db_url, targets_path=ROOT / "targets.yaml", reports_dir=tmp_path / "reports")
        clock = {"clock": lambda: FROZEN} if how == "injected" else {}  # else the system's, frozen
        tracker = Tracker(settings, engine=engine, **clock)
        tracker.import_file(values, entered_by="省民政厅")
        tracker.record("elderly_care_beds", "儋州", "2026Q3", "4100", entered_by="省民政厅")
        milestone = next(m.id for m in tracker.model.milestones if m.plan == "hainan")
        task = tracker.model.task("hainan", next(m.task for m in tracker.model.milestones if m.id == milestone))
        lead = (task.units_in("lead") or task.units_in("joint"))[0]
        tracker.record_progress(milestone, "推进中", reporter=lead, entered_by="tester")
        report = tracker.write_report()
        assert tracker.run_month().state == "succeeded"
        tracker.remind()
        now = tracker.now()
        auth.add_user(engine, "mca", "s3cret-pass", "reporter", department="省民政厅", model=tracker.model, now=now)
        assert auth.sign_in(engine, "mca", "s3cret-pass", now=now).ok
        auth.audit(engine, "mca", "entry", "460100", now=now)
        auth.session_secret(engine, None, now=now)

    seen: dict[str, int] = {}
    wrong: list[str] = []
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for column in table.columns:
                if not _is_moment(column):
                    continue
                expected_moment = FROZEN + LATER.get(f"{table.name}.{column.name}", timedelta(0))
                for (moment,) in conn.execute(select(column).where(column.is_not(None))):
                    seen[f"{table.name}.{column.name}"] = seen.get(f"{table.name}.{column.name}", 0) + 1
                    if aware(moment) != expected_moment:
                        wrong.append(f"{table.name}.{column.name} = {moment}")
    assert not wrong, wrong
    expected = {"observation.entered_at", "import_batch.entered_at", "milestone_progress.entered_at",
                "indicator.updated_at", "target.updated_at", "target_version.synced_at", "meta.updated_at",
                "run.started_at", "run.heartbeat_at", "run.finished_at", "status_snapshot.recorded_at",
                "web_user.created_at", "login_attempt.at", "audit_log.at", "web_secret.created_at"}
    assert expected <= set(seen), sorted(expected - set(seen))
    assert report.html.read_text(encoding="utf-8").count("2026-12-01T09:30:00+08:00") or \
        "2026年12月1日 09:30" in report.html.read_text(encoding="utf-8")
