"""Review and approval of reported figures through the service API: every transition (submit,
approve, accept, return, unlock) and every refusal, locked periods at entry, what statuses
and reports count before and after approval, completeness in three states, reminders and the
return's message, and two approvers acting at once (SQLite, or PostgreSQL with
TRACKER_TEST_DATABASE_URL)."""

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from test_web import Clock

from tracker import store
from tracker.actuals.problems import EntryError
from tracker.config import settings_from_mapping
from tracker.service import Tracker
from tracker.status.approval import Actor, ApprovalError
from tracker.store import approvals as db
from tracker.store.tables import alert_table, approval_event_table, audit_table, observation_table

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 on 2 March 2026 in Asia/Shanghai
XIUYING, HAIKOU, SANYA, PROVINCE = "460105", "460100", "460200", "460000"
DISTRICT = Actor("xy", XIUYING)
CITY = Actor("hk", HAIKOU)
OTHER_CITY = Actor("sy", SANYA)
PROVINCE_GOV = Actor("hn", PROVINCE)
BOSS = Actor("boss", supervisor=True)
MCA = Actor("mca", "省民政厅")
NHC = Actor("nhc", "省卫生健康委")


def make_tracker(db_url: str, engine: Any, tmp_path: Path, model: Any, clock: Clock, **approval: Any) -> Tracker:
    from tracker.targets.file import dump_model

    (tmp_path / "targets.yaml").write_text(dump_model(model), encoding="utf-8")
    raw = {"approval": {"required": True, "supervisors": ["省发展改革委"], **approval},
           "alerts": {"channels": ["webhook"], "webhook": {"url": "http://127.0.0.1:9/hook"}}}
    settings = settings_from_mapping(raw, database_url=db_url, targets_path=tmp_path / "targets.yaml",
                                     reports_dir=tmp_path / "reports")
    return Tracker(settings, engine=engine, clock=clock)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def tracker(db_url, engine, tmp_path, small_model, clock) -> Tracker:
    return make_tracker(db_url, engine, tmp_path, small_model, clock)


def refused(fn: Any, *args: Any, **kwargs: Any) -> ApprovalError:
    with pytest.raises(ApprovalError) as info:
        fn(*args, **kwargs)
    return info.value


def count(engine: Any, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar())


def district_status(tracker: Tracker, as_of: date, include: str | None = None) -> Any:
    return tracker.evaluate(as_of, include).status("universities_each", XIUYING)


# ---------------------------------------------------------------------------------------
# Transitions


def test_a_districts_figures_go_from_draft_to_accepted_with_who_when_and_why(tracker, clock, engine):
    tracker.record("senior_universities", "秀英区", "2025", 2, entered_by="xy")
    assert [s.state for s in tracker.approvals(unit="秀英区")] == ["draft"]  # due, never submitted
    clock.advance(days=1)
    submitted = tracker.submit("秀英区", "2025", actor=DISTRICT)
    assert (submitted.state, submitted.approvers) == ("submitted", [HAIKOU, PROVINCE])
    clock.advance(days=1)
    assert tracker.approve("秀英区", "2025", actor=CITY).state == "approved"
    clock.advance(days=1)
    accepted = tracker.approve("460105", "2025", actor=BOSS)
    assert (accepted.state, accepted.locked) == ("accepted", True)
    history = tracker.approval_history("秀英区", "2025")
    assert [(h["action"], h["from"], h["to"], h["actor"], h["actor_unit"]) for h in history] == [
        ("submit", "draft", "submitted", "xy", XIUYING), ("approve", "submitted", "approved", "hk", HAIKOU),
        ("accept", "approved", "accepted", "boss", "")]
    assert [h["at"] for h in history] == [START + timedelta(days=d) for d in (1, 2, 3)]
    with engine.connect() as conn:
        audit = conn.execute(select(audit_table.c.actor, audit_table.c.action, audit_table.c.object)
                             .where(audit_table.c.action.like("approval_%")).order_by(audit_table.c.id)).all()
    assert [tuple(a) for a in audit] == [("xy", "approval_submit", f"hainan {XIUYING} 2025"),
                                         ("hk", "approval_approve", f"hainan {XIUYING} 2025"),
                                         ("boss", "approval_accept", f"hainan {XIUYING} 2025")]


