"""One figure wherever a person looks: the status JSON of `tracker status`, the report's JSON,
the web target page and an alert quote the same value, status and coverage for the same cell,
because they all read the service's one evaluation.

The cell is the hard case of the values issue: a province ratio (beds per 1,000 elderly) built
from components reported by different sets of 市县 (beds by 海口, 三亚 and 儋州; the elderly
population by 海口 alone).
"""

import html
import json
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner

from tracker.alerts.outbox import enqueue, transitions
from tracker.cli.main import cli
from tracker.config import settings_from_mapping
from tracker.domain.format import format_number
from tracker.service import Tracker
from tracker.targets.file import dump_model

NOW = datetime(2026, 2, 1, 2, 0, tzinfo=UTC)  # after the target's deadline: it is overdue, and alerts
AS_OF = date(2026, 2, 1)
TARGET = "beds_ratio_2025"
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


@pytest.fixture
def tracker(db_url, engine, tmp_path, small_model, monkeypatch):
    targets = tmp_path / "targets.yaml"
    targets.write_text(dump_model(small_model), encoding="utf-8")
    config = tmp_path / "tracker.toml"
    config.write_text(f'[tracker]\ntargets_path = "{targets}"\nreports_dir = "{tmp_path / "reports"}"\n'
                      '[alerts]\nchannels = ["webhook"]\n[alerts.webhook]\nurl = "http://127.0.0.1:9/hook"\n',
                      encoding="utf-8")
    monkeypatch.setenv("TRACKER_CONFIG", str(config))
    settings = settings_from_mapping({"alerts": {"channels": ["webhook"], "webhook": {"url": "http://127.0.0.1:9/"}}},
                                     database_url=db_url, targets_path=targets, reports_dir=tmp_path / "reports")
    t = Tracker(settings, engine=engine, clock=lambda: NOW)
    for region, beds in (("海口", 12000), ("三亚", 15000), ("儋州", 8000)):
        t.record("elderly_care_beds", region, "2024", beds, entered_by="省民政厅")
    t.record("elderly_population", "海口", "2024", 380000, entered_by="省民政厅")
    return t


def reader_client(tracker, engine, now):
    """A web client logged in as a viewer (every region's figures), on the tracker's settings."""
    from starlette.testclient import TestClient

    from tracker.web import auth
    from tracker.web.app import create_app

    auth.add_user(engine, "reader", "s3cret-pass", "viewer", now=now)
    client = TestClient(create_app(tracker.settings, engine=engine, clock=lambda: now))
    login = client.get("/login")
    csrf = login.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    client.post("/login", data={"username": "reader", "password": "s3cret-pass", "csrf": csrf, "next": "/"})
    return client


def test_every_surface_quotes_the_same_figure_status_and_coverage(tracker, engine, db_url, tmp_path):
    status = tracker.evaluate(AS_OF).status(TARGET)
    figures = status.figures
    assert figures.get("coverage"), figures  # a partial province figure says what it covers
    latest, coverage = figures["latest"], figures["coverage"]
    shown = format_number(latest)
    assert shown in status.reason_zh and coverage in status.reason_zh

    # tracker status --json
    result = CliRunner().invoke(cli, ["status", "--as-of", AS_OF.isoformat(), "--json"],
                                env={"TRACKER_DATABASE_URL": db_url}, catch_exceptions=False)
    cli_status = next(s for s in json.loads(result.output)["statuses"] if s["item_id"] == TARGET)
    assert (cli_status["code"], cli_status["figures"]["latest"], cli_status["figures"]["coverage"]) == \
        (status.code, latest, coverage)
    assert cli_status["reason_zh"] == status.reason_zh

    # the report's JSON (and so its HTML, rendered from the same dict)
    files = tracker.write_report(AS_OF)
    context = json.loads(files.json.read_text(encoding="utf-8"))
    item = next(it for sec in context["sections"] for it in sec["items"] if it["id"] == TARGET)
    assert item["status"] == status.code and item["reason"] == status.reason_zh
    assert shown in item["latest_text"] and coverage in item["latest_text"]

    # the web target page: the status and the province's derived figure with its coverage
    page = html.unescape(reader_client(tracker, engine, NOW).get(f"/targets/{TARGET}").text)
    assert status.reason_zh in page
    province_row = page.split('<tr id="values-460000">', 1)[1].split("</tr>", 1)[0]
    assert shown in province_row and coverage in province_row
    web_values = [f for f in tracker.values("elderly_care_beds_per_1000_elderly", AS_OF) if f.region == "460000"]
    assert [(format_number(f.value), f.coverage) for f in web_values] == [(shown, coverage)]

    # an alert about the same item
    enqueue(engine, tracker.model, transitions({(TARGET, ""): "on_track"}, [status]), "2025-02",
            tracker.settings.alerts, "http://reports.example/2025-02.html", {}, now=NOW)
    body = tracker.alerts(5)[0]["body"]
    assert shown in body and coverage in body and status.label_zh in body
