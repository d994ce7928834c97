"""Plans as data: several plans in one database, each with its own regions (coverage), periods
and successors (follows), read from targets.yaml and the files it includes."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from tracker.config import Settings
from tracker.domain.regions import Coverage
from tracker.service import Tracker
from tracker.targets.file import TargetsFileError, dump_model, model_to_data, parse_targets

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
NOW = datetime(2025, 3, 1, 4, 0, tzinfo=UTC)


def with_guangdong(model) -> str:
    """targets.yaml text of `model` with the Guangdong fixture plan merged into it."""
    data = model_to_data(model)
    extra = yaml.safe_load((FIXTURES / "guangdong.yaml").read_text(encoding="utf-8"))
    for key, items in extra.items():
        data.setdefault(key, []).extend(items)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def make(db_url, engine, tmp_path: Path, text: str, now: datetime = NOW) -> Tracker:
    (tmp_path / "targets.yaml").write_text(text, encoding="utf-8")
    settings = Settings(database_url=db_url, targets_path=tmp_path / "targets.yaml", reports_dir=tmp_path / "reports")
    return Tracker(settings, engine=engine, clock=lambda: now)


def test_coverage_and_follows_are_read_and_written_back_unchanged(small_model):
    model = parse_targets(with_guangdong(small_model))
    gd = model.plan("guangdong")
    assert gd.coverage == Coverage("440000", "children", (), (), "units")
    assert model.plan("hainan").coverage is None and gd.follows == ""
    text = dump_model(model)
    assert "coverage:\n    region: 440000 广东省\n    each_region: units\n" in text
    assert "follows" not in text  # left out when unset
    again = parse_targets(text)
    assert again == model
    later = yaml.safe_load(text)
    later["plans"].append({**later["plans"][1], "id": "guangdong-15", "start": "2026-01-01", "end": "2030-12-31",
                           "follows": "guangdong"})
    successor = parse_targets(yaml.safe_dump(later, allow_unicode=True)).plan("guangdong-15")
    assert successor.follows == "guangdong" and parse_targets(dump_model(parse_targets(
        yaml.safe_dump(later, allow_unicode=True)))).plan("guangdong-15") == successor


def test_check_names_the_line_and_field_of_a_bad_coverage_or_follows(small_model):
    text = with_guangdong(small_model).replace("each_region: units", "each_region: units\n    exclude: [440399]")
    data = yaml.safe_load(text)
    data["plans"].append({**data["plans"][0], "id": "hainan-15", "start": "2025-06-01", "end": "2030-12-31",
                          "follows": "hainan"})
    data["plans"].append({**data["plans"][0], "id": "hainan-16", "start": "2031-01-01", "end": "2035-12-31",
                          "follows": "hainan-14"})
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    with pytest.raises(TargetsFileError) as info:
        parse_targets(text)
    lines = text.splitlines()
    problems = info.value.problems
    exclude = next(p for p in problems if "coverage.exclude[0]" in p)
    assert "no division has the code 440399" in exclude
    assert "exclude:" in lines[int(exclude.split()[1].rstrip(":")) - 1]  # the line of the field itself
    follows = [p for p in problems if "follows:" in p]
    assert any("plan 'hainan' ends 2025-12-31, not before this plan starts 2025-06-01" in p for p in follows)
    assert any("plan 'hainan-14' does not exist" in p and "known plans: guangdong, hainan, hainan-15" in p
               for p in follows)
    assert all(lines[int(p.split()[1].rstrip(":")) - 1].strip().startswith("follows:") for p in follows)


def test_each_plan_is_judged_with_its_own_regions(db_url, engine, tmp_path, small_model):
    tracker = make(db_url, engine, tmp_path, with_guangdong(small_model))
    assert tracker.plan_regions("hainan") is tracker.regions  # the home plan: today's regions
    gd = tracker.plan_regions("guangdong")
    assert gd.province.name == "广东省" and len(gd.counties()) == 21
    assert {r.name for r in gd.judged_regions()} >= {"广州市", "深圳市", "东莞市"} and len(gd.judged_regions()) == 21
    assert tracker.plan_regions("guangdong") is gd  # made once per content of targets.yaml
    assert [p.id for p in tracker.plans_on(date(2025, 6, 30))] == ["hainan", "guangdong"]
    assert tracker.plans_on(date(2020, 12, 31)) == []
    evaluation = tracker.evaluate(date(2025, 3, 1))
    assert evaluation.regions_of("guangdong") is gd and evaluation.regions_of("hainan") is tracker.regions
    assert evaluation.resolver_of("guangdong").regions is gd and evaluation.resolver is evaluation.resolver_of("hainan")
    each = evaluation.status("gd-universities-each-2025")
    assert each.figures["judged"] == 21 and {r.region for r in each.regions} >= {"440100", "441900"}
    assert evaluation.status("universities_each").figures["judged"] == len(tracker.regions.judged_regions())
    # The home scope is unchanged: Hainan's items are what reports and alerts cover.
    assert [p.id for p in tracker.tracked_plans()] == ["hainan"]
    assert {s.item_id for s in tracker.statuses(date(2025, 3, 1))} == {"beds_ratio_2025", "universities_each",
                                                                       "hainan-m1", "hainan-m2"}
    assert {s.item_id for s in tracker.statuses(date(2025, 3, 1), plans=["guangdong"])} == {
        "gd-beds-ratio-2025", "gd-universities-each-2025", "gd-m1"}