def test_no_unit_approves_or_returns_its_own_figures(tracker):
    tracker.record("senior_universities", "海口", "2025", 3, entered_by="hk")
    tracker.submit("海口", "2025", actor=CITY)
    assert refused(tracker.approve, "海口", "2025", actor=CITY).code == "forbidden"
    assert "不能审核本单位的数据" in refused(tracker.return_, "海口", "2025", actor=CITY, reason="x").zh
    # a supervisor account acting for the unit is still the unit
    assert refused(tracker.approve, "海口", "2025", actor=Actor("boss2", HAIKOU, supervisor=True)).code == "forbidden"
    assert tracker.approve("海口", "2025", actor=PROVINCE_GOV).state == "approved"  # the level above


def test_only_a_level_above_approves_and_only_the_supervisor_accepts(tracker):
    tracker.record("senior_universities", "秀英区", "2025", 2, entered_by="xy")
    tracker.submit("秀英区", "2025", actor=DISTRICT)
    for actor in (OTHER_CITY, MCA, Actor("lh", "460106")):  # another city, a department, a sibling district
        error = refused(tracker.approve, "秀英区", "2025", actor=actor)
        assert error.code == "forbidden" and "由上级审核" in error.zh
    assert tracker.approve("秀英区", "2025", actor=PROVINCE_GOV).state == "approved"  # any level above
    error = refused(tracker.approve, "秀英区", "2025", actor=CITY)
    assert error.code == "forbidden" and "待规划的监督单位上报确认" in error.zh
    # the supervisor's unit, named on the command line, accepts
    assert tracker.approve("秀英区", "2025", actor=Actor("drc", "省发展改革委")).state == "accepted"
    assert refused(tracker.approve, "秀英区", "2025", actor=BOSS).code == "state"  # already accepted


def test_submitting_is_the_units_own_once_and_needs_figures(tracker):
    assert refused(tracker.submit, "秀英区", "2025", actor=DISTRICT).code == "empty"
    tracker.record("senior_universities", "秀英区", "2025", 2, entered_by="xy")
    assert refused(tracker.submit, "秀英区", "2025", actor=CITY).code == "forbidden"
    tracker.submit("秀英区", "2025", actor=DISTRICT)
    assert "无需再次提交" in refused(tracker.submit, "秀英区", "2025", actor=DISTRICT).zh
    assert refused(tracker.approve, "龙华区", "2025", actor=CITY).code == "state"  # never submitted
    assert refused(tracker.submit, "秀英区", "2025-13", actor=DISTRICT).code == "period"
    assert refused(tracker.submit, "秀英区", "2025-06-30", actor=DISTRICT).code == "period"  # a day: no
    assert refused(tracker.submit, "杭州", "2025", actor=DISTRICT).code == "unit"
    assert refused(tracker.submit, "秀英区", "2025", actor=DISTRICT, plan="liaoning").code == "plan"


def test_a_department_is_approved_by_the_lead_of_its_tasks_and_a_lead_by_the_supervisor(tracker):
    tracker.record("elderly_population", "海口", "2025", 400000, entered_by="nhc")
    tracker.record("elderly_care_beds", "海口", "2025", 12000, entered_by="mca")
    tracker.submit("省卫生健康委", "2025", actor=NHC)
    tracker.submit("省民政厅", "2025", actor=MCA)
    queue = tracker.approvals(waiting_for=MCA)
    assert [(s.unit.key, s.period) for s in queue] == [("省卫生健康委", "2025")]  # 牵头 approves 参加
    assert tracker.approve("省卫生健康委", "2025", actor=MCA).state == "approved"
    assert refused(tracker.approve, "省民政厅", "2025", actor=NHC).code == "forbidden"
    assert tracker.approve("省民政厅", "2025", actor=BOSS).state == "approved"  # leads its own task


