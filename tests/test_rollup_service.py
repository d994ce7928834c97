"""The national roll-up through the service, the command and the report, on a real database:
Hainan's plan (every 市县 reporting), Guangdong's (3 of its 21 cities reporting), Zhejiang's
(no data), under the national plan; 山西省 has no plan loaded and entered its own figures.
Every figure is checked against the sums computed by hand here."""

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tracker.cli.main import cli
from tracker.config import Settings
from tracker.service import Tracker
from tracker.targets.file import model_to_data

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
NOW = datetime(2025, 3, 1, 4, 0, tzinfo=UTC)
AS_OF = date(2025, 3, 1)
HAINAN_UNITS = 19  # 18 市县 and 洋浦
GD = {"440100": (60_000, 2_000_000), "440300": (20_000, 1_000_000), "440400": (5_000, 250_000)}
SHANXI = ("140000", 150_000, 6_000_000)


def national_text(small_model) -> str:
    """targets.yaml: the small Hainan model, the national plan over it, Guangdong's fixture and
    a Zhejiang plan with a target and no data."""
    data = model_to_data(small_model)
    extra = yaml.safe_load((FIXTURES / "guangdong.yaml").read_text(encoding="utf-8"))
    for key, items in extra.items():
        data.setdefault(key, []).extend(items)
    data["plans"].insert(0, {"id": "national", "title": "国务院办公厅关于促进养老托育服务健康发展的意见",
                             "title_en": "State Council opinions on elderly care and childcare",
                             "issuer": "国务院办公厅", "level": "national", "region": "",
                             "start": date(2021, 1, 1), "end": date(2025, 12, 31), "source": "sources/national.txt"})
    data["plans"].append({"id": "zhejiang", "title": "浙江省实施方案（测试用）", "title_en": "Zhejiang plan (test)",
                          "issuer": "浙江省人民政府", "level": "province", "region": "330000",
                          "start": date(2021, 1, 1), "end": date(2025, 12, 31), "source": "tests/zhejiang.txt"})
    data["tasks"] += [
        {"plan": "national", "number": 1, "text": "完善养老服务体系", "units_text": "民政部", "lead": ["民政部"]},
        {"plan": "national", "number": 2, "text": "发展老年教育", "units_text": "教育部", "lead": ["教育部"]},
        {"plan": "zhejiang", "number": 1, "text": "浙江省完善养老服务体系", "units_text": "省民政厅", "lead": ["省民政厅"]}]
    for t in data["tasks"]:
        if (t["plan"], t["number"]) in (("hainan", 1), ("guangdong", 1)):
            t["implements"] = ["national#1"]
        if (t["plan"], t["number"]) == ("hainan", 2):
            t["implements"] = ["national#2"]
    data["targets"] += [
        {"id": "national-beds-2025", "plan": "national", "task": 1, "indicator": "elderly_care_beds_per_1000_elderly",
         "comparator": ">=", "value": 30, "unit": "bed / kiloperson", "deadline": date(2025, 12, 31)},
        {"id": "zj-beds-2025", "plan": "zhejiang", "task": 1, "indicator": "elderly_care_beds_per_1000_elderly",
         "comparator": ">=", "value": 33, "unit": "bed / kiloperson", "deadline": date(2025, 12, 31)}]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def write_values(engine, rows) -> None:
    from tracker.store.observations import insert_observations

    entered = datetime(2025, 2, 1, tzinfo=UTC)
    with engine.begin() as conn:
        insert_observations(conn, [{"indicator": ind, "region": code, "period": "2024", "period_end": date(2024, 12, 31),
                                    "value": float(v), "revision": 1, "note": "", "source": "test",
                                    "entered_by": "test", "entered_at": entered, "batch_id": None}
                                   for ind, code, v in rows])


