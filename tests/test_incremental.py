"""An evaluation made from the last one of the same date (tracker.status.incremental): only the
series written since are read again and only the figures they feed are judged again, and the
result is what a full evaluation by a fresh process gives, status for status, figure for
figure, reason for reason, on the national set of test_rollup_service (Hainan's every 市县,
Guangdong's 3 cities, Zhejiang with no data, 山西省's own entry, the national plan over them)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings as hyp_settings, strategies as st

from test_rollup_service import AS_OF, NOW, tracker  # noqa: F401  (the fixture)

from tracker.config import Settings
from tracker.service import Tracker
from tracker.store.observations import insert_observations

ENTERED = datetime(2025, 2, 20, tzinfo=UTC)  # before the end of AS_OF: known as of it


def put(engine, rows, *, entered: datetime = ENTERED) -> None:
    """(indicator, region, value, revision) cells for 2024, as an import writes them."""
    with engine.begin() as conn:
        insert_observations(conn, [{"indicator": ind, "region": code, "period": "2024", "period_end": date(2024, 12, 31),
                                    "value": float(v), "revision": rev, "note": "", "source": "test",
                                    "entered_by": "test", "entered_at": entered, "batch_id": None}
                                   for ind, code, v, rev in rows])


def flat(statuses) -> list[tuple]:
    out = []
    for s in statuses:
        out.append((s.item_id, s.region, s.code, repr(s.figures), s.reason_zh, s.reason_en))
        out.extend((x.item_id, x.region, x.code, repr(x.figures), x.reason_zh, x.reason_en) for x in s.regions)
    return out


def fresh(tracker) -> Tracker:  # noqa: F811
    """Another process's tracker on the same database: nothing carried."""
    return Tracker(Settings(database_url=tracker.settings.database_url, targets_path=tracker.settings.targets_path,
                            reports_dir=tracker.settings.reports_dir), engine=tracker.engine, clock=lambda: NOW)


def rollup_rows(tracker) -> list[tuple]:  # noqa: F811
    r = tracker.rollup("national", AS_OF)
    return [(ind.indicator, row.region, row.state, row.status, row.figure.value if row.figure else None,
             ind.whole.figure.value if ind.whole.figure else None, ind.whole.status)
            for ind in r.indicators for row in ind.rows]


def test_the_changed_series_alone_are_judged_again_and_agree_with_a_full_evaluation(tracker, engine):  # noqa: F811
    first = tracker.evaluate(AS_OF)
    assert first.incremental is None  # nothing before it: read and judged in full
    hainan = [r.code for r in tracker.plan_regions("hainan").counties()]
    put(engine, [
        ("elderly_care_beds", hainan[0], 9_999, 2),         # a correction in one 市县
        ("senior_universities", hainan[1], 2, 1),           # a 每个市县 target's region reports
        ("senior_universities", hainan[2], 0, 1),
        ("elderly_care_beds", "440500", 7_000, 1),           # a Guangdong city reports for the first time
        ("elderly_population", "440500", 300_000, 1),
        ("elderly_care_beds", "140000", 160_000, 2),         # 山西省's own entry, no plan of its own
    ])
    put(engine, [("elderly_care_beds", hainan[3], 1, 2)], entered=NOW + timedelta(days=40))  # after the day: unseen
    again = tracker.evaluate(AS_OF)
    assert again.incremental["changed_series"] == 6  # the late correction is not among them
    assert again.incremental["kept"] > again.incremental["judged"] > 0
    full = fresh(tracker).evaluate(AS_OF)
    assert full.incremental is None
    assert flat(again.statuses) == flat(full.statuses)
    assert flat(again.statuses) != flat(first.statuses)  # the changes moved figures
    assert rollup_rows(tracker) == rollup_rows(fresh(tracker))
    beds = again.status("beds_ratio_2025")
    assert beds is not first.status("beds_ratio_2025")  # Hainan's whole figure changed: judged again
    assert again.status("zj-beds-2025") is first.status("zj-beds-2025")  # Zhejiang's did not: kept


def test_a_value_the_date_cannot_see_changes_nothing(tracker, engine):  # noqa: F811
    first = tracker.evaluate(AS_OF)
    put(engine, [("elderly_care_beds", "440100", 1, 2)], entered=NOW + timedelta(days=40))
    again = tracker.evaluate(AS_OF)
    assert again is not first and again.incremental == {"changed_series": 0, "judged": 0, "kept":
                                                        again.incremental["kept"]}
    assert [s for s in again.statuses if s.kind == "target"] == [s for s in first.statuses if s.kind == "target"]


