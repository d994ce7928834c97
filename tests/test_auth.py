"""Accounts, passwords, sessions, the sign-in rate limit and the permission rules
(tracker.web.auth), on the test database (SQLite, or PostgreSQL with TRACKER_TEST_DATABASE_URL)."""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tracker.domain.regions import load_regions
from tracker.store.tables import user_table
from tracker.web import auth
from tracker.web.auth import LoginLimits, User

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
REGIONS = load_regions()


def test_password_is_stored_as_an_argon2id_hash_never_in_clear(engine, small_model):
    auth.add_user(engine, "mca", "s3cret-pass", "reporter", department="省民政厅", model=small_model, now=NOW)
    with engine.connect() as conn:
        stored = conn.execute(select(user_table.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert "s3cret-pass" not in stored
    assert auth.verify_password(stored, "s3cret-pass")
    assert not auth.verify_password(stored, "s3cret-pasS")
    assert not auth.verify_password("not a hash", "s3cret-pass")
    # the same password hashes differently each time (a random salt)
    assert auth.hash_password("s3cret-pass") != auth.hash_password("s3cret-pass")


def test_sign_in_accepts_the_right_password_and_refuses_wrong_unknown_and_disabled(engine, small_model):
    auth.add_user(engine, "mca", "s3cret-pass", "reporter", department="省民政厅", model=small_model, now=NOW)
    assert auth.sign_in(engine, "mca", "s3cret-pass", now=NOW).ok
    assert auth.sign_in(engine, "mca", "wrong-pass", now=NOW).outcome == "failed"
    assert auth.sign_in(engine, "nobody", "s3cret-pass", now=NOW).outcome == "failed"
    auth.set_active(engine, "mca", False, NOW)
    assert auth.sign_in(engine, "mca", "s3cret-pass", now=NOW).outcome == "failed"
    outcomes = [(e["actor"], e["action"], e["outcome"]) for e in reversed(auth.list_audit(engine))]
    assert outcomes == [("mca", "login", "ok"), ("mca", "login", "failed"), ("nobody", "login", "failed"),
                        ("mca", "login", "failed")]


def test_rate_limit_after_five_failures_until_the_window_passes(engine, small_model):
    auth.add_user(engine, "mca", "s3cret-pass", "reporter", department="省民政厅", model=small_model, now=NOW)
    limits = LoginLimits(max_failures=5, window=timedelta(minutes=15))
    for i in range(5):
        assert auth.sign_in(engine, "mca", "guess", now=NOW + timedelta(seconds=i), limits=limits).outcome == "failed"
    # the right password no longer helps while limited
    assert auth.sign_in(engine, "mca", "s3cret-pass", now=NOW + timedelta(minutes=1), limits=limits).outcome == "limited"
    assert auth.list_audit(engine, outcome="limited")[0]["actor"] == "mca"
    later = NOW + timedelta(minutes=17)
    assert auth.sign_in(engine, "mca", "s3cret-pass", now=later, limits=limits).ok


def test_a_success_clears_the_earlier_failures(engine, small_model):
    auth.add_user(engine, "mca", "s3cret-pass", "reporter", department="省民政厅", model=small_model, now=NOW)
    limits = LoginLimits(max_failures=3)
    for i in range(2):
        auth.sign_in(engine, "mca", "guess", now=NOW + timedelta(seconds=i), limits=limits)
    assert auth.sign_in(engine, "mca", "s3cret-pass", now=NOW + timedelta(seconds=5), limits=limits).ok
    for i in range(2):
        auth.sign_in(engine, "mca", "guess", now=NOW + timedelta(seconds=10 + i), limits=limits)
    assert auth.sign_in(engine, "mca", "s3cret-pass", now=NOW + timedelta(seconds=20), limits=limits).ok


def test_rate_limit_per_address_stops_guessing_many_names(engine):
    limits = LoginLimits(max_failures=100, ip_max_failures=4, ip_window=timedelta(minutes=5))
    for i in range(4):
        auth.sign_in(engine, f"user{i}", "guess", ip="10.0.0.9", now=NOW, limits=limits)
    assert auth.sign_in(engine, "someone", "guess", ip="10.0.0.9", now=NOW, limits=limits).outcome == "limited"
    assert auth.sign_in(engine, "someone", "guess", ip="10.0.0.10", now=NOW, limits=limits).outcome == "failed"
    # the address's lock is short
    later = NOW + timedelta(minutes=5, seconds=1)
    assert auth.sign_in(engine, "someone", "guess", ip="10.0.0.9", now=later, limits=limits).outcome == "failed"


def _accounts(engine, model, *names):
    for name, department in names:
        auth.add_user(engine, name, "s3cret-pass", "reporter" if department else "supervisor", department=department,
                      model=model, now=NOW)


@pytest.fixture
def cheap_hashes(monkeypatch):
    """Fast argon2id parameters where a test signs in many times (the costs are checked above)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(auth, "_DUMMY_HASH", None)


def test_a_spray_of_fifty_names_from_one_address_leaves_other_accounts_signing_in(engine, small_model, cheap_hashes):
    _accounts(engine, small_model, ("boss", ""), ("mca", "省民政厅"))
    office = "10.1.2.3"
    for i in range(50):  # one wrong password for each of fifty names, from the office's one address
        auth.sign_in(engine, f"name{i}", "Summer2026", ip=office, now=NOW + timedelta(seconds=i))
    after = NOW + timedelta(seconds=55)
    # the address is throttled: a wrong password from it is refused as limited, with a short wait …
    wrong = auth.sign_in(engine, "name0", "Winter2026", ip=office, now=after)
    assert wrong.outcome == "limited" and wrong.locked == "address"
    assert 0 < wrong.retry_after <= 5 * 60
    # … but the supervisor in that office signs in with the right password, and so does a
    # colleague from elsewhere: the spray locked neither of them out
    assert auth.sign_in(engine, "boss", "s3cret-pass", ip=office, now=after).ok
    assert auth.sign_in(engine, "mca", "s3cret-pass", ip="10.9.9.9", now=after).ok
    # that success lifted the address's lock: failures count again from it
    assert auth.sign_in(engine, "name1", "Autumn2026", ip=office, now=after + timedelta(seconds=1)).outcome == "failed"


def test_an_accounts_lock_holds_that_account_only_and_says_how_long(engine, small_model, cheap_hashes):
    _accounts(engine, small_model, ("boss", ""), ("mca", "省民政厅"))
    limits = LoginLimits(max_failures=5, window=timedelta(minutes=15))
    for i in range(5):
        auth.sign_in(engine, "boss", "guess", ip="10.0.0.1", now=NOW + timedelta(minutes=i), limits=limits)
    locked = auth.sign_in(engine, "boss", "s3cret-pass", ip="10.0.0.1", now=NOW + timedelta(minutes=5), limits=limits)
    assert locked.outcome == "limited" and locked.locked == "account"
    assert locked.retry_after == 10 * 60  # until the first of the five failures leaves the 15 minutes
    # another account, from the same address, is not held by it
    assert auth.sign_in(engine, "mca", "s3cret-pass", ip="10.0.0.1", now=NOW + timedelta(minutes=5), limits=limits).ok
    for minute in (6, 7):  # refused attempts count too: hammering the account keeps it shut
        auth.sign_in(engine, "boss", "guess", ip="10.9.9.9", now=NOW + timedelta(minutes=minute), limits=limits)
    later = NOW + timedelta(minutes=16, seconds=1)
    still = auth.sign_in(engine, "boss", "s3cret-pass", ip="10.0.0.1", now=later, limits=limits)
    assert still.outcome == "limited" and still.retry_after == 119  # the failures from 3 min on: until 18 min
    assert auth.sign_in(engine, "boss", "s3cret-pass", ip="10.0.0.1", now=NOW + timedelta(minutes=23),
                        limits=limits).ok


def test_rate_limit_holds_across_processes(engine, db_url, small_model):
    """Failures recorded by another process (another server worker) count here."""
    auth.add_user(engine, "mca", "s3cret-pass", "reporter", department="省民政厅", model=small_model, now=NOW)
    code = ("import sys; from datetime import datetime; from tracker.web import auth; from tracker import store as db; "
            "e = db.get_engine(sys.argv[1]); now = datetime.fromisoformat(sys.argv[2]); "
            "[auth.sign_in(e, 'mca', 'guess', now=now) for _ in range(5)]")
    subprocess.run([sys.executable, "-c", code, db_url, NOW.isoformat()], check=True, env=os.environ.copy())
    assert auth.sign_in(engine, "mca", "s3cret-pass", now=NOW + timedelta(minutes=1)).outcome == "limited"


def test_session_cookie_is_signed_and_expires():
    codec = auth.SessionCodec("k" * 40, timedelta(hours=8))
    session = auth.new_session(NOW, user_id=7)
    text = codec.dumps(session)
    assert codec.loads(text, NOW + timedelta(hours=7, minutes=59)) == session
    assert codec.loads(text, NOW + timedelta(hours=8, seconds=1)) is None
    assert codec.loads(text[:-2] + ("A" if text[-2] != "A" else "B") + text[-1], NOW) is None  # altered
    assert auth.SessionCodec("other key" * 5, timedelta(hours=8)).loads(text, NOW) is None  # forged
    assert codec.loads("", NOW) is None and codec.loads("garbage", NOW) is None


def test_csrf_token_must_match_the_session():
    session = auth.new_session(NOW)
    assert auth.csrf_ok(session, session.csrf)
    assert not auth.csrf_ok(session, auth.new_session(NOW).csrf)
    assert not auth.csrf_ok(session, "")
    assert not auth.csrf_ok(session, None)
    assert not auth.csrf_ok(None, session.csrf)


def test_the_cookie_key_is_made_once_and_shared(engine):
    first = auth.session_secret(engine, now=NOW)
    assert len(first) >= 40 and auth.session_secret(engine, now=NOW) == first
    assert auth.session_secret(engine, "from-the-environment", now=NOW) == "from-the-environment"


def test_sign_out_voids_sessions_issued_before_it(engine, small_model):
    user = auth.add_user(engine, "mca", "s3cret-pass", "reporter", department="省民政厅", model=small_model, now=NOW)
    old = auth.new_session(NOW, user.id)
    auth.end_sessions(engine, user.id, NOW + timedelta(minutes=5))
    fresh = auth.get_user(engine, user.id)
    assert not fresh.accepts(old)
    assert fresh.accepts(auth.new_session(NOW + timedelta(minutes=6), user.id))


@pytest.mark.parametrize("kwargs, message", [
    ({"username": "a b"}, "用户名"),
    ({"password": "short"}, "密码至少"),
    ({"role": "admin"}, "角色"),
    ({"department": ""}, "二选一"),
    ({"region": "海口"}, "二选一"),
    ({"department": "省外事办"}, "不是目标文件中的责任单位"),
    ({"department": "", "region": "三沙"}, "未知地区"),
    ({"role": "viewer"}, "只有填报用户"),
])
def test_new_accounts_are_checked(engine, small_model, kwargs, message):
    args = {"username": "mca", "password": "s3cret-pass", "role": "reporter", "department": "省民政厅", **kwargs}
    with pytest.raises(auth.UserError) as exc:
        auth.add_user(engine, args.pop("username"), args.pop("password"), args.pop("role"), model=small_model,
                      now=NOW, **args)
    assert message in exc.value.zh


def test_usernames_are_unique(engine, small_model):
    auth.add_user(engine, "mca", "s3cret-pass", "reporter", department="省民政厅", model=small_model, now=datetime.now(UTC))
    with pytest.raises(auth.UserError, match="exists"):
        auth.add_user(engine, "mca", "s3cret-pass", "viewer", model=small_model, now=datetime.now(UTC))


def test_a_department_is_stored_by_its_one_name(engine, small_model):
    user = auth.add_user(engine, "mca", "s3cret-pass", "reporter", department="海南省民政厅", model=small_model, now=NOW)
    assert user.department == "省民政厅"


def test_a_region_is_stored_by_its_code(engine, small_model):
    user = auth.add_user(engine, "hk", "s3cret-pass", "reporter", region="Haikou", model=small_model, now=datetime.now(UTC))
    assert user.region == "460100" and auth.find_user(engine, "hk").region == "460100"


# ---------------------------------------------------------------------------------------
# Permission rules (pure)


def _u(role: str = "reporter", department: str = "", region: str = "", active: bool = True) -> User:
    return User(1, "u", role, "", department, region, active)


def test_a_region_reporter_writes_its_region_and_its_districts_only(small_model):
    hk = _u(region="460100")
    beds = small_model.indicator("elderly_care_beds")
    assert auth.may_write_value(hk, beds, "460100", REGIONS)
    assert auth.may_write_value(hk, beds, "460106", REGIONS)  # 龙华区, a district of Haikou
    assert not auth.may_write_value(hk, beds, "460200", REGIONS)  # Sanya
    assert not auth.may_write_value(hk, beds, "460000", REGIONS)  # the province
    assert {r.code for r in auth.writable_regions(hk, REGIONS)} == {"460100", "460105", "460106", "460107", "460108"}


def test_a_department_reporter_writes_its_own_indicators_in_any_region(small_model):
    mca = _u(department="省民政厅")
    assert auth.may_write_value(mca, small_model.indicator("elderly_care_beds"), "460200", REGIONS)
    assert auth.may_write_value(mca, small_model.indicator("elderly_care_beds"), "460000", REGIONS)
    assert not auth.may_write_value(mca, small_model.indicator("childcare_enrollment_rate"), "460000", REGIONS)
    assert {i.id for i in auth.writable_indicators(mca, small_model)} == {
        "elderly_care_trainees", "elderly_care_beds", "elderly_care_beds_per_1000_elderly"}


def test_viewers_and_disabled_accounts_write_nothing(small_model):
    beds = small_model.indicator("elderly_care_beds")
    for user in (_u("viewer"), _u(region="460100", active=False), _u("supervisor", active=False)):
        assert not auth.may_write_value(user, beds, "460100", REGIONS)
        assert auth.writable_indicators(user, small_model) == []
        assert auth.reportable_milestones(user, small_model) == []
        assert not auth.may_report_progress(user, small_model, "hainan-m1", "省民政厅", REGIONS)


def test_the_supervisor_may_write_and_report_anything(small_model):
    boss = _u("supervisor")
    assert auth.may_write_value(boss, small_model.indicator("senior_universities"), "469001", REGIONS)
    assert auth.may_report_progress(boss, small_model, "hainan-m2", "省教育厅", REGIONS)


def test_milestones_go_to_the_lead_and_joint_units_not_participants(small_model):
    mca, health, edu = _u(department="省民政厅"), _u(department="省卫生健康委"), _u(department="省教育厅")
    assert [m.id for m in auth.reportable_milestones(mca, small_model)] == ["hainan-m1"]  # task 1: lead
    assert auth.reportable_milestones(health, small_model) == []  # task 1: only participating
    assert auth.may_report_progress(edu, small_model, "hainan-m2", "省教育厅", REGIONS)
    assert not auth.may_report_progress(edu, small_model, "hainan-m1", "省教育厅", REGIONS)
    assert not auth.may_report_progress(mca, small_model, "hainan-m1", "省教育厅", REGIONS)  # as someone else


def test_region_reporters_report_milestones_of_tasks_local_governments_carry_out(small_model):
    from dataclasses import replace

    from tracker.domain.model import ResponsibleUnit

    task = replace(small_model.tasks[1], units=(ResponsibleUnit("省教育厅", "lead"),
                                                ResponsibleUnit("各市县政府", "local")))
    model = replace(small_model, tasks=[small_model.tasks[0], task])
    hk = _u(region="460100")
    assert [m.id for m in auth.reportable_milestones(hk, model)] == ["hainan-m2"]
    assert auth.may_report_progress(hk, model, "hainan-m2", "海口", REGIONS)
    assert not auth.may_report_progress(hk, model, "hainan-m2", "三亚", REGIONS)
    assert not auth.may_report_progress(hk, model, "hainan-m1", "460100", REGIONS)


# ---------------------------------------------------------------------------------------
# tracker users


def test_users_command_adds_lists_and_disables(engine, tmp_path, small_model, monkeypatch):
    from tracker.cli.main import cli
    from tracker.targets.file import dump_model

    (tmp_path / "targets.yaml").write_text(dump_model(small_model), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["users", "add", "hk", "--role", "reporter", "--region", "海口", "--password-stdin"],
                           input="s3cret-pass\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["users", "add", "xx", "--role", "reporter", "--department", "不存在的厅",
                                 "--password-stdin"], input="s3cret-pass\n")
    assert result.exit_code == 1 and "不是目标文件中的责任单位" in result.output
    assert "hk\treporter\t460100\tactive" in runner.invoke(cli, ["users", "list"]).output
    assert runner.invoke(cli, ["users", "disable", "hk"]).exit_code == 0
    assert "hk\treporter\t460100\tdisabled" in runner.invoke(cli, ["users", "list"]).output
    assert not auth.sign_in(engine, "hk", "s3cret-pass", now=datetime.now(UTC)).ok
    assert runner.invoke(cli, ["users", "disable", "nobody"]).exit_code == 1
    actions = [e["action"] for e in auth.list_audit(engine) if e["actor"] == "cli"]
    assert actions == ["user_disable", "user_add"]


# ---------------------------------------------------------------------------------------
# View scope (pure): what each account reads beyond the published reports


def _web(**kw):
    from tracker.config import WebSettings

    return WebSettings(**kw)


def test_a_reporter_reads_its_own_regions_or_departments_cells_and_the_province_figure(small_model):
    beds, rate = small_model.indicator("elderly_care_beds"), small_model.indicator("childcare_enrollment_rate")
    hk, mca, web = _u(region="460100"), _u(department="省民政厅"), _web()
    assert auth.may_view_cell(hk, beds, "460100", REGIONS, web)
    assert auth.may_view_cell(hk, rate, "460106", REGIONS, web)  # its district, any indicator
    assert not auth.may_view_cell(hk, beds, "460200", REGIONS, web)  # Sanya's revisions are not Haikou's to read
    assert auth.may_view_cell(hk, beds, "460000", REGIONS, web)  # the province figure is in the published report
    assert auth.may_view_cell(mca, beds, "460200", REGIONS, web)  # its own indicator, anywhere
    assert not auth.may_view_cell(mca, rate, "460200", REGIONS, web)  # another department's
    assert {r.code for r in auth.visible_regions(hk, beds, REGIONS, web)} == {
        "460000", "460100", "460105", "460106", "460107", "460108"}


def test_a_reporter_downloads_its_own_template_only(small_model):
    hk, mca, web = _u(region="460100"), _u(department="省民政厅"), _web()
    assert auth.may_view_template(hk, "海口", REGIONS, web) and auth.may_view_template(hk, "460100", REGIONS, web)
    assert not auth.may_view_template(hk, "三亚", REGIONS, web)
    assert not auth.may_view_template(hk, "省民政厅", REGIONS, web)
    assert auth.may_view_template(mca, "海南省民政厅", REGIONS, web)  # a synonym of its own name
    assert not auth.may_view_template(mca, "省卫生健康委", REGIONS, web)
    assert auth.may_view_template(_u("supervisor"), "省卫生健康委", REGIONS, web)
    assert not auth.may_view_template(_u("viewer"), "省民政厅", REGIONS, web)  # viewers enter nothing


def test_view_scopes_are_configurable(small_model):
    beds = small_model.indicator("elderly_care_beds")
    hk, reader = _u(region="460100"), _u("viewer")
    assert auth.may_view_cell(reader, beds, "460200", REGIONS, _web())  # viewers read everything by default
    assert not auth.may_view_cell(reader, beds, "460200", REGIONS, _web(viewer_view="reports"))
    assert auth.may_view_cell(reader, beds, "460000", REGIONS, _web(viewer_view="reports"))
    assert auth.may_view_cell(hk, beds, "460200", REGIONS, _web(reporter_view="all"))
    assert auth.may_view_template(hk, "三亚", REGIONS, _web(reporter_view="all"))
    assert auth.may_view_cell(_u("supervisor"), beds, "460200", REGIONS, _web(reporter_view="own"))
    assert not auth.may_view_cell(_u(region="460100", active=False), beds, "460100", REGIONS, _web())


def test_a_view_scope_the_settings_do_not_know_is_refused_with_what_is_accepted():
    from tracker.config import ConfigError, settings_from_mapping

    with pytest.raises(ConfigError, match=r"reporter_view = 'mine'; accepted: own, all"):
        settings_from_mapping({"web": {"reporter_view": "mine"}})
    assert settings_from_mapping({"web": {"viewer_view": "reports"}}).web.viewer_view == "reports"
