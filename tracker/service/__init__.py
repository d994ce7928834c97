"""The one service API: `Tracker`, made from settings, an engine and a clock."""

from tracker.service.tracker import Evaluation, TargetsChanged, Tracker

__all__ = ["Evaluation", "TargetsChanged", "Tracker"]
