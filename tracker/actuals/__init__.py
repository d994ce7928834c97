"""Reported values in: validation, file layouts, milestone progress, templates."""
