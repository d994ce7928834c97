"""`tracker submit`, `approve`, `return`, `unlock`, `approvals` and the previews of `tracker
status` and `tracker report`, through click's runner on the test database, with the clock
frozen in Asia/Shanghai."""

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from freezegun import freeze_time

from tracker.cli.main import cli

DAY1, DAY2, DAY3 = "2026-03-02T10:00:00+08:00", "2026-03-03T10:00:00+08:00", "2026-03-05T10:00:00+08:00"


@pytest.fixture
def run(db_url, tmp_path, monkeypatch, small_model):
    """tracker … with a tracker.toml requiring approval (supervisor 省发展改革委)."""
    from tracker.targets.file import dump_model

    targets = tmp_path / "targets.yaml"
    targets.write_text(dump_model(small_model), encoding="utf-8")
    config = tmp_path / "tracker.toml"
    config.write_text(f'[tracker]\ntargets_path = "{targets}"\nreports_dir = "{tmp_path / "reports"}"\n'
                      '[approval]\nrequired = true\nsupervisors = ["省发展改革委"]\n', encoding="utf-8")
    monkeypatch.setenv("TRACKER_CONFIG", str(config))
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


def status_of(run: Any, *extra: str) -> str:
    out = run("status", "--json", "--as-of", "2026-03-03", *extra)
    data = json.loads(out.output)
    item = next(s for s in data["statuses"] if s["item_id"] == "universities_each")
    return next(r["code"] for r in item["regions"] if r["region"] == "460105")


def test_a_submission_through_the_commands_from_entry_to_lock_and_unlock(run):
    with freeze_time(DAY1) as frozen:
        assert run("record", "senior_universities", "秀英区", "2025", "20", "--by", "xy").exit_code == 0
        out = run("submit", "2025", "--as", "秀英区", "--by", "xy")
        assert out.exit_code == 0 and "提交：秀英区 2025（现为「已提交」）" in out.output
        refused = run("approve", "2025", "秀英区", "--as", "秀英区")
        assert refused.exit_code == 1 and "不能审核本单位的数据" in refused.output
        assert run("approvals", "--as", "三亚").output == "（无）\n"  # not Sanya's to review
        queue = run("approvals", "--as", "海口")
        assert "2025  秀英区  已提交  1 项" in queue.output
        no_reason = run("return", "2025", "秀英区", "--as", "海口", "--by", "hk")
        assert no_reason.exit_code == 1 and "退回须说明原因" in no_reason.output
        back = run("return", "2025", "秀英区", "--as", "海口", "--by", "hk", "--reason", "多填了一个0")
        assert back.exit_code == 0 and "退回：秀英区 2025（现为「填报中」）" in back.output
        assert "退回原因：多填了一个0" in run("approvals", "--unit", "秀英区").output
        frozen.move_to(DAY2)
        assert run("record", "senior_universities", "秀英区", "2025", "2", "--correct", "--by", "xy").exit_code == 0
        assert run("submit", "2025", "--as", "秀英区", "--by", "xy").exit_code == 0
        out = run("approve", "2025", "秀英区", "--as", "海口", "--by", "hk")
        assert out.exit_code == 0 and "审核通过：秀英区 2025（现为「已审核」）" in out.output
        out = run("approve", "2025", "--all", "--as", "省发展改革委", "--by", "boss")
        assert out.exit_code == 0 and "上报确认：秀英区 2025（现为「已上报（已锁定）」）" in out.output
        locked = run("record", "senior_universities", "秀英区", "2025", "3", "--correct", "--by", "xy")
        assert locked.exit_code == 1 and "已上报并锁定，不能修改；如需修改，请省发展改革委解锁" in locked.output
        assert "未写入任何数据" in locked.output
        no_reason = run("unlock", "2025", "秀英区", "--as", "省发展改革委")
        assert no_reason.exit_code == 1 and "解锁须说明原因" in no_reason.output
        not_yours = run("unlock", "2025", "秀英区", "--as", "海口", "--reason", "更正")
        assert not_yours.exit_code == 1 and "只有规划的监督单位可以解锁" in not_yours.output
        opened = run("unlock", "2025", "秀英区", "--as", "省发展改革委", "--by", "boss", "--reason", "统计局更正")
        assert opened.exit_code == 0 and "解锁：秀英区 2025（现为「填报中」）" in opened.output
        assert run("record", "senior_universities", "秀英区", "2025", "3", "--correct", "--by", "xy").exit_code == 0
        history = run("approvals", "--history", "秀英区", "2025").output.splitlines()
        assert [line.split("  ")[1] for line in history] == ["提交", "退回", "提交", "审核通过", "上报确认", "解锁"]
        assert history[1].endswith("hk（460100）  多填了一个0")
        listed = json.loads(run("approvals", "--json").output)
        assert [(r["unit"], r["state"], r["last_action"]) for r in listed] == [("460105", "draft", "unlock")]