@pytest.fixture
def tracker(db_url, engine, tmp_path, small_model):
    (tmp_path / "targets.yaml").write_text(national_text(small_model), encoding="utf-8")
    settings = Settings(database_url=db_url, targets_path=tmp_path / "targets.yaml", reports_dir=tmp_path / "reports")
    t = Tracker(settings, engine=engine, clock=lambda: NOW)
    rows = []
    for i, r in enumerate(t.plan_regions("hainan").counties(), start=1):
        rows += [("elderly_care_beds", r.code, 100 * i), ("elderly_population", r.code, 5_000 * i)]
    for code, (beds, elderly) in GD.items():
        rows += [("elderly_care_beds", code, beds), ("elderly_population", code, elderly)]
    rows += [("elderly_care_beds", SHANXI[0], SHANXI[1]), ("elderly_population", SHANXI[0], SHANXI[2])]
    t.sync()  # the targets model synced before values go in
    write_values(engine, rows)
    return t


def hand_sums():
    n = HAINAN_UNITS * (HAINAN_UNITS + 1) // 2  # 1 + 2 + … + 19
    beds = 100 * n + sum(b for b, _ in GD.values()) + SHANXI[1]
    elderly = 5_000 * n + sum(e for _, e in GD.values()) + SHANXI[2]
    return beds, elderly


def test_the_national_rollup_rows_and_figure_are_the_hand_sums(tracker):
    r = tracker.rollup("national", AS_OF)
    assert len(r.units) == 31 and sorted(r.below) == ["guangdong", "hainan", "zhejiang"]
    beds = r.indicator("elderly_care_beds_per_1000_elderly")
    rows = {row.region: row for row in beds.rows}
    hn, gd, zj, sx = rows["460000"], rows["440000"], rows["330000"], rows["140000"]
    assert hn.plan == "hainan" and hn.figure.value == pytest.approx(20.0) and hn.figure.coverage == "19/19"
    assert hn.target.value == 30 and hn.status not in (None, "no_data")
    gd_value = sum(b for b, _ in GD.values()) / sum(e for _, e in GD.values()) * 1000
    assert gd.plan == "guangdong" and gd.figure.value == pytest.approx(gd_value) and gd.figure.coverage == "3/21"
    assert gd.target.value == 35 and gd.status == "no_data"  # partial: not judged, shown with its coverage
    assert zj.plan == "zhejiang" and zj.state == "no_data" and zj.figure is None and zj.target.value == 33
    assert sx.plan is None and sx.state == "no_plan" and sx.figure.value == pytest.approx(25.0)
    assert sum(1 for row in beds.rows if row.state == "no_plan") == 28
    beds_sum, elderly_sum = hand_sums()
    w = beds.whole
    assert w.figure.value == pytest.approx(beds_sum / elderly_sum * 1000) == pytest.approx(24.90196, rel=1e-5)
    assert w.figure.value != pytest.approx((20.0 + gd_value + 25.0) / 3)  # not the mean of the provinces' ratios
    # parts: Hainan's 19, Guangdong's 21, Zhejiang's 11 cities, and 28 provinces as themselves
    assert w.figure.coverage == f"{19 + 3 + 1}/{19 + 21 + 11 + 28}" and w.units_covered == 3
    assert w.target.id == "national-beds-2025"
    # the shared indicators: those the plans below (or the national plan) set targets on
    assert [i.indicator for i in r.indicators] == ["senior_universities", "elderly_care_beds_per_1000_elderly"]


def test_national_tasks_link_to_the_provincial_tasks_both_ways(tracker):
    r = tracker.rollup("national", AS_OF)
    assert r.implementers("national#1") == ["hainan#1", "guangdong#1"]
    assert r.implementers("national#2") == ["hainan#2"]
    assert r.implemented("guangdong#1") == ["national#1"] and r.implemented("hainan#2") == ["national#2"]
    link = next(t for t in r.tasks if t.task.id == "national#1")
    assert link.missing == ["330000"]