def test_a_return_needs_a_reason_goes_back_to_draft_and_tells_the_reporter(tracker, engine):
    tracker.record("senior_universities", "秀英区", "2025", 20, entered_by="xy")
    tracker.submit("秀英区", "2025", actor=DISTRICT)
    error = refused(tracker.return_, "秀英区", "2025", actor=CITY, reason="  ")
    assert error.code == "reason" and "退回须说明原因" in error.zh
    back = tracker.return_("秀英区", "2025", actor=CITY, reason="老年大学数多填了一个0")
    assert (back.state, back.returned, back.note) == ("draft", True, "老年大学数多填了一个0")
    mine = tracker.approvals(unit="秀英区")
    assert [(s.period, s.state, s.note) for s in mine] == [("2025", "draft", "老年大学数多填了一个0")]
    with engine.connect() as conn:
        sent = conn.execute(select(alert_table.c.kind, alert_table.c.recipient, alert_table.c.body)).all()
    assert [(k, r) for k, r, _ in sent] == [("approval", "秀英区")]
    assert "退回原因：老年大学数多填了一个0" in sent[0][2]
    # corrected and submitted again; an approved one may be returned by the supervisor only
    tracker.record("senior_universities", "秀英区", "2025", 2, entered_by="xy", correct=True)
    tracker.submit("秀英区", "2025", actor=DISTRICT)
    tracker.approve("秀英区", "2025", actor=CITY)
    assert refused(tracker.return_, "秀英区", "2025", actor=CITY, reason="再看看").code == "forbidden"
    assert tracker.return_("秀英区", "2025", actor=BOSS, reason="与统计年鉴不符").state == "draft"
    assert [h["action"] for h in tracker.approval_history("秀英区", "2025")] == [
        "submit", "return", "submit", "approve", "return"]


def test_an_unlock_needs_the_supervisor_a_reason_and_a_locked_period(tracker):
    tracker.record("senior_universities", "秀英区", "2025", 2, entered_by="xy")
    tracker.submit("秀英区", "2025", actor=DISTRICT)
    assert "未锁定" in refused(tracker.unlock, "秀英区", "2025", actor=BOSS, reason="更正").zh
    tracker.approve("秀英区", "2025", actor=CITY)
    tracker.approve("秀英区", "2025", actor=BOSS)
    error = refused(tracker.unlock, "秀英区", "2025", actor=BOSS, reason="")
    assert error.code == "reason" and "解锁须说明原因" in error.zh
    assert refused(tracker.unlock, "秀英区", "2025", actor=CITY, reason="更正").code == "forbidden"
    opened = tracker.unlock("秀英区", "2025", actor=BOSS, reason="统计局更正了常住人口")
    assert (opened.state, opened.reopened, opened.locked) == ("draft", True, False)


def test_every_refusal_is_in_the_audit_log(tracker, engine):
    tracker.record("senior_universities", "秀英区", "2025", 2, entered_by="xy")
    refused(tracker.approve, "秀英区", "2025", actor=CITY)
    with engine.connect() as conn:
        row = conn.execute(select(audit_table).where(audit_table.c.outcome == "refused")).one()
    assert (row.actor, row.action, row.object) == ("hk", "approval_approve", f"hainan {XIUYING} 2025")
    assert row.detail.startswith("state:")


# ---------------------------------------------------------------------------------------
# Locked periods at entry


def test_values_of_a_period_under_review_or_accepted_cannot_change_until_unlocked(tracker, engine, tmp_path):
    tracker.record("senior_universities", "秀英区", "2025", 2, entered_by="xy")
    tracker.submit("秀英区", "2025", actor=DISTRICT)
    rows = count(engine, observation_table)
    with pytest.raises(EntryError) as info:
        tracker.record("senior_universities", "秀英区", "2025", 3, entered_by="xy", correct=True)
    assert "秀英区 2025 的数据已提交，正在审核，不能修改" in info.value.format("zh")
    tracker.approve("秀英区", "2025", actor=CITY)
    tracker.approve("秀英区", "2025", actor=BOSS)
    csv = tmp_path / "fix.csv"
    csv.write_text("指标,地区,期间,数值\nsenior_universities,秀英区,2025,3\nsenior_universities,美兰区,2025,1\n",
                   encoding="utf-8")
    with pytest.raises(EntryError) as info:
        tracker.import_file(csv, entered_by="xy", correct=True)
    text = info.value.format("zh")
    assert "fix.csv 第2行" in text and "已上报并锁定，不能修改；如需修改，请省发展改革委解锁" in text
    assert len(info.value.problems) == 1  # 美兰区's cell is open, but the file is all or nothing
    assert count(engine, observation_table) == rows  # nothing written
    tracker.unlock("秀英区", "2025", actor=BOSS, reason="统计局更正")
    assert tracker.import_file(csv, entered_by="xy", correct=True).written == 2


