"""`tracker extract FILE --region CODE`: a region's plan drafted from what its document says,
options asked for by name where it is silent, and `--against` showing what a new document adds
or changes with the source sentence beside each target."""

import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from click.testing import CliRunner

from tracker.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "documents"
SEEDS = [str(ROOT / "sources" / "national-task-table.txt"), str(ROOT / "sources" / "hainan-task-table.txt")]
PROVINCE, CITY = str(FIXTURES / "liaoning-plan.txt"), str(FIXTURES / "city-plan.txt")


def _run(*args: str):
    return CliRunner().invoke(cli, ["extract", *args])


def test_a_province_plan_is_drafted_from_what_its_document_says():
    result = _run(PROVINCE, "--region", "210000")
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(result.stdout)
    [plan] = data["plans"]
    assert plan == {"id": "liaoning-plan", "title": "辽宁省“十四五”促进养老托育服务健康发展实施方案",
                    "issuer": "辽宁省人民政府办公厅", "level": "province", "region": "210000",
                    "start": plan["start"], "end": plan["end"], "source": "sources/liaoning-plan.txt",
                    "coverage": {"region": "210000 辽宁省"}}  # written out for the reviewer to add exclusions
    assert (str(plan["start"]), str(plan["end"])) == ("2021-01-01", "2025-12-31")
    assert "（文件 document）" in result.stderr and "选项 option" not in result.stderr
    binding = [t["id"] for t in data["targets"] if t.get("attribute") == "binding"]
    assert binding == ["liaoning-plan-17-nursing_bed_share", "liaoning-plan-20-ind_cc88a6a8"]


def test_what_the_document_does_not_say_is_asked_for_by_option(tmp_path):
    out = tmp_path / "city.yaml"
    result = _run(CITY, "--region", "419900", "-o", str(out))
    assert result.exit_code == 1 and not out.exists()
    assert "--issuer：文件中没有写发文单位" in result.output and "pass --issuer, e.g. --issuer 沈阳市人民政府" in result.output
    assert "--period：文件中没有写规划期" in result.output and "pass --period" in result.output
    assert "--title" not in result.output and "--level" not in result.output  # the document and the code say those
    again = _run(CITY, "--region", "419900", "--issuer", "示例市人民政府", "--period", "2021-2025", "-o", str(out))
    assert again.exit_code == 0, again.output
    [plan] = yaml.safe_load(out.read_text(encoding="utf-8"))["plans"]
    assert (plan["level"], plan["issuer"], plan["title"]) == ("city", "示例市人民政府", "关于推进“一老一小”整体解决方案的实施意见")
    assert "city（代码/默认 code）" in again.stderr and "示例市人民政府（选项 option）" in again.stderr


def test_a_fifteenth_five_year_plan_gets_its_period_and_deadlines_from_the_document(tmp_path):
    doc = tmp_path / "province-2026.txt"
    doc.write_text("辽宁省“十五五”养老服务体系规划\n主要指标\n"
                   "序号\t指标\t单位\t2025年基期值\t2030年目标值\t属性\n"
                   "1\t养老机构护理型床位占比\t%\t65\t73\t约束性\n", encoding="utf-8")
    result = _run(str(doc), "--region", "210000", "--plan-id", "liaoning-2026")
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(result.stdout)
    assert (str(data["plans"][0]["start"]), str(data["plans"][0]["end"])) == ("2026-01-01", "2030-12-31")
    assert data["plans"][0]["issuer"] == "辽宁省人民政府"  # the title names the province, no issuer line
    [target] = data["targets"]
    assert (target["id"], str(target["deadline"]), target["baseline"], target["baseline_period"], target["attribute"]) == (
        "liaoning-2026-1-nursing_bed_share", "2030-12-31", 65.0, "2025", "binding")


def test_a_document_and_a_code_that_disagree_on_the_level_are_refused():
    result = _run(PROVINCE, "--region", "210100")
    assert result.exit_code == 1
    assert "--level：文件写的是省级（辽宁省），但 210100 是市级代码" in result.output and "check --region" in result.output
    assert _run(PROVINCE, "--region", "210100", "--level", "province").exit_code == 0


def test_region_codes_and_plan_ids_are_checked():
    bad = _run(PROVINCE, "--region", "2100")
    assert bad.exit_code == 1 and "6 位行政区划代码" in bad.output and "6-digit division code" in bad.output
    assert "county-level" in _run(PROVINCE, "--region", "210102").output