def test_an_unknown_plan_is_refused_with_those_known(tracker):
    from tracker.service.rollup import UnknownPlan

    with pytest.raises(UnknownPlan, match="nowhere: unknown plan; accepted: national, hainan, guangdong, zhejiang"):
        tracker.rollup("nowhere", AS_OF)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_command_prints_the_rollup(tracker, monkeypatch, lang):
    config = Path(tracker.settings.targets_path).parent / "tracker.toml"
    config.write_text(f'[tracker]\ndatabase_url = "{tracker.settings.database_url}"\n'
                      f'targets_path = "{tracker.settings.targets_path}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["status", "--plan", "national", "--rollup", "--as-of", "2025-03-01",
                                      "--lang", lang, "--config", str(config)])
    assert result.exit_code == 0, result.output
    out = result.output
    if lang == "zh":
        assert "全国：24.9张/千人（2024，23/79 个地区合计；3/31 个省份有数据）" in out
        assert "广东省" in out and "3/21 市县合计" in out and "无规划" in out and "无数据" in out
        assert "national#1 ← 海南省 hainan#1、广东省 guangdong#1（已载入规划但未见落实任务：浙江省）" in out
    else:
        assert "National: 24.9 beds per 1,000 (2024, sum of 23 of 79 regions; 3 of 31 provinces with data)" in out
        assert "Guangdong" in out and "sum of 3 of 21 regions" in out and "no plan" in out
        assert "national#1 ← Hainan hainan#1, Guangdong guangdong#1" in out
    result = CliRunner().invoke(cli, ["status", "--plan", "national", "--rollup", "--as-of", "2025-03-01",
                                      "--json", "--lang", lang, "--config", str(config)])
    data = json.loads(result.output)
    beds = next(i for i in data["indicators"] if i["id"] == "elderly_care_beds_per_1000_elderly")
    beds_sum, elderly_sum = hand_sums()
    assert beds["whole"]["value"] == pytest.approx(beds_sum / elderly_sum * 1000)
    gd = next(r for r in beds["rows"] if r["region"] == "440000")
    assert gd["coverage"] == "3/21" and gd["target"] == 35 and gd["plan"] == "guangdong"