def test_a_period_closes_its_expiry_days_after_it_ends_and_opens_by_unlock(db_url, engine, tmp_path, small_model,
                                                                           clock):
    tracker = make_tracker(db_url, engine, tmp_path, small_model, clock, expiry_days=30)
    # 2025 ended on 31 December; 30 days later (30 January 2026) it closed; today is 2 March
    with pytest.raises(EntryError) as info:
        tracker.record("senior_universities", "秀英区", "2025", 2, entered_by="xy")
    assert "期间 2025 已于 2026-01-30 截止填报（期末后 30 天），已锁定" in info.value.format("zh")
    assert count(engine, observation_table) == 0
    assert [s.locked for s in tracker.approvals(unit="秀英区")] == [True]
    assert refused(tracker.unlock, "秀英区", "2025", actor=BOSS, reason="").code == "reason"
    tracker.unlock("秀英区", "2025", actor=BOSS, reason="补报")
    assert tracker.record("senior_universities", "秀英区", "2025", 2, entered_by="xy").written == 1
    # the other districts' 2025 stays closed
    with pytest.raises(EntryError):
        tracker.record("senior_universities", "美兰区", "2025", 1, entered_by="ml")


def test_approval_not_required_keeps_entry_and_statuses_as_before(db_url, engine, tmp_path, small_model, clock):
    from tracker.config import Settings
    from tracker.targets.file import dump_model

    (tmp_path / "targets.yaml").write_text(dump_model(small_model), encoding="utf-8")
    plain = Tracker(Settings(database_url=db_url, targets_path=tmp_path / "targets.yaml"), engine=engine, clock=clock)
    plain.record("senior_universities", "秀英区", "2025", 2, entered_by="xy")
    evaluation = plain.evaluate(date(2026, 3, 2))
    assert evaluation.include == "all" and evaluation.counted is None
    assert evaluation.status("universities_each", XIUYING).code == "achieved"
    assert "unapproved" not in evaluation.status("universities_each").figures


# ---------------------------------------------------------------------------------------
# What counts


def test_statuses_count_approved_figures_and_say_how_many_regions_are_unapproved(tracker, clock):
    tracker.record("senior_universities", "秀英区", "2025", 2, entered_by="xy")
    tracker.record("senior_universities", "美兰区", "2025", 1, entered_by="ml")
    clock.advance(days=1)  # 3 March
    tracker.submit("秀英区", "2025", actor=DISTRICT)
    assert district_status(tracker, date(2026, 3, 3)).code == "overdue"  # submitted: not counted
    whole = tracker.evaluate(date(2026, 3, 3)).status("universities_each")
    assert whole.figures["unapproved"] == [XIUYING, "460108"] and whole.figures["unapproved_count"] == 2
    preview = tracker.evaluate(date(2026, 3, 3), "submitted")
    assert preview.status("universities_each", XIUYING).code == "achieved"  # the preview counts it
    assert preview.status("universities_each", "460108").code == "overdue"  # a draft is never counted
    assert preview.status("universities_each").figures["unapproved"] == [XIUYING, "460108"]
    clock.advance(days=2)  # 5 March
    tracker.approve("秀英区", "2025", actor=CITY)
    assert district_status(tracker, date(2026, 3, 5)).code == "achieved"
    assert district_status(tracker, date(2026, 3, 4)).code == "overdue"  # as known on the 4th: not yet
    assert tracker.evaluate(date(2026, 3, 5)).status("universities_each").figures["unapproved"] == ["460108"]
    values = tracker.values("senior_universities", date(2026, 3, 5))
    assert [(f.region, f.value) for f in values if f.source == "entered"] == [(XIUYING, 2.0)]


def test_a_return_takes_approved_figures_out_again(tracker, clock):
    tracker.record("senior_universities", "秀英区", "2025", 2, entered_by="xy")
    tracker.submit("秀英区", "2025", actor=DISTRICT)
    tracker.approve("秀英区", "2025", actor=CITY)
    assert district_status(tracker, date(2026, 3, 2)).code == "achieved"
    clock.advance(days=1)
    tracker.return_("秀英区", "2025", actor=BOSS, reason="核对")
    assert district_status(tracker, date(2026, 3, 3)).code == "overdue"
    assert district_status(tracker, date(2026, 3, 2)).code == "achieved"  # a report of the 2nd is reproduced


