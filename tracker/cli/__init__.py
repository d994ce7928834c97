"""The `tracker` command."""

from tracker.cli.main import cli, main

__all__ = ["cli", "main"]
