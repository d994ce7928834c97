"""One figure for the national plan wherever a person looks (test_same_figures for a plan above
others): its target over three provinces' plans (Hainan's every 市县 reporting, Guangdong's 3 of
21 cities, Zhejiang's none) and 山西省 with no plan but its own entry is judged on the figure
summed through the plans below (RollupResolver) in the evaluation itself, so `tracker status
--plan national` (with and without --rollup), Tracker.statuses, the report's JSON and HTML, the
web target page and an alert quote the same value, status and coverage.

Judged on the provinces' own province-level entries instead, the figure would be 山西省's alone
(25.0, 1 of 31): the test says the roll-up's 24.9 over 23 of 79 regions everywhere."""

import html
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from datetime import UTC, date, datetime

from test_rollup_service import hand_sums, tracker  # noqa: F401  (the fixture)
from test_same_figures import reader_client

from tracker.alerts.outbox import enqueue, transitions
from tracker.cli.main import cli
from tracker.config import settings_from_mapping
from tracker.domain.format import format_number

NOW = datetime(2026, 2, 1, 2, 0, tzinfo=UTC)  # after the target's deadline: overdue on a partial figure, alerted
AS_OF = date(2026, 2, 1)
TARGET = "national-beds-2025"
INDICATOR = "elderly_care_beds_per_1000_elderly"
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


def _config(tracker) -> str:  # noqa: F811
    config = Path(tracker.settings.targets_path).parent / "tracker.toml"
    config.write_text(f'[tracker]\ndatabase_url = "{tracker.settings.database_url}"\n'
                      f'targets_path = "{tracker.settings.targets_path}"\n'
                      f'reports_dir = "{tracker.settings.reports_dir}"\n', encoding="utf-8")
    return str(config)


def test_the_national_target_says_the_rollups_figure_everywhere(tracker, engine):  # noqa: F811
    tracker.clock = lambda: NOW
    evaluation = tracker.evaluate(AS_OF)
    status = evaluation.status(TARGET)
    figures = status.figures
    beds, elderly = hand_sums()
    assert figures["latest"] == pytest.approx(beds / elderly * 1000)  # summed through the plans below
    assert figures["coverage"] == "23/79" and status.code == "overdue"  # partial: cannot count as met
    latest, coverage = figures["latest"], figures["coverage"]
    shown = format_number(latest)
    assert shown == "24.9" and shown in status.reason_zh and coverage in status.reason_zh
    assert [s.code for s in tracker.statuses(AS_OF, plans=["national"]) if s.item_id == TARGET] == [status.code]
    config = _config(tracker)

    # tracker status --plan national --json
    result = CliRunner().invoke(cli, ["status", "--plan", "national", "--as-of", AS_OF.isoformat(), "--json",
                                      "--config", config], catch_exceptions=False)
    cli_status = next(s for s in json.loads(result.output)["statuses"] if s["item_id"] == TARGET)
    assert (cli_status["code"], cli_status["figures"]["latest"], cli_status["figures"]["coverage"]) == \
        (status.code, latest, coverage)
    assert cli_status["reason_zh"] == status.reason_zh

    # tracker status --plan national --rollup --json: the national row
    result = CliRunner().invoke(cli, ["status", "--plan", "national", "--rollup", "--as-of", AS_OF.isoformat(),
                                      "--json", "--config", config], catch_exceptions=False)
    whole = next(i for i in json.loads(result.output)["indicators"] if i["id"] == INDICATOR)["whole"]
    assert (whole["status"], whole["value"], whole["coverage"]) == (status.code, latest, coverage)

    # the national report's JSON (its card and its roll-up section) and its HTML
    files = tracker.write_report(AS_OF, plan="national", lang="zh")
    ctx = json.loads(files.json.read_text(encoding="utf-8"))
    item = next(it for sec in ctx["sections"] for it in sec["items"] if it["id"] == TARGET)
    assert item["status"] == status.code and item["reason"] == status.reason_zh
    assert shown in item["latest_text"] and coverage in item["latest_text"]
    section = next(i for i in ctx["rollup"]["indicators"] if i["id"] == INDICATOR)["whole"]
    assert (section["status"], section["value"], section["coverage"]) == (status.code, latest, coverage)
    page = html.unescape(files.html.read_text(encoding="utf-8"))
    assert status.reason_zh in page

    # the web target page, and Tracker.values for the national plan
    area = evaluation.regions_of("national").province.code
    web_values = [f for f in tracker.values(INDICATOR, AS_OF, plan="national") if f.region == area]
    assert [(format_number(f.value), f.coverage) for f in web_values] == [(shown, coverage)]
    rows = {x.region: x for x in tracker.rollup("national", AS_OF).indicator(INDICATOR).rows}
    for code in ("460000", "440000"):  # a province with a plan: its own plan's figure, as in its roll-up row
        latest_of = max((f for f in tracker.values(INDICATOR, AS_OF, plan="national") if f.region == code),
                        key=lambda f: f.period_end)
        assert (latest_of.value, latest_of.coverage) == (rows[code].figure.value, rows[code].figure.coverage)
    page = html.unescape(reader_client(tracker, engine, NOW).get(f"/targets/{TARGET}").text)
    assert status.reason_zh in page
    row = page.split(f'<tr id="values-{area}">', 1)[1].split("</tr>", 1)[0]
    assert shown in row and coverage in row

    # an alert about it
    alerts = settings_from_mapping({"alerts": {"channels": ["webhook"], "webhook": {"url": "http://127.0.0.1:9/"}}}).alerts
    enqueue(engine, tracker.model, transitions({(TARGET, ""): "on_track"}, [status]), "2025-02", alerts, "http://reports.example/2025-02.html", {}, now=NOW)
    body = tracker.alerts(5)[0]["body"]
    assert shown in body and coverage in body and status.label_zh in body


