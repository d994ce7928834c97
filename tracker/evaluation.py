"""One path from the database to statuses, shared by `tracker status`, `tracker report`, the
scheduler and the web app: the targets model, the regions, what was known by the end of the
as-of day (Asia/Shanghai), and the status engine over it."""

from datetime import date
from typing import Any

from sqlalchemy import Engine

from tracker.model import Observation, TargetsModel
from tracker.regions import Regions
from tracker.status import Status


def evaluate_as_of(settings: Any, engine: Engine, as_of: date, model: TargetsModel | None = None,
                   with_observations: bool = True) -> tuple[TargetsModel, Regions, list[Status], list[Observation]]:
    """(model, regions, statuses, observations) as known at the end of `as_of`."""
    from tracker.db import latest_observations
    from tracker.regions import load_regions
    from tracker.status import knowledge_cutoff
    from tracker.status_load import evaluate_from_database
    from tracker.targets import load_targets

    model = model or load_targets(settings.targets_path)
    regions = load_regions()
    _, statuses = evaluate_from_database(engine, model, regions, as_of, settings.status)
    observations = latest_observations(engine, knowledge_cutoff(as_of)) if with_observations else []
    return model, regions, statuses, observations