def test_bad_input_is_refused_with_what_is_accepted(run):
    with freeze_time(DAY1):
        unknown = run("submit", "2025", "--as", "杭州")
        assert unknown.exit_code == 1 and "既不是责任单位也不是本规划的地区" in unknown.output
        bad_period = run("submit", "2025-06-31", "--as", "秀英区")
        assert bad_period.exit_code == 1 and "可填：2026-11、2026Q3、2025" in bad_period.output
        empty = run("submit", "2025", "--as", "秀英区")
        assert empty.exit_code == 1 and "没有可提交的数值" in empty.output
        both = run("approve", "2025", "秀英区", "--all", "--as", "海口")
        assert both.exit_code == 2 and "二选一" in both.output
        english = run("approve", "2025", "秀英区", "--as", "海口", "--lang", "en")
        assert english.exit_code == 1 and "has not been submitted" in english.output


def test_someone_acting_first_exits_4_and_says_what_it_became(run, monkeypatch):
    from tracker.store import approvals as db

    real = db.transition

    def another_approver_first(engine: Any, key: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(db, "transition", real)
        real(engine, key, **{**kwargs, "to_state": "draft", "action": "return", "actor": "hn", "actor_unit": "460000",
                             "reason": "口径不一致"})
        return real(engine, key, **kwargs)

    with freeze_time(DAY1):
        run("record", "senior_universities", "秀英区", "2025", "2", "--by", "xy")
        run("submit", "2025", "--as", "秀英区", "--by", "xy")
        monkeypatch.setattr(db, "transition", another_approver_first)
        out = run("approve", "2025", "秀英区", "--as", "海口", "--by", "hk")
    assert out.exit_code == 4
    assert "秀英区 2025 已被hn先行处理，现为「填报中」；未作更改" in out.output


def test_status_and_report_count_approved_figures_and_preview_the_submitted(run, tmp_path):
    with freeze_time(DAY1) as frozen:
        run("record", "senior_universities", "秀英区", "2025", "2", "--by", "xy")
        frozen.move_to(DAY2)
        run("submit", "2025", "--as", "秀英区", "--by", "xy")
        assert status_of(run) == "overdue"
        assert status_of(run, "--preview") == "achieved"
        table = run("status", "--as-of", "2026-03-03", "--preview").output
        assert "预览：计入已提交未审核的数据（1 项含未审核数据）" in table and "（1 个地区数据未审核）" in table
        official = run("report", "--as-of", "2026-03-03")
        preview = run("report", "--as-of", "2026-03-03", "--preview")
        assert Path(preview.output.strip()) == tmp_path / "reports" / "preview" / "2026-03.html"
        assert "只计入已审核的数据" in Path(official.output.strip()).read_text(encoding="utf-8")
        assert "预览：本报告计入了已提交但尚未审核的数据" in Path(preview.output.strip()).read_text(encoding="utf-8")
        frozen.move_to(DAY3)
        run("approve", "2025", "秀英区", "--as", "海口", "--by", "hk")
        assert status_of(run) == "overdue"  # as of the 3rd, before the approval
        out = run("status", "--json", "--as-of", "2026-03-05")
        item = next(s for s in json.loads(out.output)["statuses"] if s["item_id"] == "universities_each")
        assert next(r["code"] for r in item["regions"] if r["region"] == "460105") == "achieved"
