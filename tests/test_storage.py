import dataclasses
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from tracker import store as db
from tracker.store.tables import TargetRow

target_table = TargetRow.__table__

T0 = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)


def _obs(indicator="elderly_care_beds", region="460100", period="2024", value=100.0, revision=1,
         entered_at=T0, source="test", note=""):
    return (indicator, region, period, date(int(period[:4]), 12, 31), value, revision, note, source,
            "tester", entered_at, None)


def _write(engine, *rows):
    with db.write_transaction(engine) as conn:
        db.ObservationWriter(conn).write(list(rows))


def test_a_new_database_is_migrated_to_the_head_revision(engine):
    assert db.schema_revision(engine) == db.head_revision()
    names = set(sa.inspect(engine).get_table_names())
    assert {"indicator", "target", "target_version", "milestone", "observation",
            "milestone_progress", "import_batch", "alembic_version"} <= names


def test_get_engine_is_cached_per_url_and_migrating_again_changes_nothing(db_url):
    engine = db.get_engine(db_url)
    assert db.get_engine(db_url) is engine
    db.migrate(engine)
    assert db.schema_revision(engine) == db.head_revision()


def test_the_migration_chain_goes_down_to_empty_and_back_up(engine):
    db.downgrade(engine, "base")
    assert db.schema_revision(engine) is None
    assert "observation" not in sa.inspect(engine).get_table_names()
    db.migrate(engine, "head")
    assert db.schema_revision(engine) == db.head_revision()
    assert "observation" in sa.inspect(engine).get_table_names()


def test_the_models_match_the_migrated_schema(engine):
    inspector = sa.inspect(engine)
    for table in (db.observation_table, db.progress_table, db.batch_table):
        assert {c["name"] for c in inspector.get_columns(table.name)} == set(table.columns.keys())


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.SQLITE_BUSY_TIMEOUT_MS


def test_two_writers_at_once_wait_for_each_other_instead_of_failing(engine):
    """The scheduler and a person entering values: the second writer waits for the lock."""
    errors: list[Exception] = []
    first_has_lock = threading.Event()

    def slow_writer():
        try:
            with db.write_transaction(engine) as conn:
                db.ObservationWriter(conn).write([_obs(region="460100")])
                first_has_lock.set()
                time.sleep(0.3)
        except Exception as exc:  # pragma: no cover - the failure this test is about
            errors.append(exc)

    thread = threading.Thread(target=slow_writer)
    thread.start()
    first_has_lock.wait(5)
    with db.write_transaction(engine) as conn:  # reads, then writes: needs the lock up front
        conn.execute(sa.select(sa.func.count()).select_from(db.observation_table)).scalar()
        db.ObservationWriter(conn).write([_obs(region="460200")])
    thread.join()
    assert not errors
    assert {o.region for o in db.latest_observations(engine)} == {"460100", "460200"}


