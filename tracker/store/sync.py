"""targets.yaml -> database: the definitions reported values were checked against, each
target's history kept."""

import hashlib
import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func, select

from tracker.domain.model import TargetsModel
from tracker.store.engine import write_transaction
from tracker.store.tables import IndicatorRow, MilestoneRow, TargetRow, TargetVersionRow, meta_table, observation_table

TARGETS_LOCK = 4634003  # PostgreSQL advisory lock: one targets sync at a time


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def sync_targets(engine: Engine, model: TargetsModel, now: datetime,
                 source_digest: str | None = None) -> dict[str, dict[str, int]]:
    """Write the targets model into the database; running it twice changes nothing.

    A target whose definition changed gets a new version (the earlier ones stay in
    target_version); one no longer in the model is marked inactive, not deleted. An
    indicator's unit cannot change once values are stored in it: they would silently mean
    something else. `source_digest` (the content hash of the file the model came from) is recorded
    in the same transaction, so `synced_digest` tells whether a sync is needed.
    """
    counts = {name: {"added": 0, "changed": 0, "unchanged": 0, "retired": 0}
              for name in ("indicators", "targets", "milestones")}
    ind_t, tgt_t, ver_t, ms_t = (IndicatorRow.__table__, TargetRow.__table__,
                                 TargetVersionRow.__table__, MilestoneRow.__table__)
    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":  # two processes syncing at once queue, as on SQLite
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({TARGETS_LOCK})")
        if source_digest is not None and conn.execute(
                select(meta_table.c.value).where(meta_table.c.key == "targets_digest")).scalar() == source_digest:
            return counts  # another process synced this very file while we waited
        existing = {r.id: r for r in conn.execute(select(ind_t))}
        for ind in model.indicators:
            # the columns the table keeps (display names such as name_en live in targets.yaml only)
            row = {**{k: v for k, v in asdict(ind).items() if k in ind_t.c}, "active": True, "updated_at": now}
            old = existing.pop(ind.id, None)
            if old is None:
                conn.execute(ind_t.insert(), row)
                counts["indicators"]["added"] += 1
                continue
            same = all(getattr(old, k) == v for k, v in row.items() if k != "updated_at")
            if same:
                counts["indicators"]["unchanged"] += 1
                continue
            if old.unit != ind.unit and conn.execute(
                    select(func.count()).select_from(observation_table)
                    .where(observation_table.c.indicator == ind.id)).scalar():
                raise ValueError(
                    f"指标 {ind.id} 的单位从 {old.unit} 改为 {ind.unit}，但已有按原单位填报的数值 / "
                    f"indicator {ind.id}: unit changed from {old.unit!r} to {ind.unit!r} while "
                    "values are stored in the old unit; give the new unit a new indicator id")
            conn.execute(ind_t.update().where(ind_t.c.id == ind.id), row)
            counts["indicators"]["changed"] += 1
        for gone in existing.values():
            if gone.active:
                conn.execute(ind_t.update().where(ind_t.c.id == gone.id).values(active=False, updated_at=now))
                counts["indicators"]["retired"] += 1

        current = {r.id: r for r in conn.execute(select(tgt_t))}
        digests = dict(conn.execute(
            select(ver_t.c.target_id, ver_t.c.digest)
            .join(tgt_t, and_(tgt_t.c.id == ver_t.c.target_id, tgt_t.c.version == ver_t.c.version))).all())
        for target in model.targets:
            definition = asdict(target)
            digest = _digest(definition)
            old = current.pop(target.id, None)
            if old is not None and old.active and digests.get(target.id) == digest:
                counts["targets"]["unchanged"] += 1
                continue
            version = 1 if old is None else old.version + (digests.get(target.id) != digest)
            row = {"id": target.id, "version": version, "indicator": target.indicator,
                   "comparator": target.comparator, "value": target.value, "unit": target.unit,
                   "deadline": target.deadline, "scope": target.scope, "soft": target.soft,
                   "active": True, "updated_at": now}
            if old is None:
                conn.execute(tgt_t.insert(), row)
                counts["targets"]["added"] += 1
            else:
                conn.execute(tgt_t.update().where(tgt_t.c.id == target.id), row)
                counts["targets"]["changed"] += 1
            if old is None or digests.get(target.id) != digest:
                conn.execute(ver_t.insert(), {"target_id": target.id, "version": version,
                                              "definition": json.dumps(definition, default=str, ensure_ascii=False),
                                              "digest": digest, "synced_at": now})
        for gone in current.values():
            if gone.active:
                conn.execute(tgt_t.update().where(tgt_t.c.id == gone.id).values(active=False, updated_at=now))
                counts["targets"]["retired"] += 1

        existing_ms = {r.id: r for r in conn.execute(select(ms_t))}
        for ms in model.milestones:
            row = {"id": ms.id, "plan": ms.plan, "task": ms.task, "text": ms.text,
                   "deadline": ms.deadline, "quote": ms.quote, "active": True, "updated_at": now}
            old = existing_ms.pop(ms.id, None)
            if old is None:
                conn.execute(ms_t.insert(), row)
                counts["milestones"]["added"] += 1
            elif all(getattr(old, k) == v for k, v in row.items() if k != "updated_at"):
                counts["milestones"]["unchanged"] += 1
            else:
                conn.execute(ms_t.update().where(ms_t.c.id == ms.id), row)
                counts["milestones"]["changed"] += 1
        for gone in existing_ms.values():
            if gone.active:
                conn.execute(ms_t.update().where(ms_t.c.id == gone.id).values(active=False, updated_at=now))
                counts["milestones"]["retired"] += 1
        if source_digest is not None:
            _set_meta(conn, "targets_digest", source_digest, now)
    return counts


def target_history(engine: Engine, target_id: str) -> list[dict[str, Any]]:
    """Every definition a target has had, oldest first: version, synced_at, definition."""
    ver_t = TargetVersionRow.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(ver_t).where(ver_t.c.target_id == target_id)
                            .order_by(ver_t.c.version)).all()
    return [{"version": r.version, "synced_at": r.synced_at, "definition": json.loads(r.definition)}
            for r in rows]


def _set_meta(conn: Any, key: str, value: str, now: datetime) -> None:
    t = meta_table
    if conn.execute(t.update().where(t.c.key == key).values(value=value, updated_at=now)).rowcount == 0:
        conn.execute(t.insert(), {"key": key, "value": value, "updated_at": now})


def synced_digest(engine: Engine) -> str | None:
    """The digest of the targets file last synced (a plain read: no write lock)."""
    t = meta_table
    with engine.connect() as conn:
        return conn.execute(select(t.c.value).where(t.c.key == "targets_digest")).scalar()
