"""The status engine's public names in one place, for the callers that import them from here.

The engine itself is split by idea (docs/status-rules.md):
- tracker.status.model: Status, Judgement, STATUS_LABELS, MET_CODES, worst_first
- tracker.status.aggregate: SeriesResolver (regions summed, ratios from components), cumulate
- tracker.status.rules: a target judged on one series (code and figures, no sentence)
- tracker.status.milestones: a milestone judged on its progress reports
- tracker.status.reasons: the zh/en sentences made from a judgement
- tracker.status.evaluate: evaluate, evaluate_target, evaluate_milestone, summarise
"""

from tracker.domain.series import Series, SeriesSet, knowledge_cutoff, series_from_observations, visible
from tracker.status.aggregate import SeriesResolver, cumulate
from tracker.status.evaluate import evaluate, evaluate_milestone, evaluate_target, summarise
from tracker.status.milestones import MILESTONE_FREQUENCY
from tracker.status.model import MET_CODES, STATUS_LABELS, Judgement, Status, worst_first
from tracker.status.reasons import LIST_LIMIT, Wording, reason
from tracker.status.rules import HORIZON_DAYS, PROGRESS_BANDS

__all__ = [
    "HORIZON_DAYS", "LIST_LIMIT", "MET_CODES", "MILESTONE_FREQUENCY", "PROGRESS_BANDS",
    "STATUS_LABELS", "Judgement", "Series", "SeriesResolver", "SeriesSet", "Status", "Wording",
    "cumulate", "evaluate", "evaluate_milestone", "evaluate_target", "knowledge_cutoff", "reason",
    "series_from_observations", "summarise", "visible", "worst_first",
]