def test_a_report_before_and_after_approval(tracker, clock, tmp_path):
    import json

    tracker.record("senior_universities", "秀英区", "2025", 2, entered_by="xy")
    clock.advance(days=1)
    tracker.submit("秀英区", "2025", actor=DISTRICT)
    before = tracker.write_report(date(2026, 3, 3), reports_dir=tmp_path / "before")
    clock.advance(days=2)
    tracker.approve("秀英区", "2025", actor=CITY)
    after = tracker.write_report(date(2026, 3, 5), reports_dir=tmp_path / "after")
    preview = tracker.write_report(date(2026, 3, 3), preview=True)
    assert preview.html.parent == Path(tracker.settings.reports_dir) / "preview"

    def cell(files: Any) -> tuple[str, str, str, str]:
        ctx = json.loads(files.json.read_text(encoding="utf-8"))
        matrix = ctx["by_region"]
        col = [c["id"] for c in matrix["columns"]].index("universities_each")
        row = next(r for r in matrix["rows"] if r["region"] == XIUYING)
        item = next(it for sec in ctx["sections"] for it in sec["items"] if it["id"] == "universities_each")
        return row["cells"][col]["status"], item.get("unapproved_text", ""), ctx["approval"]["text"], \
            files.html.read_text(encoding="utf-8")

    code, unapproved, banner, html = cell(before)
    assert code == "overdue" and unapproved == "1 个地区的数据尚未审核：海口市秀英区"
    assert "本报告只计入已审核的数据；1 项目标有地区数据尚未审核" in banner and unapproved in html
    code, unapproved, banner, _ = cell(after)
    assert (code, unapproved) == ("achieved", "") and "0 项目标" in banner
    code, unapproved, banner, _ = cell(preview)
    assert code == "achieved" and banner.startswith("预览：") and unapproved == "1 个地区的数据尚未审核：海口市秀英区"


def test_completeness_says_not_submitted_submitted_or_approved(tracker):
    for region in ("海口", "三亚", "儋州"):
        tracker.record("senior_universities", region, "2025", 1, entered_by="x")
    tracker.submit("三亚", "2025", actor=OTHER_CITY)
    tracker.submit("儋州", "2025", actor=Actor("dz", "460400"))
    tracker.approve("儋州", "2025", actor=PROVINCE_GOV)
    gap = next(g for g in tracker.completeness(date(2026, 3, 2)) if g.indicator == "senior_universities")
    assert gap.expected_period == "2025"
    assert gap.in_state("approved") == ["460400"] and gap.in_state("submitted") == [SANYA]
    assert HAIKOU in gap.in_state("missing") and len(gap.in_state("missing")) == len(gap.expected) - 2
    # Haikou's districts approved stand for Haikou
    for district in ("秀英区", "龙华区", "琼山区", "美兰区"):
        tracker.record("senior_universities", district, "2025", 1, entered_by="x")
        tracker.submit(district, "2025", actor=Actor("d", tracker.regions.lookup(district).code))
        tracker.approve(district, "2025", actor=CITY)
    gap = next(g for g in tracker.completeness(date(2026, 3, 2)) if g.indicator == "senior_universities")
    assert gap.states[HAIKOU] == "approved"


def test_approving_figures_that_fail_validation_is_refused_with_the_list(tracker, engine):
    tracker.record("elderly_care_beds", "文昌", "2025", 1200, entered_by="mca")
    tracker.submit("省民政厅", "2025", actor=MCA)
    # figures stored before today's checks: a negative count, and a region the plan no longer covers (三沙)
    with store.write_transaction(engine) as conn:
        conn.execute(observation_table.insert(), [
            {"indicator": "elderly_care_beds", "region": "469002", "period": "2025", "period_end": date(2025, 12, 31),
             "value": -5.0, "revision": 1, "entered_by": "legacy", "entered_at": START, "source": "legacy"},
            {"indicator": "elderly_care_beds", "region": "460300", "period": "2025", "period_end": date(2025, 12, 31),
             "value": 100.0, "revision": 1, "entered_by": "legacy", "entered_at": START, "source": "legacy"}])
    error = refused(tracker.approve, "省民政厅", "2025", actor=BOSS)
    assert error.code == "invalid" and len(error.problems) == 2
    text = error.format("zh")
    assert "有 2 个数值未通过校验，不能审核" in text
    assert "琼海市 elderly_care_beds 2025 = -5：数值：不能为负数" in text
    assert "460300 elderly_care_beds 2025 = 100：地区：不在本规划范围内的地区" in text
    assert db.approval_row(engine, "省民政厅", "hainan", "2025").state == "submitted"  # unchanged