def test_the_figure_follows_a_province_below(tracker, engine):  # noqa: F811
    """One more 广东 city reporting moves the national figure in the evaluation, the roll-up
    and the report alike (no stale second judgement anywhere)."""
    from test_rollup_service import write_values

    before = tracker.evaluate(AS_OF).status(TARGET).figures["coverage"]
    write_values(engine, [("elderly_care_beds", "440600", 10_000), ("elderly_population", "440600", 400_000)])
    status = tracker.evaluate(AS_OF).status(TARGET)
    beds, elderly = hand_sums()
    assert (before, status.figures["coverage"]) == ("23/79", "24/79")
    assert status.figures["latest"] == pytest.approx((beds + 10_000) / (elderly + 400_000) * 1000)
    whole = tracker.rollup("national", AS_OF).indicator(INDICATOR).whole
    assert (whole.figure.value, whole.figure.coverage, whole.status) == \
        (status.figures["latest"], status.figures["coverage"], status.code)


def test_a_province_over_its_cities_plans_adds_the_same_figure_to_the_nation(db_url, engine, tmp_path, small_model):
    """Three levels: the national plan over Guangdong's, Guangdong's over a Guangzhou plan (two
    of its districts reporting). Guangdong's own target is judged on its roll-up (Guangzhou
    through its districts, 深圳 as itself), and the nation sums the same regions, so the
    national figure, Guangdong's status and Guangdong's row in the national roll-up agree."""
    import yaml
    from test_rollup_service import with_guangzhou, write_values

    from tracker.config import Settings
    from tracker.service import Tracker

    data = with_guangzhou(small_model)
    (tmp_path / "targets.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    t = Tracker(Settings(database_url=db_url, targets_path=tmp_path / "targets.yaml", reports_dir=tmp_path / "r"),
                engine=engine, clock=lambda: NOW)
    t.sync()
    districts = [r.code for r in t.plan_regions("guangzhou").counties()]
    write_values(engine, [("elderly_care_beds", districts[0], 3_000), ("elderly_population", districts[0], 100_000),
                          ("elderly_care_beds", districts[1], 1_000), ("elderly_population", districts[1], 100_000),
                          ("elderly_care_beds", "440300", 30_000), ("elderly_population", "440300", 1_000_000)])
    expected = 34_000 / 1_200_000 * 1000  # Guangzhou's two districts and 深圳, summed components
    evaluation = t.evaluate(AS_OF)
    gd = evaluation.status("gd-beds-ratio-2025")
    national = evaluation.status(TARGET)
    assert gd.figures["latest"] == pytest.approx(expected) and national.figures["latest"] == pytest.approx(expected)
    r = t.rollup("national", AS_OF)
    beds = r.indicator(INDICATOR)
    row = next(x for x in beds.rows if x.region == "440000")
    assert row.figure.value == pytest.approx(expected) and row.status == gd.code
    assert (beds.whole.figure.value, beds.whole.figure.coverage) == (national.figures["latest"],
                                                                    national.figures["coverage"])
