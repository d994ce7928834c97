"""tracker: targets from plan documents, actuals in, statuses out, reports and alerts."""

__version__ = "0.1.0"