def test_rollup_needs_one_plan(tracker):
    config = Path(tracker.settings.targets_path).parent / "tracker.toml"
    config.write_text(f'[tracker]\ndatabase_url = "{tracker.settings.database_url}"\n'
                      f'targets_path = "{tracker.settings.targets_path}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["status", "--rollup", "--config", str(config)])
    assert result.exit_code == 2 and "--rollup needs one --plan" in result.output


def test_the_report_command_writes_the_national_report_with_its_rollup(tracker):
    config = Path(tracker.settings.targets_path).parent / "tracker.toml"
    config.write_text(f'[tracker]\ndatabase_url = "{tracker.settings.database_url}"\n'
                      f'targets_path = "{tracker.settings.targets_path}"\n'
                      f'reports_dir = "{tracker.settings.reports_dir}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["report", "--plan", "national", "--as-of", "2025-03-01", "--config", str(config)])
    assert result.exit_code == 0, result.output
    html = Path(result.output.strip())
    assert html == Path(tracker.settings.reports_dir) / "plans" / "national" / "2025-03.html"
    data = json.loads(html.with_suffix(".json").read_text(encoding="utf-8"))
    assert data["plan"]["id"] == "national" and len(data["rollup"]["indicators"]) == 2
    result = CliRunner().invoke(cli, ["report", "--plan", "nowhere", "--config", str(config)])
    assert result.exit_code == 2 and "nowhere: unknown plan; accepted: guangdong, hainan, national, zhejiang" in result.output


def with_guangzhou(small_model) -> dict:
    """national_text's data with a Guangzhou city plan (one task, implementing Guangdong's)."""
    data = yaml.safe_load(national_text(small_model))
    data["plans"].append({"id": "guangzhou", "title": "广州市实施方案（测试用）", "title_en": "Guangzhou plan (test)",
                          "issuer": "广州市人民政府", "level": "city", "region": "440100",
                          "start": date(2021, 1, 1), "end": date(2025, 12, 31), "source": "tests/guangzhou.txt"})
    data["tasks"].append({"plan": "guangzhou", "number": 1, "text": "广州市完善养老服务体系", "units_text": "市民政局",
                          "lead": ["市民政局"], "implements": ["guangdong#1"]})
    return data


def test_a_province_rolls_up_its_cities_plans(db_url, engine, tmp_path, small_model):
    """Guangdong's plan over a Guangzhou plan (its districts reporting): the city's row has its
    own target and its districts' sum; the other 20 cities, with no plan, show their own entries."""
    data = with_guangzhou(small_model)
    data["targets"].append({"id": "gz-beds-2025", "plan": "guangzhou", "task": 1,
                            "indicator": "elderly_care_beds_per_1000_elderly", "comparator": ">=", "value": 40,
                            "unit": "bed / kiloperson", "deadline": date(2025, 12, 31)})
    (tmp_path / "targets.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    t = Tracker(Settings(database_url=db_url, targets_path=tmp_path / "targets.yaml", reports_dir=tmp_path / "r"),
                engine=engine, clock=lambda: NOW)
    t.sync()
    districts = [r.code for r in t.plan_regions("guangzhou").counties()]
    assert len(districts) == 11  # 广州市's 11 districts
    write_values(engine, [("elderly_care_beds", districts[0], 3_000), ("elderly_population", districts[0], 100_000),
                          ("elderly_care_beds", districts[1], 1_000), ("elderly_population", districts[1], 100_000),
                          ("elderly_care_beds", "440300", 20_000), ("elderly_population", "440300", 1_000_000)])
    r = t.rollup("guangdong", AS_OF)
    assert len(r.units) == 21 and r.below == ["guangzhou"]
    rows = {row.region: row for row in r.indicator("elderly_care_beds_per_1000_elderly").rows}
    gz = rows["440100"]
    assert gz.plan == "guangzhou" and gz.target.value == 40
    assert gz.figure.value == pytest.approx(4_000 / 200_000 * 1000) and gz.figure.coverage == "2/11"
    assert rows["440300"].state == "no_plan" and rows["440300"].figure.value == pytest.approx(20.0)
    whole = r.indicator("elderly_care_beds_per_1000_elderly").whole
    assert whole.figure.value == pytest.approx(24_000 / 1_200_000 * 1000)  # 2 districts and 深圳 as itself
    assert whole.target.id == "gd-beds-ratio-2025"  # Guangdong's own target, judged on that figure
    assert r.implementers("guangdong#1") == ["guangzhou#1"] and r.implemented("guangzhou#1") == ["guangdong#1"]


def test_the_monthly_run_writes_the_national_report_and_alerts_the_national_units(tracker, tmp_path):
    """With plans below it other than the home one, the national plan is followed by the
    monthly run: its report (with the roll-up) in reports/plans/national/, its alerts to its
    own [alerts.plans.national] units; Hainan's addresses hear nothing of it."""
    import email
    import email.policy

    from servers import RecordingSMTPServer

    from tracker.config import settings_from_mapping

    with RecordingSMTPServer() as smtp:
        settings = settings_from_mapping({"alerts": {
            "channels": ["email"], "supervisors": ["省发展改革委"],
            "recipients": {"省民政厅": {"email": ["hn-mzt@hainan.example"]},
                           "省发展改革委": {"email": ["hn-fgw@hainan.example"]}},
            "email": {"host": "127.0.0.1", "port": smtp.port, "security": "none"},
            "plans": {"national": {"supervisors": ["国家发展改革委"],
                                   "recipients": {"民政部": {"email": ["mca@gov.example"]},
                                                  "国家发展改革委": {"email": ["ndrc@gov.example"]}}}}}},
            database_url=tracker.settings.database_url, targets_path=tracker.settings.targets_path,
            reports_dir=tmp_path / "reports")
        # December (the deadline month): the first run for the national plan, nothing to compare with
        first = Tracker(settings, engine=tracker.engine, clock=lambda: datetime(2026, 1, 12, 2, tzinfo=UTC))
        assert first.run_month("2025-12").state == "succeeded"
        # January: the national target is overdue, a change: its units hear of it
        again = Tracker(settings, engine=tracker.engine, clock=lambda: datetime(2026, 2, 12, 2, tzinfo=UTC))
        outcome = again.run_month("2026-01")
    assert outcome.state == "succeeded"
    national = tmp_path / "reports" / "plans" / "national"
    data = json.loads((national / "2026-01.json").read_text(encoding="utf-8"))
    assert data["plan"]["id"] == "national" and data["rollup"]["indicators"]
    assert next(it for s in data["sections"] for it in s["items"] if it["id"] == "national-beds-2025")["status"] == "overdue"
    assert 'id="rollup"' in (national / "2026-01.html").read_text(encoding="utf-8")
    by_address: dict[str, list[str]] = {}
    for rcpts, raw in smtp.messages:
        body = email.message_from_bytes(raw, policy=email.policy.default).get_body(
            preferencelist=("plain",)).get_content()
        for address in rcpts:
            by_address.setdefault(address, []).append(body)
    assert any("national#1" in b for b in by_address["mca@gov.example"])
    assert any("national#1" in b for b in by_address["ndrc@gov.example"])
    assert all("national#" not in b for a, bodies in by_address.items() if a.endswith("@hainan.example")
               for b in bodies)


def test_a_provinces_tracker_that_loads_the_national_tasks_writes_no_national_report(db_url, engine, tmp_path,
                                                                                      small_model):
    """Hainan's targets.yaml holds the national plan for the tasks Hainan's implement: the
    national plan rolls up no plan but the home one, so the monthly run leaves it out."""
    data = model_to_data(small_model)
    data["plans"].insert(0, {"id": "national", "title": "国务院办公厅关于促进养老托育服务健康发展的意见",
                             "issuer": "国务院办公厅", "level": "national", "region": "",
                             "start": date(2021, 1, 1), "end": date(2025, 12, 31), "source": "sources/national.txt"})
    (tmp_path / "targets.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    settings = Settings(database_url=db_url, targets_path=tmp_path / "targets.yaml", reports_dir=tmp_path / "reports")
    t = Tracker(settings, engine=engine, clock=lambda: datetime(2026, 1, 12, 2, tzinfo=UTC))
    assert t.run_month("2025-12").state == "succeeded"
    assert (tmp_path / "reports" / "2025-12.html").exists() and not (tmp_path / "reports" / "plans").exists()


def test_a_national_target_for_every_province_judges_each_on_its_own_plans_figure(db_url, engine, tmp_path,
                                                                                   small_model):
    """每个省（区、市）至少1所: the national plan's 每个 target is judged over the 31 provinces, each
    as itself on the figure its own plan sums (Hainan's 19 市县; Guangdong's 1 of 21 cities, partial
    so never met; 山西省's own entry; Zhejiang's plan without data), not over their cities."""
    data = yaml.safe_load(national_text(small_model))
    data["targets"].append({"id": "national-universities-each", "plan": "national", "task": 2,
                            "indicator": "senior_universities", "comparator": ">=", "value": 1,
                            "unit": "institution", "deadline": date(2025, 12, 31), "scope": "each_region"})
    (tmp_path / "targets.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    settings = Settings(database_url=db_url, targets_path=tmp_path / "targets.yaml", reports_dir=tmp_path / "reports")
    t = Tracker(settings, engine=engine, clock=lambda: NOW)
    t.sync()
    hainan = [r.code for r in t.plan_regions("hainan").counties()]
    write_values(engine, [("senior_universities", c, 1) for c in hainan] +
                 [("senior_universities", "440100", 2), ("senior_universities", "140000", 3)])
    status = t.evaluate(AS_OF).status("national-universities-each")
    by_region = {s.region: s for s in status.regions}
    assert len(by_region) == 31 and set(by_region) == {r.code for r in t.plan_regions("national").counties()}
    assert (by_region["460000"].code, by_region["460000"].figures["latest"]) == ("achieved", 19)
    assert (by_region["140000"].code, by_region["140000"].figures["latest"]) == ("achieved", 3)
    gd = by_region["440000"]
    assert gd.code == "no_data" and gd.figures["coverage"] == "1/21" and "1/21 市县合计" in gd.reason_zh
    assert by_region["330000"].code == "no_data"
    assert status.code == "no_data" and status.figures["met"] == "2/31"
    report = json.loads(Path(t.write_report(AS_OF, plan="national").json).read_text(encoding="utf-8"))
    rows = {r["region"]: r for r in report["by_region"]["rows"]}
    assert rows["460000"]["name"] == "海南省" and rows["460000"]["cells"][0]["status"] == "achieved"