def test_a_figure_counted_only_when_approved_is_evaluated_in_full(tracker, engine):  # noqa: F811
    tracker.settings.approval.required = True
    assert tracker.evaluate(AS_OF).counted is not None
    put(engine, [("elderly_care_beds", "440100", 1, 2)])
    assert tracker.evaluate(AS_OF).incremental is None  # approvals decide what counts: read again
    assert tracker.evaluate(AS_OF, "submitted").incremental is None


CELLS = st.tuples(st.sampled_from(["elderly_care_beds", "elderly_population", "senior_universities"]),
                  st.sampled_from(["460100", "460200", "460400", "469001", "469030", "440100", "440500", "330100",
                                   "140000", "460000"]),
                  st.integers(min_value=0, max_value=500_000))


@hyp_settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rounds=st.lists(st.lists(CELLS, min_size=1, max_size=4), min_size=1, max_size=3))
def test_any_sequence_of_writes_gives_what_a_full_evaluation_gives(tracker, engine, rounds):  # noqa: F811
    from sqlalchemy import func, select

    from tracker.store.tables import observation_table as t

    tracker.evaluate(AS_OF)
    for cells in rounds:
        rows = []
        with engine.connect() as conn:
            for ind, code, value in dict(((i, c), (i, c, v)) for i, c, v in cells).values():
                head = conn.execute(select(func.max(t.c.revision)).where(
                    t.c.indicator == ind, t.c.region == code, t.c.period == "2024")).scalar()
                rows.append((ind, code, value, (head or 0) + 1))
        put(engine, rows)
        again = tracker.evaluate(AS_OF)
        assert again.incremental is not None
        assert flat(again.statuses) == flat(fresh(tracker).evaluate(AS_OF).statuses)


def test_a_district_reporting_changes_its_citys_figure(tracker, engine):  # noqa: F811
    """海口's figure of a count is its four districts' sum once all four report: the fourth
    district's value changes 海口's figure (and the province's), not only the district's."""
    ind = next(i for i in tracker.model.indicators if i.id == "senior_universities")
    put(engine, [("senior_universities", code, 1, 1) for code in ("460105", "460106", "460107")])
    first = tracker.evaluate(AS_OF)
    assert first.resolver_of("hainan").region_series(ind, "460100") is None  # 3 of 4: no city figure
    put(engine, [("senior_universities", "460108", 1, 1)])
    again = tracker.evaluate(AS_OF)
    assert again.incremental["changed_series"] == 1
    assert list(again.resolver_of("hainan").region_series(ind, "460100").values) == [4.0]
    whole = again.resolver_of("hainan").province_series(ind)[0]
    assert list(whole.values) == list(fresh(tracker).evaluate(AS_OF).resolver_of("hainan").province_series(ind)[0].values)
    assert flat(again.statuses) == flat(fresh(tracker).evaluate(AS_OF).statuses)


def test_reports_written_again_from_kept_pieces_are_the_fresh_reports_byte_for_byte(tracker, engine, tmp_path):  # noqa: F811
    """The second run's reports reuse the cards and rows made from kept statuses
    (tracker.report.fragments); every file is the one a fresh process writes."""
    plans = [p.id for p in tracker.model.plans]
    for lang in ("zh", "en"):
        for plan in plans:
            tracker.write_report(AS_OF, plan=plan, lang=lang, reports_dir=tmp_path / "first" / lang / plan)
    hainan = [r.code for r in tracker.plan_regions("hainan").counties()]
    put(engine, [("elderly_care_beds", hainan[0], 9_999, 2), ("senior_universities", hainan[1], 2, 1),
                 ("elderly_care_beds", "440500", 7_000, 1), ("elderly_population", "440500", 300_000, 1)])
    reused = tracker._fragments.reused
    for lang in ("zh", "en"):
        for plan in plans:
            tracker.write_report(AS_OF, plan=plan, lang=lang, reports_dir=tmp_path / "again" / lang / plan)
            other = fresh(tracker)  # one report per process: nothing kept from another report
            other.write_report(AS_OF, plan=plan, lang=lang, reports_dir=tmp_path / "fresh" / lang / plan)
            assert other._fragments.reused == 0
    assert tracker.evaluate(AS_OF).incremental is not None
    assert tracker._fragments.reused > reused  # kept cards and rows were put in as they were
    for lang in ("zh", "en"):
        for plan in plans:
            for name in ("2025-03.html", "2025-03.json"):
                again = (tmp_path / "again" / lang / plan / name).read_bytes()
                assert again == (tmp_path / "fresh" / lang / plan / name).read_bytes(), (lang, plan, name)
    first = (tmp_path / "first" / "zh" / "hainan" / "2025-03.html").read_text(encoding="utf-8")
    assert first != (tmp_path / "again" / "zh" / "hainan" / "2025-03.html").read_text(encoding="utf-8")


