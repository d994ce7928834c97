"""The database: every table, the engine, every SQL statement, run claims.

The stages above call these functions and never write SQL of their own; `from tracker import
store` gives the API most callers need (tables in tracker.store.tables, runs in
tracker.store.runs, the outbox in tracker.store.outbox, accounts in tracker.store.accounts).
"""

from tracker.store.engine import (
                                  SQLITE_BUSY_TIMEOUT_MS,
                                  VALUES_LOCK,
                                  dispose_engine,
                                  downgrade,
                                  get_engine,
                                  head_revision,
                                  migrate,
                                  schema_revision,
                                  write_transaction,
)
from tracker.store.observations import (
                                  OBSERVATION_COLUMNS,
                                  ObservationWriter,
                                  cells_added_since,
                                  current_cells,
                                  current_progress,
                                  data_version,
                                  finish_batch,
                                  has_sample_data,
                                  insert_observations,
                                  insert_progress,
                                  is_sample_database,
                                  latest_observations,
                                  latest_reported,
                                  mark_sample_database,
                                  milestone_progress,
                                  new_batch,
                                  new_observations,
                                  observation_history,
                                  progress_history,
                                  region_cells,
                                  region_history,
)
from tracker.store.series import changed_series, load_series
from tracker.store.sync import sync_targets, synced_digest, target_history
from tracker.store.tables import batch_table, observation_table, progress_table

__all__ = [
    "OBSERVATION_COLUMNS", "SQLITE_BUSY_TIMEOUT_MS", "VALUES_LOCK", "ObservationWriter", "batch_table",
    "cells_added_since", "changed_series", "current_cells", "current_progress", "data_version", "dispose_engine", "downgrade",
    "finish_batch", "get_engine", "has_sample_data", "head_revision", "insert_observations", "insert_progress",
    "is_sample_database", "latest_observations", "latest_reported", "load_series", "mark_sample_database", "migrate",
    "milestone_progress", "new_batch", "new_observations",
    "observation_history", "observation_table", "progress_history", "progress_table", "region_cells",
    "region_history", "schema_revision", "sync_targets", "synced_digest", "target_history", "write_transaction",
]
