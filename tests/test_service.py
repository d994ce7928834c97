"""The service API: one Tracker the CLI, the web app, the scheduler and the tests call; targets
synced once per change of targets.yaml; every surface quoting the same figures."""

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tracker import store
from tracker.config import Settings
from tracker.service import TargetsChanged, Tracker
from tracker.targets.file import dump_model

NOW = datetime(2025, 3, 1, 4, 0, tzinfo=UTC)


def make(db_url: str, engine, tmp_path: Path, model, now: datetime = NOW) -> Tracker:
    (tmp_path / "targets.yaml").write_text(dump_model(model), encoding="utf-8")
    settings = Settings(database_url=db_url, targets_path=tmp_path / "targets.yaml", reports_dir=tmp_path / "reports")
    return Tracker(settings, engine=engine, clock=lambda: now)


def test_statuses_refuse_a_model_whose_indicator_changed_unit_under_stored_values(db_url, engine, tmp_path,
                                                                                 small_model):
    make(db_url, engine, tmp_path, small_model).record("senior_universities", "海口", "2024", 3, entered_by="x")
    changed = dataclasses.replace(small_model, indicators=[
        dataclasses.replace(i, unit="facility") if i.id == "senior_universities" else i for i in small_model.indicators])
    settings = Settings(database_url=db_url, targets_path=tmp_path / "unused.yaml")
    with pytest.raises(TargetsChanged, match="senior_universities"):  # a model given in code is synced too
        Tracker(settings, engine=engine, model=changed, clock=lambda: NOW).evaluate(date(2025, 3, 2))


def test_targets_are_synced_once_per_change_of_their_content(db_url, engine, tmp_path, small_model):
    first = make(db_url, engine, tmp_path, small_model)
    first.evaluate(date(2025, 3, 1))
    digest = store.synced_digest(engine)
    assert digest is not None
    with engine.connect() as conn:
        versions = conn.exec_driver_sql("SELECT count(*) FROM target_version").scalar()
    # A second process with the same file: nothing is written (the digest is already there).
    calls = []
    real = store.sync_targets
    try:
        store.sync_targets = lambda *a, **k: calls.append(a) or real(*a, **k)  # type: ignore[assignment]
        make(db_url, engine, tmp_path, small_model).evaluate(date(2025, 3, 1))
        assert calls == []
        # The file changes: exactly one sync, and the digest moves.
        changed = dataclasses.replace(small_model, targets=[dataclasses.replace(small_model.targets[0], value=31.0),
                                                            *small_model.targets[1:]])
        make(db_url, engine, tmp_path, changed).evaluate(date(2025, 3, 1))
        assert len(calls) == 1
    finally:
        store.sync_targets = real  # type: ignore[assignment]
    assert store.synced_digest(engine) != digest
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM target_version").scalar() == versions + 1
