"""Submission reminders: the period just closed, to the units and regions missing it, once a month."""

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from servers import RecordingHTTPServer

from tracker.actuals.entry import import_file
from tracker.alerts.reminders import reminder_messages
from tracker.config import load_settings
from tracker.domain.regions import load_regions
from tracker.service import Tracker
from tracker.status.completeness import missing_reports
from tracker.store import latest_reported
from tracker.targets.file import load_targets

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
TRAININGS = "elderly_care_worker_trainings"  # monthly, reported by 省民政厅


def _import_november(engine, tmp_path, skip: str):
    model = load_targets(ROOT / "targets.yaml")
    rows = [f"{TRAININGS},{r.code},2026-11,30" for r in load_regions().counties() if r.name != skip]
    path = tmp_path / "nov.csv"
    path.write_text("indicator,region,period,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    import_file(engine, path, model, entered_by="省民政厅", now=datetime(2026, 12, 5, tzinfo=UTC))
    return model


def test_reminder_asks_for_the_month_just_closed_from_those_missing_it(engine, tmp_path):
    model = _import_november(engine, tmp_path, skip="琼中黎族苗族自治县")
    regions = load_regions()
    today = datetime(2026, 12, 7, 9, tzinfo=SHANGHAI).date()
    gaps = {g.indicator: g for g in missing_reports(model, latest_reported(engine, today), regions,
                                                    regions.province.code, today, grace_days=0)}
    assert gaps[TRAININGS].expected_period == "2026-11"
    assert [regions.get(c).name for c in gaps[TRAININGS].missing] == ["琼中黎族苗族自治县"]
    messages = reminder_messages(list(gaps.values()), {r.code: r.name for r in regions.all}, 10)
    assert "培训养老护理人员人次（2026-11）：1/19 个地区未报送：琼中黎族苗族自治县" in messages["省民政厅"]
    assert "本月10日前" in messages["琼中黎族苗族自治县"]


def test_reminders_are_sent_once_a_month(engine, tmp_path):
    _import_november(engine, tmp_path, skip="琼中黎族苗族自治县")
    with RecordingHTTPServer() as hook:
        config = tmp_path / "tracker.toml"
        config.write_text(f'[tracker]\ntargets_path = "{ROOT / "targets.yaml"}"\n'
                          f'[alerts]\nchannels = ["webhook"]\n[alerts.webhook]\nurl = "{hook.url}"\n', encoding="utf-8")
        settings = load_settings(config)
        now = datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)
        queued = Tracker(settings, engine=engine, clock=lambda: now).remind()
        assert queued > 0
        assert Tracker(settings, engine=engine, clock=lambda: now.replace(hour=15)).remind() == 0
    texts = [r["json"]["text"] for r in hook.requests]
    assert len(texts) == queued
    assert any("琼中黎族苗族自治县" in t and "2026-11" in t for t in texts)