# ---------------------------------------------------------------------------------------
# Two approvers at once


def test_of_two_conditional_updates_on_one_state_exactly_one_changes_it(tracker, engine):
    tracker.record("senior_universities", "秀英区", "2025", 2, entered_by="xy")
    tracker.submit("秀英区", "2025", actor=DISTRICT)
    key = db.ApprovalKey(XIUYING, "hainan", "2025", "yearly", date(2025, 1, 1), date(2025, 12, 31))
    first = db.transition(engine, key, expected="submitted", to_state="approved", action="approve", actor="hk",
                          actor_unit=HAIKOU, reason="", now=START)
    second = db.transition(engine, key, expected="submitted", to_state="draft", action="return", actor="hn",
                           actor_unit=PROVINCE, reason="x", now=START)
    assert first.done and not second.done and second.row.state == "approved" and second.row.updated_by == "hk"
    assert count(engine, approval_event_table) == 2  # the submit and the one approval


def test_two_approvers_acting_at_once_one_wins_and_the_other_is_told(tracker, engine, monkeypatch):
    tracker.record("senior_universities", "秀英区", "2025", 2, entered_by="xy")
    tracker.submit("秀英区", "2025", actor=DISTRICT)
    both_read = threading.Barrier(2, timeout=10)
    real = db.transition

    def after_both_read(*args: Any, **kwargs: Any) -> Any:  # both have read "submitted" before either writes
        both_read.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(db, "transition", after_both_read)
    outcomes: dict[str, Any] = {}

    def act(name: str, fn: Any) -> None:
        try:
            outcomes[name] = fn().state
        except ApprovalError as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=act, args=("city", lambda: tracker.approve("秀英区", "2025", actor=CITY))),
               threading.Thread(target=act, args=("province", lambda: tracker.return_(
                   "秀英区", "2025", actor=PROVINCE_GOV, reason="口径不一致")))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    lost = [v for v in outcomes.values() if isinstance(v, ApprovalError)]
    won = [v for v in outcomes.values() if not isinstance(v, ApprovalError)]
    assert len(lost) == 1 and len(won) == 1
    assert lost[0].code == "conflict" and "已被" in lost[0].zh and "先行处理" in lost[0].zh
    final = db.approval_row(engine, XIUYING, "hainan", "2025")
    assert final.state == won[0]
    assert count(engine, approval_event_table) == 2


# ---------------------------------------------------------------------------------------
# Reminders


def test_reminders_reach_reporters_with_unsubmitted_periods_and_approvers_with_waiting_ones(tracker, engine, clock):
    tracker.record("senior_universities", "秀英区", "2025", 2, entered_by="xy")
    tracker.submit("秀英区", "2025", actor=DISTRICT)
    tracker.record("senior_universities", "三亚", "2025", 2, entered_by="sy")
    tracker.submit("三亚", "2025", actor=OTHER_CITY)
    tracker.approve("三亚", "2025", actor=PROVINCE_GOV)
    clock.now = datetime(2026, 3, 7, 1, 0, tzinfo=UTC)
    tracker.remind()
    with engine.connect() as conn:
        rows = conn.execute(select(alert_table.c.recipient, alert_table.c.body)
                            .where(alert_table.c.kind == "approval")).all()
    by = {r: b for r, b in rows}
    assert "- 秀英区 2025：已提交" in by["海口市"]  # the city reviews its district
    assert "- 三亚市 2025：已审核" in by["省发展改革委"]  # the supervisor accepts
    assert "- 2025：填报中" in by["龙华区"]  # not submitted yet
    assert "秀英区" not in by and "三亚市" not in by  # submitted: nothing to remind them of
    assert "2025：填报中" in by["海口市"]  # its own figures, too
    again = tracker.remind(force=True)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(alert_table)
                            .where(alert_table.c.kind == "approval")).scalar() == len(rows)
    assert again >= 0