def test_figures_about_every_value_are_brought_up_to_date_from_the_rows_written_since(tracker, engine):  # noqa: F811
    from tracker import store
    from tracker.service import since

    assert since.latest_reported(tracker, AS_OF) == store.latest_reported(engine, AS_OF)
    assert since.has_sample_data(tracker) is False
    with engine.begin() as conn:
        insert_observations(conn, [
            {"indicator": "elderly_care_beds", "region": "440500", "period": "2025", "period_end": date(2025, 12, 31),
             "value": 1.0, "revision": 1, "note": "", "source": "test", "entered_by": "test", "entered_at": ENTERED,
             "batch_id": None},  # a later period: the region's latest moves
            {"indicator": "elderly_care_beds", "region": "440100", "period": "2023", "period_end": date(2023, 12, 31),
             "value": 1.0, "revision": 1, "note": "", "source": "test", "entered_by": "test", "entered_at": ENTERED,
             "batch_id": None},  # an earlier one: it does not
            {"indicator": "elderly_care_beds", "region": "440300", "period": "2025", "period_end": date(2025, 12, 31),
             "value": 1.0, "revision": 1, "note": "示例数据", "source": "test", "entered_by": "test",
             "entered_at": NOW + timedelta(days=40), "batch_id": None}])  # after the day: unseen, but sample
    latest = since.latest_reported(tracker, AS_OF)
    assert latest == store.latest_reported(engine, AS_OF)
    assert latest["elderly_care_beds"]["440500"] == date(2025, 12, 31).toordinal()
    assert latest["elderly_care_beds"]["440100"] == date(2024, 12, 31).toordinal()
    assert "440300" not in latest["elderly_care_beds"] or \
        latest["elderly_care_beds"]["440300"] == date(2024, 12, 31).toordinal()
    assert since.has_sample_data(tracker) is True


def test_the_store_remembers_how_far_it_looked_for_sample_data(tracker, engine):  # noqa: F811
    """A second process does not scan the values the first one looked at: the store keeps the
    newest observation id looked at and what was found (meta sample_scan)."""
    from sqlalchemy import func, select

    from tracker.service import since
    from tracker.store.observations import SAMPLE_SCAN_KEY, sample_data_seen
    from tracker.store.sync import _set_meta
    from tracker.store.tables import meta_table, observation_table

    def scan_mark() -> str:
        with engine.connect() as conn:
            return conn.execute(select(meta_table.c.value).where(meta_table.c.key == SAMPLE_SCAN_KEY)).scalar()

    def newest() -> int:
        with engine.connect() as conn:
            return conn.execute(select(func.max(observation_table.c.id))).scalar()

    assert since.has_sample_data(tracker) is False and scan_mark() == f"{newest()}:0"
    with engine.begin() as conn:
        insert_observations(conn, [{"indicator": "elderly_care_beds", "region": "440500", "period": "2024",
                                    "period_end": date(2024, 12, 31), "value": 1.0, "revision": 1,
                                    "note": "示例数据", "source": "test", "entered_by": "test",
                                    "entered_at": ENTERED, "batch_id": None}])
    assert since.has_sample_data(fresh(tracker)) is True and scan_mark() == f"{newest()}:1"
    # what is written down is trusted: told it looked at every value and found none, it looks no further
    with engine.begin() as conn:
        _set_meta(conn, SAMPLE_SCAN_KEY, f"{newest()}:0", NOW)
    assert sample_data_seen(engine, NOW) is False
    with engine.begin() as conn:  # a mark past the newest value (a restored copy): looked at again from the start
        _set_meta(conn, SAMPLE_SCAN_KEY, f"{newest() + 100}:0", NOW)
    assert sample_data_seen(engine, NOW) is True


def test_a_milestone_report_alone_keeps_every_target_and_judges_the_milestone_again(tracker, engine):  # noqa: F811
    first = tracker.evaluate(AS_OF)
    assert first.status("hainan-m1").code == "overdue"
    tracker.record_progress("hainan-m1", "done", reporter="省民政厅", entered_by="x", reported_on="2025-02-20")
    again = tracker.evaluate(AS_OF)
    assert again.incremental is not None and again.incremental["changed_series"] == 0
    assert again.status("hainan-m1").code == "achieved_late"  # done after its deadline (2022-12-31)
    kept = [t.id for t in tracker.model.targets if t.scope == "whole" and t.plan != "national"]  # not a roll-up's
    assert kept and all(again.status(i) is first.status(i) for i in kept)
    assert flat(again.statuses) == flat(fresh(tracker).evaluate(AS_OF).statuses)
