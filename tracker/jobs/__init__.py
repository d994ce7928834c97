"""The scheduler and the submission reminders."""
