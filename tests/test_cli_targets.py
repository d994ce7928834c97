"""The targets commands, through click's runner, and the CLI's start-up cost."""

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from tracker.cli.main import COMMANDS, cli

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [str(ROOT / "sources" / "national-task-table.txt"), str(ROOT / "sources" / "hainan-task-table.txt")]


def test_help_does_not_import_heavy_libraries():
    code = ("import sys; from tracker.cli.main import cli\n"
            "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('pint', 'sqlmodel', 'sqlalchemy', 'apscheduler', 'openpyxl', 'jinja2') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out


def test_every_command_has_help_text():
    runner = CliRunner()
    for name in COMMANDS:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert len(result.output.splitlines()) > 3, name


def test_extract_to_stdout_then_refuses_to_overwrite_a_reviewed_file(tmp_path):
    runner = CliRunner()
    out = runner.invoke(cli, ["extract", *SOURCES])
    assert out.exit_code == 0 and "hainan-6-elderly_care_beds_per_1000_elderly" in out.output
    reviewed = tmp_path / "targets.yaml"
    reviewed.write_text(out.output.replace("value: 32.0", "value: 33.0"), encoding="utf-8")
    again = runner.invoke(cli, ["extract", *SOURCES, "-o", str(reviewed)])
    assert again.exit_code == 1
    assert "value: reviewed 33.0, extracted 32.0" in again.output
    assert "value: 33.0" in reviewed.read_text(encoding="utf-8")


def test_targets_lists_and_filters(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["targets", "--file", str(ROOT / "targets.yaml"), "--year", "2022", "--show", "targets"])
    assert result.exit_code == 0
    assert "老年大学" in result.output and "每千名老年人口" not in result.output
    by_unit = runner.invoke(cli, ["targets", "--file", str(ROOT / "targets.yaml"), "--unit", "省教育厅", "--show", "tasks"])
    assert "hainan#15" in by_unit.output and "hainan#6 " not in by_unit.output


def test_check_reports_problems_with_lines(tmp_path):
    bad = tmp_path / "t.yaml"
    bad.write_text((ROOT / "targets.yaml").read_text(encoding="utf-8").replace("comparator: '>='", "comparator: '≈'", 1),
                   encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(bad)])
    assert result.exit_code == 1 and "comparator" in result.output and "line " in result.output


def test_demo_loads_the_sample_into_its_own_database_and_writes_a_report(tmp_path):
    url = f"sqlite:///{tmp_path / 'sample.db'}"
    args = ["demo", "--database-url", url, "--examples", str(ROOT / "examples"), "--out", str(tmp_path / "r")]
    runner = CliRunner()
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    report = Path(first.output.strip().splitlines()[-1])
    assert report.exists() and report.parent == tmp_path / "r"
    assert "示例数据" in report.read_text(encoding="utf-8")
    again = runner.invoke(cli, args)
    assert again.exit_code == 0 and "hainan-sample-values.csv: 0 new" in again.output


def test_a_database_that_cannot_be_opened_is_a_message_not_a_traceback(tmp_path):
    env = {"TRACKER_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "tracker", "runs"], env=env, capture_output=True, text=True,
                            cwd=tmp_path)
    assert result.returncode == 2
    assert "cannot use the database" in result.stderr and "Traceback" not in result.stderr