def test_observations_cannot_be_updated_or_deleted_even_by_sql(engine):
    _write(engine, _obs())
    for statement in ("UPDATE observation SET value = 1", "DELETE FROM observation"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with db.write_transaction(engine) as conn:
                conn.exec_driver_sql(statement)
    assert db.latest_observations(engine)[0].value == 100.0


def test_the_same_revision_of_a_cell_cannot_be_stored_twice(engine):
    _write(engine, _obs())
    with pytest.raises(sa.exc.IntegrityError):
        _write(engine, _obs(value=5.0))


def test_latest_observations_as_of_a_moment_ignores_later_corrections(engine):
    _write(engine, _obs(value=100.0), _obs(value=120.0, revision=2, entered_at=T0 + timedelta(days=10)),
           _obs(region="460200", value=7.0))
    now = db.latest_observations(engine)
    assert {(o.region, o.value, o.revision) for o in now} == {("460100", 120.0, 2), ("460200", 7.0, 1)}
    before = db.latest_observations(engine, as_of=T0 + timedelta(days=1))
    assert {(o.region, o.value) for o in before} == {("460100", 100.0), ("460200", 7.0)}
    assert db.latest_observations(engine, as_of=T0 - timedelta(seconds=1)) == []
    first = before[0]
    assert first.entered_at == T0 and first.entered_at.tzinfo is not None
    assert first.period == "2024" and first.period_end == date(2024, 12, 31)


def test_latest_observations_can_be_limited_to_some_indicators(engine):
    _write(engine, _obs(), _obs(indicator="elderly_population", value=5e4))
    assert [o.indicator for o in db.latest_observations(engine, indicators=["elderly_population"])] == [
        "elderly_population"]


def test_history_lists_every_revision_oldest_first(engine):
    _write(engine, _obs(value=1.0, note="初报"), _obs(value=2.0, revision=2, note="更正", source="f.csv:3:D"))
    history = db.observation_history(engine, "elderly_care_beds", "460100", "2024")
    assert [(h["revision"], h["value"], h["note"]) for h in history] == [(1, 1.0, "初报"), (2, 2.0, "更正")]
    assert history[1]["source"] == "f.csv:3:D" and history[1]["entered_by"] == "tester"


def test_sync_targets_is_idempotent(engine, small_model):
    first = db.sync_targets(engine, small_model, now=datetime.now(UTC))
    assert first["indicators"]["added"] == 6 and first["targets"]["added"] == 2
    again = db.sync_targets(engine, small_model, now=datetime.now(UTC))
    assert again["indicators"] == {"added": 0, "changed": 0, "unchanged": 6, "retired": 0}
    assert again["targets"]["unchanged"] == 2 and again["milestones"]["unchanged"] == 2


def test_a_changed_target_keeps_its_earlier_versions(engine, small_model):
    db.sync_targets(engine, small_model, now=datetime.now(UTC))
    changed = dataclasses.replace(small_model.targets[0], value=35.0)
    small_model.targets[0] = changed
    counts = db.sync_targets(engine, small_model, now=datetime.now(UTC))
    assert counts["targets"]["changed"] == 1
    versions = db.target_history(engine, changed.id)
    assert [(v["version"], v["definition"]["value"]) for v in versions] == [(1, 30.0), (2, 35.0)]
    assert db.sync_targets(engine, small_model, now=datetime.now(UTC))["targets"]["unchanged"] == 2


def test_a_target_removed_from_the_model_is_retired_not_deleted(engine, small_model):
    db.sync_targets(engine, small_model, now=datetime.now(UTC))
    gone = small_model.targets.pop()
    assert db.sync_targets(engine, small_model, now=datetime.now(UTC))["targets"]["retired"] == 1
    with engine.connect() as conn:
        row = conn.execute(sa.select(target_table).where(target_table.c.id == gone.id)).one()
    assert row.active is False or row.active == 0
    assert len(db.target_history(engine, gone.id)) == 1


def test_an_indicator_unit_cannot_change_under_stored_values(engine, small_model):
    db.sync_targets(engine, small_model, now=datetime.now(UTC))
    _write(engine, _obs(indicator="senior_universities", value=3.0))
    idx = next(i for i, ind in enumerate(small_model.indicators) if ind.id == "senior_universities")
    small_model.indicators[idx] = dataclasses.replace(small_model.indicators[idx], unit="facility")
    with pytest.raises(ValueError, match="unit changed"):
        db.sync_targets(engine, small_model, now=datetime.now(UTC))


def test_milestone_progress_returns_the_latest_report_per_reporter(engine):
    rows = [{"milestone": "hainan-m1", "reporter": "省民政厅", "state": s, "reported_on": date(2022, m, 1),
             "note": "", "evidence": e, "entered_by": "x", "entered_at": T0 + timedelta(days=m),
             "source": "test", "batch_id": None}
            for m, s, e in [(1, "in_progress", ""), (6, "done", "琼府〔2022〕12号")]]
    with db.write_transaction(engine) as conn:
        db.insert_progress(conn, rows)
    latest = db.milestone_progress(engine)
    assert [(p.milestone, p.state, p.evidence) for p in latest] == [("hainan-m1", "done", "琼府〔2022〕12号")]
    earlier = db.milestone_progress(engine, as_of=T0 + timedelta(days=2))
    assert [p.state for p in earlier] == ["in_progress"]
    assert len(db.progress_history(engine, "hainan-m1")) == 2


def test_the_sqlite_file_goes_where_the_url_says_creating_its_directory(tmp_path):
    url = f"sqlite:///{tmp_path / 'deep' / 'er' / 'tracker.db'}"
    try:
        db.get_engine(url)
        assert (tmp_path / "deep" / "er" / "tracker.db").exists()
    finally:
        db.dispose_engine(url)


def test_the_settings_url_is_used_when_none_is_given(db_url):
    assert db.get_engine() is db.get_engine(db_url)
