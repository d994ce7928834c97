"""One path from the database to statuses, shared by `tracker status`, `tracker report`, the
scheduler and the web app: the targets model, the regions, what was known by the end of the
as-of day (Asia/Shanghai), and the status engine over it."""

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine

from tracker.config import StatusSettings
from tracker.domain.model import Observation, TargetsModel
from tracker.domain.regions import Regions
from tracker.domain.series import SeriesSet, knowledge_cutoff
from tracker.status.engine import Status, evaluate


def evaluate_as_of(settings: Any, engine: Engine, as_of: date, model: TargetsModel | None = None,
                   with_observations: bool = True) -> tuple[TargetsModel, Regions, list[Status], list[Observation]]:
    """(model, regions, statuses, observations) as known at the end of `as_of`."""
    from tracker.domain.regions import load_regions
    from tracker.domain.series import knowledge_cutoff
    from tracker.store import latest_observations
    from tracker.targets.file import load_targets

    model = model or load_targets(settings.targets_path)
    regions = load_regions()
    _, statuses = evaluate_from_database(engine, model, regions, as_of, settings.status)
    observations = latest_observations(engine, knowledge_cutoff(as_of)) if with_observations else []
    return model, regions, statuses, observations


def indicators_needed(model: TargetsModel) -> set[str]:
    """The indicators the model's targets are judged on, with the components of ratios."""
    needed = {t.indicator for t in model.targets}
    for ind in model.indicators:
        if ind.id in needed and ind.numerator and ind.denominator:
            needed |= {ind.numerator, ind.denominator}
    return needed


def evaluate_from_database(engine: Engine, model: TargetsModel, regions: Regions, as_of: date,
                           settings: StatusSettings) -> tuple[SeriesSet, list[Status]]:
    """The series and the statuses as known at the end of `as_of`: the one path from the
    database to statuses for the CLI, the report and the scheduler. The targets model is
    synced first: the database keeps each target's history, and refuses (ValueError) a model
    whose indicator changed its unit under values stored in the old one, which would
    otherwise be read in the new unit."""
    from tracker import store as db
    from tracker.store.series import load_series
    db.sync_targets(engine, model)
    series = load_series(engine, as_of, indicators_needed(model))
    progress = db.milestone_progress(engine, knowledge_cutoff(as_of) - timedelta(microseconds=1))
    return series, evaluate(model, series, progress, regions, as_of, settings)