# ---------------------------------------------------------------------------------------
# Settings, and the rules on any plan's hierarchy (pure)


def test_the_approval_section_is_read_through_the_one_loader():
    from tracker.config import ConfigError

    settings = settings_from_mapping({"approval": {"required": True, "plans": ["hainan"], "expiry_days": 30}})
    assert settings.approval.required_for("hainan") and not settings.approval.required_for("national")
    assert not settings_from_mapping({}).approval.required_for("hainan")  # off by default
    with pytest.raises(ConfigError, match=r"\[approval\] has no setting 'expiry'"):
        settings_from_mapping({"approval": {"expiry": 30}})
    with pytest.raises(ConfigError, match="expiry_days = -1"):
        settings_from_mapping({"approval": {"expiry_days": -1}})
    with pytest.raises(ConfigError, match="required = 'yes': expected true or false"):
        settings_from_mapping({"approval": {"required": "yes"}})


def test_who_approves_follows_any_plans_region_hierarchy():
    from tracker.domain.model import Plan, TargetsModel
    from tracker.domain.regions import Coverage, regions_for
    from tracker.status.approval import Unit, approver_units, decide, standing

    liaoning = regions_for(Coverage.from_dict({"region": "210000", "units": "counties"}))
    model = TargetsModel([Plan("liaoning", "辽宁方案", "辽宁省人民政府", "province", "210000", date(2021, 1, 1),
                               date(2025, 12, 31), "")])
    heping = Unit("210102", "和平区", "region")
    assert approver_units(heping, model, "liaoning", liaoning) == ["210100", "210000"]  # 沈阳市, then 辽宁省
    city, province, other = Actor("sy", "210100"), Actor("ln", "210000"), Actor("dl", "210200")
    for actor in (city, province):
        who = standing(actor, heping, ["210100", "210000"], ["辽宁省发展改革委"])
        assert decide("approve", "submitted", who, unit=heping, period="2025") == ("approve", "approved")
    who = standing(other, heping, ["210100", "210000"], ["辽宁省发展改革委"])
    with pytest.raises(ApprovalError, match="approved by the level above"):
        decide("approve", "submitted", who, unit=heping, period="2025")
    area = Unit("210000", "辽宁省", "region")
    assert approver_units(area, model, "liaoning", liaoning) == []  # the supervisor approves the area's own
    who = standing(Actor("drc", "辽宁省发展改革委"), area, [], ["辽宁省发展改革委"])
    assert decide("approve", "submitted", who, unit=area, period="2025") == ("approve", "approved")
    assert decide("approve", "approved", who, unit=area, period="2025") == ("accept", "accepted")


def test_the_hainan_plan_of_targets_yaml_reviews_quarterly_figures_up_to_the_provincial_drc(db_url, engine, tmp_path):
    from tracker.targets.file import load_targets

    model = load_targets(Path(__file__).resolve().parent.parent / "targets.yaml")
    clock = Clock(datetime(2026, 11, 10, 2, 0, tzinfo=UTC))
    tracker = make_tracker(db_url, engine, tmp_path, model, clock, supervisors=[])  # the plan's own supervisor
    tracker.record("elderly_care_beds", "海口", "2026Q3", 9800, entered_by="hk")
    assert refused(tracker.submit, "海口", "2026-09", actor=CITY).code == "empty"  # no monthly figure of Haikou's
    tracker.submit("海口", "2026Q3", actor=CITY)
    tracker.approve("海口", "2026Q3", actor=PROVINCE_GOV)
    assert refused(tracker.approve, "海口", "2026Q3", actor=Actor("ndrc", "国家发展改革委")).code == "forbidden"
    assert tracker.approve("海口", "2026Q3", actor=tracker.actor("drc", "省发展改革委")).state == "accepted"
    with pytest.raises(EntryError, match="ask 省发展改革委 to unlock it"):
        tracker.record("elderly_care_beds", "海口", "2026Q3", 9900, entered_by="hk", correct=True)
    tracker.record("elderly_care_beds", "三亚", "2026Q3", 5000, entered_by="sy")  # another unit: open