def test_a_file_name_that_is_no_plan_id_asks_for_one(tmp_path):
    chinese = tmp_path / "辽宁方案.txt"
    shutil.copy(PROVINCE, chinese)
    result = _run(str(chinese), "--region", "210000")
    assert result.exit_code == 1 and "--plan-id" in result.output and "'辽宁方案'" in result.output
    assert _run(str(chinese), "--region", "210000", "--plan-id", "liaoning").exit_code == 0


def test_plan_options_need_a_region_and_a_region_needs_one_file():
    assert "give --region CODE as well" in _run(PROVINCE, "--issuer", "x").output
    assert "--region drafts one plan from one file" in _run(PROVINCE, CITY, "--region", "210000").output
    assert "write the period as YYYY-YYYY" in _run(PROVINCE, "--period", "soon").output


def test_against_shows_what_a_new_plan_adds_with_its_source_sentences():
    result = _run(PROVINCE, "--region", "210000", "--against", str(ROOT / "targets.yaml"))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "+ 24 tasks of plan liaoning-plan (#1–#24)" in lines
    assert ("+ target liaoning-plan-17-nursing_bed_share: 养老机构护理型床位占比 不低于 55%，截止 2025-12-31，约束性"
            "  ← 「养老机构护理型床位占比：2020年基期值 —，2025年目标值 55，约束性」") in lines
    assert ("+ target liaoning-plan-2-childcare_places_per_1000_residents: 每千人口拥有3岁以下婴幼儿托位数 不低于 4.5个托位/千人，"
            "截止 2025-12-31，基期 3，力争  ← 「到2025年，全省常住人口每千人拥有3岁以下托位数力争从3个达到4.5个」") in lines
    # indicators Hainan already has are reused, not differences; Hainan's own items are not "removed"
    assert any(line.startswith("= indicator nursing_bed_share: ") and "hainan" in line for line in lines)
    assert not any(line.startswith("- ") for line in lines)
    assert any(line.startswith("+ indicator ") and "新指标 new indicator" in line for line in lines)
    count = int(lines[0].split(": ")[1].split()[0])
    assert count == sum(1 for line in lines[1:] if line[:1] in "+-~")


def test_hainan_re_extraction_shows_only_the_two_reviewed_titles():
    result = _run(*SEEDS, "--against", str(ROOT / "targets.yaml"))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].endswith(": 2 difference(s)")
    assert [line.split(":")[0] for line in lines[1:]] == ["~ plan national", "~ plan hainan"]


def test_help_does_not_import_the_document_libraries():
    code = ("import sys; from tracker.cli.main import cli\n"
            "try:\n    cli(['extract', '--help'])\nexcept SystemExit:\n    pass\n"
            "print('HEAVY', [m for m in ('docx', 'pdfplumber', 'pdfminer', 'lxml') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out and "--region CODE" in out


def test_a_plan_after_a_reviewed_one_of_its_region_is_drafted_to_follow_it(tmp_path):
    """With --against a reviewed file holding the region's 十四五 plan, the 十五五 draft says
    it follows it (its targets without a baseline start from its final values), and says so."""
    reviewed = tmp_path / "targets.yaml"
    first = _run(PROVINCE, "--region", "210000", "--plan-id", "liaoning-14", "-o", str(reviewed))
    assert first.exit_code == 0, first.output
    draft = tmp_path / "liaoning-15.yaml"
    result = _run(PROVINCE, "--region", "210000", "--plan-id", "liaoning-15", "--period", "2026-2030",
                  "--against", str(reviewed), "-o", str(draft))
    assert result.exit_code == 0, result.output
    [plan] = yaml.safe_load(draft.read_text(encoding="utf-8"))["plans"]
    assert plan["follows"] == "liaoning-14" and str(plan["start"]) == "2026-01-01"
    assert "liaoning-15 接续 follows liaoning-14" in result.stderr
    # a plan of another region, or one starting years later, follows nothing
    other = _run(PROVINCE, "--region", "210100", "--level", "city", "--plan-id", "shenyang-15", "--period",
                 "2026-2030", "--against", str(reviewed))
    assert "接续" not in other.stderr
    later = _run(PROVINCE, "--region", "210000", "--plan-id", "liaoning-17", "--period", "2036-2040",
                 "--against", str(reviewed))
    assert "接续" not in later.stderr
